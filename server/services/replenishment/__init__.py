"""Replenishment (补货): units moved from reserve locations to pick faces (models/stockcontrol.py)."""
