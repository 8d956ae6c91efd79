"""The put wall station's page (播种墙), ``/putwall?station=CODE``: a server-rendered shell whose
module (static/putwall.js) runs the ``putwall`` scenario over Socket.IO for that station. How
the page gets the station's token: server/web/stations.py.
"""
from __future__ import annotations

from flask_babel import force_locale, gettext as _

from server.guard import requires
from server.web import web
from server.web.stations import opens_at_station, render_station_page, socket_token

opens_at_station("web.putwall", "floor.putwall")


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
    texts = {}
    for lang, locale in (("zh", "zh_Hans_CN"), ("en", "en")):
        with force_locale(locale):
            texts[lang] = _texts()
    return render_station_page("putwall.html", texts=texts)


@web.get("/putwall/socket-token")
@requires("floor.putwall")
def putwall_socket_token():
    """The token the page's socket connects with when the page's session has the station's."""
    return socket_token()
