"""Adapters by name.

The built-in adapters register themselves exactly the way an outside package would:

    from server.channels import register_adapter, ParseResult

    @register_adapter("youzan_json")
    class YouzanAdapter:
        def parse(self, paths_or_payload, shop=None) -> ParseResult: ...

An installed package can also announce adapters through the ``wavefloor.channels`` entry
point group (``name = "package.module:AdapterClass"``); they are loaded the first time a name
is asked for that is not registered yet.
"""
from __future__ import annotations

from importlib import metadata
from typing import Any, Callable

ENTRY_POINT_GROUP = "wavefloor.channels"

_adapters: dict[str, Callable[..., Any]] = {}


class UnknownAdapter(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        known = ", ".join(adapter_names()) or "none"
        return f"no channel adapter named {self.name!r} (known: {known})"


class DuplicateAdapter(ValueError):
    pass


def register_adapter(name: str):
    """Class decorator: make the adapter available as ``get_adapter(name)``."""

    def decorate(factory):
        existing = _adapters.get(name)
        if existing is not None and _qualname(existing) != _qualname(factory):
            raise DuplicateAdapter(
                f"channel adapter {name!r} is already registered by {_qualname(existing)}")
        _adapters[name] = factory
        if isinstance(factory, type):
            factory.name = name
        return factory

    return decorate


def unregister_adapter(name: str) -> None:
    _adapters.pop(name, None)


def get_adapter(name: str, **options):
    """A fresh adapter instance; ``options`` go to its constructor (e.g. ``mapping=``)."""
    factory = _adapters.get(name)
    if factory is None:
        _load_entry_points()
        factory = _adapters.get(name)
    if factory is None:
        raise UnknownAdapter(name)
    return factory(**options)


def adapter_names() -> list[str]:
    return sorted(_adapters)


def _load_entry_points() -> None:
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in _adapters:
            continue
        register_adapter(entry_point.name)(entry_point.load())


def _qualname(factory) -> str:
    return f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', factory)}"
