"""The lifecycles of goods in: receipts, licence plates (LPN) and supplier returns
(models/receiving.py); the only writers of their status columns."""
from __future__ import annotations

from server.models import Lpn, Receipt, SupplierReturn
from server.models.receiving import LPN_TRANSITIONS, RECEIPT_TRANSITIONS, SUPPLIER_RETURN_TRANSITIONS
from server.services.states import Lifecycle

RECEIPT = Lifecycle("receipt", Receipt, RECEIPT_TRANSITIONS)
LPN = Lifecycle("lpn", Lpn, LPN_TRANSITIONS)
SUPPLIER_RETURN = Lifecycle("supplier_return", SupplierReturn, SUPPLIER_RETURN_TRANSITIONS)
