"""The approval request's lifecycle (``APPROVAL_TRANSITIONS``, models/approvals.py): the only writer of its status."""
from __future__ import annotations

from server.models import ApprovalRequest
from server.models.approvals import APPROVAL_TRANSITIONS
from server.services.states import Lifecycle

APPROVAL = Lifecycle("approval", ApprovalRequest, APPROVAL_TRANSITIONS)
