"""Orders (订单): their lifecycle (the only writer of ``Order.status``), the office's verbs, the
order as the rules see it, review (审单), allocation (分仓 and reservation), intake from the
channels, merges, exports, webhooks and the stock offered to each shop."""
