"""Money per order line (每单核算), unit cost (移动加权平均), COGS and gross margin (毛利).
See docs/money.md for what each figure means and how it is computed."""
