"""The returns bench parcel's lifecycle (models/returns.py): the only writer of
``ReturnParcel.status``."""
from __future__ import annotations

from server.models import ReturnParcel
from server.models.returns import RETURN_PARCEL_TRANSITIONS
from server.services.states import Lifecycle

RETURN_PARCEL = Lifecycle("return_parcel", ReturnParcel, RETURN_PARCEL_TRANSITIONS)
