"""Approvals (多级审批): flows (what waits for whom), requests and their decisions, and what an
approved request does (models/approvals.py has the states)."""
