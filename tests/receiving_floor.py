"""What the receiving and putaway tests share: a purchase order waiting at a dock, receivers
with handhelds, and a TCP 9100 listener that keeps every byte a printer would get."""
from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest

from server.models import (Device, Location, PickFace, PurchaseOrder, PurchaseOrderLine, Supplier, User, Zone)
from server.services.auth import Principal

# the tee's EAN-13 (6900000000014) as a GTIN-14, with its expiry (AI 17) and lot (AI 10)
GS1_TEE = "(01)06900000000014(17)270630(10)L2406A"
GS1_TEE_RAW = "0106900000000014172706301" + "0L2406A"
TEE_EXPIRY = dt.date(2027, 6, 30)


def goods_in(small_warehouse, *, over_pct: int = 10, blind: bool = False, qc_plan: str = "none",
             tee_qty: int = 24, mug_qty: int = 10) -> dict:
    """The small warehouse with a dock, a zone with the tee's pick face and reserve locations,
    and an approved purchase order PO-001 (delivery note DN-778): tees and mugs."""
    wh, locs = small_warehouse["warehouse"], small_warehouse["locations"]
    tee, mug = small_warehouse["tee"], small_warehouse["mug"]
    wh.aisles, wh.aisle_length_m, wh.aisle_width_m = 4, 20.0, 3.0
    wh.save()
    zone = Zone.create(warehouse=wh, code="Z1", name="一区")
    Location.update(zone=zone).where(Location.code.in_(["A-01", "A-02", "R-01"])).execute()
    dock = Location.create(warehouse=wh, code="DOCK-1", kind="receiving", aisle=0, y_m=0.0)
    reserves = [Location.create(warehouse=wh, zone=zone, code=f"R-1{n}", kind="reserve", aisle=n, y_m=2.0 + n)
                for n in range(3)]
    far = Location.create(warehouse=wh, zone=zone, code="R-20", kind="reserve", aisle=3, y_m=18.0)
    PickFace.create(location=locs["A-01"], product=tee, min_qty=5, max_qty=40)
    supplier = Supplier.create(code="SUP-1", name="义乌杯业", contact_phone="13900001111", over_receipt_pct=over_pct,
                               blind_receiving=blind, qc_plan=qc_plan, aql="1.0")
    po = PurchaseOrder.create(code="PO-001", supplier=supplier, warehouse=wh, status="approved",
                              delivery_note="DN-778", total_fen=100)
    PurchaseOrderLine.create(po=po, seq=1, product=tee, qty=tee_qty, unit_cost_fen=2000)
    PurchaseOrderLine.create(po=po, seq=2, product=mug, qty=mug_qty, unit_cost_fen=1500)
    return dict(small_warehouse, dock=dock, zone=zone, supplier=supplier, po=po, reserves=reserves, far=far)


def receiver(people, code: str = "HH-R1", role: str = "receiver") -> Principal:
    device = Device.create(code=code, kind="handheld")
    return Principal(people[role], [role], device)


@pytest.fixture
def floor(small_warehouse):
    """The goods-in floor of :func:`goods_in`, as it comes."""
    return goods_in(small_warehouse)


@pytest.fixture
def hand(people):
    """The receiver on handheld HH-R1."""
    return receiver(people)


def another_receiver(n: int) -> Principal:
    from server.services import auth
    user = auth.add_user(f"u-recv-{n}", f"Receiver {n}", ["receiver"])
    return Principal(User.get_by_id(user.id), ["receiver"], Device.create(code=f"HH-R{n + 10}", kind="handheld"))


class Listener:
    """A TCP port 9100 stand-in: accepts connections and keeps every byte it is sent."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.running = True
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn):
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                with self.lock:
                    self.received.extend(chunk)

    def labels(self) -> list[str]:
        """The ZPL labels received (``^XA`` ... ``^XZ``), status queries left out."""
        with self.lock:
            data = bytes(self.received).decode("utf-8", "replace")
        labels, start = [], data.find("^XA")
        while start != -1:
            end = data.find("^XZ", start)
            if end == -1:
                break
            labels.append(data[start:end + 3])
            start = data.find("^XA", end)
        return labels

    def close(self):
        self.running = False
        self.sock.close()
