"""Bullet tokens: issued by ``POST /api/v1/bullet-public``, checked when a WebSocket connects.

A token is self-validating (issue time and nonce, then a keyed digest), so any mockfeed process with
the same seed accepts it: replicas need no shared state. It lasts 24 hours, as KuCoin's do. The shape
follows KuCoin's (base64 with padding, a dot, base64), in the URL-safe alphabet only, so a client that
forgets to percent-encode it still connects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import struct
from enum import Enum

TOKEN_LIFETIME_MS = 24 * 3_600_000
_PAYLOAD = struct.Struct(">QQ")  # issue time (ms), nonce
_DIGEST_BYTES = 16


class TokenState(Enum):
    """What a presented token turns out to be."""

    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"


class TokenIssuer:
    """Issues and checks the bullet tokens of one exchange product."""

    def __init__(self, key: str) -> None:
        self._key = key.encode()
        self._nonces = itertools.count(1)

    def _digest(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_DIGEST_BYTES]

    def issue(self, now_ms: int) -> str:
        """A fresh token issued at ``now_ms``."""
        payload = _PAYLOAD.pack(now_ms, next(self._nonces))
        head = base64.urlsafe_b64encode(payload + b"mockfeed").decode()
        return f"{head}.{base64.urlsafe_b64encode(self._digest(payload)).decode()}"

    def check(self, token: str | None, now_ms: int) -> TokenState:
        """Whether ``token`` was issued here and is still valid at ``now_ms``."""
        if not token:
            return TokenState.INVALID
        head, _, tail = token.partition(".")
        try:
            raw = base64.urlsafe_b64decode(head.encode())
            digest = base64.b64decode(tail.encode(), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            return TokenState.INVALID
        payload = raw[: _PAYLOAD.size]
        if len(payload) != _PAYLOAD.size or not hmac.compare_digest(digest, self._digest(payload)):
            return TokenState.INVALID
        issued_ms, _ = _PAYLOAD.unpack(payload)
        return TokenState.EXPIRED if now_ms - issued_ms >= TOKEN_LIFETIME_MS else TokenState.VALID
