"""Label rendering and send latency benchmark: ``python tests/bench/bench_labels.py``.

Prints one JSON object: the machine, shipping labels rendered per second in font and raster
mode (every label with a different receiver, so raster mode draws new glyph runs), a baseline
measured in the same run (one str.format of a minimal label per "label") and the ratio, and
the p50/p99 latency of sending a label to the TCP 9100 emulator on 127.0.0.1.
"""

import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from printers.emulator import PrinterEmulator  # noqa: E402
from printers.labels import TEMPLATES, shipping_demo  # noqa: E402
from printers.transport import TcpTransport  # noqa: E402

TARGET_LABELS_PER_S = 2000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕"
STREETS = ["科技园南区高新南一道", "天河路", "中山东一路", "建国门外大街", "文一西路", "人民南路", "解放大道", "长江路"]
CITIES = [("广东省", "深圳市", "南山区"), ("广东省", "广州市", "天河区"), ("上海市", "上海市", "黄浦区"),
          ("北京市", "北京市", "朝阳区"), ("浙江省", "杭州市", "余杭区"), ("四川省", "成都市", "武侯区")]


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def orders(count: int, seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    base = shipping_demo()
    result = []
    for number in range(count):
        province, city, district = rng.choice(CITIES)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        data = dict(base)
        data["tracking_number"] = f"SF{1402375886421 + number}"
        data["order_number"] = f"TM2024061{number:07d}"
        data["receiver"] = {
            "name": name, "phone": f"13{rng.randint(100000000, 999999999)}",
            "province": province, "city": city, "district": district,
            "address": f"{rng.choice(STREETS)}{rng.randint(1, 999)}号{rng.randint(1, 30)}栋{rng.randint(101, 2999)}",
        }
        data["items"] = [{"sku": f"SKU-{rng.randint(1000, 9999)}", "qty": rng.randint(1, 3)}
                         for _ in range(rng.randint(1, 3))]
        result.append(data)
    return result


def rate(build, items, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            build(item)
        best = min(best, time.perf_counter() - start)
    return len(items) / best


def baseline_label(item) -> str:
    return "^XA^FO50,50^A0N,40,0^FD{}^FS^FO50,120^BCN,100,Y,N,N^FD{}^FS^XZ".format(
        item["order_number"], item["tracking_number"])


def percentiles(latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    return {"p50_ms": round(statistics.median(latencies) * 1000, 3),
            "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 3)}


def send_latency(samples: int = 300) -> dict:
    """Two numbers: the send alone (bytes handed to the kernel on a kept-open connection), and
    the send followed by ~HS, whose reply proves the printer has parsed the label."""
    template = TEMPLATES["shipping"]
    result = {"samples": samples}
    for mode in ("font", "raster"):
        zpl = template.build(shipping_demo(), template.profile(cjk=mode)).encode("utf-8")
        with tempfile.TemporaryDirectory() as directory:
            with PrinterEmulator("127.0.0.1", 0, directory) as emulator:
                send_only, confirmed = [], []
                with TcpTransport("127.0.0.1", emulator.port) as transport:
                    for _ in range(samples):
                        start = time.perf_counter()
                        transport.send(zpl)
                        sent = time.perf_counter()
                        frames = transport.query("~HS", frames=3)
                        done = time.perf_counter()
                        assert len(frames) == 3
                        send_only.append(sent - start)
                        confirmed.append(done - start)
                emulator.wait_for_printed(samples, timeout=30)
                printed = len(emulator.printed)
        result[f"{mode}_mode"] = {
            "label_bytes": len(zpl), "printed": printed,
            "send_only": percentiles(send_only),
            "send_then_hs_reply": percentiles(confirmed),
        }
    return result


def main() -> None:
    template = TEMPLATES["shipping"]
    items = orders(3000)
    font_profile = template.profile(cjk="font")
    raster_profile = template.profile(cjk="raster")

    baseline = rate(baseline_label, items)
    font_rate = rate(lambda item: template.build(item, font_profile), items)
    # raster: first pass over fresh receivers (glyphs cached, runs new), then a warm pass
    raster_items = orders(1000, seed=23)
    start = time.perf_counter()
    for item in raster_items:
        template.build(item, raster_profile)
    raster_cold = len(raster_items) / (time.perf_counter() - start)
    raster_new_receivers = rate(lambda item: template.build(item, raster_profile), orders(1000, seed=29), repeat=1)
    raster_warm = rate(lambda item: template.build(item, raster_profile), raster_items)

    result = {
        "benchmark": "labels",
        "machine": machine(),
        "baseline": {"what": "str.format of a minimal 2-field label", "labels_per_s": round(baseline)},
        "shipping_font_mode": {"labels_per_s": round(font_rate), "ratio_to_baseline": round(font_rate / baseline, 4),
                               "target_labels_per_s": TARGET_LABELS_PER_S,
                               "meets_target": font_rate >= TARGET_LABELS_PER_S},
        "shipping_raster_mode": {
            "labels_per_s_first_pass": round(raster_cold),
            "labels_per_s_new_receivers_warm_glyphs": round(raster_new_receivers),
            "labels_per_s_repeated_labels": round(raster_warm),
            "ratio_to_baseline_new_receivers": round(raster_new_receivers / baseline, 4),
        },
        "send_to_emulator_tcp_9100": send_latency(),
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
