"""The office's stock control pages: ``/forecast`` (each SKU's class, accuracy and reorder numbers,
a chart of one SKU's actual demand against its forecast), ``/stock-alerts`` and
``/purchase-plan`` (the suggestions, and a button that writes them as draft purchase orders).
The pages' own words are in ``WORDS`` (English, 中文); docs/forecast.md explains each number.
"""
from __future__ import annotations

from flask import current_app, render_template, request

from server.guard import current_principal, requires
from server.messages import text
from server.models import Product, Warehouse
from server.models.stockcontrol import ALERT_KINDS, SB_CLASSES
from server.services.errors import DomainError
from server.services.forecast import alerts, plan, series
from server.services.forecast.settings import Settings
from server.services.stock import desk as stockdesk
from server.web import select_locale, web

WORDS = {
    "forecast": ("Demand forecast", "需求预测"), "alerts": ("Stock alerts", "库存预警"),
    "plan": ("Purchase plan", "采购计划"),
    "sku": ("SKU", "商品编码"), "name": ("Item", "商品"), "warehouse": ("Warehouse", "仓库"),
    "sb_class": ("Class", "需求类型"), "adi": ("ADI", "ADI"), "cv2": ("CV²", "CV²"), "method": ("Method", "方法"),
    "mase": ("MASE", "MASE"), "bias": ("Bias", "偏差"), "per_day": ("Forecast a day", "日均预测"),
    "skus": ("SKUs", "商品数"), "reorder_point": ("Reorder point", "再订货点"),
    "safety_stock": ("Safety stock", "安全库存"), "lead_time": ("Lead time", "交期"),
    "position": ("Stock position", "库存位置"), "cover": ("Days of cover", "可售天数"),
    "order_qty": ("Order", "建议采购"), "reason": ("Note", "说明"), "all_classes": ("All classes", "全部类型"),
    "all_warehouses": ("All warehouses", "全部仓库"), "filter": ("Filter", "筛选"),
    "by_class": ("Accuracy by class (28-day holdout)", "各类型预测准确度（最近 28 天留出验证）"),
    "chart_title": ("{sku} in {warehouse}: actual demand against the forecast", "{sku}（{warehouse}）：实际需求与预测"),
    "actual": ("Actual", "实际"), "holdout": ("Forecast of the held-out days", "留出期预测"),
    "ahead": ("Forecast ahead", "未来预测"), "promotion": ("Promotion day", "大促日"),
    "no_forecasts": ("No forecasts yet: run", "还没有预测，请运行"),
    "explain": ("What these numbers mean: docs/forecast.md. MASE below 1 beats “tomorrow sells what today sold”; "
                "bias above 0 forecasts too much.",
                "各数字含义见 docs/forecast.md。MASE 小于 1 表示优于“明天卖得和今天一样”的朴素预测；偏差大于 0 表示预测偏高。"),
    "show_chart": ("chart", "图表"), "n_more": ("… {n} more rows: GET /api/v1/forecasts", "……另有 {n} 行：GET /api/v1/forecasts"),
    "units_day": ("{n}/day", "{n}/天"), "days": ("{n} days", "{n} 天"),
    # alerts
    "kind": ("Alert", "预警"), "raised_on": ("Raised", "日期"), "detail": ("What was found", "详情"),
    "no_alerts": ("No open alerts.", "没有未处理的预警。"), "all_kinds": ("All alerts", "全部预警"),
    # the plan
    "supplier": ("Supplier", "供应商"), "moq": ("MOQ", "起订量"), "pack": ("Pack", "箱规"),
    "unit_cost": ("Unit cost", "单价"), "amount": ("Amount", "金额"), "create": ("Create draft purchase orders",
                                                                            "生成采购单草稿"),
    "create_hint": ("One draft per supplier and warehouse, for approval on the purchase order page.",
                    "每个供应商、每个仓库生成一张草稿，在采购单页面提交审批。"),
    "nothing_to_order": ("Nothing to order: every SKU is above its reorder point (or has no forecast yet).",
                         "无需采购：所有商品都高于再订货点（或尚无预测）。"),
    "created": ("Draft purchase orders created:", "已生成采购单草稿："), "none_created": ("No draft was needed.",
                                                                               "没有需要生成的草稿。"),
    "blocked_no_supplier": ("no supplier sells it", "没有供应商"),
    "blocked_on_open_order": ("already on a draft or submitted order", "已在草稿或待审批采购单中"),
}
CLASS_WORDS = {"smooth": ("smooth", "平稳型"), "erratic": ("erratic", "波动型"),
               "intermittent": ("intermittent", "间歇型"), "lumpy": ("lumpy", "块状型")}
KIND_WORDS = {"stockout_risk": ("Stock-out risk", "断货风险"), "overstock": ("Overstock", "库存积压"),
              "slow_mover": ("Slow mover", "滞销"), "demand_drop": ("Demand drop", "需求下降")}
