"""Packages: a parcel is a row of its own (state, station, carrier, tracking number, label job,
weight), with the units checked into it; before, its facts were replayed from its order's
history on every read.

Every order whose history has a parcel (a ``pack_open`` or a ``label`` line) gets its parcel,
read from that history the way packing read it: the station it is open at, the units checked
since it was last opened, its label (tracking number, carrier, the latest print job, whether
the label was scanned), its weight if it was weighed since it was last opened, when it left
and when its tracking number went back to the channel. Its state follows its order: picked is
``open`` (at a station) or ``aside``, packed is ``labelled`` or ``weighed`` (weighed at the
station that has it open), shipped is ``shipped``; the parcel of an order no longer at packing
(cancelled) is open nowhere.

A parcel's id makes its tracking number from now on. A carried parcel takes the id of the
history line that made its number (its label line; without a label, its first line about the
parcel), and new ids start above them all, so no number is made twice.

Frozen table definitions: this file never imports the live models."""
import datetime
import json

from peewee import (SQL, AutoField, BigAutoField, BooleanField, CharField, DateTimeField, ForeignKeyField,
                    IntegerField, Model, PostgresqlDatabase, TextField, fn)

CHUNK = 500  # orders carried over a round
AT_PACKING = ("picked", "packed")
HISTORY = ("pack_open", "pack_close", "pack_unit", "label", "label_reprint", "label_confirmed", "weighed", "shipped",
           "shipment_exported")


def _models(db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):  # existing tables, referenced or read only
        id = AutoField()

    class Device(Base):
        id = AutoField()

    class Product(Base):
        id = AutoField()

    class Order(Base):
        id = AutoField()
        status = CharField(max_length=16)

    class OrderEvent(Base):
        id = BigAutoField()
        order = ForeignKeyField(Order, on_delete="CASCADE")
        at = DateTimeField()
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        action = CharField(max_length=32)
        detail = TextField(default="")

    class PrintJob(Base):
        id = BigAutoField()

    class Package(Base):
        id = AutoField()
        order = ForeignKeyField(Order, unique=True, on_delete="CASCADE")
        station = CharField(max_length=64, null=True, index=True)
        state = CharField(max_length=16, default="open")
        carrier = CharField(max_length=32, default="")
        tracking = CharField(max_length=64, default="")
        label_job = ForeignKeyField(PrintJob, null=True, on_delete="SET NULL")
        label_confirmed = BooleanField(default=False)
        expected_g = IntegerField(null=True)
        weight_g = IntegerField(null=True)
        created_at = DateTimeField(default=datetime.datetime.utcnow)
        packed_at = DateTimeField(null=True)
        weighed_at = DateTimeField(null=True)
        shipped_at = DateTimeField(null=True)
        exported_at = DateTimeField(null=True)
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        device = ForeignKeyField(Device, null=True, on_delete="SET NULL", index=False)

    Package.add_index(Package.tracking, unique=True, name="package_tracking", where=SQL("tracking <> ''"))

    class PackageUnit(Base):
        id = AutoField()
        package = ForeignKeyField(Package, on_delete="CASCADE")
        product = ForeignKeyField(Product, on_delete="RESTRICT")
        qty = IntegerField(default=0)

        class Meta:
            indexes = ((("package", "product"), True),)

    return {"Order": Order, "OrderEvent": OrderEvent, "Product": Product, "PrintJob": PrintJob,
            "Package": Package, "PackageUnit": PackageUnit}


def up(migrator, db):
    models = _models(db)
    db.create_tables([models["Package"], models["PackageUnit"]])
    _carry_over(db, models)


def down(migrator, db):
    models = _models(db)
    db.drop_tables([models["PackageUnit"], models["Package"]])


# --- the parcels in the orders' history -----------------------------------------------------------

def _carry_over(db, models):
    Order, OrderEvent, Package = models["Order"], models["OrderEvent"], models["Package"]
    with_parcel = OrderEvent.select(OrderEvent.id).where((OrderEvent.order == Order.id)
                                                         & OrderEvent.action.in_(("pack_open", "label")))
    last = 0
    while True:
        batch = list(Order.select(Order.id, Order.status).where((Order.id > last) & fn.EXISTS(with_parcel))
                     .order_by(Order.id).limit(CHUNK).tuples())
        if not batch:
            break
        last = batch[-1][0]
        _carry(models, dict(batch))
    if isinstance(db, PostgresqlDatabase) and Package.select().exists():
        db.execute_sql("SELECT setval(pg_get_serial_sequence('package', 'id'), (SELECT MAX(id) FROM package))")


