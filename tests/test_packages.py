"""Packages (包裹): the parcel's own row and its lifecycle, the packing scenario reading only that
row, and the migration that made the rows from the orders' history. Both engines."""
from __future__ import annotations

import json

import pytest
from peewee import IntegrityError
from playhouse.migrations import Runner

from server.db import database, init_database, sql
from server.models import (Barcode, Device, Order, OrderEvent, Package, Printer, PrintJob, Product, User,
                           Warehouse)
from server.models.packages import PACKAGE_STATES, PACKAGE_TRANSITIONS
from server.schema import MIGRATIONS, migrate
from server.services.auth import Principal
from server.services.device import snapshot
from server.services.errors import InvalidTransition
from server.services.packages import lifecycle as parcels
from server.services.packages import shipping
from server.services.packages.lifecycle import PACKAGE
from server.services.stock import inventory
from tests.test_packing import PACKING, emulator, floor, packer, printer, refused, run, station, step  # noqa: F401


def actor(people, device: str = "PK-01") -> inventory.Actor:
    kiosk, _ = Device.get_or_create(code=device, defaults={"kind": "kiosk"})
    return inventory.Actor(people["packer"].id, kiosk.id)


def state_of(parcel: Package) -> str:
    return Package.select(Package.state).where(Package.id == parcel.id).scalar()


def a_job() -> int:
    printer, _ = Printer.get_or_create(code="ZD-T", defaults={"url": "tcp://127.0.0.1:9"})
    return PrintJob.create(printer=printer, template="shipping", zpl="^XA^XZ").id


# --- the table and its verbs ------------------------------------------------------------------------

def test_each_declared_edge_moves_a_parcel_and_each_other_raises(db):
    assert PACKAGE.states == set(PACKAGE_STATES) and PACKAGE.edges == PACKAGE_TRANSITIONS
    parcel = Package.create(order=Order.create(channel="csv", shop="S", external_id="P-1"))
    for current in PACKAGE_STATES:
        for target in PACKAGE_STATES:
            Package.update(state=current).where(Package.id == parcel.id).execute()  # past the lifecycle
            if (current, target) in PACKAGE_TRANSITIONS:
                PACKAGE.move(parcel.id, current, target)
                assert state_of(parcel) == target
            else:
                with pytest.raises(InvalidTransition) as refused_move:
                    PACKAGE.move(parcel.id, current, target)
                assert refused_move.value.params == {"noun": "package", "current": current, "target": target}
                assert state_of(parcel) == current
    # nothing takes a parcel out of shipped, and only a put-aside parcel is opened again
    assert not [edge for edge in PACKAGE_TRANSITIONS if edge[0] == "shipped"]
    assert [edge for edge in PACKAGE_TRANSITIONS if edge[1] == "open"] == [("aside", "open")]


