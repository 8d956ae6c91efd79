"""Any other channel's CSV, read through a small YAML mapping that names its columns.

One row per order line; rows with the same order id form one order, whose order-level fields
come from its first row. A mapping looks like::

    channel: youzan            # put on every order
    encoding: auto             # auto | utf-8 | gbk | gb18030 | utf-8-sig
    delimiter: ","
    date_format: "%Y/%m/%d %H:%M"   # strptime format; left out = ISO-like times
    timezone: Asia/Shanghai
    amounts: yuan              # yuan | fen
    columns:
      order_id: 订单号         # required
      sku: 规格编码            # required
      qty: 数量                # required
      line_id: 子订单号
      price: 单价
      paid: 实付金额
      ...
    status_map: {已付款: paid, 已关闭: closed}   # added to the built-in texts
    refund_map: {售后完成: refunded}

The mapping is given to the adapter (``get_adapter("mapped_csv", mapping="x.yaml")``) or passed
among the paths as a ``.yaml`` / ``.yml`` file.
"""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .address import split_address
from .base import (ORDER_STATUSES, REFUND_STATUSES, BadValue, ImportProblem, ParsedLine,
                   ParsedOrder, ParseResult)
from .csvfile import UnreadableFile, read_table
from .registry import register_adapter
from .tmall_csv import order_status as tmall_order_status
from .tmall_csv import refund_status as tmall_refund_status
from .values import clean_cell, fen_value, local_time, parse_int, parse_qty, yuan_to_fen

ORDER_FIELDS = (
    "order_id", "status", "buyer_nick", "buyer_message", "seller_memo", "seller_flag",
    "receiver_name", "receiver_phone", "receiver_province", "receiver_city",
    "receiver_district", "receiver_address", "receiver_zip", "address_full", "freight",
    "discount", "coupon", "order_paid", "created_at", "paid_at", "presale",
    "presale_final_paid", "presale_ship_by", "shop",
)
LINE_FIELDS = ("line_id", "sku", "title", "qty", "price", "paid", "refund_status")
REQUIRED_COLUMNS = ("order_id", "sku", "qty")
SETTINGS = ("channel", "encoding", "delimiter", "date_format", "timezone", "amounts",
            "columns", "status_map", "refund_map", "default_status")
TRUE_TEXTS = frozenset({"1", "true", "yes", "y", "是", "预售", "已付"})


class MappingError(ValueError):
    def __init__(self, line: int | None, field: str | None, reason: str):
        super().__init__(reason)
        self.line, self.field, self.reason = line, field, reason


class Mapping:
    """A validated mapping file."""

    def __init__(self, data: dict, source: str, lines: dict[str, int] | None = None):
        self.source = source
        lines = lines or {}
        if not isinstance(data, dict):
            raise MappingError(1, None, "a mapping must be a YAML object")
        for key in data:
            if key not in SETTINGS:
                raise MappingError(lines.get(key), key, f"unknown setting {key!r}")
        columns = data.get("columns")
        if not isinstance(columns, dict):
            raise MappingError(lines.get("columns"), "columns", "columns must be an object")
        known = set(ORDER_FIELDS) | set(LINE_FIELDS)
        for key, value in columns.items():
            if key not in known:
                raise MappingError(lines.get(f"columns.{key}"), f"columns.{key}",
                                   f"unknown field {key!r}; known: {', '.join(sorted(known))}")
            if not isinstance(value, str) or not value.strip():
                raise MappingError(lines.get(f"columns.{key}"), f"columns.{key}",
                                   "must name a column")
        for key in REQUIRED_COLUMNS:
            if key not in columns:
                raise MappingError(lines.get("columns"), f"columns.{key}", "required")
        self.columns: dict[str, str] = {k: v.strip() for k, v in columns.items()}
        self.channel = str(data.get("channel") or "other")
        self.encoding = data.get("encoding") or "auto"
        self.delimiter = data.get("delimiter") or None
        self.date_format = data.get("date_format") or None
        self.amounts = data.get("amounts", "yuan")
        if self.amounts not in ("yuan", "fen"):
            raise MappingError(lines.get("amounts"), "amounts", "must be 'yuan' or 'fen'")
        try:
            self.timezone = ZoneInfo(data.get("timezone") or "Asia/Shanghai")
        except (ZoneInfoNotFoundError, ValueError):
            raise MappingError(lines.get("timezone"), "timezone",
                               f"unknown time zone {data.get('timezone')!r}") from None
        self.status_map = self._value_map(data, "status_map", ORDER_STATUSES, lines)
        self.refund_map = self._value_map(data, "refund_map", REFUND_STATUSES, lines)
        self.default_status = data.get("default_status")
        if self.default_status is not None and self.default_status not in ORDER_STATUSES:
            raise MappingError(lines.get("default_status"), "default_status",
                               f"must be one of {', '.join(sorted(ORDER_STATUSES))}")

    @staticmethod
    def _value_map(data, key, allowed, lines) -> dict[str, str]:
        value_map = data.get(key) or {}
        if not isinstance(value_map, dict):
            raise MappingError(lines.get(key), key, f"{key} must be an object")
        for text, target in value_map.items():
            if not isinstance(target, str) or target not in allowed:
                raise MappingError(lines.get(f"{key}.{text}"), f"{key}.{text}",
                                   f"{target!r} is not one of {', '.join(sorted(allowed))}")
        return {str(text).strip(): target for text, target in value_map.items()}

    @classmethod
    def load(cls, path) -> "Mapping":
        source = os.path.basename(os.fspath(path))
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            raise MappingError(mark.line + 1 if mark else None, None,
                               f"not valid YAML: {getattr(error, 'problem', error)}") from None
        return cls(data, source, _key_lines(node))


