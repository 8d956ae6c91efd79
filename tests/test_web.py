"""The server-rendered pages: language, login, stock lookup, logout; small screens and no
internet. The last test drives a real Chromium against a real server process."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.services.stock import inventory

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en-US,en;q=0.9"}


def page_text(response) -> str:
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def web_login(client, role="office", headers=None):
    response = client.post("/login", data={"user": f"u-{role}", "password": "secret-pass"},
                           headers=headers or {})
    assert response.status_code == 302, page_text(response)
    return response


@pytest.fixture
def shelf(small_warehouse):
    """Tees on A-01 (some frozen) and in reserve, mugs on A-01."""
    actor = inventory.system_actor()
    tee, mug, locs = small_warehouse["tee"], small_warehouse["mug"], small_warehouse["locations"]
    inventory.receive(tee, locs["A-01"], 12, actor=actor)
    inventory.receive(tee, locs["A-01"], 2, actor=actor, state="frozen")
    inventory.receive(tee, locs["R-01"], 30, actor=actor, lot="B7")
    inventory.receive(mug, locs["A-01"], 4, actor=actor)
    return small_warehouse


# --- language ------------------------------------------------------------------------------

def test_login_page_is_chinese_for_a_chinese_browser(client, db):
    page = page_text(client.get("/login", headers=ZH))
    assert '<html lang="zh-CN">' in page
    assert "<h1>登录</h1>" in page
    assert "Log in" not in page


def test_login_page_is_chinese_when_the_browser_names_no_language(client, db):
    assert "<h1>登录</h1>" in page_text(client.get("/login"))


def test_login_page_is_english_for_an_english_browser(client, db):
    page = page_text(client.get("/login", headers=EN))
    assert '<html lang="en">' in page
    assert "<h1>Log in</h1>" in page
    assert "登录" not in page


def test_the_language_links_switch_and_the_choice_survives_login(client, people):
    response = client.get("/lang/en", query_string={"next": "/login"}, headers=ZH)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "<h1>Log in</h1>" in page_text(client.get("/login", headers=ZH))

    web_login(client, headers=ZH)
    assert ">Look up</button>" in page_text(client.get("/stock", headers=ZH))

    client.get("/lang/zh_Hans_CN", headers=EN)
    assert ">查询</button>" in page_text(client.get("/stock", headers=EN))


def test_an_unknown_language_changes_nothing(client, db):
    client.get("/lang/xx", headers=ZH)
    assert "<h1>登录</h1>" in page_text(client.get("/login", headers=ZH))


# --- login, stock, logout ------------------------------------------------------------------

def test_the_front_door_sends_visitors_to_login_and_people_to_stock(client, people):
    assert client.get("/").headers["Location"] == "/login"
    web_login(client)
    assert client.get("/").headers["Location"] == "/stock"


def test_stock_needs_a_login(client, db):
    response = client.get("/stock?q=A-01")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_stock_by_location_lists_its_products(client, people, shelf):
    web_login(client, "picker")
    page = page_text(client.get("/stock", query_string={"q": "A-01"}, headers=EN))
    assert "Total: <b>18</b>" in page
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>.*?<td class=\"n\">(\d+)</td>", page, re.S)
    assert [(re.sub(r"<.*", "", cell), int(qty)) for cell, qty in rows] == [
        ("MG-01", 4), ("TS-01", 12), ("TS-01", 2)]
    assert "纯棉T恤 白 M" in page and "Frozen" in page


@pytest.mark.parametrize("code", ["6900000000014", "16900000000011", "TS-01"])
def test_stock_by_barcode_or_sku_lists_its_locations(client, people, shelf, code):
    web_login(client, "picker")
    page = page_text(client.get("/stock", query_string={"q": code}, headers=ZH))
    assert "<b>44</b>" in page
    assert [loc for loc in re.findall(r"<tr>\s*<td>([A-Z]-\d\d)", page)] == ["A-01", "A-01", "R-01"]
    assert "批次" in page and "B7" in page  # the lot of the reserve stock


def test_an_unknown_code_says_so_plainly(client, people, shelf):
    web_login(client)
    page = page_text(client.get("/stock", query_string={"q": "ZZ-404"}, headers=EN))
    assert '<p class="error" role="alert">Nothing found for ZZ-404.</p>' in page
    assert "<table" not in page
    zh = page_text(client.get("/stock", query_string={"q": "ZZ-404"}, headers=ZH))
    assert "未找到 ZZ-404。" in zh


def test_a_scanned_code_is_escaped(client, people, shelf):
    web_login(client)
    page = page_text(client.get("/stock", query_string={"q": "<script>x</script>"}))
    assert "<script>x</script>" not in page
    assert "&lt;script&gt;" in page


def test_an_empty_location_shows_no_stock(client, people, shelf):
    web_login(client)
    page = page_text(client.get("/stock", query_string={"q": "QC-1"}, headers=EN))
    assert "No stock here." in page and "wavefloor import stock" in page and "Total: <b>0</b>" in page


def test_logout_ends_the_session(client, people):
    web_login(client)
    assert client.get("/stock").status_code == 200
    response = client.post("/logout")
    assert response.headers["Location"] == "/login"
    assert client.get("/stock").status_code == 302
    assert client.get("/api/v1/me").status_code == 401


# --- small screens, no internet ------------------------------------------------------------

EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def test_pages_fit_phones_and_load_nothing_from_outside(client, people, shelf):
    served = {"/login": client.get("/login")}
    served["/login (failed)"] = client.post("/login", data={"user": "u-office", "password": "nope-nope"})
    web_login(client)
    for url in ("/stock", "/stock?q=A-01", "/stock?q=6900000000014", "/stock?q=nope", "/orders"):
        served[url] = client.get(url)
    assert all(r.status_code in (200, 401) for r in served.values())
    for url, response in served.items():
        page = page_text(response)
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page, url
        assert not EXTERNAL.findall(page), url
        for link in re.findall(r"""(?:src|href)="([^"]+)\"""", page):
            assert link.startswith("/"), (url, link)
    css = client.get("/static/wavefloor.css").get_data(as_text=True)
    assert "@import" not in css and not re.search(r"url\(\s*['\"]?(?:https?:)?//", css)


# --- a real browser ------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.mark.browser
def test_a_phone_sized_browser_logs_in_and_looks_up_a_location(live_server, shelf, engine):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN")
            page = context.new_page()
            outside = []
            page.on("request", lambda r: None if r.url.startswith(live_server.url) else outside.append(r.url))

            page.goto(f"{live_server.url}/stock")
            assert page.url.startswith(f"{live_server.url}/login")
            page.fill("input[name=user]", "u-picker")
            page.fill("input[name=password]", "secret-pass")
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/stock*")

            page.fill("input[name=q]", "A-01")
            page.press("input[name=q]", "Enter")
            page.wait_for_selector("table.quants")
            cells = page.locator("table.quants tbody tr td:first-child").all_inner_texts()
            assert [c.split("\n")[0] for c in cells] == ["MG-01", "TS-01", "TS-01"]
            assert page.locator("html").get_attribute("lang") == "zh-CN"

            width = page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= 360
            page.screenshot(path=str(ARTIFACTS / f"web_stock_360_{engine}.png"), full_page=True)

            page.fill("input[name=q]", "ZZ-404")
            page.press("input[name=q]", "Enter")
            assert page.locator("p.error").inner_text() == "未找到 ZZ-404。"
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
            assert outside == []
        finally:
            browser.close()


def test_a_server_that_may_not_write_the_catalogs_starts_and_says_so(tmp_path, monkeypatch, caplog):
    """deploy/install.sh compiles the catalogs as root; a process of the service user that
    finds one missing or older cannot write it, and must start anyway (English where the
    catalog is missing) with an error naming the file."""
    import server.web as web
    po_dir = tmp_path / "zh_Hans_CN" / "LC_MESSAGES"
    po_dir.mkdir(parents=True)
    (po_dir / "messages.po").write_bytes((web.TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po").read_bytes())
    monkeypatch.setattr(web, "TRANSLATIONS", tmp_path)

    def refuse(out, catalog):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(web, "write_mo", refuse)
    web.compile_translations()
    assert "cannot write the compiled translations" in caplog.text and "messages.mo" in caplog.text
    assert sorted(p.name for p in po_dir.iterdir()) == ["messages.po"]  # nothing half-written left
