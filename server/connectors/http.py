"""One HTTP exchange with a platform gateway, on the standard library only (``urllib``), so it
runs unchanged under gevent's monkey-patching: sockets and timeouts become cooperative.

Network trouble and 5xx become ``Unreachable``; an answer that is not a UTF-8 JSON object
becomes ``BadAnswer``. Error texts name the host and path only: a query string may hold the
session.
"""
from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request

from .errors import BadAnswer, RateLimited, Unreachable

USER_AGENT = "wavefloor-connector/1"
SHOWN_BYTES = 80


def post(url: str, body: bytes, content_type: str, *, call: str, timeout_s: float) -> dict:
    """POST ``body`` to ``url`` and return the decoded JSON object of the answer."""
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": content_type, "Accept": "application/json", "User-Agent": USER_AGENT})
    where = _where(url)
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        return _http_error(error, call, where)
    except urllib.error.URLError as error:
        raise Unreachable(call, "network", f"{where}: {_reason(error.reason)}") from None
    except (TimeoutError, socket.timeout):
        raise Unreachable(call, "timeout", f"{where}: no answer within {timeout_s:g} s") from None
    except (ConnectionError, http.client.HTTPException, OSError) as error:
        raise Unreachable(call, "network", f"{where}: {_reason(error)}") from None
    return decode(raw, call=call)


def post_form(url: str, fields: dict[str, str], *, call: str, timeout_s: float) -> dict:
    body = urllib.parse.urlencode(fields).encode("utf-8")
    return post(url, body, "application/x-www-form-urlencoded;charset=utf-8",
                call=call, timeout_s=timeout_s)


def decode(raw: bytes, *, call: str) -> dict:
    """A gateway answer as a dict, or ``BadAnswer`` saying what was wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadAnswer(call, "encoding", f"answer is not UTF-8 (byte {error.start}): "
                                          f"{raw[:SHOWN_BYTES]!r}") from None
    stripped = text.lstrip()
    if stripped.startswith("<"):
        raise BadAnswer(call, "html", f"an HTML page instead of JSON: {_cut(stripped)}")
    try:
        data = json.loads(text)
    except ValueError as error:
        raise BadAnswer(call, "json", f"not JSON ({error}): {_cut(stripped)}") from None
    if not isinstance(data, dict):
        raise BadAnswer(call, "json", f"a JSON {type(data).__name__} instead of an object")
    return data


def _http_error(error: urllib.error.HTTPError, call: str, where: str) -> dict:
    status = error.code
    try:
        raw = error.read()
    except (OSError, http.client.HTTPException):
        raw = b""
    finally:
        error.close()
    if status >= 500:
        raise Unreachable(call, f"http {status}", f"{where}: {_cut(raw.decode('utf-8', 'replace'))}")
    if status == 429:
        wait = error.headers.get("Retry-After", "") if error.headers else ""
        raise RateLimited(call, "http 429", f"{where}: too many requests",
                          wait_s=float(wait) if wait.isdigit() else 1.0)
    # some gateways answer their JSON error with a 4xx status: read it like any answer
    return decode(raw, call=call)


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def _reason(reason) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "timed out"
    return str(reason) or type(reason).__name__


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_BYTES else text[:SHOWN_BYTES] + "…"
