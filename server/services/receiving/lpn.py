"""Licence plates (LPN, 托盘/箱号): the units of one SKU and lot a receipt took, under one SSCC.

An SSCC-18 (GS1 Serial Shipping Container Code) is::

    extension digit (1) + company prefix (7-10) + serial reference (16 - prefix) + check digit (1)

the check digit is GS1's mod 10 (weights 3, 1 from the right). The company prefix is the site's
own (setting ``SSCC_COMPANY_PREFIX``), the extension digit the setting ``SSCC_EXTENSION_DIGIT``,
and the serial reference the plate's id.

A plate is filled while it is ``open``; closing it (the receiver's ``label``, or the end of the
receipt) applies the QC plan of its SKU (``SupplierItem.qc_plan``, else the supplier's):
plan ``none`` releases its units to ``available`` at once (reason ``qc_none``) and the plate is
``ready`` for putaway; ``full`` and ``sample`` (ISO 2859-1, services/receiving/sampling.py) leave
the units ``qc_pending`` and the plate ``qc_pending`` for QC. Closing prints the receiving label
(SKU, name, lot, expiry, quantity, the SSCC as GS1-128) on the dock's printer.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from server.config import load_settings
from server.db import sql, sql_row, write_transaction
from server.models import Lpn, Printer, SupplierItem
from server.services import printing
from server.services.errors import Refused
from server.services.receiving import sampling
from server.services.receiving.lifecycle import LPN
from server.services.stock import inventory

LABEL_TEMPLATE = "lpn"


def check_digit(digits: str) -> str:
    """GS1's mod 10 check digit of ``digits`` (weights 3, 1, 3 ... from the rightmost digit)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def sscc(extension: int | str, company_prefix: str, serial: int) -> str:
    """The SSCC-18 of a plate: extension digit, company prefix, serial reference, check digit."""
    extension, prefix = str(extension), str(company_prefix)
    if not (extension.isdigit() and len(extension) == 1):
        raise ValueError(f"an SSCC's extension digit is one digit, not {extension!r}")
    if not (prefix.isdigit() and 6 <= len(prefix) <= 10):
        raise ValueError(f"a GS1 company prefix has 6 to 10 digits, not {prefix!r}")
    width = 16 - len(prefix)
    if not 0 <= serial < 10 ** width:
        raise ValueError(f"serial {serial} does not fit the {width} digits the prefix leaves")
    body = f"{extension}{prefix}{serial:0{width}d}"
    return body + check_digit(body)


def valid_sscc(code: str) -> bool:
    return len(code) == 18 and code.isdigit() and check_digit(code[:17]) == code[17]


def sscc_of(code: str) -> str | None:
    """The SSCC a scanned plate label names: the 18 digits alone, with the (00) AI (printed or
    raw), or with a symbology identifier; None when the code is not one."""
    code = (code or "").strip().replace(" ", "")
    if code.startswith("]C1"):
        code = code[3:]
    if code.startswith("(00)"):
        code = code[4:]
    elif len(code) == 20 and code.startswith("00"):
        code = code[2:]
    return code if valid_sscc(code) else None


def next_sscc(lpn_id: int) -> str:
    settings = load_settings({"SECRET_KEY": "unused", "CREDENTIALS_KEY": "unused"})  # only the SSCC's settings are read here
    prefix = str(settings.get("SSCC_COMPANY_PREFIX") or "6901234")
    extension = str(settings.get("SSCC_EXTENSION_DIGIT") or 0)
    return sscc(extension, prefix, lpn_id % 10 ** (16 - len(prefix)))


# --- filling a plate ------------------------------------------------------------------------------

@dataclass
class Filled:
    """A plate as a scan reads it: its columns, and its SKU's code and name."""
    id: int
    sscc: str
    product_id: int
    sku: str
    name: str
    lot: str
    expiry: dt.date | None
    qty: int
    status: str


def filled(row) -> Filled:
    values = list(row)
    values[6] = Lpn.expiry.python_value(values[6])
    return Filled(*values)


