"""Orders pushed by a channel or an ERP connector: ``POST /api/v1/channels/<shop>/orders`` with
the body signed by the shop's secret (``X-Wavefloor-Signature: sha256=<hex HMAC of the body>``)."""
from __future__ import annotations

import hashlib
import hmac
import json

from server.channels import get_adapter
from server.services.orders import channel_stock

from server.services.stock import inventory

from server.services.orders import merge

from server.services.errors import AuthError, DomainError
from server.services.orders import intake as order_import

JSON_CHANNELS = {"top": "top_json", "jd": "jd_json", "douyin": "douyin_json"}


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def receive_orders(shop_code: str, body: bytes, signature: str, ship_by_hours: int = 48):
    shop = channel_stock.shop(shop_code)
    if not shop.webhook_secret or not hmac.compare_digest(sign(shop.webhook_secret, body), signature or ""):
        raise AuthError("bad or missing signature")
    if shop.channel not in JSON_CHANNELS:
        raise DomainError(f"shop {shop_code} is a {shop.channel} shop; webhooks take top, jd or douyin JSON")
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DomainError(f"the body is not JSON: {exc}") from None
    result = get_adapter(JSON_CHANNELS[shop.channel]).parse(payload, shop=shop.code)
    report = order_import.import_parsed(result, ship_by_hours=ship_by_hours)
    report.merged = merge.merge_all(inventory.system_actor())  # as the routing rules' `merge` allows
    return report
