"""The stock alert's lifecycle (``ALERT_TRANSITIONS``, models/stockcontrol.py): the only writer of its state."""
from __future__ import annotations

from server.models import StockAlert
from server.models.stockcontrol import ALERT_TRANSITIONS
from server.services.states import Lifecycle

STOCK_ALERT = Lifecycle("stock_alert", StockAlert, ALERT_TRANSITIONS, column="state")
