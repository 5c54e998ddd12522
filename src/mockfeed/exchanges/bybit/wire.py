"""Bybit v5 wire conventions shared by REST and WebSocket: the envelope and number strings."""

from __future__ import annotations

from decimal import Decimal


def envelope(result: object, now_ms: int, code: int = 0, msg: str = "OK") -> dict[str, object]:
    """The v5 REST envelope; ``retCode`` must be present (ccxt raises without it) and ``time`` is ms."""
    return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}, "time": now_ms}


def plain(value: Decimal) -> str:
    """A decimal as Bybit prints prices and sizes: no exponent, no trailing zeros (``"64260"``)."""
    return format(value.normalize(), "f")
