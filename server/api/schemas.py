from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

from server.models.stock import STOCK_STATES


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
    weight_g = Integer(load_default=0, validate=Range(0, 10_000_000))
    cost_fen = Integer(load_default=0, validate=Range(0, 10**11))
    price_fen = Integer(load_default=0, validate=Range(0, 10**11))
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


class StockOut(Schema):
    items = List(Nested(QuantOut))
    total_qty = Integer()
    total_free = Integer()


_state = String(load_default="available", validate=OneOf(STOCK_STATES))
_qty = Integer(required=True, validate=Range(1, 10_000_000))


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
    delta = Integer(required=True, validate=Range(-10_000_000, 10_000_000))
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
