"""What the pages of a station share (the put wall, the returns bench, the packing station): the
station's code from the address, and for a page a kiosk may open with its token, the page itself
and the token its socket connects with.

The page needs a token whose device is the station. Three ways to one:
- a kiosk that logged in by PIN opens ``<page>?token=<token>``: the token moves into the page's
  session and off the address bar, and the page's socket uses it;
- a person logged in at /login (a session without a device) logs in again on the page with user
  and PIN for the station, as at the packing station;
- a PIN token the page already got for this station is kept for the browser tab.
"""
from __future__ import annotations

from flask import render_template, request

from server.guard import current_principal
from server.web import opens_with_token, request_token


def station_code(value: str) -> str:
    """A station's code as an address may carry it: letters, digits and ``-_.``, at most 32."""
    return "".join(ch for ch in value if ch.isalnum() or ch in "-_.")[:32]


def opens_at_station(endpoint: str, permission: str) -> None:
    """``<page>?token=...`` opens the page for the token's device, else for the address's ``?station=``."""
    opens_with_token(endpoint, permission, lambda principal: {
        "station": principal.device.code if principal.device else station_code(request.args.get("station", ""))})


def render_station_page(template: str, **context):
    """The page for the address's station (else the session's device), knowing the session's."""
    principal = current_principal()
    own = principal.device.code if principal.device else ""
    station = station_code(request.args.get("station", "")) or own
    return render_template(template, station=station, session_station=own, user_code=principal.user.code, **context)


def socket_token():
    """The token the page's socket connects with when the page's session has the station's."""
    principal = current_principal()
    response = {"token": request_token(), "station": principal.device.code if principal.device else None,
                "user": {"code": principal.user.code, "name": principal.user.name,
                         "language": principal.user.language}}
    return response, 200, {"Cache-Control": "no-store"}