def _key_lines(node, prefix: str = "") -> dict[str, int]:
    """'columns.sku' -> the line of that key in the YAML file, for error messages."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            lines[key] = key_node.start_mark.line + 1
            if prefix == "":
                lines.update(_key_lines(value_node, key + "."))
    return lines


@register_adapter("mapped_csv")
class MappedCsvAdapter:
    def __init__(self, mapping=None):
        self.mapping = mapping

    def parse(self, paths_or_payload, shop: str | None = None) -> ParseResult:
        paths = [paths_or_payload] if isinstance(paths_or_payload, (str, os.PathLike)) \
            else list(paths_or_payload)
        mapping_source = self.mapping
        data_paths = []
        for path in paths:
            if os.fspath(path).lower().endswith((".yaml", ".yml")):
                mapping_source = path
            else:
                data_paths.append(path)
        result = ParseResult()
        if mapping_source is None:
            result.problems.append(ImportProblem("<mapping>", None, None, None,
                                                 "no column mapping given"))
            return result
        try:
            mapping = mapping_source if isinstance(mapping_source, Mapping) \
                else Mapping(mapping_source, "<mapping>") if isinstance(mapping_source, dict) \
                else Mapping.load(mapping_source)
        except MappingError as error:
            source = "<mapping>" if isinstance(mapping_source, dict) \
                else os.path.basename(os.fspath(mapping_source))
            result.problems.append(ImportProblem(source, error.line, None, error.field,
                                                 error.reason))
            return result
        except OSError as error:
            result.problems.append(ImportProblem(str(mapping_source), None, None, None,
                                                 f"cannot read mapping: {error}"))
            return result
        for path in data_paths:
            result.extend(_MappedFile(mapping, shop).parse(path))
        return result


class _MappedFile:
    def __init__(self, mapping: Mapping, shop: str | None):
        self.mapping = mapping
        self.shop = shop

    def parse(self, path) -> ParseResult:
        result = ParseResult()
        source = os.path.basename(os.fspath(path))
        try:
            table = read_table(path, encoding=self.mapping.encoding,
                               delimiter=self.mapping.delimiter)
        except (OSError, UnreadableFile) as error:
            result.problems.append(ImportProblem(source, None, None, None,
                                                 f"cannot read file: {error}"))
            return result
        position = {name: index for index, name in enumerate(table.header)}
        for field, column in self.mapping.columns.items():
            if column not in position:
                result.problems.append(ImportProblem(
                    source, table.header_line, None, column,
                    f"column for {field} is not in the file"))
                return result
        self.index = {field: position[column] for field, column in self.mapping.columns.items()}
        orders: dict[str, ParsedOrder] = {}
        bad: dict[str, int] = {}
        order_lines: dict[str, int] = {}
        for record in table.unreadable:  # its order is not imported short of a line
            order_id = clean_cell(self._cell(record.cells, "order_id")) or None
            result.problems.append(ImportProblem(source, record.line, order_id,
                                                 table.column_name(record.column), record.reason))
            if order_id:
                bad[order_id] = bad.get(order_id, 0) + 1
                order_lines[order_id] = min(record.line, order_lines.get(order_id, record.line))
        for line_no, cells in table.rows:
            order_id = clean_cell(self._cell(cells, "order_id"))
            if not order_id:
                result.problems.append(ImportProblem(source, line_no, None,
                                                     self.mapping.columns["order_id"],
                                                     "row has no order id"))
                continue
            order_lines[order_id] = min(line_no, order_lines.get(order_id, line_no))
            try:
                order = orders.get(order_id)
                if order is None and order_id not in bad:
                    order = self._order(cells, order_id, source, line_no)
                    orders[order_id] = order
                line = self._line(cells, order_id, line_no, len(order.lines) + 1 if order else 1)
            except BadValue as error:
                result.problems.append(ImportProblem(source, line_no, order_id,
                                                     self._column_name(error.field),
                                                     error.reason))
                bad[order_id] = bad.get(order_id, 0) + 1
                orders.pop(order_id, None)
                continue
            if order is not None:
                order.lines.append(line)
        for order_id, count in bad.items():
            result.problems.append(ImportProblem(
                source, order_lines.get(order_id), order_id, None,
                f"order not imported: {count} of its rows are invalid"))
        for order in orders.values():
            self._finish(order)
            result.orders.append(order)
        return result

    def _cell(self, cells, field: str) -> str:
        index = self.index.get(field)
        if index is None or index >= len(cells):
            return ""
        return cells[index]

    def _column_name(self, field: str | None) -> str | None:
        return self.mapping.columns.get(field, field) if field else field

    def _money(self, cells, field: str) -> int:
        text = self._cell(cells, field)
        if self.mapping.amounts == "fen":
            return fen_value(clean_cell(text), field)
        return yuan_to_fen(text, field)

    def _time(self, cells, field: str):
        return local_time(self._cell(cells, field), field, tz=self.mapping.timezone,
                          fmt=self.mapping.date_format)

    def _order(self, cells, order_id: str, source: str, line_no: int) -> ParsedOrder:
        status_text = self._cell(cells, "status").strip()
        if "status" in self.index:
            status = self.mapping.status_map.get(status_text) or (
                status_text if status_text in ORDER_STATUSES else tmall_order_status(status_text))
            if status is None:
                raise BadValue("status", f"unknown order status: {status_text!r}")
        else:
            status = self.mapping.default_status or "paid"
        order = ParsedOrder(
            channel=self.mapping.channel,
            shop=self.shop if self.shop is not None else self._cell(cells, "shop").strip(),
            external_id=order_id, channel_status=status_text, status=status,
            source=source, source_line=line_no)
        for field in ("buyer_nick", "buyer_message", "seller_memo", "receiver_name",
                      "receiver_province", "receiver_city", "receiver_district",
                      "receiver_address"):
            setattr(order, field, self._cell(cells, field).strip())
        order.receiver_phone = clean_cell(self._cell(cells, "receiver_phone"))
        order.receiver_zip = clean_cell(self._cell(cells, "receiver_zip"))
        if "address_full" in self.index:
            parts = split_address(self._cell(cells, "address_full"))
            order.receiver_province = order.receiver_province or parts.province
            order.receiver_city = order.receiver_city or parts.city
            order.receiver_district = order.receiver_district or parts.district
            order.receiver_address = order.receiver_address or parts.address
            order.receiver_zip = order.receiver_zip or parts.zip
        order.seller_flag = parse_int(self._cell(cells, "seller_flag"), "seller_flag")
        order.freight_fen = self._money(cells, "freight")
        order.discount_fen = self._money(cells, "discount")
        order.coupon_fen = self._money(cells, "coupon")
        order.paid_fen = self._money(cells, "order_paid")
        order.created_at = self._time(cells, "created_at")
        order.paid_at = self._time(cells, "paid_at")
        order.presale = self._cell(cells, "presale").strip().lower() in TRUE_TEXTS
        if order.presale:
            if "presale_final_paid" in self.index:
                order.presale_final_paid = \
                    self._cell(cells, "presale_final_paid").strip().lower() in TRUE_TEXTS
            else:
                order.presale_final_paid = status not in ("waiting_payment", "closed")
            order.presale_ship_by = self._time(cells, "presale_ship_by")
        return order

    def _line(self, cells, order_id: str, line_no: int, ordinal: int) -> ParsedLine:
        qty = parse_qty(self._cell(cells, "qty"), "qty")
        price = self._money(cells, "price")
        paid = self._money(cells, "paid") if self._cell(cells, "paid").strip() else price * qty
        refund_text = self._cell(cells, "refund_status").strip()
        refund = self.mapping.refund_map.get(refund_text) or (
            refund_text if refund_text in REFUND_STATUSES else tmall_refund_status(refund_text))
        if refund is None:
            raise BadValue("refund_status", f"unknown refund status: {refund_text!r}")
        return ParsedLine(
            external_line_id=clean_cell(self._cell(cells, "line_id")) or f"{order_id}-{ordinal}",
            sku_code=clean_cell(self._cell(cells, "sku")),
            title=self._cell(cells, "title").strip(),
            qty=qty, price_fen=price, paid_fen=paid, refund_status=refund, source_line=line_no)

    def _finish(self, order: ParsedOrder) -> None:
        order.goods_fen = sum(line.price_fen * line.qty for line in order.lines)
        if "order_paid" not in self.index:
            order.paid_fen = sum(line.paid_fen for line in order.lines) + order.freight_fen
