"""The repurchase model per SKU (复购周期) and the daily due-to-reorder list (复购提醒).

For each customer and SKU, the days (in China) they bought it; the intervals between one
customer's consecutive days of purchase, pooled over the customers, give the SKU's typical
interval: the median, and the spread as the quartiles (p25–p75). A SKU with fewer than
``reorder_min_intervals`` intervals has no model (median null).

A customer is due on day T for a SKU with a model when T lies from ``reorder_lead_days``
before to ``reorder_grace_days`` after their last purchase day + the median (rounded), they
have not opted out and their phone can take an SMS. Each purchase is listed once: the list of
a day holds the purchases first found due that day (a row per customer, SKU and last purchase).
The CSV for the SMS tool leaves out whoever opted out since the list was made.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import defaultdict

from server.db import insert_rows
from server.models import Product
from server.models.customers import Customer, ReorderDue, RepurchaseModel
from server.services.auth import mask_name, mask_phone
from server.services.customers.common import local_day, usable_phone

CSV_COLUMNS = ("phone", "name", "nick", "channel", "shop", "sku", "item", "last_order_on", "due_on",
               "typical_days")


def intervals(days) -> list[int]:
    """Days between consecutive distinct purchase days."""
    ordered = sorted(set(days))
    return [(b - a).days for a, b in zip(ordered, ordered[1:])]


def summarise(gaps: list[int], min_intervals: int) -> dict:
    """Median and quartiles of the intervals; None each when there are too few."""
    if len(gaps) < max(1, min_intervals):
        return {"median_days": None, "p25_days": None, "p75_days": None}
    if len(gaps) == 1:
        return {"median_days": float(gaps[0]), "p25_days": float(gaps[0]), "p75_days": float(gaps[0])}
    p25, _, p75 = statistics.quantiles(gaps, n=4, method="inclusive")
    return {"median_days": float(statistics.median(gaps)), "p25_days": float(p25), "p75_days": float(p75)}


def rebuild(day: dt.date, purchases: dict[int, dict], rules) -> dict:
    """Rewrite the models from ``purchases`` ({customer id: {sku: [product id, {days}, last paid_at]}})
    and add the day's due list; inside the caller's transaction."""
    min_intervals = rules.setting("reorder_min_intervals")
    gaps, buyers, repeat, products = defaultdict(list), defaultdict(int), defaultdict(int), {}
    for bought in purchases.values():
        for sku, (product, days, _) in bought.items():
            found = intervals(days)
            gaps[sku].extend(found)
            buyers[sku] += 1
            repeat[sku] += bool(found)
            if product:
                products[sku] = product
    models = {}
    for sku in buyers:
        models[sku] = dict(sku_code=sku, product=products.get(sku), buyers=buyers[sku], repeat_buyers=repeat[sku],
                           intervals=len(gaps[sku]), made_on=day, **summarise(gaps[sku], min_intervals))
    RepurchaseModel.delete().execute()
    insert_rows(RepurchaseModel, list(models.values()))
    due = list_due(day, purchases, models, rules)
    return {"skus": len(models), "modelled": sum(m["median_days"] is not None for m in models.values()),
            "due": due}


def list_due(day: dt.date, purchases: dict[int, dict], models: dict, rules) -> int:
    """Add the purchases due on ``day`` not listed before; return how many were added."""
    lead, grace = rules.setting("reorder_lead_days"), rules.setting("reorder_grace_days")
    reachable = {cid for cid, phone, out in Customer.select(Customer.id, Customer.phone, Customer.opt_out).tuples()
                 if not out and usable_phone(phone)}
    candidates = []
    for customer, bought in purchases.items():
        if customer not in reachable:
            continue
        for sku, (product, days, last_at) in bought.items():
            median = models.get(sku, {}).get("median_days")
            if median is None:
                continue
            due_on = max(days) + dt.timedelta(days=round(median))
            if due_on - dt.timedelta(days=lead) <= day <= due_on + dt.timedelta(days=grace):
                candidates.append({"made_on": day, "customer": customer, "sku_code": sku, "product": product,
                                   "last_order_at": last_at, "due_on": due_on, "median_days": median})
    if not candidates:
        return 0
    listed = set(ReorderDue.select(ReorderDue.customer, ReorderDue.sku_code, ReorderDue.last_order_at)
                 .where(ReorderDue.customer.in_({c["customer"] for c in candidates})).tuples())
    listed = {(a, b, _naive(t)) for a, b, t in listed}
    fresh = [c for c in candidates if (c["customer"], c["sku_code"], _naive(c["last_order_at"])) not in listed]
    insert_rows(ReorderDue, fresh)
    return len(fresh)


def _naive(at):
    """A stored time as one comparable value on both engines (SQLite gives text back)."""
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    return at.replace(tzinfo=None) if at is not None else None


def due_rows(day: dt.date, pii: bool, include_opted_out: bool = False) -> list[dict]:
    """The due list made on ``day``; the phone and names masked unless ``pii``; opted-out
    customers left out."""
    query = (ReorderDue.select(ReorderDue, Customer).join(Customer)
             .where(ReorderDue.made_on == day).order_by(ReorderDue.due_on, Customer.id, ReorderDue.sku_code))
    if not include_opted_out:
        query = query.where(Customer.opt_out == False)  # noqa: E712
    found = list(query)
    names = _product_names({due.product_id for due in found})
    rows = []
    for due in found:
        c = due.customer
        rows.append({"customer_id": c.id, "phone": c.phone if pii else mask_phone(c.phone),
                     "name": c.name if pii else mask_name(c.name), "nick": c.nick if pii else mask_name(c.nick),
                     "channel": c.channel, "shop": c.shop, "sku": due.sku_code,
                     "item": names.get(due.product_id, ""), "last_order_on": local_day(_naive(due.last_order_at)),
                     "due_on": due.due_on if isinstance(due.due_on, dt.date) else dt.date.fromisoformat(due.due_on),
                     "typical_days": due.median_days, "opt_out": c.opt_out})
    return rows


def due_csv(day: dt.date, pii: bool) -> bytes:
    """The due list as the SMS tool reads it: UTF-8 with a BOM (Excel), one row a customer and SKU."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in due_rows(day, pii):
        writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _cell(value) -> str:
    """A cell as text; one that a spreadsheet would run as a formula is quoted with '."""
    text = value.isoformat() if isinstance(value, dt.date) else ("%g" % value if isinstance(value, float)
                                                                  else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not text[1:2].isdigit() else text


def model_rows(limit: int = 500, offset: int = 0, modelled_only: bool = False) -> tuple[list[dict], int]:
    query = RepurchaseModel.select()
    if modelled_only:
        query = query.where(RepurchaseModel.median_days.is_null(False))
    total = query.count()
    found = list(query.order_by(RepurchaseModel.repeat_buyers.desc(), RepurchaseModel.sku_code).limit(limit)
                 .offset(offset))
    names = _product_names({m.product_id for m in found})
    rows = []
    for m in found:
        rows.append({"sku": m.sku_code, "item": names.get(m.product_id, ""), "buyers": m.buyers,
                     "repeat_buyers": m.repeat_buyers,
                     "repeat_share": round(m.repeat_buyers / m.buyers, 4) if m.buyers else 0.0,
                     "intervals": m.intervals, "median_days": m.median_days, "p25_days": m.p25_days,
                     "p75_days": m.p75_days, "made_on": m.made_on})
    return rows, total


def _product_names(ids: set) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(Product.select(Product.id, Product.name).where(Product.id.in_(ids)).tuples()) if ids else {}
