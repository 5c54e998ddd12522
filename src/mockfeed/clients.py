"""Pointing unmodified clients at a running mock: only their URLs change."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

_ORIGIN = re.compile(r"^[a-z]+://[^/]+")

Client = TypeVar("Client")


class Endpoints(Protocol):
    """Anything with the mock's base URLs (an exchange server, ``Server``, ``ThreadedServer``)."""

    @property
    def rest_url(self) -> str:
        """REST base URL."""
        ...

    @property
    def ws_url(self) -> str:
        """WebSocket base URL."""
        ...


def ccxt_urls(api_urls: Mapping[str, Any], rest_url: str, ws_url: str) -> dict[str, Any]:
    """A ccxt ``urls['api']`` mapping with every URL's origin replaced by the mock's, paths kept.

    ``ws``/``wss`` URLs go to ``ws_url``, the others to ``rest_url``; nested mappings (ccxt's
    ``ws`` and per-market sections) are rewritten throughout. ccxt itself is not imported.
    """
    out: dict[str, Any] = {}
    for key, value in api_urls.items():
        if isinstance(value, Mapping):
            out[key] = ccxt_urls(value, rest_url, ws_url)
        elif isinstance(value, str):
            out[key] = _ORIGIN.sub(ws_url if value.startswith("ws") else rest_url, value)
        else:
            out[key] = value
    return out


def point_ccxt(client: Client, server: Endpoints) -> Client:
    """Rewrite a ccxt (or ccxt.pro) client's ``urls['api']`` to ``server`` and return the client."""
    urls: Any = getattr(client, "urls")  # noqa: B009 - typed as Any: ccxt is not a dependency
    urls["api"] = ccxt_urls(urls["api"], server.rest_url, server.ws_url)
    return client
