"""Pointing an unmodified ccxt client at a mockfeed server: only URLs change."""

from __future__ import annotations

import re
from typing import Any

_ORIGIN = re.compile(r"^[a-z]+://[^/]+")


def rewrite_urls(urls: dict[str, Any], rest_url: str, ws_url: str) -> dict[str, Any]:
    """Every URL under ccxt's ``urls['api']`` with its origin replaced by the mock's."""
    out: dict[str, Any] = {}
    for key, value in urls.items():
        if isinstance(value, dict):
            out[key] = rewrite_urls(value, rest_url, ws_url)
        elif isinstance(value, str):
            base = ws_url if value.startswith("ws") else rest_url
            out[key] = _ORIGIN.sub(base, value)
        else:
            out[key] = value
    return out