def test_the_verbs_walk_a_parcel_from_its_first_unit_out_of_the_building(floor, people):
    order, tee, mug = floor["order_a"], floor["tee"], floor["mug"]
    by = actor(people)
    parcel = parcels.open(order, "PK-01", by)
    assert (parcel.state, parcel.station, parcels.verified(parcel)) == ("open", "PK-01", {})
    parcels.check_unit(parcel, tee.id, "TS-01", 2, by)
    assert parcels.verified(parcel) == {tee.id: 2}

    parcels.put_aside(parcel, "PK-01", by)
    assert (state_of(parcel), Package.get_by_id(parcel.id).station) == ("aside", None)
    with pytest.raises(InvalidTransition):
        parcels.check_unit(parcel, tee.id, "TS-01", 1, by)
    parcel = parcels.open(order, "PK-02", by)  # opened again: checked from its first unit
    assert (parcel.state, parcel.station, parcels.verified(parcel)) == ("open", "PK-02", {})
    for verb in (lambda: parcels.weigh(parcel, 800, 800, by), lambda: parcels.ship(parcel, by),
                 lambda: parcels.open(order, "PK-03", by)):
        with pytest.raises(InvalidTransition):
            verb()
    parcels.check_unit(parcel, tee.id, "TS-01", 1, by)
    parcels.check_unit(parcel, tee.id, "TS-01", 1, by)
    parcels.check_unit(parcel, mug.id, "MG-01", 1, by)
    assert parcels.verified(parcel) == {tee.id: 2, mug.id: 1}

    job = a_job()
    parcels.label(parcel, "SF", "SF0000000000018", job, "PK-02", by)
    assert parcels.by_tracking("SF0000000000018").id == parcel.id == parcels.open_at("PK-02").id
    with pytest.raises(InvalidTransition):
        parcels.check_unit(parcel, tee.id, "TS-01", 1, by)
    parcels.weigh(parcel, 790, 800, by)
    parcels.weigh(parcel, 805, 800, by)  # weighed again: the last weight counts
    assert (state_of(parcel), Package.get_by_id(parcel.id).weight_g) == ("weighed", 805)

    parcel = parcels.open(order, "OUT-1", by)  # taken to the scan-out bench: weighed again there
    row = Package.get_by_id(parcel.id)
    assert (row.state, row.station, row.weight_g, row.tracking, row.label_job_id) == (
        "labelled", "OUT-1", None, "SF0000000000018", job)
    assert parcels.open_at("PK-02") is None
    parcels.put_aside(parcel, "OUT-1", by)
    assert (state_of(parcel), Package.get_by_id(parcel.id).station) == ("labelled", None)
    parcels.confirm_label(parcel, by)
    again = a_job()
    parcels.reprint(parcel, again, by)
    parcels.weigh(parcel, 800, 800, by)
    parcels.ship(parcel, by)

    row = Package.get_by_id(parcel.id)
    assert (row.state, row.weight_g, row.label_confirmed, row.label_job_id, row.user_id, row.device_id) == (
        "shipped", 800, True, again, people["packer"].id, by.device_id)
    assert row.created_at <= row.packed_at <= row.weighed_at <= row.shipped_at
    for verb in (lambda: parcels.open(order, "PK-01", by), lambda: parcels.put_aside(parcel, "PK-01", by),
                 lambda: parcels.weigh(parcel, 800, 800, by), lambda: parcels.ship(parcel, by),
                 lambda: parcels.reprint(parcel, job, by), lambda: parcels.confirm_label(parcel, by)):
        with pytest.raises(InvalidTransition):
            verb()
    history = [e.action for e in OrderEvent.select().where(OrderEvent.order == order.id).order_by(OrderEvent.id)]
    assert history == ["pack_open", "pack_unit", "pack_close", "pack_open", "pack_unit", "pack_unit", "pack_unit",
                       "label", "weighed", "weighed", "pack_open", "pack_close", "label_confirmed", "label_reprint",
                       "weighed"]


# --- two stations, one parcel -------------------------------------------------------------------------

def test_two_stations_never_take_the_same_parcel(floor, packer, people):
    order = floor["order_a"]
    other = station(people, "PK-02")
    step(packer, "scan", code="T-001")
    assert refused(other, "scan", code="T-001") == ("open_elsewhere", "scan_order")
    assert refused(other, "open", code="A") == ("open_elsewhere", "scan_order")
    with pytest.raises(InvalidTransition):
        parcels.open(order, "PK-02", actor(people, "PK-02"))
    assert Package.select().where(Package.order == order.id).count() == 1
    assert parcels.of_order(order.id).station == "PK-01"

    # a station that read the parcel before another took it is refused by the guarded update
    seen = parcels.of_order(order.id)
    step(packer, "close")
    parcels.open(order, "PK-02", actor(people, "PK-02"))
    assert (seen.state, seen.station) == ("open", "PK-01")
    for stale in (lambda: parcels.put_aside(seen, "PK-01", actor(people)),
                  lambda: parcels.check_unit(seen, floor["tee"].id, "TS-01", 1, actor(people))):
        with pytest.raises(InvalidTransition):
            stale()
    assert parcels.of_order(order.id).station == "PK-02" and parcels.verified(seen) == {}


def test_two_stations_scanning_one_tote_at_the_same_moment(floor, people):
    stations = [station(people, f"PK-1{n}") for n in range(2)]
    results = PACKING.at_the_same_moment(stations, "scan", code="T-002")
    codes = sorted(result["message"]["code"] for result in results)
    assert codes == ["open_elsewhere", "pack_opened"]
    winner = stations[[r["message"]["code"] for r in results].index("pack_opened")].device.code
    parcel = parcels.of_order(floor["order_b"].id)
    assert (parcel.state, parcel.station) == ("open", winner)
    assert OrderEvent.select().where(OrderEvent.action == "pack_open").count() == 1


# --- the tracking number ------------------------------------------------------------------------------

