"""The shapes of the API's requests and answers.

Every request schema of the API derives from :class:`Schema` here, so that no text a database
cannot hold gets past validation: a NUL character (PostgreSQL refuses one in any text value,
where SQLite would have stored it) or a lone surrogate (JSON may escape one; neither engine
takes it). Both engines answer alike, naming the field."""
import re
from collections.abc import Mapping

from apiflask import Schema as BaseSchema
from apiflask import abort
from apiflask.fields import Boolean, DateTime, List, Nested, String
from apiflask.fields import Integer as BaseInteger
from apiflask.validators import Length, OneOf, Range
from marshmallow import ValidationError, pre_load

from server.models.base import as_utc
from server.models.stock import STOCK_STATES
from server.services.stock import catalog, inventory

NUL_REFUSED = "must not contain a NUL character (\\x00)"
SURROGATE_REFUSED = "must be Unicode text (a lone surrogate is not)"
_SURROGATE = re.compile("[\ud800-\udfff]")


class Schema(BaseSchema):
    """A schema whose input is refused, field by field, where any text in it (a value, a key, an
    item of a list) is text no database holds."""

    @pre_load
    def _storable_text(self, data, **kwargs):
        errors = {}
        if isinstance(data, Mapping):
            for key in data:
                values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
                fault = _fault(key) or next(filter(None, map(_fault, values)), None)
                if fault:
                    errors[key] = [fault]
        elif _fault(data):
            errors["_schema"] = [_fault(data)]
        if errors:
            raise ValidationError(errors)
        return data


