"""The most expensive message a client can send a product: its valid requests grown to ~1 MiB.

Three ways: every string repeated, every list filled with copies of its first item, every list of
strings filled with distinct names. Used by ``test_big_requests.py`` and ``benchmarks.stress_big``.
"""

from __future__ import annotations

import json
from typing import Any

LIMIT = 2**20 - 1024  # just under trio-websocket's max_message_size
MODES = ("strings", "lists", "distinct")


def blow_up(node: Any, mode: str, budget: int = LIMIT) -> Any:
    """``node`` with its strings or lists grown to fill about ``budget`` characters."""
    if isinstance(node, dict):
        return {key: blow_up(value, mode, budget) for key, value in node.items()}
    if isinstance(node, list):
        if mode == "lists" and node:
            return [node[0]] * max(1, budget // (len(_dumps(node[0])) + 1))
        if mode == "distinct" and node and isinstance(node[0], str):
            return [f"{node[0]}{i}" for i in range(budget // (len(node[0]) + 9))]
        return [blow_up(value, mode, budget) for value in node]
    if isinstance(node, str) and mode == "strings":
        return (node + ",") * (budget // (len(node) + 1) // 2)
    return node


def big_text(message: Any, mode: str) -> str:
    """``message`` blown up in ``mode`` as compact JSON of at most :data:`LIMIT` characters."""
    budget = LIMIT
    for _ in range(8):
        text = _dumps(blow_up(message, mode, budget))
        if len(text) <= LIMIT:
            return text
        budget = int(budget * LIMIT / len(text) * 0.97)
    raise RuntimeError(f"cannot fit {message!r} ({mode}) under {LIMIT} characters")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
