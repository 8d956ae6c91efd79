"""One shift's first order, the way `make run` sets the floor up and the people on it see it, in a
real browser (Debian chromium) against a real server and a real TCP 9100 printer emulator, on
both engines: the demo loaded by the command, the office sees its orders, the supervisor
previews, plans and releases a wave in the control room, a picker picks it on a 360-px handheld
in English and hears English from the server, a packer packs it at 1280 x 800 without
scrolling, the label reaches the printer, and the control room and the wall follow it live.
Screenshots of each step land in tests/artifacts/journey/."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from printers.emulator import PrinterEmulator
from server.models import Order, OrderLine, PickLine, PickTask, Product, Wave, WaveOrder
from server.services.scenarios.packing import PACKAGING_G
from tests.conftest import ROOT, ServerProcess
from tests.test_handheld_browser import browser  # noqa: F401  (headless chromium)
from tests.test_pack_browser import fits_the_screen
from tests.test_wall_browser import wait_until

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parent / "artifacts" / "journey"
ASCII_SENTENCE = re.compile(r"^[\x20-\x7e\u2026\u2019\u00d7·]*$")  # English words, no Chinese


@pytest.fixture
def demo_floor(db_url, tmp_path):
    """What `make run` starts: the migrations, the demo loaded by its command, a printer
    emulator the demo's printers print to, and the server."""
    from server.db import database, init_database
    emulator = PrinterEmulator("127.0.0.1", 0, str(tmp_path / "printed")).start()
    extra = {"WAVEFLOOR_DEMO_PRINTER_PORT": str(emulator.port)}
    env = dict(os.environ, WAVEFLOOR_DATABASE_URL=db_url, WAVEFLOOR_INSTANCE_DIR=str(tmp_path / "instance"),
               **extra)
    for command in (["migrate"], ["demo"]):
        subprocess.run([sys.executable, "-m", "server.cli", *command], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=300)
    server = ServerProcess(db_url, tmp_path / "instance", extra).start()
    init_database(db_url)
    try:
        yield server, emulator
    finally:
        server.stop()
        emulator.stop()
        database.obj.close_all()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def web_login(browser, server, user: str, path: str, size: tuple[int, int]):  # noqa: F811
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="en-US").new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{server.url}{path}")
    page.wait_for_url("**/login**")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", "wavefloor")
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    return page


def wedge(page, code: str) -> None:
    """A keyboard-wedge scanner: the code's keys in a burst, then Enter."""
    page.keyboard.type(code, delay=5)
    page.keyboard.press("Enter")


def english(page, selector: str) -> str:
    said = page.inner_text(selector).strip()
    assert said and ASCII_SENTENCE.match(said), f"not English: {said!r}"
    return said


