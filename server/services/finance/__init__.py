"""Finance: settlement bills and their reconciliation (对账), the account mapping (科目对照), daily
accounting vouchers (凭证) and their export to 金蝶云星空/K3 and 用友 U8/T+. See docs/finance.md."""
