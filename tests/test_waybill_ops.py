"""Carrier waybills (电子面单) as people use them, on both engines: a carrier's account set through
the API, the office page and the command line with SF's checkword sealed and never shown; a
number pool uploaded with its problems named file:line; a wave's numbers fetched before picking
(打单) from the fake Cainiao and SF services with each failure's reason; the control room's list
of waves still waiting; an order's waybill; and an order the office cancels giving its number
back to the carrier through the outbox, in the cancel's own transaction."""
from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys

from server import jsontext
from server.models import AuditLog, CarrierAccount, ChannelCall, Order, Wave, Waybill
from server.services.connectors import credentials, outbox
from server.services.packages import waybills
from tests.conftest import ROOT
from tests.test_purchasing_pages import login
from tests.test_waybills import (cainiao_account, fake_sf, fake_top, make_orders, make_wave,  # noqa: F401
                                 sf_account, site)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def api(client, token, method, url, status=200, **kwargs):
    answer = client.open(url, method=method, headers=bearer(token), **kwargs)
    assert answer.status_code == status, (method, url, answer.status_code, answer.get_data(as_text=True)[:800])
    return answer.get_json()


def carrier_row(body: dict, code: str) -> dict:
    return next(row for row in body["carriers"] if row["carrier"] == code)


# --- the API -----------------------------------------------------------------------------------------

def test_an_sf_account_set_through_the_api_keeps_its_checkword_sealed_and_unshown(client, token_for, site,
                                                                                   fake_sf):  # noqa: F811
    office = token_for("office")
    body = {"source": "sf", "endpoint": fake_sf.url, "partner": fake_sf.partner_id, "secret": fake_sf.checkword,
            "account": "7551234567"}
    shown = api(client, office, "PUT", "/api/v1/carriers/sf/account", json=body)
    assert (shown["carrier"], shown["source"], shown["secret_set"], shown["problem"]) == ("SF", "sf", True, "")
    assert "secret" not in shown and fake_sf.checkword not in json.dumps(shown)
    stored = CarrierAccount.get(CarrierAccount.carrier == "SF")
    assert stored.secret.startswith("v1:") and credentials.unseal(stored.secret) == fake_sf.checkword

    # changed without a checkword: the stored one stays
    api(client, office, "PUT", "/api/v1/carriers/SF/account", json={**body, "secret": "", "account": "7550000000"})
    stored = CarrierAccount.get(CarrierAccount.carrier == "SF")
    assert stored.account == "7550000000" and credentials.unseal(stored.secret) == fake_sf.checkword
    listed = api(client, office, "GET", "/api/v1/carriers")
    assert carrier_row(listed, "SF")["source"] == "sf" and carrier_row(listed, "ZTO")["source"] == "local"
    assert fake_sf.checkword not in json.dumps(listed) and stored.secret not in json.dumps(listed)
    assert api(client, office, "GET", "/api/v1/carriers/SF/account")["partner"] == fake_sf.partner_id
    assert not any(fake_sf.checkword in (a.detail or "") for a in AuditLog.select())

    # refusals name the field
    refused = api(client, office, "PUT", "/api/v1/carriers/SF/account", 400, json={**body, "partner": ""})
    assert refused["code"] == "bad_carrier_account" and refused["params"]["field"] == "partner"
    refused = api(client, office, "PUT", "/api/v1/carriers/ZTO/account", 400, json={"source": "cainiao", "shop": "NO"})
    assert refused["params"]["field"] == "shop"
    refused = api(client, office, "PUT", "/api/v1/carriers/YTO/account", 400, json={"source": "sf",
                                                                                  "endpoint": fake_sf.url,
                                                                                  "partner": "P", "account": "1"})
    assert refused["params"]["field"] == "secret"
    assert api(client, office, "PUT", "/api/v1/carriers/ZTO/account", 422, json={"source": "mail"})["code"]
    # a supervisor may fetch a wave's numbers but not set accounts
    api(client, token_for("supervisor"), "PUT", "/api/v1/carriers/SF/account", 403, json=body)

    # 打单: the wave's numbers from the fake SF service, each order's on its waybill
    orders = make_orders(site, 3, "SF")
    make_wave(site, orders, code="W-SF")
    report = api(client, token_for("supervisor"), "POST", "/api/v1/waves/W-SF/waybills")
    assert (report["wave"], report["asked"], report["assigned"], report["failed"]) == ("W-SF", 3, 3, 0)
    held = api(client, office, "GET", f"/api/v1/orders/{orders[0].id}/waybill")
    assert held["waybill"]["number"] == fake_sf.orders[str(orders[0].id)]["number"]
    assert (held["source"], held["waybill"]["state"], held["waybill"]["sort_code"]) == ("sf", "assigned", "755W-南山-01")
    assert [e["action"] for e in held["history"]] == ["waybill_assigned"]
    api(client, office, "GET", "/api/v1/orders/999999/waybill", 404)

    # removed: the carrier's numbers are made here again
    assert api(client, office, "PUT", "/api/v1/carriers/SF/account", json={"source": "local"})["source"] == "local"
    assert waybills.source_of("SF") == "local"


