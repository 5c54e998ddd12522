"""Gate's public rate-limit headers: 200 requests per 10 s, per endpoint and IP.

Counting only; refusing over-limit requests (HTTP 429 ``TOO_MANY_REQUESTS``) is a runtime fault.
"""

from __future__ import annotations

LIMIT = 200
WINDOW_MS = 10_000


class RateMeter:
    """Requests per (client, endpoint) in fixed 10-second windows."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._used: dict[tuple[str, str], tuple[int, int]] = {}
        self._max_keys = max_keys

    def headers(self, client: str, endpoint: str, now_ms: int) -> tuple[tuple[str, str], ...]:
        """Count one request and return the ``X-Gate-RateLimit-*`` headers for its response."""
        window = now_ms // WINDOW_MS
        key = (client, endpoint)
        seen, used = self._used.get(key, (window, 0))
        used = used + 1 if seen == window else 1
        if len(self._used) >= self._max_keys and key not in self._used:
            self._used.clear()
        self._used[key] = (window, used)
        return (
            ("X-Gate-RateLimit-Requests-Remain", str(max(0, LIMIT - used))),
            ("X-Gate-RateLimit-Limit", str(LIMIT)),
            ("X-Gate-RateLimit-Reset-Timestamp", str((window + 1) * WINDOW_MS // 1000)),
        )
