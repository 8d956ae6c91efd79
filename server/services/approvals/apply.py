"""What an approved request does: the change it held back, made as its requester asked it.

Decisions go through :func:`decide` here (the approvals page, the API, the CLI); a purchase
order's own page approves through the purchasing service, which ends the same way."""
from __future__ import annotations

import json
import logging

from server.services.approvals import requests
from server.services.errors import DomainError
from server.services.purchasing import orders as purchase_orders
from server.services.stock import catalog, desk, inventory

log = logging.getLogger(__name__)


def _stock_adjustment(request, payload, requester):
    desk.post_adjustment(payload, requester)
    return f"posted: {payload['sku']} at {payload['location']} {payload['delta']:+d}"


def _product_change(request, payload, requester):
    fields = {k: v for k, v in payload.items() if k != "sku"}
    catalog.upsert(payload["sku"], fields, actor=requester, approved=True)
    return "changed: " + ", ".join(f"{k} {v}" for k, v in fields.items())


def _purchase_order(request, payload, requester):
    po = purchase_orders.finish_approval(request)
    return f"{po.code} approved"


def _voucher_export(request, payload, requester):
    return "the period's vouchers may be exported"


APPLY = {"stock_adjustment": _stock_adjustment, "price_change": _product_change, "cost_change": _product_change,
         "purchase_order": _purchase_order, "voucher_export": _voucher_export}


def decide(request_id: int, actor, *, approve: bool, comment: str = ""):
    """Decide the level a request waits at; once its last level approves it, make its change.
    A change that can no longer be made (the stock moved meanwhile) is recorded as the
    request's outcome and raised: the request stays approved, nothing is half made."""
    request = requests.decide(request_id, actor, approve=approve, comment=comment)
    if request.status != "approved":
        return request
    requester = inventory.Actor(request.requested_by_id, request.device_id)
    try:
        outcome = APPLY[request.subject](request, json.loads(request.payload), requester)
    except DomainError as error:
        requests.record_outcome(request.id, f"not made: {error.text}")
        log.warning("approval #%s approved but not made: %s", request.id, error.text)
        raise
    requests.record_outcome(request.id, outcome)
    return requests.get(request.id)
