"""The supervisor's wall screen (现场看板, /wall) and control room (控制室, /control).

The wall is a page that draws what its Socket.IO ``snapshot`` says and then applies events as
they come. A wall device logs in like a handheld (PIN, with its own device code) and opens
``/wall?token=<token>``: the token moves into the page's session and off the address bar.
"""
from __future__ import annotations

from flask import render_template, request, session
from flask_babel import force_locale, gettext as _

from server.guard import current_principal, requires
from server.messages import LANGUAGES
from server.web import opens_with_token, request_token, web

WALL_DEFAULT_LANGUAGE = "zh_Hans_CN"  # the floor reads Chinese first, whatever the browser says


opens_with_token("web.wall", "wallboard.view")


def _wall_language() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["wall_lang"] = chosen
    return session.get("wall_lang") or WALL_DEFAULT_LANGUAGE


def _texts() -> dict:
    """Sentences the wall's script writes itself, in the page's language."""
    return {"live": _("LIVE"), "stale": _("STALE"), "stale_hint": _("Connection lost: numbers are not current."),
            "idle": _("idle"), "no_task": _("no task"), "late": _("late"), "eta": _("ETA"),
            "minutes": _("min"), "units": _("units"), "lines_h": _("lines/h"), "overdue": _("overdue"),
            "relogin": _("Log in again on this screen."), "none": _("none"),
            # [one, other]: the form for a count of one, and for any other count
            "overdue_n": [_("%(n)s order overdue"), _("%(n)s orders overdue")],
            "more_n": [_("and %(n)s more exception"), _("and %(n)s more exceptions")],
            "receipts_n": [_("%(n)s receipt open"), _("%(n)s receipts open")],
            "kinds": {"short_pick": _("Short pick"), "count": _("Count location"), "held": _("Held order"),
                      "backorder": _("Backorder"), "printer": _("Printer fault"),
                      "print_failed": _("Label failed"), "alert": _("Alert")},
            "status": {"released": _("Released"), "picking": _("Picking"), "paused": _("Paused"),
                       "picked": _("Picked"), "assigned": _("Assigned"), "in_progress": _("Picking"),
                       "open": _("Open"), "done": _("Done")},
            "strategy": {"single_unit": _("Single unit"), "single_sku_multi": _("Single SKU"),
                         "cluster": _("Cluster"), "batch_putwall": _("Batch + put wall")}}


@web.get("/wall")
@requires("wallboard.view")
def wall():
    lang = _wall_language()
    with force_locale(lang):
        return render_template("wall.html", lang="en" if lang == "en" else lang, texts=_texts())


@web.get("/wall/socket-token")
@requires("wallboard.view")
def wall_socket_token():
    """The token the page's socket connects with: the one this page's session already holds."""
    response = {"token": request_token(), "user": current_principal().user.code}
    return response, 200, {"Cache-Control": "no-store"}


@web.get("/control")
@requires("floor.control")
def control():
    return render_template("control.html")
