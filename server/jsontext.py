"""JSON text for what the floor sends and stores on every scan: orjson where it can write the
value (several times faster than the standard library), the standard library where it cannot
(bytes, integer keys, integers past 64 bits)."""
from __future__ import annotations

import json

import orjson


def dumps(obj, **kwargs) -> str:
    """``obj`` as JSON text; ``kwargs`` are the standard library's, used only when it writes."""
    try:
        return orjson.dumps(obj).decode()
    except TypeError:
        return json.dumps(obj, **kwargs)


def loads(text, **kwargs):
    return orjson.loads(text)
