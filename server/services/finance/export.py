"""Voucher import files (凭证引入 / 凭证导入) as xlsx in the column layouts of 金蝶云星空 (K/3
Cloud), 用友 U8 and 用友 T+, and the merchant's own layouts.

A layout is ``{"header_rows": n, "columns": [{"title", "key", "field", "value"}]}``: each column
takes a voucher line's ``field`` (one of FIELDS) or the constant ``value``; ``key`` is the field
key row that the 金蝶云星空 template has above the titles (written when ``header_rows`` is 2).
The presets follow the templates each product hands out (download the template from your own
installation and compare: versions differ; a preset edited and saved under its code replaces it).
Every voucher is checked before anything is written: an unbalanced one refuses the whole file.
"""
from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

from openpyxl import Workbook

from server.db import write_transaction
from server.models.base import utcnow
from server.models.finance import ExportLayout, Voucher
from server.services.approvals import requests as approval_requests
from server.services.errors import DomainError, NotFound
from server.services.finance import vouchers as voucher_book

FIELDS = {
    "date": "the voucher's day (yyyy-mm-dd)",
    "period": "the accounting period (yyyy-mm... month number)",
    "year": "the year",
    "word": "凭证字 (记)",
    "number": "凭证号 within the month",
    "attachments": "附件数 / 附单据数 (0)",
    "seq": "分录号: the line's number within the voucher",
    "summary": "摘要",
    "account_code": "科目编码 (from the account mapping)",
    "account_name": "科目名称",
    "debit": "借方金额 (yuan, 2 decimals; 0 on a credit line)",
    "credit": "贷方金额 (yuan, 2 decimals; 0 on a debit line)",
    "amount": "原币金额: the line's debit or credit (yuan)",
    "direction": "方向: 借 or 贷",
    "kind": "the voucher's kind (sales, subsidy, fees, cogs, refund, returned, receipt)",
    "shop": "the shop ('' for every shop)",
}

PRESETS = {
    "kingdee": {
        "name": "金蝶云星空 / K3 Cloud 凭证引入",
        "header_rows": 2,
        "columns": [
            {"key": "FAccountBookID", "title": "账簿", "value": "001"},
            {"key": "FDate", "title": "日期", "field": "date"},
            {"key": "FVOUCHERGROUPID", "title": "凭证字", "field": "word"},
            {"key": "FVOUCHERGROUPNO", "title": "凭证号", "field": "number"},
            {"key": "FATTACHMENTS", "title": "附件数", "field": "attachments"},
            {"key": "FEXPLANATION", "title": "摘要", "field": "summary"},
            {"key": "FACCOUNTID", "title": "科目编码", "field": "account_code"},
            {"key": "FACCOUNTID#Name", "title": "科目名称", "field": "account_name"},
            {"key": "FCURRENCYID", "title": "币别", "value": "PRE001"},
            {"key": "FEXCHANGERATETYPE", "title": "汇率类型", "value": "HLTX01_SYS"},
            {"key": "FEXCHANGERATE", "title": "汇率", "value": 1},
            {"key": "FAMOUNTFOR", "title": "原币金额", "field": "amount"},
            {"key": "FDEBIT", "title": "借方金额", "field": "debit"},
            {"key": "FCREDIT", "title": "贷方金额", "field": "credit"},
            {"key": "FPREPARERID", "title": "制单人", "value": ""},
        ],
    },
    "u8": {
        "name": "用友 U8 凭证导入",
        "header_rows": 1,
        "columns": [
            {"title": "制单日期", "field": "date"},
            {"title": "凭证类别字", "field": "word"},
            {"title": "凭证号", "field": "number"},
            {"title": "附单据数", "field": "attachments"},
            {"title": "摘要", "field": "summary"},
            {"title": "科目编码", "field": "account_code"},
            {"title": "借方金额", "field": "debit"},
            {"title": "贷方金额", "field": "credit"},
            {"title": "币种", "value": "人民币"},
            {"title": "汇率", "value": 1},
            {"title": "制单人", "value": ""},
        ],
    },
    "tplus": {
        "name": "用友 T+ 凭证导入",
        "header_rows": 1,
        "columns": [
            {"title": "日期", "field": "date"},
            {"title": "凭证字", "field": "word"},
            {"title": "凭证号", "field": "number"},
            {"title": "附单据数", "field": "attachments"},
            {"title": "摘要", "field": "summary"},
            {"title": "科目编码", "field": "account_code"},
            {"title": "科目名称", "field": "account_name"},
            {"title": "借方金额", "field": "debit"},
            {"title": "贷方金额", "field": "credit"},
            {"title": "制单人", "value": ""},
        ],
    },
}
MAX_COLUMNS = 60


class BadLayout(DomainError):
    code = "bad_layout"


class ApprovalRequired(DomainError):
    """Vouchers exported before (their days are closed) go out again only once the
    ``voucher_export`` approval flow has approved it, when that flow is active."""
    code = "approval_required"
    http_status = 409


def layouts() -> dict[str, dict]:
    """code -> layout: the presets, replaced or joined by the saved ones."""
    found = {code: dict(spec, code=code, preset=True, edited=False) for code, spec in PRESETS.items()}
    for row in ExportLayout.select().order_by(ExportLayout.code):
        spec = json.loads(row.spec)
        found[row.code] = dict(spec, code=row.code, name=row.name or spec.get("name", row.code),
                               preset=row.code in PRESETS, edited=True)
    return found


def layout(code: str) -> dict:
    found = layouts().get(code)
    if found is None:
        raise NotFound(f"no export layout {code!r}", layout=code)
    return found


