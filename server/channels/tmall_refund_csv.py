"""Tmall / Taobao refund report (千牛 → 售后 → 退款管理 → 批量导出: 退款报表), one row per refund
of one order line (子订单).

Read like the order export (tmall_csv.py): GBK or UTF-8 (with or without a BOM), comma or tab
separated, long numbers wrapped as ``="…"`` or prefixed with ``'`` or a tab, amounts as yuan
with or without ``¥``. Columns are found by their Chinese headers, so their order does not
matter; a row that cannot be read is named ``file:line: field: reason`` and the others come in.
"""
from __future__ import annotations

import os

from .base import BadValue
from .csvfile import UnreadableFile, read_table
from .refund_base import (AGREED, CLOSED, REFUSED, REQUESTED, SUCCESS, ParsedRefund,
                          RefundParseResult, problem, register_refund_adapter)
from .tmall_csv import _Columns
from .values import clean_cell, local_time, parse_qty, yuan_to_fen

CHANNEL = "tmall"

REFUND_STATUS_TEXT = {
    "买家已经申请退款，等待卖家同意": REQUESTED,
    "等待卖家同意": REQUESTED,
    "卖家已经同意退款，等待买家退货": AGREED,
    "等待买家退货": AGREED,
    "买家已经退货，等待卖家确认收货": AGREED,
    "等待卖家确认收货": AGREED,
    "卖家拒绝退款": REFUSED,
    "退款关闭": CLOSED,
    "退款成功": SUCCESS,
}
# tried in order when the exact text is unknown (the export rewords now and then)
REFUND_STATUS_WORDS = (("成功", SUCCESS), ("关闭", CLOSED), ("拒绝", REFUSED),
                       ("同意退款", AGREED), ("退货", AGREED), ("申请", REQUESTED))

COLUMNS = {
    "order_id": ("订单编号", "主订单编号"),
    "refund_id": ("退款编号", "退款单号"),
    "line_id": ("子订单编号",),
    "sku": ("商家编码", "商品编码"),
    "qty": ("退款数量", "退货数量", "宝贝数量", "购买数量"),
    "amount": ("买家退款金额", "退款金额"),
    "return_needed": ("是否需要退货",),
    "requested_at": ("买家申请退款时间", "退款申请时间", "申请时间"),
    "modified_at": ("修改时间", "退款完结时间", "完结时间"),
    "status": ("退款状态",),
    "reason": ("退款原因", "买家退款原因"),
    "carrier": ("物流公司", "退货物流公司", "买家退货物流公司"),
    "tracking": ("物流单号", "退货物流单号", "买家退货物流单号"),
    "shop": ("店铺名称",),
}
REQUIRED = ("order_id", "refund_id", "amount", "status")


def refund_state(text: str) -> str | None:
    value = text.strip().replace(",", "，")
    state = REFUND_STATUS_TEXT.get(value)
    if state:
        return state
    return next((candidate for word, candidate in REFUND_STATUS_WORDS if word in value), None)


def is_refund_header(header: list[str]) -> bool:
    names = set(header)
    return "退款编号" in names or "退款单号" in names


@register_refund_adapter("tmall_refund_csv")
class TmallRefundCsvAdapter:
    channel = CHANNEL

    def __init__(self, encoding: str | None = None):
        self.encoding = encoding

    def parse(self, paths_or_payload, shop: str | None = None) -> RefundParseResult:
        """Paths, or ``(name, bytes)`` pairs for a file that came over HTTP."""
        paths = [paths_or_payload] if isinstance(paths_or_payload, (str, os.PathLike, tuple)) \
            else list(paths_or_payload)
        result = RefundParseResult()
        for path in paths:
            source = path[0] if isinstance(path, tuple) else os.path.basename(os.fspath(path))
            try:
                table = read_table(path[1], encoding=self.encoding, source=source) if isinstance(path, tuple) \
                    else read_table(path, encoding=self.encoding)
            except (OSError, UnreadableFile) as error:
                result.problems.append(problem(source, None, None, f"cannot read file: {error}"))
                continue
            if not is_refund_header(table.header):
                result.problems.append(problem(source, table.header_line or None, None,
                                               "not a Tmall refund report (退款报表): no 退款编号 column"))
                continue
            columns = _Columns(table.header, COLUMNS)
            missing = columns.missing(REQUIRED)
            if missing:
                result.problems.append(problem(source, table.header_line, COLUMNS[missing[0]][0],
                                               "column missing from the refund report"))
                continue
            for record in table.unreadable:
                result.problems.append(problem(source, record.line, table.column_name(record.column),
                                               record.reason))
            seen: set[str] = set()
            for line_no, cells in table.rows:
                try:
                    refund = self._row(columns, cells, source, line_no, shop)
                except BadValue as error:
                    result.problems.append(problem(source, line_no, error.field, error.reason))
                    continue
                if refund.refund_id in seen:
                    result.problems.append(problem(source, line_no, columns.name("refund_id"),
                                                   f"refund {refund.refund_id} appears twice; the first is kept"))
                    continue
                seen.add(refund.refund_id)
                result.refunds.append(refund)
        return result

    def _row(self, columns: _Columns, cells, source: str, line_no: int, shop) -> ParsedRefund:
        def cell(role):
            return clean_cell(columns.get(cells, role))

        refund_id = cell("refund_id")
        if not refund_id:
            raise BadValue(columns.name("refund_id"), "refund has no number")
        order_id = cell("order_id")
        if not order_id:
            raise BadValue(columns.name("order_id"), "refund has no order number")
        status_text = cell("status")
        state = refund_state(status_text)
        if state is None:
            raise BadValue(columns.name("status"), f"unknown refund status: {status_text!r}")
        qty_text = cell("qty")
        return ParsedRefund(
            channel=self.channel,
            shop=shop if shop is not None else cell("shop"),
            refund_id=refund_id,
            order_external_id=order_id,
            line_external_id=cell("line_id"),
            sku_code=cell("sku"),
            qty=parse_qty(qty_text, columns.name("qty")) if qty_text else 0,
            refund_fen=yuan_to_fen(columns.get(cells, "amount"), columns.name("amount"), allow_blank=False),
            state=state,
            channel_status=status_text,
            reason=cell("reason")[:200],
            goods_returned=cell("return_needed") in ("是", "需要", "yes", "Y", "1"),
            return_tracking=cell("tracking"),
            return_carrier=cell("carrier"),
            requested_at=local_time(cell("requested_at"), columns.name("requested_at")),
            modified_at=local_time(cell("modified_at"), columns.name("modified_at")),
            source=source,
            source_line=line_no,
        )

