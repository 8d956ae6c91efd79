"""Buyers' refunds and returns (售后 / 退货入库): refund records from the channels, the returns
bench, unknown parcels (无头件) and return rates."""
