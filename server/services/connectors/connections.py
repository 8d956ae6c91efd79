"""A shop's connection to its platform: the app key, the secret and session (sealed at rest),
where its pulls have got to, and the client that talks to the platform for it."""
from __future__ import annotations

from peewee import fn

from server.connectors.doudian import DoudianClient
from server.connectors.jos import JosClient
from server.connectors.top import TopClient
from server.db import write_transaction
from server.models import ChannelCall, ChannelListing, Shop, ShopConnection, SyncCheckpoint
from server.models.base import as_utc, utcnow
from server.services.connectors import outbox
from server.services.connectors.credentials import SealedElsewhere, seal, unseal
from server.services.errors import DomainError, NotFound
from server.services.orders import channel_stock

CLIENTS = {"top": TopClient, "jos": JosClient, "doudian": DoudianClient}
#: the gateway each platform publishes; a connection may name another (a sandbox, a test's fake)
ENDPOINTS = {"top": "https://eco.taobao.com/router/rest", "jos": "https://api.jd.com/routerjson",
             "doudian": "https://openapi-fxg.jinritemai.com"}
#: the platform a shop's channel talks to
PLATFORM_OF_CHANNEL = {"tmall": "top", "top": "top", "taobao": "top", "jd": "jos", "douyin": "doudian"}


class BadConnection(DomainError):
    code = "bad_connection"
    http_status = 400


class NotConnected(DomainError):
    code = "not_connected"
    http_status = 409


def connect(shop_code: str, *, app_key: str, secret: str, session: str, platform: str | None = None,
            endpoint: str = "", sign_method: str = "md5", seller_nick: str = "", pull_every_s: int = 60,
            push_shipments: bool = True, push_stock: bool = False) -> ShopConnection:
    """Connect (or re-authorise) a shop: its credentials sealed, its status back to ok."""
    shop = Shop.get_or_none(Shop.code == shop_code)
    if shop is None:
        raise NotFound(kind="shop", code=shop_code)
    platform = platform or PLATFORM_OF_CHANNEL.get(shop.channel)
    if platform not in CLIENTS:
        raise BadConnection(field="platform", reason=f"a {shop.channel} shop has no platform to connect to")
    for name, value in (("app_key", app_key), ("secret", secret), ("session", session)):
        if not (value or "").strip():
            raise BadConnection(field=name, reason="required")
    if platform == "top" and sign_method not in ("md5", "hmac", "hmac-sha256"):
        raise BadConnection(field="sign_method", reason="md5, hmac or hmac-sha256")
    if int(pull_every_s) < 10:
        raise BadConnection(field="pull_every_s", reason="at least 10 seconds")
    values = {"platform": platform, "endpoint": (endpoint or ENDPOINTS[platform]).strip(),
              "app_key": app_key.strip(), "secret": seal(secret.strip()), "session": seal(session.strip()),
              "sign_method": sign_method, "seller_nick": seller_nick.strip(), "status": "ok", "last_error": "",
              "pull_every_s": int(pull_every_s), "push_shipments": bool(push_shipments),
              "push_stock": bool(push_stock), "updated_at": utcnow()}
    with write_transaction():
        existing = ShopConnection.get_or_none(ShopConnection.shop == shop.id)
        if existing is None:
            return ShopConnection.create(shop=shop.id, **values)
        ShopConnection.update(**values).where(ShopConnection.id == existing.id).execute()
    return ShopConnection.get_by_id(existing.id)


def pause(shop_code: str, paused: bool = True) -> ShopConnection:
    connection = of_shop(shop_code)
    with write_transaction():
        ShopConnection.update(status="paused" if paused else "ok", updated_at=utcnow()).where(
            ShopConnection.id == connection.id).execute()
    return ShopConnection.get_by_id(connection.id)


def of_shop(shop_code: str) -> ShopConnection:
    connection = (ShopConnection.select().join(Shop).where(Shop.code == shop_code).first())
    if connection is None:
        raise NotConnected(shop=shop_code)
    return connection


