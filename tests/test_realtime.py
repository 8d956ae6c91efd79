"""Socket.IO namespace /floor against a real server process (gevent, WebSockets)."""
import threading
import time
import uuid

import pytest
import requests
import socketio

from server.services.stock import inventory


def pin_login(server, user, device):
    response = requests.post(f"{server.url}/api/v1/auth/pin", json={"user": user, "pin": "2468", "device": device},
                             timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


class Device:
    """A python-socketio client that records every event it is sent."""

    def __init__(self, server, token, transports=("websocket",), **auth):
        self.events = []
        self.arrived = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("*", self._record, namespace="/floor")
        self.sio.connect(server.url, namespaces=["/floor"], auth={"token": token, **auth},
                         transports=list(transports), wait_timeout=10)

    def _record(self, event, data):
        with self.arrived:
            self.events.append((event, data))
            self.arrived.notify_all()

    def wait_for(self, name, timeout=5.0):
        with self.arrived:
            self.arrived.wait_for(lambda: any(e == name for e, _ in self.events), timeout)
        found = [d for e, d in self.events if e == name]
        assert found, f"no {name} event; got {[e for e, _ in self.events]}"
        return found[-1]

    def cmd(self, **command):
        command.setdefault("key", uuid.uuid4().hex)
        return self.sio.call("cmd", command, namespace="/floor", timeout=10)

    def close(self):
        self.sio.disconnect()


@pytest.fixture
def stocked(small_warehouse, people):
    inventory.receive(small_warehouse["tee"], small_warehouse["locations"]["A-01"], 10,
                      actor=inventory.Actor(people["receiver"].id))
    return small_warehouse


def test_a_bad_token_is_refused(live_server):
    sio = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(live_server.url, namespaces=["/floor"], auth={"token": "nope"}, transports=["websocket"],
                    wait_timeout=5)
    with pytest.raises(socketio.exceptions.ConnectionError):
        sio.connect(live_server.url, namespaces=["/floor"], transports=["websocket"], wait_timeout=5)


def test_snapshot_on_connect_and_lookup(live_server, stocked):
    device = Device(live_server, pin_login(live_server, "u-picker", "HH-01"))
    try:
        snapshot = device.wait_for("snapshot")
        assert snapshot["user"]["code"] == "u-picker" and snapshot["device"] == "HH-01"
        assert snapshot["roles"] == ["picker"] and snapshot["version"] > 0
        result = device.cmd(scenario="stock", action="lookup", code="6900000000014")
        assert result["ok"] and result["next_state"] == "stock"
        assert result["data"]["stock"]["sku"] == "TS-01"
        assert [(q["location"], q["qty"]) for q in result["data"]["stock"]["quants"]] == [("A-01", 10)]
        unknown = device.cmd(scenario="stock", action="lookup", code="no-such-code")
        assert unknown["ok"] is False and unknown["message"]["code"] == "unknown_barcode"
        assert unknown["message"]["text"]  # translated sentence for the device screen
    finally:
        device.close()


def test_the_device_language_goes_with_the_connection_and_with_each_command(live_server, stocked):
    """A user without a language of their own gets the device's: the one it connected with, then
    the one its last command named."""
    device = Device(live_server, pin_login(live_server, "u-picker", "HH-01"), lang="en")
    try:
        assert device.wait_for("snapshot")["user"]["language"] == "en"
        unknown = device.cmd(scenario="stock", action="lookup", code="no-such-code")
        assert unknown["message"]["text"] == "This barcode is not known."
        unknown = device.cmd(scenario="stock", action="lookup", code="no-such-code", lang="zh-CN")
        assert unknown["message"]["text"] == "无法识别的条码。"
        unknown = device.cmd(scenario="nope", action="lookup")
        assert unknown["message"]["text"] == "未知的作业类型。"
        unknown = device.cmd(scenario="nope", action="lookup", lang="en-GB")
        assert unknown["message"]["text"] == "Unknown work type."
    finally:
        device.close()


def test_a_replayed_key_changes_nothing_and_events_follow_commit(live_server, stocked):
    receiver = Device(live_server, pin_login(live_server, "u-receiver", "HH-02"))
    wall = Device(live_server, pin_login(live_server, "u-supervisor", "WALL-1"))
    try:
        wall.wait_for("snapshot")
        command = {"key": "move-" + uuid.uuid4().hex, "scenario": "stock", "action": "move",
                   "sku": "TS-01", "from": "A-01", "to": "A-02", "qty": 3}
        first = receiver.cmd(**command)
        again = receiver.cmd(**command)
        assert first["ok"] and first == again
        event = wall.wait_for("stock.changed")
        assert event["sku"] == "TS-01" and event["locations"] == ["A-01", "A-02"]
        too_many = dict(command, key="move-" + uuid.uuid4().hex, qty=99)
        refused = receiver.cmd(**too_many)
        assert refused["ok"] is False and refused["message"]["code"] == "insufficient_stock"
        assert receiver.cmd(**too_many) == refused  # a refusal is stored under its key too
        again = receiver.cmd(**dict(command, qty=1))  # the first key once more, asking for less
        assert again == first  # the stored answer: the key ran once, with what it first said
        assert len([e for e, _ in wall.events if e == "stock.changed"]) == 1  # the refused move said nothing
    finally:
        receiver.close()
        wall.close()
    from server.models import Quant, StockMove
    assert [q.qty for q in Quant.select().order_by(Quant.location)] == [7, 3]
    assert StockMove.select().where(StockMove.reason == "move").count() == 1
    move = StockMove.get(StockMove.reason == "move")
    assert move.user.code == "u-receiver" and move.device.code == "HH-02"


def test_roles_and_malformed_commands(live_server, stocked):
    picker = Device(live_server, pin_login(live_server, "u-picker", "HH-03"))
    try:
        forbidden = picker.cmd(scenario="stock", action="move", sku="TS-01", qty=1, **{"from": "A-01", "to": "A-02"})
        assert forbidden["ok"] is False and forbidden["message"]["code"] == "forbidden"
        for bad in ({"scenario": "stock"}, {"key": "x", "scenario": "stock", "action": "lookup"},
                    {"key": uuid.uuid4().hex, "scenario": "nope", "action": "x"}):
            result = picker.sio.call("cmd", bad, namespace="/floor", timeout=10)
            assert result["ok"] is False and result["message"]["code"] in ("bad_command", "unknown_scenario")
        assert picker.sio.call("cmd", "not a dict", namespace="/floor", timeout=10)["message"]["code"] == "bad_command"
        assert picker.cmd(scenario="stock", action="dance")["message"]["code"] == "unknown_action"
        assert picker.cmd(scenario="stock", action="lookup", code="A-01")["ok"]  # still connected and served
    finally:
        picker.close()


def test_packets_are_written_as_the_library_would_write_them():
    """orjson writes what python-socketio's own Packet would (as JSON), and a payload orjson
    refuses goes the library's way: bytes become attachments, integer keys become strings."""
    import json

    from socketio import packet

    from server.realtime.wire import FloorPacket

    answer = [{"ok": True, "next_state": "scan_item", "data": {"scan_item": {"qty": 2, "name": "白色T恤"}},
               "message": {"type": "info", "code": "ok", "text": "好"}}]
    ours, theirs = FloorPacket(packet.ACK, answer, "/floor", 7).encode(), packet.Packet(packet.ACK, answer,
                                                                                       "/floor", 7).encode()
    assert ours.startswith("3/floor,7") and json.loads(ours[len("3/floor,7"):]) == answer
    assert json.loads(ours[len("3/floor,7"):]) == json.loads(theirs[len("3/floor,7"):])

    with_bytes = FloorPacket(packet.EVENT, ["label", {"zpl": b"^XA^XZ"}], "/floor")
    assert with_bytes.packet_type == packet.BINARY_EVENT
    assert with_bytes.encode() == ['51-/floor,["label",{"zpl":{"_placeholder":true,"num":0}}]', b"^XA^XZ"]

    assert FloorPacket(packet.EVENT, ["counts", {7: 1}], "/floor").encode() == '2/floor,["counts",{"7":1}]'
    decoded = FloorPacket(encoded_packet='2/floor,5["cmd",{"key":"k1","code":"A-01"}]')
    assert (decoded.namespace, decoded.id, decoded.data) == ("/floor", 5, ["cmd", {"key": "k1", "code": "A-01"}])


def test_the_server_speaks_plain_websocket_frames_to_a_browser_offering_compression(live_server):
    """Chrome offers permessage-deflate on every WebSocket: the serving process answers with its
    own WebSocket (server.realtime.websocket), which agrees to no extension, so no scan is
    compressed; its first frame is Engine.IO's open packet, as text."""
    import base64
    import json
    import os
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(live_server.url)
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {address.netloc}\r\n"
                     f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n".encode())
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(4096)
        head, _, rest = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        assert b"sec-websocket-extensions" not in head.lower()
        while len(rest) < 2 or len(rest) < 2 + (rest[1] & 0x7F):
            rest += sock.recv(4096)
        assert rest[0] == 0x81 and rest[1] < 126  # final text frame, no compression bit, not masked
        text = rest[2:2 + rest[1]].decode()
        assert text.startswith("0") and "sid" in json.loads(text[1:])


def test_a_device_starting_on_long_polling_is_upgraded_to_the_websocket(live_server, stocked):
    """A browser left to Socket.IO's defaults connects by long polling, then upgrades (a probe
    ping and an upgrade packet over the new WebSocket): commands and events then go through it."""
    polling = ("polling", "websocket")
    receiver = Device(live_server, pin_login(live_server, "u-receiver", "HH-03"), transports=polling)
    wall = Device(live_server, pin_login(live_server, "u-supervisor", "WALL-2"), transports=polling)
    try:
        for device in (receiver, wall):
            device.wait_for("snapshot")
            deadline = time.monotonic() + 10
            while device.sio.transport() != "websocket" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert device.sio.transport() == "websocket"
        result = receiver.cmd(scenario="stock", action="move", sku="TS-01", qty=2, **{"from": "A-01", "to": "A-02"})
        assert result["ok"], result
        assert wall.wait_for("stock.changed")["locations"] == ["A-01", "A-02"]
    finally:
        receiver.close()
        wall.close()


def test_a_site_whose_default_language_is_english_speaks_english_to_devices_that_name_none(db, db_url, tmp_path,
                                                                                          stocked):
    from tests.conftest import ServerProcess
    server = ServerProcess(db_url, tmp_path / "instance", {"WAVEFLOOR_DEFAULT_LANGUAGE": "en"}).start()
    try:
        device = Device(server, pin_login(server, "u-picker", "HH-01"))
        try:
            unknown = device.cmd(scenario="stock", action="lookup", code="no-such-code")
            assert unknown["message"]["text"] == "This barcode is not known."
        finally:
            device.close()
    finally:
        server.stop()
