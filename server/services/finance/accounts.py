"""The account mapping (科目对照): which of the merchant's subject codes (科目编码) each voucher
line goes to. The defaults follow the chart of accounts of 企业会计准则 (2007); a merchant sets its
own codes once (for every shop, or for one shop) and the vouchers use them from then on."""
from __future__ import annotations

import re

from server.db import write_transaction
from server.models.finance import AccountMapping
from server.services.errors import DomainError

# key -> (default code, default name, what goes there)
DEFAULT_ACCOUNTS = {
    "platform_receivable": ("1122.01", "应收账款-平台待结算", "what the platform owes for the day's sales, less its fees"),
    "subsidy_receivable": ("1122.02", "应收账款-平台补贴", "platform subsidies (天猫红包/卡券, 集分宝) the platform pays"),
    "revenue": ("6001.01", "主营业务收入-商品销售", "sales net of VAT"),
    "subsidy_revenue": ("6001.02", "主营业务收入-平台补贴", "platform subsidies net of VAT: income to declare"),
    "freight_income": ("6051.01", "其他业务收入-运费", "postage the buyers paid"),
    "output_vat": ("2221.01.02", "应交税费-应交增值税(销项税额)", "VAT on sales and subsidies"),
    "cogs": ("6401", "主营业务成本", "cost of the goods shipped"),
    "inventory": ("1405", "库存商品", "goods at cost"),
    "commission": ("6601.01", "销售费用-平台佣金", "platform commission (佣金/技术服务费)"),
    "payment_fee": ("6603.01", "财务费用-支付手续费", "payment fees (支付宝/微信/花呗)"),
    "freight_out": ("6601.02", "销售费用-快递费", "what the carriers charge"),
    "carrier_payable": ("2202.02", "应付账款-快递公司", "owed to the carriers"),
    "supplier_payable": ("2202.01", "应付账款-供应商", "owed to the suppliers for goods received"),
}
MEANINGS_ZH = {
    "platform_receivable": "平台应付给商家的当日销售款（扣除平台费用）", "subsidy_receivable": "平台承担的补贴（天猫红包/卡券、集分宝）",
    "revenue": "不含税销售收入", "subsidy_revenue": "不含税平台补贴收入：须申报", "freight_income": "买家支付的运费",
    "output_vat": "销售和补贴的销项税额", "cogs": "已发货商品的成本", "inventory": "库存商品成本",
    "commission": "平台佣金（技术服务费）", "payment_fee": "支付手续费（支付宝/微信/花呗）", "freight_out": "快递公司收取的运费",
    "carrier_payable": "应付快递公司款", "supplier_payable": "已收货应付供应商款",
}
_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-_]{0,31}$")


class BadAccount(DomainError):
    code = "bad_account"


def mapping(shop: str = "") -> dict[str, tuple[str, str]]:
    """key -> (code, name) for a shop: its own rows, else the rows for every shop, else the defaults."""
    found = {key: (code, name) for key, (code, name, _) in DEFAULT_ACCOUNTS.items()}
    rows = list(AccountMapping.select().where(AccountMapping.shop.in_(["", shop])))
    for row in sorted(rows, key=lambda r: r.shop != ""):  # the shop's own rows last: they win
        if row.key in found:
            found[row.key] = (row.code, row.name or found[row.key][1])
    return found


def listing(shop: str = "") -> list[dict]:
    own = {(r.key, r.shop) for r in AccountMapping.select()}
    current = mapping(shop)
    return [{"key": key, "code": current[key][0], "name": current[key][1], "meaning": meaning,
             "meaning_zh": MEANINGS_ZH[key],
             "default_code": code, "set": (key, shop) in own or (key, "") in own}
            for key, (code, _, meaning) in DEFAULT_ACCOUNTS.items()]


def set_account(key: str, code: str, name: str = "", shop: str = "") -> dict:
    if key not in DEFAULT_ACCOUNTS:
        raise BadAccount(f"no account {key!r}; known: {', '.join(DEFAULT_ACCOUNTS)}", key=key)
    code = (code or "").strip()
    if not _CODE.match(code):
        raise BadAccount(f"{key}: {code!r} is not a subject code (digits, letters, '.', '-', at most 32)", key=key)
    name = (name or "").strip()[:100] or DEFAULT_ACCOUNTS[key][1]
    with write_transaction():
        row = AccountMapping.get_or_none(AccountMapping.key == key, AccountMapping.shop == shop)
        if row is None:
            AccountMapping.create(key=key, shop=shop, code=code, name=name)
        else:
            AccountMapping.update(code=code, name=name).where(AccountMapping.id == row.id).execute()
    return {"key": key, "shop": shop, "code": code, "name": name}
