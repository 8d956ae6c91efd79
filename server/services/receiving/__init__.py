"""Goods in (入库): receipts at the dock, licence plates and their labels, quality checks
(入库质检) and supplier returns (退供), and putaway (上架)."""
