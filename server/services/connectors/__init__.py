"""Live connectors: shops pulled from and told back through their platforms' open APIs, and the
carriers' waybills and tracking (models/connectors.py)."""