def _carry(models, status_of: dict):
    OrderEvent, Package, PackageUnit = models["OrderEvent"], models["Package"], models["PackageUnit"]
    history = {order_id: [] for order_id in status_of}
    for row in (OrderEvent.select(OrderEvent.id, OrderEvent.order, OrderEvent.at, OrderEvent.user, OrderEvent.action,
                                  OrderEvent.detail)
                .where(OrderEvent.order.in_(list(status_of)) & OrderEvent.action.in_(HISTORY))
                .order_by(OrderEvent.id).tuples()):
        history[row[1]].append(row)
    parcels = [_replay(order_id, status_of[order_id], rows) for order_id, rows in history.items() if rows]
    jobs = {job_id for (job_id,) in models["PrintJob"].select(models["PrintJob"].id)
            .where(models["PrintJob"].id.in_([p["label_job"] for p in parcels if p["label_job"]] or [0])).tuples()}
    products = {product_id for (product_id,) in models["Product"].select(models["Product"].id)
                .where(models["Product"].id.in_([p for parcel in parcels for p in parcel["units"]] or [0])).tuples()}
    units = []
    for parcel in parcels:
        if parcel["label_job"] not in jobs:
            parcel["label_job"] = None
        units += [{"package": parcel["id"], "product": product_id, "qty": qty}
                  for product_id, qty in sorted(parcel.pop("units").items()) if product_id in products and qty > 0]
    if parcels:
        Package.insert_many(parcels).execute()
    if units:
        PackageUnit.insert_many(units).execute()


def _replay(order_id: int, status: str, rows: list) -> dict:
    """The parcel as packing read it from the order's history, in its new shape."""
    parcel = {"id": rows[0][0], "order": order_id, "station": None, "state": "open", "carrier": "", "tracking": "",
              "label_job": None, "label_confirmed": False, "expected_g": None, "weight_g": None,
              "created_at": rows[0][2], "packed_at": None, "weighed_at": None, "shipped_at": None,
              "exported_at": None, "user": None, "device": None, "units": {}}
    for event_id, _order, at, user, action, detail in rows:
        if action == "pack_open":  # opened again: weighed again, and checked again if not labelled yet
            parcel.update(station=detail, weight_g=None, expected_g=None, weighed_at=None)
            if not parcel["tracking"]:
                parcel["units"] = {}
        elif action == "pack_close":
            parcel["station"] = None
        elif action == "pack_unit" and not parcel["tracking"]:
            unit = json.loads(detail)
            parcel["units"][unit["product"]] = parcel["units"].get(unit["product"], 0) + unit["qty"]
        elif action == "label" and detail.startswith("{") and json.loads(detail).get("tracking"):
            label = json.loads(detail)
            parcel.update(id=event_id, tracking=label["tracking"], carrier=label.get("carrier", ""),
                          label_job=label.get("job"), label_confirmed=False, packed_at=at)
        elif action == "label_reprint" and detail.isdigit():
            parcel["label_job"] = int(detail)
        elif action == "label_confirmed":
            parcel["label_confirmed"] = True
        elif action == "weighed":
            weighed = json.loads(detail)
            parcel.update(weight_g=weighed.get("grams"), expected_g=weighed.get("expected_g"), weighed_at=at)
        elif action == "shipped":
            parcel["shipped_at"] = at
        elif action == "shipment_exported":
            parcel["exported_at"] = parcel["exported_at"] or at
        if action not in ("shipped", "shipment_exported"):
            parcel["user"] = user
    if status not in AT_PACKING and status != "shipped":
        parcel["station"] = None  # its order left packing (cancelled): open nowhere
    if status == "shipped":
        parcel["state"] = "shipped"
    elif status == "packed" or parcel["tracking"]:
        parcel["state"] = "weighed" if parcel["station"] and parcel["weight_g"] is not None else "labelled"
    else:
        parcel["state"] = "open" if parcel["station"] else "aside"
    if parcel["state"] != "weighed" and parcel["state"] != "shipped":
        parcel.update(weight_g=None, expected_g=None, weighed_at=None)
    return parcel