REASON_WORDS = {
    "no_history": ("no sales: no forecast", "无销售记录：不做预测"),
    "one_sale": ("one sale ever: a flat forecast", "仅一次销售：按平均值平推"),
    "promotion_sales_only": ("sold only on promotion days: forecast 0", "只在大促日有销售：预测为 0"),
    "short_history": ("under 56 days of sales: a flat forecast", "销售不足 56 天：按平均值平推"),
    "negative_demand_ignored": ("returns booked as negative lines were left out", "负数（退货）已剔除"),
    "model_failed": ("the method could not fit: a flat forecast", "模型无法拟合：按平均值平推"),
}
ALERT_SENTENCES = {
    "stockout_risk": ("Lasts {cover_days} days at {per_day}/day; the supplier needs {lead_time_days} days.",
                      "按每天 {per_day} 件只够 {cover_days} 天，供应商交期 {lead_time_days} 天。"),
    "overstock": ("Lasts {cover_days} days at {per_day}/day, more than {limit_days}.",
                  "按每天 {per_day} 件可售 {cover_days} 天，超过 {limit_days} 天。"),
    "slow_mover": ("{on_hand} on hand and no sale in {days_without_sale} days.",
                   "库存 {on_hand} 件，{days_without_sale} 天无销售。"),
    "demand_drop": ("Demand falls {drop_pct} % ({recent_per_day} → {per_day}/day, seen by {source}); "
                    "the stock lasts {cover_days} days.",
                    "需求将下降 {drop_pct}%（每天 {recent_per_day} → {per_day} 件，依据：{source}），现有库存可售 {cover_days} 天。"),
}
SOURCE_WORDS = {"forecast": ("the forecast", "预测"), "last_year": ("last year's same weeks", "去年同期")}
SHOWN = 300


def _pick() -> int:
    return 0 if select_locale() == "en" else 1


def words() -> dict:
    pick = _pick()
    table = {key: pair[pick] for key, pair in WORDS.items()}
    for name, source in (("classes", CLASS_WORDS), ("kinds", KIND_WORDS), ("reasons", REASON_WORDS)):
        table[name] = {key: pair[pick] for key, pair in source.items()}
    return table


def _settings() -> Settings:
    return Settings.of(current_app.config["WF"])


def _warehouses() -> list[str]:
    return [code for (code,) in Warehouse.select(Warehouse.code).order_by(Warehouse.code).tuples()]


def _arg(name: str, allowed=None) -> str | None:
    value = (request.args.get(name) or "").strip()[:64] or None
    return value if value is None or allowed is None or value in allowed else None


@web.get("/forecast")
@requires("stock.read")
def forecast_page():
    warehouse, sb_class = _arg("warehouse", _warehouses()), _arg("class", SB_CLASSES)
    rows = plan.overview(_settings(), warehouse=warehouse)
    if sb_class:
        rows = [r for r in rows if r["sb_class"] == sb_class]
    chosen = _chosen(rows, _arg("sku"), _arg("chart_warehouse"))
    chart = None
    if chosen is not None:
        # statsforecast takes a second to import: loaded by the first chart, not with the server
        from server.services.forecast import run
        product = Product.get(Product.sku == chosen["sku"])
        data = run.chart(product.id, Warehouse.get(Warehouse.code == chosen["warehouse"]).id, _settings())
        w = words()
        chart = dict(data, title=w["chart_title"].format(sku=chosen["sku"], warehouse=chosen["warehouse"]),
                     labels={"actual": w["actual"], "holdout": w["holdout"], "ahead": w["ahead"],
                             "promotion": w["promotion"]})
    return render_template("forecast.html", w=words(), rows=rows[:SHOWN], more=max(0, len(rows) - SHOWN),
                           classes=series.class_summary(rows), class_names=SB_CLASSES, chart=chart, chosen=chosen,
                           warehouse=warehouse, sb_class=sb_class, warehouses=_warehouses())


def _chosen(rows: list[dict], sku: str | None, warehouse: str | None) -> dict | None:
    """The SKU the chart shows: the one asked for, else the first with a method's forecast."""
    for row in rows:
        if sku and row["sku"] == sku and (warehouse is None or row["warehouse"] == warehouse):
            return row
    return next((row for row in rows if row["method"] and row["method"] != "flat"), rows[0] if rows else None)


@web.get("/stock-alerts")
@requires("stock.read")
def stock_alerts_page():
    kind, warehouse = _arg("kind", ALERT_KINDS), _arg("warehouse", _warehouses())
    pick = _pick()
    found = alerts.listing("open", kind, warehouse, limit=1000)
    for alert in found:
        values = dict(alert["detail"])
        if "source" in values:
            values["source"] = SOURCE_WORDS.get(values["source"], (values["source"],) * 2)[pick]
        values = {k: ("—" if v is None else v) for k, v in values.items()}
        try:
            alert["sentence"] = ALERT_SENTENCES[alert["kind"]][pick].format(**values)
        except (KeyError, IndexError):
            alert["sentence"] = ", ".join(f"{k} {v}" for k, v in values.items())
    return render_template("stock_alerts.html", w=words(), alerts=found, kind=kind, kinds=ALERT_KINDS,
                           warehouse=warehouse, warehouses=_warehouses())


def _plan_page(created=None, error: str | None = None, status: int = 200):
    warehouse = _arg("warehouse", _warehouses())
    rows = plan.suggestions(_settings(), warehouse=warehouse)
    groups: dict[str, list[dict]] = {}
    for row in sorted(rows, key=lambda r: (r["supplier"] or "~", r["warehouse"], r["sku"])):
        groups.setdefault(row["supplier"] or "", []).append(row)
    return render_template("purchase_plan.html", w=words(), groups=groups, warehouse=warehouse,
                           warehouses=_warehouses(), created=created, error=error,
                           can_create=current_principal().can("purchasing.write")), status


@web.get("/purchase-plan")
@requires("purchasing.read")
def purchase_plan_page():
    return _plan_page()


@web.post("/purchase-plan")
@requires("purchasing.write")
def purchase_plan_create():
    try:
        created = plan.create_drafts(stockdesk.actor_of(current_principal()), _settings(),
                                     warehouse=_arg("warehouse", _warehouses()))
    except DomainError as exc:
        return _plan_page(error=text(exc.code, select_locale()), status=exc.http_status)
    return _plan_page(created=created)
