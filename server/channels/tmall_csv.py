"""Tmall / Taobao seller-centre exports (千牛 / 卖家中心 → 已卖出的宝贝 → 批量导出).

Two files come out of one export: the order report (订单报表, one row per order) and the item
report (宝贝报表, one row per order line), joined on the order number (订单编号 / 主订单编号).
Which file is which is told by its header, so they may be given in any order.

What the order report's money columns mean (checked on real exports):
    买家应付货款 (goods) + 买家应付邮费 (postage) = 总金额
    总金额 - 天猫卡券抵扣 (coupon) - 集分宝抵扣 (points) = 买家实际支付金额 (paid)
"""
from __future__ import annotations

import os
import re

from .address import split_address
from .base import (CLOSED, FINISHED, FORBID_CONSIGN, PAID, REFUND_CLOSED, REFUND_NONE,
                   REFUND_PENDING, REFUND_REFUNDED, SHIPPED, WAITING_PAYMENT, BadValue,
                   ImportProblem, ParsedLine, ParsedOrder, ParseResult)
from .csvfile import CsvTable, UnreadableFile, read_table
from .registry import register_adapter
from .values import clean_cell, local_time, parse_int, parse_qty, yuan_to_fen

CHANNEL = "tmall"

ORDER_STATUS_TEXT = {
    "等待买家付款": WAITING_PAYMENT,
    "买家已付款，等待卖家发货": PAID,
    "买家已付款": PAID,
    "等待卖家发货": PAID,
    "卖家部分发货": PAID,
    "卖家已发货，等待买家确认": SHIPPED,
    "卖家已发货": SHIPPED,
    "买家已签收": SHIPPED,
    "交易成功": FINISHED,
    "交易关闭": CLOSED,
    "付款以前，卖家或买家主动关闭交易": CLOSED,
    "付款以后用户退款成功，交易自动关闭": CLOSED,
}
# tried in order when the exact text is unknown (exports reword statuses now and then)
ORDER_STATUS_WORDS = (
    ("禁止发货", FORBID_CONSIGN),
    ("关闭", CLOSED),
    ("交易成功", FINISHED),
    ("已发货", SHIPPED),
    ("等待买家付款", WAITING_PAYMENT),
    ("已付款", PAID),
)

REFUND_TEXT = {
    "": REFUND_NONE,
    "没有申请退款": REFUND_NONE,
    "无退款": REFUND_NONE,
    "退款成功": REFUND_REFUNDED,
    "退款关闭": REFUND_CLOSED,
    "退款中": REFUND_PENDING,
    "买家已经申请退款，等待卖家同意": REFUND_PENDING,
    "卖家已经同意退款，等待买家退货": REFUND_PENDING,
    "买家已经退货，等待卖家确认收货": REFUND_PENDING,
    "卖家拒绝退款": REFUND_PENDING,
}

ORDER_COLUMNS = {
    "id": ("订单编号", "主订单编号"),
    "buyer_nick": ("买家会员名", "买家昵称"),
    "goods": ("买家应付货款",),
    "freight": ("买家应付邮费",),
    "paid": ("买家实际支付金额", "实付金额"),
    "status": ("订单状态",),
    "buyer_message": ("买家留言",),
    "receiver_name": ("收货人姓名", "收货人"),
    "address": ("收货地址",),
    "changed_address": ("修改后的收货地址",),
    "mobile": ("联系手机",),
    "phone": ("联系电话",),
    "created_at": ("订单创建时间",),
    "paid_at": ("订单付款时间",),
    "seller_memo": ("订单备注", "卖家备注"),
    "seller_flag": ("卖家旗帜", "旗帜"),
    "units": ("宝贝总数量",),
    "shop": ("店铺名称",),
    "stages": ("分阶段订单信息",),
    "presale": ("是否预售", "是否是预售", "预售订单"),
    "presale_ship_by": ("预售发货时间", "预计发货时间"),
    "coupon": ("天猫卡券抵扣",),
    "points": ("集分宝抵扣",),
}
ORDER_REQUIRED = ("id", "status", "paid", "address")

ITEM_COLUMNS = {
    "line_id": ("子订单编号",),
    "order_id": ("主订单编号", "订单编号"),
    "title": ("标题", "宝贝标题"),
    "price": ("价格", "单价"),
    "qty": ("购买数量", "宝贝数量"),
    "sku": ("商家编码",),
    "outer_id": ("外部系统编号",),
    "goods": ("买家应付货款",),
    "paid": ("买家实际支付金额",),
    "refund": ("退款状态",),
    "stages": ("分阶段订单信息",),
}
ITEM_REQUIRED = ("order_id", "price", "qty")

