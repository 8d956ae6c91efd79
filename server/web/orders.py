"""Office pages: orders with filters, one order with its history, and the held-order review."""
from __future__ import annotations

import datetime as dt
import json

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.guard import current_principal, requires
from server.models.orders import ORDER_STATES
from server.services.connectors import tracking
from server.services.errors import DomainError
from server.services.orders import office
from server.services.orders import lifecycle as orders
from server.services.orders import views as order_views
from server.services.stock import desk as stockdesk
from server.web import hold_names, state_names, web


def event_names() -> dict:
    """What each kind of line in an order's history is called (states are named by state_names)."""
    return {"imported": _("Imported"), "edited": _("Edited"), "priority": _("Priority set"),
            "merged": _("Merged with"), "split": _("Split"), "short": _("Short picked"),
            "lines_refunded": _("Lines refunded"), "channel_update": _("Channel update"),
            "channel_change_ignored": _("Channel change ignored"), "pack_open": _("Packing started"),
            "pack_unit": _("Unit checked"), "pack_close": _("Packing closed"), "label": _("Label printed"),
            "label_reprint": _("Label printed again"), "label_confirmed": _("Label confirmed"),
            "weighed": _("Weighed"), "refund": _("Refund"), "return_opened": _("Return parcel opened"),
            "return_closed": _("Return parcel closed"), "return_matched": _("Unknown parcel matched")}


def _event_detail(action: str, detail: str, holds: dict) -> str:
    """The detail of a history line in words: no JSON, no internal ids."""
    try:
        facts = json.loads(detail) if detail.startswith("{") else None
    except ValueError:
        facts = None
    if action == "pack_unit" and facts:
        return f"{facts.get('sku', '')} × {facts.get('qty', 1)}"
    if action == "label" and facts:
        return _("tracking number %(tracking)s, %(carrier)s", tracking=facts.get("tracking", ""),
                 carrier=facts.get("carrier", ""))
    if action == "weighed" and facts:
        return _("%(grams)s g (expected %(expected)s g)", grams=facts.get("grams"), expected=facts.get("expected_g"))
    if action == "edited" and facts:
        return "; ".join(f"{k}: {v}" for k, v in facts.items())
    if action == "refund":
        return _refund_words(detail)
    if action == "return_closed":
        parcel, _sep, units = detail.partition(": ")
        count = units.split(" ")[0]
        if count.isdecimal():
            return _("%(parcel)s, %(units)s units back", parcel=parcel, units=count)
    if action == "label_reprint":
        return ""  # the detail is the print job's id, which nobody sees
    said = {"paid": _("paid on the channel"), "rules approved": _("passed the review rules")}.get(detail)
    if said:
        return said
    codes = [c for c in detail.split(",") if c]
    if codes and all(c in holds for c in codes):
        return "、".join(holds[c] for c in codes)
    return detail


def _refund_words(detail: str) -> str:
    """"<refund id> <state> <fen> fen" -> the refund, its state and amount in the page's language."""
    parts = detail.split(" ")
    if len(parts) != 4 or parts[3] != "fen" or not parts[2].lstrip("-").isdecimal():
        return detail
    states = {"requested": _("requested"), "agreed": _("agreed"), "refused": _("refused"),
              "closed": _("closed"), "success": _("refunded")}
    return _("refund %(refund)s: %(state)s, ¥%(amount)s", refund=parts[0], state=states.get(parts[1], parts[1]),
             amount=f"{int(parts[2]) / 100:.2f}")


def history_lines(history: list[dict]) -> list[dict]:
    """An order's history as people read it: each line's name and detail in the page's language."""
    states, names, holds = state_names(), event_names(), hold_names()
    return [dict(e, name=states.get(e["action"]) or names.get(e["action"], e["action"]),
                 words=_event_detail(e["action"], e["detail"] or "", holds)) for e in history]


def _date(name):
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@web.get("/orders")
@requires("orders.read")
def order_list():
    filters = {k: (request.args.get(k) or None) for k in ("status", "channel", "hold", "province", "q")}
    if filters["status"] not in ORDER_STATES:
        filters["status"] = None
    filters.update(since=_date("since"), until=_date("until"))
    page = int(request.args["page"]) if request.args.get("page", "").isdecimal() else 0
    result = order_views.order_list(current_principal(), limit=50, offset=page * 50, **filters)
    next_url = None
    if result["total"] > (page + 1) * 50:
        next_url = url_for("web.order_list", **dict(request.args.to_dict(), page=page + 1))
    return render_template("orders.html", result=result, filters=filters, states=ORDER_STATES,
                           args=request.args, next_url=next_url)


@web.get("/orders/<int:order_id>")
@requires("orders.read")
def order_detail(order_id):
    try:
        order = order_views.order_detail(order_id, current_principal())
    except DomainError:
        return render_template("message.html", message=_("No such order.")), 404
    return render_template("order.html", order=order, history=history_lines(order["history"]),
                           error=request.args.get("error"), tracking=tracking.order_events(order_id))


@web.post("/orders/<int:order_id>/<action>")
@requires("orders.write")
def order_action(order_id, action):
    actor = stockdesk.actor_of(current_principal())
    try:
        if action == "approve":
            office.approve(order_id, actor, request.form.get("note", ""))
        elif action == "cancel":
            office.cancel(orders.get(order_id), actor, request.form.get("reason", "") or _("cancelled by office"))
        elif action == "edit":
            changes = {k: request.form[k].strip() for k in office.EDITABLE if k in request.form}
            office.edit(order_id, changes, actor)
        elif action == "priority":
            office.set_priority(order_id, int(request.form.get("priority", "0")), actor)
        else:
            return render_template("message.html", message=_("Unknown action.")), 404
    except (DomainError, ValueError) as exc:
        message = exc.text if isinstance(exc, DomainError) else str(exc)
        return redirect(url_for("web.order_detail", order_id=order_id, error=message))
    return redirect(url_for("web.order_detail", order_id=order_id))