def test_from_make_run_to_a_shipped_parcel(demo_floor, browser):  # noqa: F811
    server, emulator = demo_floor

    # the office: the demo's day of orders is there, in words
    office = web_login(browser, server, "office", "/orders", (1920, 1080))
    assert office.locator("table tbody tr").count() > 10
    shot(office, "1-office-orders")

    # the supervisor: the wall on one screen, the control room on another
    wall = web_login(browser, server, "boss", "/wall", (1920, 1080))
    wall.wait_for_selector("body.live")
    control = web_login(browser, server, "boss", "/control", (1920, 1080))
    control.wait_for_selector("#plan-form select[name=warehouse] option[value=WH-HZ]", state="attached")
    control.select_option("#plan-form select[name=warehouse]", "WH-HZ")
    for kind in ("single_unit", "single_sku_multi", "batch_putwall"):
        control.uncheck(f"#plan-form input[name=strategies][value={kind}]")
    control.fill("#plan-form input[name=max_orders]", "1")
    control.locator("#plan-form button[type=submit]").click()
    control.wait_for_selector("#plan-waves tr[data-strategy]")
    control.wait_for_function("() => !document.getElementById('plan-go').hidden")
    shot(control, "2-control-preview")
    before = Wave.select().count()
    control.locator("#plan-go").click()
    wait_until(lambda: Wave.select().count() == before + 1, 10, "the wave planned")
    wave = Wave.select().order_by(Wave.id.desc()).get()
    assert wave.strategy == "cluster" and wave.status == "planned"
    release = control.locator(f"tr[data-wave={wave.code}] button[data-verb=release]")
    release.wait_for()
    release.click()
    wait_until(lambda: Wave.get_by_id(wave.id).status == "released", 10, "the wave released")
    lines_cell = control.locator(f"tr[data-wave={wave.code}] td:nth-child(5)")
    total = sum(t.lines_total for t in PickTask.select().where(PickTask.wave == wave.id))
    wait_until(lambda: lines_cell.inner_text().strip() == f"0/{total}", 10, "the released wave in the control room")
    shot(control, "3-control-released")

    # the picker: a 360-px handheld in English; every sentence from the server is English
    handheld = browser.new_context(viewport={"width": 360, "height": 740}, locale="en-US").new_page()
    handheld.errors = []
    handheld.on("pageerror", lambda error: handheld.errors.append(str(error)))
    handheld.goto(f"{server.url}/handheld/")
    handheld.get_by_test_id("login-user").fill("P001")
    handheld.get_by_test_id("login-pin").fill("1234")
    handheld.get_by_test_id("login-device").fill("HH-01")
    handheld.get_by_test_id("login-submit").click()
    handheld.wait_for_selector("[data-testid=link][data-online=true]")
    handheld.wait_for_selector("main[data-state=start], main[data-state=scan_location]")
    if handheld.get_attribute("main", "data-state") == "start":
        handheld.get_by_test_id("get-work").click()
    handheld.wait_for_selector("main[data-state=scan_location]")
    english(handheld, "[data-testid=message]")
    shot(handheld, "4-handheld-location")
    totes = iter(f"HZ-T{n:03d}" for n in range(1, 31))
    shots = set()
    for _ in range(200):  # one scan a round, until the task is done
        state = handheld.get_attribute("main", "data-state")
        if state == "task_done":
            break
        if state == "scan_location":
            wedge(handheld, handheld.get_by_test_id("location").inner_text().strip())
        elif state in ("scan_item", "qty"):
            wedge(handheld, handheld.get_by_test_id("sku").first.inner_text().strip())
        elif state == "scan_tote":
            shown = handheld.get_by_test_id("tote")
            wedge(handheld, shown.inner_text().strip() if shown.count() else next(totes))
        else:
            raise AssertionError(f"the handheld is on {state}: {handheld.inner_text('main')}")
        handheld.wait_for_function("(was) => document.querySelector('main').dataset.state !== was"
                                   " || document.querySelector('[data-testid=message]').textContent !== ''",
                                   arg=state)
        handheld.wait_for_timeout(120)
        if state not in shots:
            shots.add(state)
            shot(handheld, f"5-handheld-{state}")
        english(handheld, "[data-testid=message]")
    assert handheld.get_attribute("main", "data-state") == "task_done"
    assert english(handheld, "[data-testid=message]") == "Task finished."
    shot(handheld, "6-handheld-done")
    assert handheld.errors == []

    # the control room and the wall followed it without a reload
    wait_until(lambda: lines_cell.inner_text().strip() == f"{total}/{total}", 10, "the control room live")
    # read in one step: the finished task's row may leave the table between a count and a read
    first_task_lines = ("() => { const cell = document.querySelector('#tasks tr[data-task] td:nth-child(5)');"
                        " return cell ? cell.textContent.trim() : null; }")
    wait_until(lambda: control.evaluate(first_task_lines) in (None, f"{total}/{total}"), 10,
               "the task's row in the control room")
    shot(control, "7-control-picked")
    row = wall.locator(f"#wave-rows tr[data-wave='{wave.id}'] .lines-done")
    wait_until(lambda: row.count() and row.inner_text().strip() == str(total), 10, "the wall live")
    shot(wall, "8-wall-picked")

    # the packer: 1280 x 800, English, the whole flow on one screen
    (order,) = list(Order.select().join(WaveOrder, on=(WaveOrder.order == Order.id)).where(WaveOrder.wave == wave.id))
    assert order.status == "picked"
    pack = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US").new_page()
    pack.errors = []
    pack.on("pageerror", lambda error: pack.errors.append(str(error)))
    pack.goto(f"{server.url}/pack?station=PACK-01")
    if pack.inner_text("#lang").strip() == "English":  # the switch names the other language
        pack.click("#lang")
    pack.fill("#user", "K001")
    pack.fill("#pin", "1234")
    pack.click("#login button[type=submit]")
    pack.wait_for_selector("#panel[data-state=scan_order]")
    fits_the_screen(pack, "scan_order")
    tote = PickLine.select(PickLine.tote).where((PickLine.order == order.id) & (PickLine.tote != "")).scalar()
    wedge(pack, tote)
    pack.wait_for_selector("#panel[data-state=verify]")
    # the queue's event may draw the order before the scan's answer puts its sentence on the banner
    pack.wait_for_function("() => document.getElementById('banner').textContent.trim() !== ''")
    english(pack, "#banner")
    fits_the_screen(pack, "verify")
    shot(pack, "9-pack-verify")
    weight = PACKAGING_G
    for line in OrderLine.select(OrderLine, Product).join(Product).where(OrderLine.order == order.id):
        weight += line.product.weight_g * line.qty
        for _ in range(line.qty):
            wedge(pack, line.product.sku)
            pack.wait_for_timeout(200)
    pack.wait_for_selector("#panel[data-state=weigh]")
    pack.wait_for_selector("#label-status[data-state=done]", timeout=20000)
    assert emulator.wait_for_printed(1, timeout=20)  # the label reached the printer
    fits_the_screen(pack, "weigh")
    shot(pack, "10-pack-weigh")
    pack.fill("#grams", str(weight))
    pack.click("#weigh button[type=submit]")
    pack.wait_for_selector("#panel[data-state=ship]")
    fits_the_screen(pack, "ship")
    pack.click("#ship")
    pack.wait_for_selector("#banner.info[data-code=order_shipped]")
    assert english(pack, "#banner") == "Shipped."
    shot(pack, "11-pack-shipped")
    assert Order.get_by_id(order.id).status == "shipped"
    assert pack.errors == [] and control.errors == [] and wall.errors == [] and office.errors == []

    # and the office sees it shipped
    office.goto(f"{server.url}/orders")
    shot(office, "12-office-after")
