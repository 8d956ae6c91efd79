"""Parse 100,000 Tmall export item lines (orders + items CSV, GBK) and print JSON.

The baseline is a plain csv.reader pass over the same two files in the same run, so the ratio
says what the adapter costs on top of reading the CSV at all.

    .venv/bin/python tests/bench/bench_parse_tmall.py [--lines 100000]
"""
import argparse
import csv
import io
import json
import os
import platform
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from server.channels import get_adapter  # noqa: E402

ORDER_HEADER = ("订单编号,买家会员名,买家支付宝账号,买家应付货款,买家应付邮费,买家支付积分,总金额,返点积分,"
                "买家实际支付金额,买家实际支付积分,订单状态,买家留言,收货人姓名,收货地址,运送方式,联系电话,"
                "联系手机,订单创建时间,订单付款时间,宝贝标题,宝贝种类,物流单号,物流公司,订单备注,宝贝总数量,"
                "店铺Id,店铺名称,订单关闭原因,卖家服务费,买家服务费,发票抬头,是否手机订单,分阶段订单信息,"
                "特权订金订单id,定金排名,修改后的sku,修改后的收货地址,异常信息,天猫卡券抵扣,集分宝抵扣,是否是O2O交易")
ITEM_HEADER = ("子订单编号,主订单编号,标题,价格,购买数量,外部系统编号,商品属性,套餐信息,备注,订单状态,商家编码,"
               "支付单号,买家应付货款,买家实际支付金额,退款状态,退款金额,订单创建时间,订单付款时间,商品id,"
               "分阶段订单信息,主订单备注,主订单买家留言,发货时间,物流单号,物流公司,是否赔付,赔付金额,赔付出账时间")
PRODUCTS = [("TS-01-L", "纯棉短袖T恤", 5900), ("JK-01-M", "防风夹克", 19900),
            ("SK-01-均码", "运动袜三双装", 1990), ("MG-01-350ML", "陶瓷马克杯", 3900),
            ("PB-01-标准版", "充电宝20000mAh", 12900), ("LP-01-3.5g", "保湿唇膏", 3500)]
PLACES = ["浙江省 杭州市 西湖区", "北京 北京市 朝阳区", "广东省 东莞市", "上海 上海市 浦东新区",
          "四川省 成都市 武侯区", "新疆维吾尔自治区 乌鲁木齐市 天山区"]
STATUSES = ["买家已付款，等待卖家发货"] * 8 + ["交易关闭", "等待买家付款"]


def yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def generate(directory, item_lines, seed=11):
    rng = random.Random(seed)
    orders, items = [ORDER_HEADER], [ITEM_HEADER]
    order_no, written = 5000000000000000000, 0
    while written < item_lines:
        order_no += 1
        n_lines = min(rng.choice((1, 1, 1, 2, 2, 3, 4)), item_lines - written)
        goods = units = 0
        status = rng.choice(STATUSES)
        for k in range(n_lines):
            sku, title, price = rng.choice(PRODUCTS)
            qty = rng.choice((1, 1, 2, 3))
            goods += price * qty
            units += qty
            refund = "退款成功" if status == "交易关闭" else "没有申请退款"
            items.append(",".join([
                f'"=""{order_no}{k:02d}"""', str(order_no), title, yuan(price), str(qty), "",
                "颜色分类:黑色;尺码:L", "", "", status, sku, "2026111100000001",
                yuan(price * qty), yuan(price * qty), refund, "0.00", "2026-11-11 00:00:05",
                "2026-11-11 00:00:30", "600304230568", "", "", "", "", "", "", "否", "", ""]))
        written += n_lines
        post = rng.choice((0, 0, 800))
        coupon = rng.choice((0, 0, 500, 1000)) if goods > 1000 else 0
        address = f"{rng.choice(PLACES)} 科技园路{rng.randint(1, 999)}号{rng.randint(1, 30)}栋" \
                  f"({rng.randint(100000, 999999)})"
        message = '"请发顺丰,谢谢"' if rng.random() < 0.05 else ""
        orders.append(",".join([
            f'"=""{order_no}"""', f"tb{rng.randint(10**7, 10**8)}", "**", yuan(goods), yuan(post),
            "0", yuan(goods + post), "0", yuan(goods + post - coupon), "0", status, message,
            "林娟", address, "快递", "", f"'1{rng.randint(10**9, 10**10 - 1)}",
            "2026-11-11 00:00:05", "2026-11-11 00:00:30", "宝贝", str(n_lines), "", "", "",
            str(units), "100200300", "示例旗舰店", "", "", "", "", "手机订单", "", "", "", "", "", "",
            yuan(coupon), "0.00", ""]))
    orders_path = os.path.join(directory, "orders.csv")
    items_path = os.path.join(directory, "items.csv")
    for path, rows in ((orders_path, orders), (items_path, items)):
        with open(path, "wb") as handle:
            handle.write(("\r\n".join(rows) + "\r\n").encode("gbk"))
    return orders_path, items_path, len(orders) - 1


def baseline(paths):
    rows = 0
    for path in paths:
        with open(path, "rb") as handle:
            text = handle.read().decode("gbk")
        for _ in csv.reader(io.StringIO(text, newline="")):
            rows += 1
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        orders_path, items_path, order_count = generate(directory, args.lines)
        started = time.perf_counter()
        baseline([orders_path, items_path])
        baseline_seconds = time.perf_counter() - started
        adapter = get_adapter("tmall_csv")
        started = time.perf_counter()
        result = adapter.parse([orders_path, items_path])
        seconds = time.perf_counter() - started
    lines = sum(len(order.lines) for order in result.orders)
    print(json.dumps({
        "benchmark": "parse_tmall",
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count()},
        "lines": lines,
        "orders": len(result.orders),
        "orders_in_file": order_count,
        "problems": len(result.problems),
        "seconds": round(seconds, 3),
        "lines_per_s": round(lines / seconds),
        "baseline": {"what": "csv.reader over the same GBK files", "seconds":
                     round(baseline_seconds, 3)},
        "ratio": round(seconds / baseline_seconds, 2),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
