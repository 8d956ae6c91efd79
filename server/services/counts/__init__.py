"""Cycle counts (盘点): plans, tasks, variances, recounts and approvals (models/stockcontrol.py)."""