_FINAL_PAID_WORDS = ("尾款已付", "都付", "尾款已支付", "已付尾款")
_FINAL_UNPAID_WORDS = ("尾款未付", "未付尾款", "等待尾款", "尾款待付")


def order_status(text: str) -> str | None:
    value = text.strip().replace(",", "，")
    status = ORDER_STATUS_TEXT.get(value)
    if status:
        return status
    for word, candidate in ORDER_STATUS_WORDS:
        if word in value:
            return candidate
    return None


def refund_status(text: str) -> str | None:
    value = text.strip().replace(",", "，")
    status = REFUND_TEXT.get(value)
    if status:
        return status
    if "退款成功" in value:
        return REFUND_REFUNDED
    if "关闭" in value:
        return REFUND_CLOSED
    if "退款" in value or "退货" in value:
        return REFUND_PENDING
    return None


def is_items_header(header: list[str]) -> bool:
    names = set(header)
    return "子订单编号" in names or ("购买数量" in names and "收货地址" not in names)


def is_orders_header(header: list[str]) -> bool:
    names = set(header)
    return "收货地址" in names and ("订单编号" in names or "主订单编号" in names)


class _Columns:
    """Cell lookup by role for one file, from its header."""

    def __init__(self, header: list[str], roles: dict[str, tuple[str, ...]]):
        position = {name: index for index, name in enumerate(header)}
        self.index: dict[str, int | None] = {}
        for role, names in roles.items():
            self.index[role] = next((position[n] for n in names if n in position), None)
        self.header = header

    def missing(self, required) -> list[str]:
        return [role for role in required if self.index[role] is None]

    def get(self, cells: list[str], role: str) -> str:
        index = self.index[role]
        if index is None or index >= len(cells):
            return ""
        return cells[index]

    def name(self, role: str) -> str:
        index = self.index[role]
        return self.header[index] if index is not None else role


