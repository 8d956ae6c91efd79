"""The lifecycles of the platform outbox's calls and of waybills (models/connectors.py); the
only writers of their state columns."""
from __future__ import annotations

from server.models import ChannelCall, Waybill
from server.models.connectors import CHANNEL_CALL_TRANSITIONS, WAYBILL_TRANSITIONS
from server.services.states import Lifecycle

CHANNEL_CALL = Lifecycle("channel_call", ChannelCall, CHANNEL_CALL_TRANSITIONS, column="state")
WAYBILL = Lifecycle("waybill", Waybill, WAYBILL_TRANSITIONS, column="state")
