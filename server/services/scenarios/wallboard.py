"""The wall screen (现场看板): it sends no commands; what it shows comes whole in its ``snapshot``
when it (re)connects and is kept current by ``wave.progress``, ``putwall.progress`` and the other
events of docs/protocol.md."""
from __future__ import annotations

from server.services import floor
from server.services.auth import Principal
from server.services.device import snapshot


@snapshot.provider
def floor_snapshot(principal: Principal) -> dict:
    """A wall screen that (re)connects replaces its whole picture with this."""
    if not principal.can("wallboard.view"):
        return {}
    return {"floor": floor.summary()}
