"""Loading JSON payloads for the API-shaped adapters (TOP, JD, Douyin)."""
from __future__ import annotations

import json
import os
from typing import Iterable

from .base import ImportProblem
from .csvfile import UnreadableFile, decode_bytes

PAYLOAD_SOURCE = "<payload>"


def load_payloads(paths_or_payload) -> tuple[list[tuple[str, object]], list[ImportProblem]]:
    """[(source name, decoded JSON)] from a path, a list of paths, or an already decoded payload."""
    if isinstance(paths_or_payload, (dict,)):
        return [(PAYLOAD_SOURCE, paths_or_payload)], []
    if isinstance(paths_or_payload, (str, os.PathLike)):
        items: Iterable = [paths_or_payload]
    elif isinstance(paths_or_payload, list) and paths_or_payload and all(
            isinstance(item, (dict, list)) for item in paths_or_payload):
        return [(PAYLOAD_SOURCE, paths_or_payload)], []
    else:
        items = list(paths_or_payload)
    loaded, problems = [], []
    for item in items:
        if isinstance(item, (dict, list)):
            loaded.append((PAYLOAD_SOURCE, item))
            continue
        source = os.path.basename(os.fspath(item))
        try:
            with open(item, "rb") as handle:
                text, _ = decode_bytes(handle.read())
            loaded.append((source, json.loads(text)))
        except (OSError, UnreadableFile) as error:
            problems.append(ImportProblem(source, None, None, None, f"cannot read file: {error}"))
        except json.JSONDecodeError as error:
            problems.append(ImportProblem(source, error.lineno, None, None,
                                          f"not valid JSON: {error.msg}"))
    return loaded, problems


def find_records(data, list_keys: tuple[str, ...], single_keys: tuple[str, ...] = ()):
    """The records inside any of the channel's response wrappers.

    Walks nested objects until it meets one of ``list_keys`` holding a list (the search
    response) or one of ``single_keys`` holding one object (the full-info response).
    A bare list is taken to be the records themselves. None when nothing is found.
    """
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return None
    for key in list_keys:
        value = data.get(key)
        if isinstance(value, list):
            return value
    for key in single_keys:
        value = data.get(key)
        if isinstance(value, dict):
            return [value]
    for value in data.values():
        if isinstance(value, dict):
            found = find_records(value, list_keys, single_keys)
            if found is not None:
                return found
    return None


def error_response(data) -> str | None:
    """The channel's own error text when the file holds an error response instead of orders."""
    if not isinstance(data, dict):
        return None
    body = data.get("error_response")
    if isinstance(body, dict):
        return str(body.get("sub_msg") or body.get("msg") or body)
    return None
