"""Shipments back to the channels: the bulk-shipping upload file (批量发货) of a shop."""
from apiflask.fields import Boolean
from flask import Response

from server.api import api
from server.api.schemas import Schema
from server.guard import current_principal, requires
from server.services.packages import shipping
from server.services.stock import desk as stockdesk


class ShipmentQuery(Schema):
    all = Boolean(load_default=False, metadata={"description": "also the shipments exported before"})


def _file(name: str, media: str, content: bytes, count: int) -> Response:
    return Response(content, mimetype=media, headers={"Content-Disposition": f"attachment; filename={name}",
                                                      "X-Wavefloor-Shipments": str(count)})


@api.get("/shops/<shop>/shipments")
@requires("shipping.export")
@api.input(ShipmentQuery, location="query")
@api.doc(summary="The shop's shipped orders not yet exported (or all) as the channel's upload file: "
                 "Tmall CSV (订单编号,物流公司,运单号), JSON for the other channels. Marks nothing.",
         security="BearerAuth")
def shop_shipments(shop, query_data):
    rows = shipping.shipments(shop, include_exported=query_data["all"])
    name, media, content = shipping.upload_file(shop, rows)
    return _file(name, media, content, len(rows))


@api.post("/shops/<shop>/shipments/export")
@requires("shipping.export")
@api.input(ShipmentQuery, location="query")
@api.doc(summary="The same file, and its shipments recorded as exported (the next file holds only newer ones)",
         security="BearerAuth")
def export_shipments(shop, query_data):
    actor = stockdesk.actor_of(current_principal())
    return _file(*shipping.export(shop, actor, include_exported=query_data["all"]))