def client_for(connection: ShopConnection, timeout_s: float = 10.0):
    """The platform client of a connection (its secrets unsealed only here, in memory)."""
    return CLIENTS[connection.platform](connection.endpoint, connection.app_key, unseal(connection.secret),
                                        unseal(connection.session), sign_method=connection.sign_method,
                                        seller_nick=connection.seller_nick, timeout_s=timeout_s)


def views() -> list[dict]:
    """Every shop with its connection (or none), for the office: never a secret."""
    checkpoints = {}
    for mark in SyncCheckpoint.select():
        checkpoints.setdefault(mark.shop_id, {})[mark.operation] = {
            "until": as_utc(mark.until), "last_run_at": as_utc(mark.last_run_at), "last_error": mark.last_error,
            "stored": mark.stored}
    failed = dict(ChannelCall.select(ChannelCall.shop, fn.COUNT(ChannelCall.id)).where(ChannelCall.state == "failed")
                  .group_by(ChannelCall.shop).tuples())
    waiting = dict(ChannelCall.select(ChannelCall.shop, fn.COUNT(ChannelCall.id))
                   .where(ChannelCall.state.in_(("pending", "sending"))).group_by(ChannelCall.shop).tuples())
    connections = {c.shop_id: c for c in ShopConnection.select()}
    found = []
    for shop in Shop.select().order_by(Shop.code):
        connection = connections.get(shop.id)
        row = {"shop": shop.code, "name": shop.name, "channel": shop.channel, "connected": connection is not None,
               "platform": PLATFORM_OF_CHANNEL.get(shop.channel, ""), "status": "", "last_error": "",
               "checkpoints": checkpoints.get(shop.id, {}), "failed_calls": failed.get(shop.id, 0),
               "waiting_calls": waiting.get(shop.id, 0)}
        if connection is not None:
            row.update(platform=connection.platform, status=connection.status, last_error=connection.last_error,
                       endpoint=connection.endpoint, app_key=connection.app_key,
                       sign_method=connection.sign_method, seller_nick=connection.seller_nick,
                       pull_every_s=connection.pull_every_s, push_shipments=connection.push_shipments,
                       push_stock=connection.push_stock, updated_at=as_utc(connection.updated_at),
                       readable=_readable(connection))
        found.append(row)
    return found


def _readable(connection: ShopConnection) -> bool:
    try:
        unseal(connection.session)
        return True
    except SealedElsewhere:
        return False


def needing_attention() -> list[dict]:
    """Shops the control room flags: a session to re-authorise, or secrets this server cannot read."""
    return [{"shop": row["shop"], "status": row["status"], "last_error": row["last_error"]}
            for row in views() if row["connected"] and (row["status"] == "reauthorise" or not row["readable"])]


def push_stock(shop_code: str) -> dict:
    """Stock uploads (库存同步) for every SKU of the shop that has a listing: the shop's
    available-to-sell figures (its share and safety buffer), one outbox call a SKU. SKUs without
    a listing are named: the platform's item is not known yet (a pulled order teaches it)."""
    shop = Shop.get_or_none(Shop.code == shop_code)
    if shop is None:
        raise NotFound(kind="shop", code=shop_code)
    listings = {row.sku_code: row for row in ChannelListing.select().where(ChannelListing.shop == shop.id)}
    figures, unlisted = [], []
    for row in channel_stock.available_to_sell(shop_code):
        listing = listings.get(row["sku"])
        if listing is None:
            unlisted.append(row["sku"])
            continue
        figures.append((row["sku"], listing.item_id, listing.sku_id, row["quantity"]))
    written = outbox.stock_figures(shop.id, figures, utcnow().strftime("%Y%m%d%H%M%S%f"))
    return {"queued": written, "unlisted": unlisted}


def shop_codes() -> dict[int, str]:
    return dict(Shop.select(Shop.id, Shop.code).tuples())