def _fault(value) -> str | None:
    """Why ``value`` (text, or text inside a mapping or a list) cannot be stored, or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return NUL_REFUSED
        return SURROGATE_REFUSED if _SURROGATE.search(value) else None
    if isinstance(value, Mapping):
        return next(filter(None, (_fault(key) or _fault(item) for key, item in value.items())), None)
    if isinstance(value, (list, tuple)):
        return next(filter(None, map(_fault, value)), None)
    return None


def storable_path(endpoint, values) -> None:
    """The API blueprint's URL value preprocessor: a path segment (a SKU, a shop's code) that a
    database cannot hold is refused as a field of the request is."""
    faults = {name: _fault(value) for name, value in (values or {}).items()}
    bad = {name: [fault] for name, fault in faults.items() if fault}
    if bad:
        abort(422, detail={"path": bad})


class Integer(BaseInteger):
    """A whole number: ``1.5`` is refused, not cut to 1 (``2.0`` and ``"2"`` are 2)."""

    default_error_messages = {"invalid": "Not a valid integer.", "fraction": "Not a whole number."}

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("fraction")
        return super()._validated(value)


class LoginIn(Schema):
    user = String(required=True, validate=Length(1, 32))
    password = String(required=True, validate=Length(1, 200))


class PinIn(Schema):
    user = String(required=True, validate=Length(1, 32))
    pin = String(required=True, validate=Length(1, 16))
    device = String(required=True, validate=Length(1, 64))


class UserOut(Schema):
    code = String()
    name = String()
    language = String()


class TokenOut(Schema):
    token = String()
    user = Nested(UserOut)
    roles = List(String())
    expires_at = String()


class ProgramTokenIn(Schema):
    user = String(required=True, validate=Length(1, 32))
    label = String(required=True, validate=Length(1, 100))
    days = Integer(load_default=365, validate=Range(1, 3650))


class ProgramTokenOut(Schema):
    token = String()


class MeOut(Schema):
    user = Nested(UserOut)
    roles = List(String())
    device = String(allow_none=True)
    permissions = List(String())


class BarcodeOut(Schema):
    code = String()
    multiplier = Integer()
    kind = String()


class ProductIn(Schema):
    name = String(required=True, validate=Length(1, 200))
    spec = String(load_default="", validate=Length(0, 200))
    weight_g = Integer(load_default=0, validate=Range(0, catalog.MAX_WEIGHT_G))
    cost_fen = Integer(load_default=0, validate=Range(0, catalog.MAX_FEN))
    price_fen = Integer(load_default=0, validate=Range(0, catalog.MAX_FEN))
    barcodes = List(String(validate=Length(1, 64)), load_default=list)


class ProductOut(Schema):
    sku = String()
    name = String()
    spec = String()
    unit = String()
    weight_g = Integer()
    cost_fen = Integer()
    price_fen = Integer()
    barcodes = List(Nested(BarcodeOut))
    held_for_approval = List(Integer(), metadata={"description": "approval requests a price or cost change of this "
                                                                 "call waits in (多级审批); empty when it changed"})


class ProductQuery(Schema):
    q = String(load_default="", validate=Length(0, 64))
    limit = Integer(load_default=50, validate=Range(1, 500))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class ProductList(Schema):
    items = List(Nested(ProductOut))
    total = Integer()


class StockQuery(Schema):
    sku = String(load_default=None, validate=Length(1, 64))
    barcode = String(load_default=None, validate=Length(1, 64))
    location = String(load_default=None, validate=Length(1, 64))
    warehouse = String(load_default=None, validate=Length(1, 32))


class QuantOut(Schema):
    sku = String()
    name = String()
    location = String()
    state = String()
    lot = String()
    qty = Integer()
    reserved = Integer()
    free = Integer()


class InTransitOut(Schema):
    sku = String()
    warehouse = String()
    po = String()
    qty = Integer()
    expected_on = String(allow_none=True)


class StockOut(Schema):
    items = List(Nested(QuantOut))
    total_qty = Integer()
    total_reserved = Integer()
    total_free = Integer()
    in_transit = Integer(metadata={"description": "units on approved purchase orders not yet received (在途)"})
    in_transit_items = List(Nested(InTransitOut))


_state = String(load_default="available", validate=OneOf(STOCK_STATES))
_qty = Integer(required=True, validate=Range(1, inventory.MAX_QTY))


class ReceiveIn(Schema):
    sku = String(required=True, validate=Length(1, 64))
    location = String(required=True, validate=Length(1, 64))
    qty = _qty
    state = _state
    lot = String(load_default="", validate=Length(0, 64))
    ref = String(load_default="", validate=Length(0, 100))


class MoveIn(Schema):
    sku = String(required=True, validate=Length(1, 64))
    from_location = String(required=True, validate=Length(1, 64), data_key="from")
    to_location = String(required=True, validate=Length(1, 64), data_key="to")
    qty = _qty
    state = _state
    to_state = String(load_default=None, validate=OneOf(STOCK_STATES))
    lot = String(load_default="", validate=Length(0, 64))
    ref = String(load_default="", validate=Length(0, 100))


class AdjustIn(Schema):
    sku = String(required=True, validate=Length(1, 64))
    location = String(required=True, validate=Length(1, 64))
    delta = Integer(required=True, validate=Range(-inventory.MAX_QTY, inventory.MAX_QTY))
    reason = String(required=True, validate=Length(1, 32))
    state = _state
    lot = String(load_default="", validate=Length(0, 64))
    ref = String(load_default="", validate=Length(0, 100))


class StateIn(Schema):
    sku = String(required=True, validate=Length(1, 64))
    location = String(required=True, validate=Length(1, 64))
    qty = _qty
    from_state = String(required=True, validate=OneOf(STOCK_STATES))
    to_state = String(required=True, validate=OneOf(STOCK_STATES))
    reason = String(load_default="state", validate=Length(1, 32))
    lot = String(load_default="", validate=Length(0, 64))


class MoveQuery(Schema):
    sku = String(load_default=None, validate=Length(1, 64))
    location = String(load_default=None, validate=Length(1, 64))
    ref = String(load_default=None, validate=Length(1, 100))
    limit = Integer(load_default=100, validate=Range(1, 1000))


class LedgerLineOut(Schema):
    id = Integer()
    at = DateTime()
    sku = String()
    lot = String()
    qty = Integer()
    reserved = Integer()
    from_location = String(allow_none=True)
    from_state = String(allow_none=True)
    to_location = String(allow_none=True)
    to_state = String(allow_none=True)
    reason = String()
    ref = String()
    user = String(allow_none=True)
    device = String(allow_none=True)


class LedgerOut(Schema):
    items = List(Nested(LedgerLineOut))


class DoneOut(Schema):
    ok = Boolean()


class AdjustOut(Schema):
    ok = Boolean()
    approval = Integer(allow_none=True, metadata={"description": "the approval request the adjustment waits in "
                                                                 "(多级审批); null when it was posted"})


class UserListItem(Schema):
    code = String()
    name = String()
    phone = String()
    roles = List(String())
    active = Boolean()


class UserList(Schema):
    items = List(Nested(UserListItem))


class AuditQuery(Schema):
    action = String(load_default=None, validate=Length(1, 64))
    limit = Integer(load_default=100, validate=Range(1, 1000))


class AuditItem(Schema):
    at = DateTime()
    user = String(allow_none=True)
    device = String(allow_none=True)
    action = String()
    target = String()
    detail = String()


class AuditList(Schema):
    items = List(Nested(AuditItem))


def refresh_run_out(run: dict, started: bool = True) -> dict:
    """A refresh run (services/refresh_runs.py) as the API answers it: its times with their zone,
    and whether this request started it."""
    return dict(run, started=started, started_at=as_utc(run["started_at"]), finished_at=as_utc(run["finished_at"]))