def test_a_pool_upload_imports_the_good_lines_and_names_the_bad_ones(client, token_for, site):  # noqa: F811
    office = token_for("office")
    api(client, office, "PUT", "/api/v1/carriers/YTO/account", json={"source": "pool"})
    pool = "# YTO 号段 2026-12\nYT0000000001,YT0000000010\nYT0000000003\nbad number\nYT0000000020\n"
    report = api(client, office, "POST", "/api/v1/carriers/YTO/pool?name=yto-12.txt", data=pool.encode("gbk"),
                 content_type="text/plain")
    assert (report["added"], report["duplicates"], report["counts"]["free"]) == (11, 0, 11)
    assert report["problems"] == ["yto-12.txt:3: YT0000000003 is also on line 2",
                                  "yto-12.txt:4: 'bad number' is not a waybill number (6 to 40 letters and digits)"]
    again = api(client, office, "POST", "/api/v1/carriers/yto/pool?name=../../etc/yto.txt", data=b"YT0000000001\n")
    assert (again["added"], again["duplicates"], again["problems"]) == (0, 1, [])
    row = carrier_row(api(client, office, "GET", "/api/v1/carriers"), "YTO")
    assert row["counts"] == {"free": 11, "assigned": 0, "cancelled": 0} and row["problem"] == ""

    # a pool wave: numbers taken in pool order, the twelfth order gets none and the reason
    orders = make_orders(site, 12, "YTO")
    make_wave(site, orders, code="W-YTO")
    report = api(client, token_for("supervisor"), "POST", f"/api/v1/waves/{Wave.get().id}/waybills")
    assert (report["assigned"], report["failed"]) == (11, 1)
    assert report["failures"][0]["error"] == "pool_empty" and report["failures"][0]["order_id"] == orders[11].id
    row = carrier_row(api(client, office, "GET", "/api/v1/carriers"), "YTO")
    assert row["counts"]["free"] == 0 and row["problem"] == "waybill_pool_empty"
    assert "no free YTO" in api(client, office, "GET", f"/api/v1/orders/{orders[11].id}/waybill")["last_failure"]


def test_a_wave_fetch_reports_each_failure_and_the_control_room_sees_what_waits(client, token_for, site,
                                                                              fake_top):  # noqa: F811
    fake = cainiao_account(site, fake_top)
    supervisor = token_for("supervisor")
    orders = make_orders(site, 12, "ZTO", names={4: "李四"})
    wave = make_wave(site, orders, code="W-ZTO")
    make_wave(site, make_orders(site, 2, "DEPPON", start=100), code="W-LOCAL")  # no account: nothing waits
    assert api(client, supervisor, "GET", "/api/v1/waybills/waves")["waves"] == [
        {"wave_id": wave.id, "code": "W-ZTO", "status": "released", "waiting": 12}]
    fake.refuse_receivers.add("李四")

    report = api(client, supervisor, "POST", f"/api/v1/waves/{wave.id}/waybills")
    assert (report["asked"], report["assigned"], report["skipped"], report["failed"]) == (12, 11, 0, 1)
    assert report["failures"][0]["order"] == orders[4].external_id and "收件地址不可达" in report["failures"][0]["reason"]
    assert api(client, supervisor, "GET", "/api/v1/waybills/waves")["waves"][0]["waiting"] == 1
    failed = api(client, supervisor, "GET", f"/api/v1/orders/{orders[4].id}/waybill")
    assert failed["waybill"] is None and "收件地址不可达" in failed["last_failure"]

    fake.refuse_receivers.clear()
    again = api(client, supervisor, "POST", "/api/v1/waves/W-ZTO/waybills")
    assert (again["assigned"], again["skipped"], again["failed"]) == (1, 11, 0)
    assert api(client, supervisor, "GET", "/api/v1/waybills/waves")["waves"] == []
    held = api(client, supervisor, "GET", f"/api/v1/orders/{orders[4].id}/waybill")
    assert held["last_failure"] == "" and held["waybill"]["number"] in fake.numbers()
    api(client, supervisor, "POST", "/api/v1/waves/NO-SUCH/waybills", 404)
    api(client, token_for("office"), "POST", f"/api/v1/waves/{wave.id}/waybills", 403)


