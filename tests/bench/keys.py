"""Command keys as the benchmarks' simulated devices send them.

The handheld and the station pages make time-ordered keys (server/web/static/keys.js: a UUID
version 7, RFC 9562, with a 12-bit counter within a millisecond); :func:`time_ordered_key` makes
the same. :func:`random_key` is a UUID version 4, as a third-party client might send."""
from __future__ import annotations

import secrets
import time
import uuid

_last_ms = -1
_counter = 0


def time_ordered_key() -> str:
    global _last_ms, _counter
    ms = time.time_ns() // 1_000_000
    if ms > _last_ms:
        _last_ms, _counter = ms, secrets.randbits(11)
    elif _counter < 0xFFF:
        ms, _counter = _last_ms, _counter + 1
    else:
        _last_ms, _counter = _last_ms + 1, 0
        ms = _last_ms
    return key_at(ms, _counter)


def key_at(ms: int, counter: int) -> str:
    """A version 7 key of the millisecond ``ms`` with the 12-bit ``counter``, the rest random."""
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | secrets.randbits(62)
    return str(uuid.UUID(int=value))


def random_key() -> str:
    return str(uuid.uuid4())