def test_a_tracking_number_is_unique(floor, packer, printer, people):
    step(packer, "scan", code="T-002")
    first = step(packer, "scan", code="6900000000038")[1]["label"]["tracking"]
    step(packer, "scan", code="T-001")
    for code in ("6900000000014", "6900000000014"):
        step(packer, "scan", code=code)
    second = step(packer, "scan", code="6900000000021")[1]["label"]["tracking"]
    a, b = parcels.of_order(floor["order_a"].id), parcels.of_order(floor["order_b"].id)
    assert (b.tracking, a.tracking) == (first, second) and first != second
    assert (a.tracking, b.tracking) == (shipping.tracking_number("SF", a.id), shipping.tracking_number("SF", b.id))
    assert shipping.order_of_tracking(first) == floor["order_b"].id and shipping.order_of_tracking("SF1") is None
    assert parcels.by_tracking("") is None

    spare = Order.create(channel="tmall", shop="tm-shop", external_id="C", status="picked")
    with pytest.raises(IntegrityError):
        with database.atomic():
            Package.create(order=spare, tracking=first)
    Package.create(order=spare)  # no tracking number yet: any number of parcels
    assert Package.select().where(Package.tracking == "").count() == 1
    with pytest.raises(IntegrityError):
        with database.atomic():
            Package.create(order=spare)  # one parcel an order


# --- the parcel's row is what the station shows -----------------------------------------------------------

def test_a_parcel_survives_a_kiosk_reload_from_its_row_alone(floor, packer, printer):
    order = floor["order_a"]
    step(packer, "scan", code="T-001")
    step(packer, "scan", code="6900000000014")
    shown = step(packer, "scan", code="6900000000014")[1]
    resumed = snapshot.build(packer)["packing"]
    assert resumed == {"state": "verify", **shown} and resumed["units"] == {"expected": 3, "verified": 2}

    OrderEvent.delete().where(OrderEvent.order == order.id).execute()  # the history is for people only
    assert snapshot.build(packer)["packing"] == resumed
    assert refused(packer, "scan", code="6900000000014")[0] == "extra_unit"
    tracking = step(packer, "scan", code="6900000000021")[1]["label"]["tracking"]
    step(packer, "weight", grams=812)
    shown = step(packer, "scan", code=tracking)[1]
    OrderEvent.delete().where(OrderEvent.order == order.id).execute()
    resumed = snapshot.build(packer)["packing"]
    assert resumed == {"state": "ship", **shown}
    assert resumed["label"]["confirmed"] is True and resumed["weight"]["measured_g"] == 812

    assert step(packer, "ship")[2] == "order_shipped"
    [row] = shipping.shipments("tm-shop")
    assert (row["order"], row["tracking_number"]) == ("A", tracking)
    assert row["shipped_at"] == parcels.of_order(order.id).shipped_at.isoformat() + "Z"


# --- the migration -----------------------------------------------------------------------------------------

BEFORE = "0009_scan_reads_without_temp_tables"


def history(order: Order, user: User, *steps) -> dict:
    """Writes an order's history as packing wrote it before parcels had a row: a ``label`` line
    first empty, then filled in with the tracking number its id made. Returns {action: its first
    event id, "tracking": the number}."""
    ids = {}
    for action, detail in steps:
        event = OrderEvent.create(order=order, action=action, detail="{}" if action == "label" else detail, user=user)
        if action == "label":
            tracking = shipping.tracking_number(detail["carrier"], event.id)
            detail = dict(detail, tracking=tracking)
            OrderEvent.update(detail=json.dumps(detail)).where(OrderEvent.id == event.id).execute()
            ids["tracking"] = tracking
        ids.setdefault(action, event.id)
    return ids


def test_the_migration_carries_the_parcels_over(db_url, engine):
    init_database(db_url)
    try:
        runner = Runner(database.obj, directory=str(MIGRATIONS))
        runner.up(BEFORE)
        carried_over(runner)
    finally:
        database.obj.close_all()