# --- cancelling an order -------------------------------------------------------------------------------

def test_an_order_the_office_cancels_gives_its_number_back_through_the_outbox(client, token_for, site,
                                                                              fake_sf, tmp_path, monkeypatch):  # noqa: F811
    sf_account(fake_sf)
    office = token_for("office")
    sf_order, second = make_orders(site, 2, "SF")
    waybills.fetch([sf_order, second])
    number = waybills.assigned(sf_order.id).number

    api(client, office, "POST", f"/api/v1/orders/{sf_order.id}/cancel", json={"reason": "客户取消"})
    assert Order.get_by_id(sf_order.id).status == "cancelled"
    voided = Waybill.get(Waybill.number == number)
    assert voided.state == "cancelled" and voided.cancelled_at is not None
    call = ChannelCall.get(ChannelCall.kind == "waybill_cancel")
    assert (call.shop_id, call.order_id, call.state, call.subject) == (site["shop"].id, sf_order.id, "pending", number)
    assert jsontext.loads(call.payload) == {"carrier": "SF", "number": number, "source": "sf",
                                            "order_ref": str(sf_order.id)}
    assert fake_sf.orders[str(sf_order.id)]["state"] != "cancelled"   # sent by the outbox worker, not here
    assert waybills.send_cancel(jsontext.loads(call.payload)) == "sent"
    assert fake_sf.orders[str(sf_order.id)]["state"] == "cancelled"

    # the outbox refusing the call leaves the order as it was: one transaction
    def refused(*args, **kwargs):
        raise RuntimeError("outbox down")
    monkeypatch.setattr(outbox, "enqueue", refused)
    answer = client.post(f"/api/v1/orders/{second.id}/cancel", json={"reason": "x"}, headers=bearer(office))
    assert answer.status_code == 500
    monkeypatch.undo()
    assert Order.get_by_id(second.id).status == "waved" and waybills.assigned(second.id) is not None

    # a pool number is voided for good, nothing to send; an order without a number cancels as before
    CarrierAccount.create(carrier="YTO", source="pool")
    (tmp_path / "p.txt").write_text("YT0000000001,YT0000000002\n", encoding="utf-8")
    waybills.import_pool("YTO", tmp_path / "p.txt", site["actor"])
    pool_order, bare = make_orders(site, 2, "YTO", start=50)
    waybills.fetch([pool_order])
    api(client, office, "POST", f"/api/v1/orders/{pool_order.id}/cancel", json={"reason": "客户取消"})
    api(client, office, "POST", f"/api/v1/orders/{bare.id}/cancel", json={"reason": "客户取消"})
    assert waybills.pool_counts("YTO") == {"free": 1, "assigned": 0, "cancelled": 1}
    assert ChannelCall.select().where(ChannelCall.kind == "waybill_cancel").count() == 1
    assert Order.get_by_id(bare.id).status == "cancelled"
    shown = api(client, office, "GET", f"/api/v1/orders/{pool_order.id}/waybill")
    assert shown["waybill"] is None and shown["cancelled"] == ["YT0000000001"]


# --- the office page --------------------------------------------------------------------------------------

def page(client, path="/carriers", status=200, **kwargs):
    answer = client.open(path, **kwargs)
    assert answer.status_code == status, (path, answer.status_code, answer.data.decode()[:800])
    shown = html.unescape(answer.data.decode())
    words = re.sub(r"<(style|script)[^>]*>.*?</\1>", "", shown, flags=re.S)
    assert ">None<" not in words and "{" not in words  # no template left raw
    return shown


def row_of(shown: str, carrier: str) -> str:
    found = re.search(rf'<tr data-carrier="{carrier}".*?</tr>', shown, flags=re.S)
    assert found, carrier
    return found[0]


