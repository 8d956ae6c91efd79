"""Office pages: orders with filters, one order with its history, and the held-order review."""
from __future__ import annotations

import datetime as dt

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from server.guard import current_principal, requires
from server.models.orders import ORDER_STATES
from server.services.errors import DomainError
from server.services.orders import office
from server.services.orders import lifecycle as orders
from server.services.orders import views as order_views
from server.services.stock import desk as stockdesk
from server.web import web


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
    return render_template("order.html", order=order, error=request.args.get("error"))


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
