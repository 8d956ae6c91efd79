"""Orders pushed by a channel or an ERP connector: ``POST /api/v1/channels/<shop>/orders`` with
the body signed by the shop's secret (``X-Wavefloor-Signature: sha256=<hex HMAC of the body>``).

Anyone on the LAN can post here, so nothing is read, parsed or stored before the signature
holds: the body is bounded (:data:`MAX_BODY_BYTES`) before it is read, and an unknown shop is
answered exactly as a bad signature is, so the answer tells no one which shops exist. A signed
payload older than the one an order was last updated from (a replay) changes nothing."""
from __future__ import annotations

import hashlib
import hmac
import json

from server.channels import get_adapter
from server.services.errors import AuthError, DomainError, NotFound
from server.services.orders import channel_stock, merge
from server.services.orders import intake as order_import
from server.services.stock import inventory

JSON_CHANNELS = {"top": "top_json", "jd": "jd_json", "douyin": "douyin_json"}
#: the largest body taken: a push carries an order or a page of them, a few kilobytes each
MAX_BODY_BYTES = 10 * 1024 * 1024
BAD_SIGNATURE = "bad or missing signature"


class BodyTooLarge(DomainError):
    """The code and status of the server's own cap on a body (``MAX_BODY_MB``), at this lower one."""
    code = "request_too_large"
    http_status = 413

    def __init__(self, limit: int):
        super().__init__(f"the body is larger than {limit} bytes", limit_bytes=limit)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def receive_orders(shop_code: str, body: bytes, signature: str, ship_by_hours: int = 48):
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge(MAX_BODY_BYTES)
    try:
        shop = channel_stock.shop(shop_code)
    except NotFound:
        shop = None
    secret = shop.webhook_secret if shop is not None else ""
    expected = sign(secret, body)  # an unknown shop costs the same as a known one, and is told the same
    if not secret or not hmac.compare_digest(expected, signature or ""):
        raise AuthError(BAD_SIGNATURE)
    if shop.channel not in JSON_CHANNELS:
        raise DomainError(f"shop {shop_code} is a {shop.channel} shop; webhooks take top, jd or douyin JSON")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DomainError(f"the body is not JSON: {exc}") from None
    result = get_adapter(JSON_CHANNELS[shop.channel]).parse(payload, shop=shop.code)
    report = order_import.import_parsed(result, ship_by_hours=ship_by_hours)
    report.merged = merge.merge_all(inventory.system_actor())  # as the routing rules' `merge` allows
    return report
