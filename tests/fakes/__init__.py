"""Fake sales platforms and carrier services on 127.0.0.1, for tests that must not need the
internet. See platform.py for what every fake can be asked to do."""
from .doudian import FakeDoudian
from .jos import FakeJos
from .platform import FakePlatform, SortedStore
from .top import FakeTop

__all__ = ["FakePlatform", "SortedStore", "FakeTop", "FakeJos", "FakeDoudian"]
