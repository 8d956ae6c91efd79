"""A fake SF Express gateway (丰桥 ``/std/service``) on 127.0.0.1: it checks every request's
msgDigest as SF does, hands out numbers for EXP_RECE_CREATE_ORDER (an order id sent again gets
its first number back, as SF documents), cancels with EXP_RECE_UPDATE_ORDER dealType 2, and can
be told to fail, to be slow, or to be switched off and on again on the same port."""
from __future__ import annotations

import base64
import hashlib
import itertools
import json
import socket
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def digest(msg_data: str, timestamp: str, checkword: str) -> str:
    """SF's published rule, written out separately from the client's: Java's URLEncoder keeps
    letters, digits and ``.-*_``, turns a space into ``+`` and every other byte into ``%XX``."""
    out = []
    for byte in (msg_data + timestamp + checkword).encode("utf-8"):
        char = chr(byte)
        if char.isascii() and (char.isalnum() or char in ".-*_"):
            out.append(char)
        elif char == " ":
            out.append("+")
        else:
            out.append(f"%{byte:02X}")
    return base64.b64encode(hashlib.md5("".join(out).encode("ascii")).digest()).decode("ascii")


class FakeSf:
    FAILURES = ("rate_limit", "signature", "refused", "html", "missing_field", "server_error")

    def __init__(self, partner_id: str = "WAVEFLOOR", checkword: str = "fake-checkword-0123456789"):
        self.partner_id = partner_id
        self.checkword = checkword
        self.calls: Counter = Counter()
        self.orders: dict[str, dict] = {}      # orderId -> {"number", "state", "message"}
        self.slow_s = 0.0
        self.refuse_receivers: set[str] = set()  # receiver names SF will not deliver to (不可收派)
        self._failures: list[tuple[str, int, str]] = []
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self.port = None

    # --- running -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/std/service"

    def start(self) -> "FakeSf":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                fields = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
                status, body, media = fake.answer(fields)
                self.send_response(status)
                self.send_header("Content-Type", media)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        if self.port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail(self, service: str, times: int, kind: str) -> None:
        """The next ``times`` calls of ``service`` fail as ``kind`` (one of FAILURES)."""
        assert kind in self.FAILURES, kind
        with self._lock:
            self._failures.append((service, times, kind))

    # --- the gateway -------------------------------------------------------------------------

    def answer(self, fields: dict) -> tuple[int, bytes, str]:
        service = fields.get("serviceCode", "")
        with self._lock:
            self.calls[service] += 1
        if self.slow_s:
            time.sleep(self.slow_s)
        failure = self._take_failure(service)
        if failure == "html":
            return 502, "<html><body>502 Bad Gateway</body></html>".encode(), "text/html"
        if failure == "server_error":
            return 500, b"", "text/plain"
        if failure == "rate_limit":
            return self._gateway("A1005", "流量受控")
        if fields.get("partnerID") != self.partner_id:
            return self._gateway("A1001", "partnerID 无效")
        expected = digest(fields.get("msgData", ""), fields.get("timestamp", ""), self.checkword)
        if failure == "signature" or fields.get("msgDigest") != expected:
            return self._gateway("A1006", "数字签名无效")
        message = json.loads(fields["msgData"])
        if failure == "refused":
            return self._business(False, "8016", "重复下单", None)
        if service == "EXP_RECE_CREATE_ORDER":
            return self._create(message, failure)
        if service == "EXP_RECE_UPDATE_ORDER":
            return self._update(message)
        return self._gateway("A1004", "无对应服务权限")

    def _create(self, message: dict, failure: str | None):
        receiver = next((c for c in message.get("contactInfoList", []) if c.get("contactType") == 2), {})
        if receiver.get("contact") in self.refuse_receivers:
            return self._business(False, "8114", "收方超范围，不可收派", None)
        with self._lock:
            order = self.orders.get(message["orderId"])
            if order is None:
                number = f"SF{7000000000000 + next(self._sequence)}"
                order = self.orders[message["orderId"]] = {"number": number, "state": "created",
                                                           "message": message}
        number = order["number"]
        data = {"orderId": message["orderId"], "originCode": "571", "destCode": "755", "filterResult": 2,
                "waybillNoInfoList": [{"waybillType": 1, "waybillNo": number}],
                "routeLabelInfo": [{"code": "1000", "message": f"{number}:", "routeLabelData": {
                    "waybillNo": number, "destRouteLabel": f"755W-{receiver.get('county', '')[:2] or 'A'}-01",
                    "codingMapping": "S10", "twoDimensionCode": f"MMM={{'k5':'{number}'}}", "proCode": "T4"}}]}
        if failure == "missing_field":
            del data["waybillNoInfoList"]
        return self._business(True, "S0000", None, data)

    def _update(self, message: dict):
        with self._lock:
            order = self.orders.get(message.get("orderId"))
            if order is None:
                return self._business(False, "8024", "未下单", None)
            if message.get("dealType") == 2:
                if order["state"] == "cancelled":
                    return self._business(False, "8037", "订单已取消", None)
                order["state"] = "cancelled"
        return self._business(True, "S0000", None, {"orderId": message["orderId"], "resStatus": 2})

    def _take_failure(self, service: str) -> str | None:
        with self._lock:
            for index, (wanted, times, kind) in enumerate(self._failures):
                if wanted in (service, "*") and times > 0:
                    self._failures[index] = (wanted, times - 1, kind)
                    return kind
        return None

    @staticmethod
    def _gateway(code: str, text: str):
        body = {"apiResultCode": code, "apiErrorMsg": text, "apiResponseID": "FAKE", "apiResultData": None}
        return 200, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json;charset=UTF-8"

    @staticmethod
    def _business(success: bool, code: str, text: str | None, data):
        result = {"success": success, "errorCode": code, "errorMsg": text, "msgData": data}
        body = {"apiResultCode": "A1000", "apiErrorMsg": "", "apiResponseID": "FAKE",
                "apiResultData": json.dumps(result, ensure_ascii=False)}   # a JSON text, as SF sends it
        return 200, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json;charset=UTF-8"
