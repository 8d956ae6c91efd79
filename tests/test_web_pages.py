"""The login and stock pages: Chinese and English, usable on a phone, nothing from the internet."""
import re

import pytest

from server.services.stock import inventory


def test_login_page_in_both_languages(client, people):
    zh = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).data.decode()
    en = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).data.decode()
    assert "登录" in zh and 'lang="zh-CN"' in zh
    assert "Log in" in en and 'lang="en"' in en
    assert 'name="viewport"' in zh
    client.get("/lang/en")
    assert "Log in" in client.get("/login", headers={"Accept-Language": "zh-CN"}).data.decode()


def test_login_then_look_up_stock(client, people, small_warehouse):
    inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 7,
                      actor=inventory.Actor(people["receiver"].id))
    assert client.get("/stock").status_code == 302
    bad = client.post("/login", data={"user": "u-office", "password": "wrong"})
    assert bad.status_code == 401 and "用户或密码错误" in bad.data.decode()
    assert client.post("/login", data={"user": "u-office", "password": "secret-pass"}).status_code == 302
    by_location = client.get("/stock?q=A-01").data.decode()
    assert "TS-01" in by_location and ">7<" in by_location
    by_barcode = client.get("/stock?q=6900000000014").data.decode()
    assert "A-01" in by_barcode
    assert "未找到" in client.get("/stock?q=NOPE").data.decode()
    assert client.post("/logout").status_code == 302
    assert client.get("/stock").status_code == 302


def test_pages_load_nothing_from_the_internet(client, people):
    client.post("/login", data={"user": "u-office", "password": "secret-pass"})
    for path in ("/login", "/stock", "/orders"):
        page = client.get(path).data.decode()
        assert not re.search(r'(src|href)="(https?:)?//', page), path


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["sqlite"])
def test_stock_page_fits_a_phone(live_server, small_warehouse, tmp_path):
    from playwright.sync_api import sync_playwright
    from tests.conftest import ROOT
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 360, "height": 740}, locale="zh-CN")
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=user]", "u-office")
        page.fill("input[name=password]", "secret-pass")
        page.click("button[type=submit]")
        page.wait_for_url("**/stock")
        page.fill("input[name=q]", "6900000000014")
        page.keyboard.press("Enter")
        page.wait_for_selector("table.quants")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
        artifacts = ROOT / "tests" / "artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=str(artifacts / "stock_phone.png"), full_page=True)
        browser.close()


def test_the_demo_banner_lists_every_floor_page_and_each_one_answers(app, client, people, tmp_path, capsys):
    import json

    from server import demo_banner
    summary = tmp_path / "demo.json"
    summary.write_text(json.dumps({"warehouses": ["WH-HZ"], "locations": 10, "products": 3, "logins": [
        {"user": "P001", "roles": ["picker"], "password": "", "pin": "1234"}]}), encoding="utf-8")
    demo_banner.main(str(summary), "http://127.0.0.1:5000", "9100")
    printed = capsys.readouterr().out
    assert client.post("/login", data={"user": "u-supervisor", "password": "secret-pass"}).status_code == 302
    for _, path, *_ in demo_banner.PAGES:  # (who, path[, what they do there])
        assert f"http://127.0.0.1:5000{path}" in printed
        response = client.get(path)
        assert response.status_code in (200, 302), (path, response.status_code)  # a kiosk page may ask for its login
    assert "P001" in printed and "PIN 1234" in printed


def test_refund_and_return_lines_of_an_order_history_are_worded(app):
    from server.web.orders import history_lines
    lines = [{"action": "refund", "detail": "RF-9 success 1250 fen"},
             {"action": "return_closed", "detail": "RT-0001: 2 units"},
             {"action": "return_matched", "detail": "RT-0002 SF100"}]
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        worded = [(line["name"], line["words"]) for line in history_lines(lines)]
    assert worded == [("Refund", "refund RF-9: refunded, ¥12.50"), ("Return parcel closed", "RT-0001, 2 units back"),
                      ("Unknown parcel matched", "RT-0002 SF100")]
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        worded = [line["words"] for line in history_lines(lines)]
    assert worded[:2] == ["退款单 RF-9：退款成功，¥12.50", "RT-0001，退回 2 件"]
