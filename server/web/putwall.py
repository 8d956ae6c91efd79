"""The put wall station's page (播种墙), ``/putwall?station=CODE``: a server-rendered shell whose
module (static/putwall.js) runs the ``putwall`` scenario over Socket.IO for that station.

The page needs a token whose device is the station. Three ways to one:
- a kiosk that logged in by PIN opens ``/putwall?token=<token>``: the token moves into the
  page's session and off the address bar, and the page's socket uses it;
- a person logged in at /login (a session without a device) logs in again on the page with
  user and PIN for the station, as at the packing station;
- a PIN token the page already got for this station is kept for the browser tab.
"""
from __future__ import annotations

from flask import render_template, request
from flask_babel import force_locale, gettext as _

from server.guard import current_principal, requires
from server.web import opens_with_token, request_token, web


def _station(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum() or ch in "-_.")[:32]


opens_with_token("web.putwall", "floor.putwall", lambda principal: {
    "station": principal.device.code if principal.device else _station(request.args.get("station", ""))})


def _texts() -> dict:
    """Everything the page's script writes, in the current locale."""
    return {
        "title": _("Put wall"), "offline": _("offline"), "online": _("online"), "logout": _("Log out"),
        "login_title": _("Put wall station login"), "user": _("User"), "pin": _("PIN"),
        "station": _("Station"), "login": _("Log in"), "scan_here": _("Scan a code…"),
        "wall": _("Wall"), "tote": _("Tote"), "wave": _("Wave"), "order": _("Order"), "item": _("Item"),
        "slot": _("Slot"), "units_left": _("units left in the tote"), "orders_done": _("orders complete"),
        "scan_tote": _("Scan a batch tote"), "scan_item": _("Take an item from the tote and scan it"),
        "put": _("Put it into slot"), "then_label": _("then scan the slot's label"),
        "put_aside": _("Put tote aside"), "complete": _("complete"),
        "no_station": _("Type the station's code"),
        "timeout": _("The server did not answer; try again"),
    }


@web.get("/putwall")
@requires("floor.putwall")
def putwall():
    principal = current_principal()
    own = principal.device.code if principal.device else ""
    station = _station(request.args.get("station", "")) or own
    texts = {}
    for lang, locale in (("zh", "zh_Hans_CN"), ("en", "en")):
        with force_locale(locale):
            texts[lang] = _texts()
    return render_template("putwall.html", station=station, session_station=own, texts=texts,
                           user_code=principal.user.code)


@web.get("/putwall/socket-token")
@requires("floor.putwall")
def putwall_socket_token():
    """The token the page's socket connects with when the page's session has the station's."""
    principal = current_principal()
    response = {"token": request_token(), "station": principal.device.code if principal.device else None,
                "user": {"code": principal.user.code, "name": principal.user.name,
                         "language": principal.user.language}}
    return response, 200, {"Cache-Control": "no-store"}
