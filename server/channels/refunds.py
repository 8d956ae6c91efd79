"""Refund adapters (售后 / 退款单), beside the order adapters: importing this module registers
them all (refund_base.get_refund_adapter)."""
from .refund_base import (REFUND_STATES, ParsedRefund, RefundParseResult, UnknownRefundAdapter,
                          get_refund_adapter, refund_adapter_names, register_refund_adapter)
from . import tmall_refund_csv, top_refund_json, jd_refund_json, douyin_refund_json  # noqa: E402,F401

#: ``--channel`` of ``wavefloor refunds import`` -> adapter
REFUND_ADAPTERS = {"tmall": "tmall_refund_csv", "top": "top_refund_json", "jd": "jd_refund_json",
                   "douyin": "douyin_refund_json"}

__all__ = ["REFUND_STATES", "ParsedRefund", "RefundParseResult", "UnknownRefundAdapter",
           "get_refund_adapter", "refund_adapter_names", "register_refund_adapter", "REFUND_ADAPTERS"]