def fill(receipt, line_id: int, product_id: int, lot: str, expiry, qty: int) -> Filled:
    """Count ``qty`` units onto the receipt's open plate of the SKU and lot, made when there is none;
    the plate's id, SSCC, lot, expiry and count after (its SKU's code and name left empty)."""
    row = sql_row("UPDATE lpn SET qty = qty + ? WHERE id = (SELECT id FROM lpn WHERE receipt_id = ? AND product_id = ?"
                  " AND lot = ? AND status = 'open' ORDER BY id LIMIT 1) RETURNING id, sscc, expiry, qty",
                  qty, receipt.id, product_id, lot)
    if row is None:
        made = Lpn.create(sscc=uuid.uuid4().hex[:18], receipt=receipt.id, po_line=line_id, product=product_id,
                          lot=lot, expiry=expiry, qty=qty, location=receipt.dock_id)
        code = next_sscc(made.id)
        sql("UPDATE lpn SET sscc = ? WHERE id = ?", code, made.id)
        return Filled(made.id, code, product_id, "", "", lot, expiry, qty, "open")
    plate = Filled(row[0], row[1], product_id, "", "", lot, Lpn.expiry.python_value(row[2]), row[3], "open")
    if expiry is not None and plate.expiry is None:
        sql("UPDATE lpn SET expiry = ? WHERE id = ?", Lpn.expiry.db_value(expiry), plate.id)
        plate.expiry = expiry
    return plate


def by_sscc(code: str) -> Lpn | None:
    return Lpn.get_or_none(Lpn.sscc == code)


# --- closing a plate --------------------------------------------------------------------------------

def qc_plan_of(supplier, product_id: int) -> tuple[str, str]:
    """(plan, AQL) for a SKU from a supplier: the SKU's own plan, else the supplier's."""
    item = SupplierItem.get_or_none((SupplierItem.supplier == supplier.id) & (SupplierItem.product == product_id))
    plan = (item.qc_plan if item is not None and item.qc_plan else "") or supplier.qc_plan or "none"
    aql = (item.aql if item is not None and item.aql else "") or supplier.aql or "1.0"
    return plan, aql


def close(plate: Lpn, supplier, actor: inventory.Actor) -> Lpn:
    """Close an open plate: its QC plan applied, its label queued on the dock's printer (when the
    dock has one). The plate as it is after."""
    plate = Lpn.get_by_id(plate.id)
    plan, aql = qc_plan_of(supplier, plate.product_id)
    with write_transaction():
        if plan == "none":
            inventory.change_state(plate.product_id, plate.location_id, plate.qty, "qc_pending", "available",
                                   actor=actor, lot=plate.lot, reason="qc_none", ref=f"lpn:{plate.sscc}",
                                   expiry=plate.expiry)
            LPN.move(plate.id, "open", "ready", guard=("qty = ?", (plate.qty,)), qc_plan="none", aql="")
            plate.status = "ready"
        else:
            size, accept = (plate.qty, 0) if plan == "full" else sampling.plan(plate.qty, aql)
            LPN.move(plate.id, "open", "qc_pending", guard=("qty = ?", (plate.qty,)), qc_plan=plan, aql=aql,
                     sample_size=min(size, plate.qty), accept_number=accept)
            plate.status = "qc_pending"
        plate.printed = print_label(plate, actor)
    return plate


def dock_printer(dock_code: str) -> Printer | None:
    """The label printer of a dock: the active printer whose station is the dock's code."""
    return (Printer.select().where((Printer.station == dock_code) & (Printer.active == True))  # noqa: E712
            .order_by(Printer.code).first())


def label_data(plate: Lpn) -> dict:
    row = sql_row("SELECT p.sku, p.name, po.code, r.code, d.code FROM lpn l JOIN product p ON p.id = l.product_id"
                  " JOIN receipt r ON r.id = l.receipt_id JOIN purchase_order po ON po.id = r.po_id"
                  " JOIN location d ON d.id = r.dock_id WHERE l.id = ?", plate.id)
    sku, name, po, receipt, dock = row
    return {"sscc": plate.sscc, "sku": sku, "name": name, "lot": plate.lot,
            "expiry": plate.expiry.isoformat() if plate.expiry else "", "qty": plate.qty, "po": po,
            "receipt": receipt, "dock": dock}


def print_label(plate: Lpn, actor: inventory.Actor) -> str:
    """Queue the plate's label on its dock's printer; the printer's code, or "" when the dock has none."""
    data = label_data(plate)
    printer = dock_printer(data["dock"])
    if printer is None:
        return ""
    printing.enqueue(printer.code, LABEL_TEMPLATE, data, ref=f"lpn:{plate.sscc}", actor=actor)
    return printer.code


def reprint(sscc_code: str, actor: inventory.Actor) -> str:
    plate = Lpn.get_or_none(Lpn.sscc == sscc_code)
    if plate is None:
        raise Refused("unknown_lpn", scanned=sscc_code)
    return print_label(plate, actor)


def view(plate: Filled) -> dict:
    return {"id": plate.id, "sscc": plate.sscc, "sku": plate.sku, "name": plate.name, "lot": plate.lot,
            "expiry": plate.expiry.isoformat() if plate.expiry else "", "qty": plate.qty, "status": plate.status}
