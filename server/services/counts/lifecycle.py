"""The count task's lifecycle (``COUNT_TRANSITIONS``, models/stockcontrol.py): the only writer of its status."""
from __future__ import annotations

from server.models import CountTask
from server.models.stockcontrol import COUNT_TRANSITIONS
from server.services.states import Lifecycle

COUNT_TASK = Lifecycle("count_task", CountTask, COUNT_TRANSITIONS)