def validate(spec: dict) -> dict:
    if not isinstance(spec, dict):
        raise BadLayout("a layout is an object with header_rows and columns")
    rows = spec.get("header_rows", 1)
    if rows not in (1, 2):
        raise BadLayout("header_rows: 1 (titles) or 2 (field keys, then titles)")
    columns = spec.get("columns")
    if not isinstance(columns, list) or not 1 <= len(columns) <= MAX_COLUMNS:
        raise BadLayout(f"columns: a list of 1 to {MAX_COLUMNS} columns")
    clean = []
    for i, column in enumerate(columns):
        if not isinstance(column, dict) or not isinstance(column.get("title"), str) or not column["title"].strip():
            raise BadLayout(f"columns[{i}]: needs a title")
        fld = column.get("field")
        if fld is not None and fld not in FIELDS:
            raise BadLayout(f"columns[{i}].field: {fld!r} is not one of {', '.join(FIELDS)}")
        value = column.get("value")
        if fld is None and not isinstance(value, (str, int, float)):
            raise BadLayout(f"columns[{i}]: needs a field or a constant value")
        item = {"title": column["title"].strip()[:60]}
        if column.get("key"):
            item["key"] = str(column["key"])[:60]
        if fld is not None:
            item["field"] = fld
        else:
            item["value"] = value if not isinstance(value, str) else value[:100]
        clean.append(item)
    fields = {c.get("field") for c in clean}
    if not {"account_code", "debit", "credit"} <= fields and not {"account_code", "amount", "direction"} <= fields:
        raise BadLayout("a layout needs account_code and debit and credit (or amount and direction)")
    return {"header_rows": rows, "columns": clean}


def save_layout(code: str, name: str, spec: dict) -> dict:
    code = (code or "").strip()
    if not code or len(code) > 32 or not code.replace("_", "").replace("-", "").isalnum():
        raise BadLayout("code: letters, digits, '-' and '_', at most 32")
    clean = validate(spec)
    with write_transaction():
        row = ExportLayout.get_or_none(ExportLayout.code == code)
        text = json.dumps(dict(clean, name=name), ensure_ascii=False)
        if row is None:
            ExportLayout.create(code=code, name=name[:100], spec=text)
        else:
            ExportLayout.update(name=name[:100], spec=text, updated_at=utcnow()).where(ExportLayout.id == row.id).execute()
    return layout(code)


def reset_layout(code: str) -> None:
    """Forget the saved edits of a layout (a preset comes back as shipped)."""
    with write_transaction():
        ExportLayout.delete().where(ExportLayout.code == code).execute()


def _yuan(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _value(fld: str, v: dict, line: dict):
    debit, credit = line["debit_fen"], line["credit_fen"]
    day: dt.date = v["day"]
    return {
        "date": day.isoformat(), "period": day.month, "year": day.year, "word": v["word"], "number": v["number"],
        "attachments": 0, "seq": line["seq"], "summary": line["summary"], "account_code": line["account_code"],
        "account_name": line["account_name"], "debit": _yuan(debit), "credit": _yuan(credit),
        "amount": _yuan(debit or credit), "direction": "借" if debit else "贷", "kind": v["kind"], "shop": v["shop"],
    }[fld]


def _closed_period_allowed(code: str, first: dt.date, last: dt.date, shop: str | None, views: list[dict],
                           actor) -> None:
    """A day whose vouchers were exported is closed (已结账): exporting it again waits for the
    ``voucher_export`` approval flow when one is active (the request is opened on the first try)."""
    if not any(v["exported_at"] for v in views) or not approval_requests.needed("voucher_export", 0):
        return
    ref = f"{code}:{first}..{last}:{shop or '*'}"
    if approval_requests.granted("voucher_export", ref):
        return
    request = approval_requests.pending_for("voucher_export", ref)
    if request is None and actor is not None:
        request = approval_requests.open_request(
            "voucher_export", ref, 0, {"layout": code, "first": str(first), "last": str(last), "shop": shop},
            f"export the vouchers of {first} .. {last} again ({code})", actor)
    raise ApprovalRequired(f"the vouchers of {first} .. {last} were exported before (a closed period): exporting "
                           f"them again waits for approval" + (f" (request #{request.id})" if request else ""),
                           request=request.id if request else None)


def export_xlsx(code: str, first: dt.date, last: dt.date, shop: str | None = None, *,
                actor=None) -> tuple[bytes, int]:
    """(the xlsx file, vouchers in it) of the vouchers of ``first`` .. ``last``; refuses, writing
    nothing, when any of them is unbalanced, or when they were exported before and the
    ``voucher_export`` approval flow has not approved exporting them again."""
    spec = layout(code)
    shop = shop or ""   # the vouchers of every shop together ('') or one shop's: never both in one file
    views = voucher_book.vouchers_between(first, last, shop)
    voucher_book.check(views)
    _closed_period_allowed(code, first, last, shop, views, actor)
    book = Workbook()
    sheet = book.active
    sheet.title = "凭证"
    columns = spec["columns"]
    if spec.get("header_rows", 1) == 2:
        sheet.append([c.get("key", "") for c in columns])
    sheet.append([c["title"] for c in columns])
    for v in views:
        for line in v["lines"]:
            sheet.append([_value(c["field"], v, line) if "field" in c else c.get("value", "") for c in columns])
    for index, column in enumerate(columns, 1):
        if column.get("field") in ("debit", "credit", "amount"):
            for (cell,) in sheet.iter_rows(min_row=spec.get("header_rows", 1) + 1, min_col=index, max_col=index):
                cell.number_format = "0.00"
    out = io.BytesIO()
    book.save(out)
    if views:
        with write_transaction():
            Voucher.update(exported_at=utcnow()).where(Voucher.id.in_([v["id"] for v in views])).execute()
    return out.getvalue(), len(views)
