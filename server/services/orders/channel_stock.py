"""Stock offered to each shop (防超卖): available-to-sell = (free available stock − the shop's
safety buffer) × the shop's share, never below zero; written as the channel's upload file.
A shop with ``sell_in_transit`` is also offered the units in transit (在途) for presale, by
expected date and kept apart from the available units."""
from __future__ import annotations

import csv
import io

from peewee import fn

from server.db import write_transaction
from server.models import AuditLog, Barcode, Location, Product, Quant, Shop
from server.services.errors import NotFound
from server.services.purchasing import intransit

SELLABLE_KINDS = ("pick", "reserve")


def shop(code: str) -> Shop:
    found = Shop.get_or_none(Shop.code == code)
    if found is None:
        raise NotFound(f"no shop {code!r}")
    return found


def available_to_sell(shop_code: str) -> list[dict]:
    the_shop = shop(shop_code)
    free = dict(Quant.select(Quant.product, fn.SUM(Quant.qty - Quant.reserved)).join(Location)
                .where((Quant.state == "available") & Location.kind.in_(SELLABLE_KINDS) & Location.active)
                .group_by(Quant.product).tuples())
    barcodes = {}
    for product_id, code in (Barcode.select(Barcode.product, Barcode.code).where(Barcode.multiplier == 1)
                             .order_by(Barcode.id).tuples()):
        barcodes.setdefault(product_id, code)
    # presale against inbound (预售): units in transit by expected date, never added to `quantity`
    inbound = intransit.by_date() if the_shop.sell_in_transit else {}
    rows = []
    for product in Product.select().where(Product.active).order_by(Product.sku):
        units = max(0, int(free.get(product.id, 0) or 0) - the_shop.safety_buffer)
        row = {"sku": product.sku, "barcode": barcodes.get(product.id, ""),
               "quantity": units * the_shop.stock_ratio_pct // 100}
        if the_shop.sell_in_transit:
            row["in_transit"] = [{"expected_on": day.isoformat() if day else None,
                                  "quantity": qty * the_shop.stock_ratio_pct // 100}
                                 for day, qty in inbound.get(product.id, ())
                                 if qty * the_shop.stock_ratio_pct // 100 > 0]
        rows.append(row)
    return rows


def upload_csv(shop_code: str) -> str:
    """The channel's bulk stock upload (商家编码,可售库存). A shop that sells presale against
    inbound gets two more columns, 预售库存 and 预计到货日期, and a row of its own for each
    expected date after the SKU's spot row, whose 可售库存 stays the available units only."""
    presale = shop(shop_code).sell_in_transit
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["商家编码", "条码", "可售库存"] + (["预售库存", "预计到货日期"] if presale else []))
    for row in available_to_sell(shop_code):
        writer.writerow([row["sku"], row["barcode"], row["quantity"]] + ([0, ""] if presale else []))
        for batch in row.get("in_transit", ()):
            writer.writerow([row["sku"], row["barcode"], "", batch["quantity"], batch["expected_on"] or ""])
    return out.getvalue()


def save_shop(code: str, values: dict, actor) -> Shop:
    with write_transaction():
        found = Shop.get_or_none(Shop.code == code)
        if found is None:
            found = Shop.create(code=code, **values)
        else:
            Shop.update(**values).where(Shop.id == found.id).execute()
        AuditLog.create(user=actor.user_id, device=actor.device_id, action="shop.save", target=code,
                        detail=f"{values.get('channel')} ratio {values.get('stock_ratio_pct')}% "
                               f"buffer {values.get('safety_buffer')}"
                               + (" sells in transit" if values.get("sell_in_transit") else ""))
    return Shop.get(Shop.code == code)


def shop_view(found: Shop) -> dict:
    return {"code": found.code, "channel": found.channel, "name": found.name,
            "stock_ratio_pct": found.stock_ratio_pct, "safety_buffer": found.safety_buffer,
            "webhook": bool(found.webhook_secret), "sell_in_transit": found.sell_in_transit}
