"""The wall screen (现场看板): it sends no commands; what it shows comes whole in its ``snapshot``
when it (re)connects and is kept current by ``wave.progress``, ``putwall.progress`` and the other
events of docs/protocol.md."""
from __future__ import annotations

from server.services import floor
from server.services.auth import Principal
from server.services.device import snapshot
from server.services.waves import progress


@snapshot.provider
def floor_snapshot(principal: Principal) -> dict:
    """A wall screen that (re)connects replaces its whole picture with this."""
    if not principal.can("wallboard.view"):
        return {}
    return {"floor": floor.summary()}


@progress.alongside("exceptions")
def floor_exceptions() -> dict:
    """The floor's exceptions go with the ``wave.progress`` after a short pick: a short pick is one
    the moment its line is shortened, and came to the wall with its next snapshot, up to 15 s
    later. What changes them elsewhere (a held order, a printer's fault) comes with the wall's
    next snapshot, which it asks for every 5 s while events come."""
    return floor.exceptions()