@register_adapter("tmall_csv")
class TmallCsvAdapter:
    """``parse([orders_csv, items_csv])`` in any order; several pairs may be given at once."""

    channel = CHANNEL

    def __init__(self, encoding: str | None = None):
        self.encoding = encoding

    def parse(self, paths_or_payload, shop: str | None = None) -> ParseResult:
        result = self.stream(paths_or_payload, shop)
        result.orders = list(result.orders)
        return result

    def stream(self, paths_or_payload, shop: str | None = None) -> ParseResult:
        """:meth:`parse`, except that the orders come as they are read: ``orders`` is an iterator,
        and ``problems`` is complete once it has ended. The files are read and the item report
        taken first; the order report's rows become orders while the caller stores the ones
        before (services/orders/intake.py), so that the database is not idle while they are
        read."""
        paths = [paths_or_payload] if isinstance(paths_or_payload, (str, os.PathLike)) \
            else list(paths_or_payload)
        result = ParseResult()
        order_tables, item_tables = [], []
        for path in paths:
            source = os.path.basename(os.fspath(path))
            try:
                table = read_table(path, encoding=self.encoding)
            except (OSError, UnreadableFile) as error:
                result.problems.append(ImportProblem(source, None, None, None,
                                                     f"cannot read file: {error}"))
                continue
            if is_items_header(table.header):
                item_tables.append(table)
            elif is_orders_header(table.header):
                order_tables.append(table)
            else:
                result.problems.append(ImportProblem(
                    source, table.header_line or None, None, None,
                    "neither a Tmall order report (订单报表) nor an item report (宝贝报表)"))
        lines_by_order, bad_orders = self._read_items(item_tables, result.problems)
        result.orders = self._orders(order_tables, lines_by_order, bad_orders, shop, result.problems)
        return result

    def _orders(self, order_tables, lines_by_order, bad_orders, shop, problems):
        for table in order_tables:
            yield from self._read_orders(table, lines_by_order, bad_orders, shop, problems)
        for order_id, entries in lines_by_order.items():
            for table, line_no, _ in entries:
                problems.append(ImportProblem(
                    table.source, line_no, order_id, ITEM_COLUMNS["order_id"][0],
                    "item line without an order"))

    # -- item report -----------------------------------------------------------------------

    def _read_items(self, tables: list[CsvTable], problems: list[ImportProblem]):
        """{order id: [(table, line, ParsedLine)]} and {order id: bad item rows}."""
        lines_by_order: dict[str, list] = {}
        bad_orders: dict[str, int] = {}
        seen_line_ids: set[str] = set()
        for table in tables:
            columns = _Columns(table.header, ITEM_COLUMNS)
            missing = columns.missing(ITEM_REQUIRED)
            if missing:
                problems.append(ImportProblem(
                    table.source, table.header_line, None, ITEM_COLUMNS[missing[0]][0],
                    "column missing from the item report"))
                continue
            for record in table.unreadable:
                # its order is not imported short of a line: the order's other lines wait with it
                order_id = clean_cell(columns.get(record.cells, "order_id")) or None
                problems.append(ImportProblem(table.source, record.line, order_id,
                                              table.column_name(record.column), record.reason))
                if order_id:
                    bad_orders[order_id] = bad_orders.get(order_id, 0) + 1
                    lines_by_order.setdefault(order_id, [])
            for line_no, cells in table.rows:
                order_id = clean_cell(columns.get(cells, "order_id"))
                if not order_id:
                    problems.append(ImportProblem(table.source, line_no, None,
                                                  columns.name("order_id"),
                                                  "item line has no order number"))
                    continue
                try:
                    line = self._item_line(columns, cells, order_id, line_no)
                except BadValue as error:
                    problems.append(ImportProblem(table.source, line_no, order_id,
                                                  error.field, error.reason))
                    bad_orders[order_id] = bad_orders.get(order_id, 0) + 1
                    lines_by_order.setdefault(order_id, [])
                    continue
                if line.external_line_id in seen_line_ids:
                    problems.append(ImportProblem(
                        table.source, line_no, order_id, columns.name("line_id"),
                        f"item line {line.external_line_id} appears twice; the first is kept"))
                    continue
                seen_line_ids.add(line.external_line_id)
                stages = columns.get(cells, "stages").strip()
                lines_by_order.setdefault(order_id, []).append((table, line_no, (line, stages)))
        return lines_by_order, bad_orders

    @staticmethod
    def _item_line(columns: _Columns, cells, order_id: str, line_no: int) -> ParsedLine:
        qty = parse_qty(columns.get(cells, "qty"), columns.name("qty"))
        price = yuan_to_fen(columns.get(cells, "price"), columns.name("price"),
                            allow_blank=False)
        if columns.index["paid"] is not None and columns.get(cells, "paid").strip():
            paid = yuan_to_fen(columns.get(cells, "paid"), columns.name("paid"))
        elif columns.index["goods"] is not None and columns.get(cells, "goods").strip():
            paid = yuan_to_fen(columns.get(cells, "goods"), columns.name("goods"))
        else:
            paid = price * qty
        refund_text = columns.get(cells, "refund")
        refund = refund_status(refund_text)
        if refund is None:
            raise BadValue(columns.name("refund"), f"unknown refund status: {refund_text!r}")
        line_id = clean_cell(columns.get(cells, "line_id")) or f"{order_id}:{line_no}"
        sku = clean_cell(columns.get(cells, "sku")) or clean_cell(columns.get(cells, "outer_id"))
        return ParsedLine(external_line_id=line_id, sku_code=sku,
                          title=columns.get(cells, "title").strip(), qty=qty, price_fen=price,
                          paid_fen=paid, refund_status=refund, source_line=line_no)

    # -- order report ----------------------------------------------------------------------

    def _read_orders(self, table: CsvTable, lines_by_order, bad_orders, shop, problems):
        columns = _Columns(table.header, ORDER_COLUMNS)
        missing = columns.missing(ORDER_REQUIRED)
        if missing:
            problems.append(ImportProblem(
                table.source, table.header_line, None, ORDER_COLUMNS[missing[0]][0],
                "column missing from the order report"))
            return
        for record in table.unreadable:
            order_id = clean_cell(columns.get(record.cells, "id")) or None
            problems.append(ImportProblem(table.source, record.line, order_id,
                                                 table.column_name(record.column), record.reason))
            lines_by_order.pop(order_id, None)  # its item lines are named with it, not as orphans
        seen: set[str] = set()
        for line_no, cells in table.rows:
            order_id = clean_cell(columns.get(cells, "id"))
            if not order_id:
                problems.append(ImportProblem(table.source, line_no, None,
                                                     columns.name("id"), "order has no number"))
                continue
            if order_id in seen:
                problems.append(ImportProblem(
                    table.source, line_no, order_id, columns.name("id"),
                    "order appears twice in the order report; the first is kept"))
                continue
            seen.add(order_id)
            entries = lines_by_order.pop(order_id, None)
            try:
                order = self._order(columns, cells, order_id, table.source, line_no, shop)
            except BadValue as error:
                problems.append(ImportProblem(table.source, line_no, order_id,
                                                     error.field, error.reason))
                continue
            if order_id in bad_orders:
                problems.append(ImportProblem(
                    table.source, line_no, order_id, None,
                    f"order not imported: {bad_orders[order_id]} of its item lines are invalid"))
                continue
            if not entries:
                problems.append(ImportProblem(
                    table.source, line_no, order_id, None,
                    "order has no lines in the item report (宝贝报表)"))
                continue
            order.lines = [line for _, _, (line, _) in entries]
            stages = " ".join(s for _, _, (_, s) in entries if s)
            try:
                self._apply_presale(order, columns, cells, stages)
            except BadValue as error:
                problems.append(ImportProblem(table.source, line_no, order_id,
                                                     error.field, error.reason))
                continue
            units_text = columns.get(cells, "units").strip()
            if units_text:
                try:
                    units = parse_int(units_text, columns.name("units"))
                except BadValue as error:
                    problems.append(ImportProblem(table.source, line_no, order_id,
                                                         error.field, error.reason))
                    continue
                if units != order.units:
                    problems.append(ImportProblem(
                        table.source, line_no, order_id, columns.name("units"),
                        f"order says {units} units but its item lines add up to {order.units}"))
                    continue
            yield order

    def _order(self, columns: _Columns, cells, order_id, source, line_no, shop) -> ParsedOrder:
        status_text = columns.get(cells, "status").strip()
        status = order_status(status_text)
        if status is None:
            raise BadValue(columns.name("status"), f"unknown order status: {status_text!r}")
        address_text = columns.get(cells, "changed_address").strip() or \
            columns.get(cells, "address")
        address = split_address(address_text)
        if not address.province:
            raise BadValue(columns.name("address"), f"no province in address: {address_text!r}")
        money = {}
        for role in ("goods", "freight", "paid", "coupon", "points"):
            money[role] = yuan_to_fen(columns.get(cells, role), columns.name(role))
        flag_text = columns.get(cells, "seller_flag")
        return ParsedOrder(
            channel=self.channel,
            shop=shop if shop is not None else columns.get(cells, "shop").strip(),
            external_id=order_id,
            channel_status=status_text,
            status=status,
            buyer_nick=columns.get(cells, "buyer_nick").strip(),
            buyer_message=columns.get(cells, "buyer_message").strip(),
            seller_memo=columns.get(cells, "seller_memo").strip(),
            seller_flag=parse_int(flag_text, columns.name("seller_flag")),
            receiver_name=columns.get(cells, "receiver_name").strip(),
            receiver_phone=clean_cell(columns.get(cells, "mobile"))
            or clean_cell(columns.get(cells, "phone")),
            receiver_province=address.province,
            receiver_city=address.city,
            receiver_district=address.district,
            receiver_address=address.address,
            receiver_zip=address.zip,
            goods_fen=money["goods"],
            freight_fen=money["freight"],
            discount_fen=money["points"],
            coupon_fen=money["coupon"],
            paid_fen=money["paid"],
            created_at=local_time(columns.get(cells, "created_at"), columns.name("created_at")),
            paid_at=local_time(columns.get(cells, "paid_at"), columns.name("paid_at")),
            source=source,
            source_line=line_no,
        )

    @staticmethod
    def _apply_presale(order: ParsedOrder, columns: _Columns, cells, item_stages: str) -> None:
        stages = " ".join(filter(None, (columns.get(cells, "stages").strip(), item_stages)))
        flag = columns.get(cells, "presale").strip().lower()
        order.presale = bool(stages) or flag in ("是", "true", "1", "yes", "预售")
        if not order.presale:
            return
        if any(word in stages for word in _FINAL_UNPAID_WORDS):
            order.presale_final_paid = False
        elif any(word in stages for word in _FINAL_PAID_WORDS):
            order.presale_final_paid = True
        else:
            order.presale_final_paid = order.status in (PAID, SHIPPED, FINISHED, FORBID_CONSIGN)
        ship_by = columns.get(cells, "presale_ship_by")
        if ship_by.strip():
            order.presale_ship_by = local_time(ship_by, columns.name("presale_ship_by"))
        else:
            found = _SHIP_BY_IN_TEXT.search(stages)
            if found:
                order.presale_ship_by = local_time(found.group(1), columns.name("stages"))


_SHIP_BY_IN_TEXT = re.compile(
    r"发货[^\d]{0,10}(\d{4}-\d{1,2}-\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2})?)?)")
