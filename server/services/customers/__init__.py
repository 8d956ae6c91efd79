"""Customers (CRM, 客户): derived from the orders (derive), the repurchase model and the due-to-reorder
list (repurchase), and what a caller may see of them (views: the phone masked without ``pii.read``).
See docs/customers.md."""
