"""The replenishment task's lifecycle (``REPLENISH_TRANSITIONS``, models/stockcontrol.py): the only
writer of its status."""
from __future__ import annotations

from server.models import ReplenishmentTask
from server.models.stockcontrol import REPLENISH_TRANSITIONS
from server.services.states import Lifecycle

REPLENISHMENT = Lifecycle("replenishment", ReplenishmentTask, REPLENISH_TRANSITIONS)