def test_the_office_sets_accounts_and_imports_a_pool_from_the_page(client, site, fake_sf):  # noqa: F811
    login(client, "office")
    assert 'href="/carriers"' in page(client, "/connections")
    shown = page(client)
    assert "快递面单账号" in shown and "本系统生成" in row_of(shown, "SF") and "中通快递" in row_of(shown, "ZTO")

    form = {"carrier": "SF", "source": "sf", "endpoint": fake_sf.url, "partner": fake_sf.partner_id,
            "secret": fake_sf.checkword, "account": "7551234567", "shop": "", "template_url": ""}
    answer = client.post("/carriers/account", data=form)
    assert answer.status_code == 302
    shown = page(client, answer.headers["Location"])
    assert "SF 的面单账号已保存：顺丰丰桥。" in shown
    sf = row_of(shown, "SF")
    assert "顺丰丰桥" in sf and fake_sf.url in sf and "校验码已保存，不显示" in sf
    assert fake_sf.checkword not in shown and CarrierAccount.get().secret not in shown
    refused = page(client, "/carriers/account", 400, method="POST", data={**form, "carrier": "ZTO", "partner": ""})
    assert "快递公司的电子面单账号信息不完整" in refused and "字段: partner" in refused
    assert f'value="{fake_sf.url}"' in refused and fake_sf.checkword not in refused  # typed values back, not the secret
    client.post("/carriers/account", data={"carrier": "YTO", "source": "pool"})

    pool = "YT0000000001,YT0000000005\nYT0000000003\n".encode("gbk") + "第三行\n".encode("gbk")
    shown = page(client, "/carriers/pool", method="POST", content_type="multipart/form-data",
                 data={"carrier": "YTO", "file": (io.BytesIO(pool), "圆通号段.txt")})
    assert "YTO：新增 5 个单号，重复 0 个，问题 2 行。" in shown
    problems = re.search(r'<ul id="problems".*?</ul>', shown, flags=re.S)[0]
    assert "圆通号段.txt:2: YT0000000003 is also on line 1" in problems and "圆通号段.txt:3:" in problems
    assert re.search(r'<td class="n free">\s*5</td>', row_of(shown, "YTO"))
    page(client, "/carriers/pool", 422, method="POST", content_type="multipart/form-data", data={"carrier": "YTO"})

    login(client, "admin", "en")
    shown = page(client)
    assert ">Carriers <" in shown and "Number pool" in row_of(shown, "YTO") and "SF API" in row_of(shown, "SF")
    login(client, "supervisor")
    assert client.get("/carriers").status_code == 403


# --- the command line ---------------------------------------------------------------------------------------

def wavefloor(db_url, tmp_path, *args, env=None):
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"),
               **(env or {}))
    return subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_command_line_sets_accounts_imports_pools_and_fetches_a_wave(db_url, tmp_path, site,
                                                                          fake_sf):  # noqa: F811
    done = wavefloor(db_url, tmp_path, "carriers", "set", "zto", "--source", "pool")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["source"] == "pool"
    pool = tmp_path / "zto.csv"
    pool.write_text("78900000000001,78900000000003\nnot-a-number!\n", encoding="utf-8")
    imported = wavefloor(db_url, tmp_path, "carriers", "pool-import", "ZTO", str(pool))
    assert imported.returncode == 2
    assert json.loads(imported.stdout)["added"] == 3
    assert "zto.csv:2: 'not-a-number!' is not a waybill number" in imported.stderr

    done = wavefloor(db_url, tmp_path, "carriers", "set", "SF", "--source", "sf", "--endpoint", fake_sf.url,
                     "--partner", fake_sf.partner_id, "--account", "7551234567",
                     env={"WAVEFLOOR_CARRIER_SECRET": fake_sf.checkword})
    assert done.returncode == 0, done.stderr
    refused = wavefloor(db_url, tmp_path, "carriers", "set", "JD", "--source", "cainiao")
    assert refused.returncode == 1 and "shop" in refused.stderr
    listed = wavefloor(db_url, tmp_path, "carriers", "list")
    assert re.search(r"^ZTO\s+pool\s+free\s+3\s+used\s+0", listed.stdout, flags=re.M)
    assert re.search(r"^SF\s+sf\s+free", listed.stdout, flags=re.M) and fake_sf.checkword not in listed.stdout
    assert fake_sf.checkword not in wavefloor(db_url, tmp_path, "carriers", "list", "--json").stdout

    orders = make_orders(site, 4, "ZTO") + make_orders(site, 2, "SF", start=10)
    make_wave(site, orders, code="W-CLI")
    fetched = wavefloor(db_url, tmp_path, "waves", "waybills", "W-CLI")
    report = json.loads(fetched.stdout)
    assert fetched.returncode == 2   # the fourth ZTO order found the pool empty
    assert (report["wave"], report["asked"], report["assigned"], report["failed"]) == ("W-CLI", 6, 5, 1)
    assert report["failures"][0]["error"] == "pool_empty"
    assert wavefloor(db_url, tmp_path, "waves", "waybills", "W-NONE").returncode == 1
