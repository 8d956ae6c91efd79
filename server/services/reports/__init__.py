"""Reports (BI, 报表) for the office: one module per report, each a function of
:class:`filters.Filters` (period, province or region, channel, shop) returning plain data that
the pages chart, the API returns and export.py writes as xlsx. docs/reports.md says what each
figure is and how it is computed; tests/test_reports*.py prove each equals a straight SQL sum.

- sales.py: sales trend by day/week/month with last year's line (from facts.py's daily aggregate)
- skus.py: SKU ranking by units, revenue and margin with ABC classes
- margin.py: margin trend (line_money)
- logistics.py: paid → shipped → signed by carrier and province
- returns.py: return rate by SKU and reason
- productivity.py: pick/pack units per person and hour (the ledger)
- inventory.py: turnover and days of cover (the ledger)
"""
from server.services.reports import inventory, logistics, margin, productivity, returns, sales, skus

RUNNERS = {
    "sales": lambda f, o: sales.trend(f, o.get("grain") or "day"),
    "skus": lambda f, o: skus.ranking(f, o.get("measure") or "revenue"),
    "margin": lambda f, o: margin.trend(f, o.get("grain") or "day"),
    "logistics": lambda f, o: logistics.timeliness(f),
    "returns": lambda f, o: returns.rates(f),
    "productivity": lambda f, o: productivity.productivity(f),
    "inventory": lambda f, o: inventory.turnover(f),
}
REPORTS = tuple(RUNNERS)
NEEDS_FINANCE = ("margin",)  # margin and cost are finance.read figures


def run(name: str, f, options: dict | None = None) -> dict:
    return RUNNERS[name](f, options or {})