def carried_over(runner: Runner):
    user = User.create(code="u-packer", name="Packer")
    warehouse = Warehouse.create(code="WH1", name="WH")
    tee = Product.create(sku="TS-01", name="T", weight_g=180)
    mug = Product.create(sku="MG-01", name="M", weight_g=380)
    Barcode.create(code="6900000000021", product=mug)
    printer = Printer.create(code="ZD-1", url="tcp://127.0.0.1:9", station="PK-01")
    first, again = (PrintJob.create(printer=printer, template="shipping", zpl="^XA^XZ").id for _ in range(2))

    def order(number, status):
        return Order.create(channel="tmall", shop="tm-shop", external_id=number, status=status, carrier="SF",
                            warehouse=warehouse)
    weighed, aside, open_, put_aside, shipped, untouched = (
        order("P", "packed"), order("Q", "packed"), order("R", "picked"), order("S", "picked"), order("X", "shipped"),
        order("Y", "picked"))
    unit = json.dumps({"product": tee.id, "sku": "TS-01", "qty": 2})
    p = history(weighed, user, ("pack_open", "PK-01"), ("pack_unit", unit), ("packed", "PK-01"),
                ("label", {"carrier": "SF", "job": first, "station": "PK-01"}), ("label_reprint", str(again)),
                ("label_confirmed", ""), ("weighed", '{"grams": 410, "expected_g": 420}'))
    q = history(aside, user, ("pack_open", "PK-02"), ("pack_unit", unit), ("packed", "PK-02"),
                ("label", {"carrier": "ZTO", "job": first, "station": "PK-02"}), ("weighed", '{"grams": 400}'),
                ("pack_close", "PK-02"))
    # the order line as its table was then (a later migration adds columns the live model has)
    sql("INSERT INTO order_line (order_id, external_line_id, sku_code, product_id, title, qty, price_fen, paid_fen,"
        " refund_status, reserved_qty, picked_qty, short_qty) VALUES (?, '1', 'TS-01', ?, '', 3, 0, 0, 'none', 0, 0, 0)",
        open_.id, tee.id)
    r = history(open_, user, ("pack_open", "PK-09"), ("pack_close", "PK-09"), ("pack_open", "PK-03"),
                ("pack_unit", unit))
    history(put_aside, user, ("pack_open", "PK-04"), ("pack_unit", unit), ("pack_close", "PK-04"))
    x = history(shipped, user, ("pack_open", "PK-01"), ("packed", "PK-01"),
                ("label", {"carrier": "SF", "job": first, "station": "PK-01"}), ("weighed", '{"grams": 500}'),
                ("shipped", ""), ("shipment_exported", ""))

    assert runner.up("0010_packages") == ["0010_packages"]

    # the parcel's columns as its table was then (later migrations add columns the live model has)
    then = (Package.id, Package.order, Package.state, Package.station, Package.carrier, Package.tracking,
            Package.label_job, Package.label_confirmed, Package.weight_g, Package.expected_g, Package.user,
            Package.shipped_at, Package.exported_at)
    rows = {row.order_id: row for row in Package.select(*then)}
    assert untouched.id not in rows and len(rows) == 5
    kept = rows[weighed.id]
    assert (kept.id, kept.state, kept.station, kept.carrier, kept.tracking, kept.label_job_id, kept.label_confirmed,
            kept.weight_g, kept.expected_g, kept.user_id) == (
        p["label"], "weighed", "PK-01", "SF", p["tracking"], again, True, 410, 420, user.id)
    assert parcels.verified(kept) == {tee.id: 2}
    kept = rows[aside.id]
    assert (kept.state, kept.station, kept.carrier, kept.tracking, kept.weight_g) == (
        "labelled", None, "ZTO", q["tracking"], None)
    kept = rows[open_.id]
    assert (kept.id, kept.state, kept.station, kept.tracking, parcels.verified(kept)) == (
        r["pack_open"], "open", "PK-03", "", {tee.id: 2})
    assert (rows[put_aside.id].state, rows[put_aside.id].station) == ("aside", None)
    kept = rows[shipped.id]
    assert (kept.state, kept.tracking, kept.weight_g) == ("shipped", x["tracking"], 500)
    assert kept.shipped_at is not None and kept.exported_at is not None

    migrate()  # the migrations after it, if any

    # the scan of a label printed before finds its order; the shipments sent back stay sent
    assert shipping.order_of_tracking(p["tracking"]) == weighed.id
    assert shipping.order_of_tracking(x["tracking"]) == shipped.id
    assert shipping.shipments("tm-shop") == []
    assert [row["tracking_number"] for row in shipping.shipments("tm-shop", include_exported=True)] == [x["tracking"]]

    # the stations resume what they had open
    kiosk = Principal(user, ["packer"], Device.create(code="PK-01", kind="kiosk"))
    result = run(kiosk, "current")
    assert result["next_state"] == "ship"
    assert result["data"]["ship"]["label"] == {"tracking": p["tracking"], "carrier": "SF", "carrier_name": "顺丰速运",
                                               "carrier_name_en": "SF Express",
                                               "job": again, "job_state": "queued", "confirmed": True}
    assert result["data"]["ship"]["weight"]["measured_g"] == 410
    bench = Principal(user, ["packer"], Device.create(code="PK-03", kind="kiosk"))
    Printer.create(code="ZD-3", url="tcp://127.0.0.1:9", station="PK-03")
    OrderEvent.delete().execute()  # nothing reads the history any more
    assert step(bench, "current")[1]["units"] == {"expected": 3, "verified": 2}

    # new parcels number above every number made before
    fresh = Package.create(order=untouched)
    assert fresh.id > max(rows[o.id].id for o in (weighed, aside, open_, put_aside, shipped))
    assert shipping.tracking_number("SF", fresh.id) not in {p["tracking"], q["tracking"], x["tracking"]}
