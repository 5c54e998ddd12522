"""Gate's public rate limit: 200 requests per 10 s, per endpoint and IP, and its headers.

Every answer reports the count (``X-Gate-RateLimit-*``); with rate limits enforced, the 201st request
of a window is refused with HTTP 429 ``{"label":"TOO_MANY_REQUESTS","message":...}`` and the same
headers, counting nothing. Windows are aligned 10-second spans of the market clock, the time the
``Reset-Timestamp`` header is written in (real time at the default speed).
"""

from __future__ import annotations

import re

from mockfeed.exchanges.base import RestResponse, json_response

LIMIT = 200
WINDOW_MS = 10_000


class RateMeter:
    """Requests per (client, endpoint) in fixed 10-second windows."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._used: dict[tuple[str, str], tuple[int, int]] = {}
        self._max_keys = max_keys

    def refusal(self, client: str, endpoint: str, now_ms: int) -> RestResponse | None:
        """Gate's 429 if ``client`` used up ``endpoint``'s window, else None (counting nothing)."""
        window = now_ms // WINDOW_MS
        seen, used = self._used.get((client, endpoint), (window, 0))
        if seen != window or used < LIMIT:
            return None
        return json_response(
            429, {"label": "TOO_MANY_REQUESTS", "message": "Request Rate limit Exceeded"},
            _headers(used, window),
        )

    def headers(self, client: str, endpoint: str, now_ms: int) -> tuple[tuple[str, str], ...]:
        """Count one request and return the ``X-Gate-RateLimit-*`` headers for its response."""
        window = now_ms // WINDOW_MS
        key = (client, endpoint)
        seen, used = self._used.get(key, (window, 0))
        used = used + 1 if seen == window else 1
        if len(self._used) >= self._max_keys and key not in self._used:
            self._used.clear()
        self._used[key] = (window, used)
        return _headers(used, window)


def _headers(used: int, window: int) -> tuple[tuple[str, str], ...]:
    return (
        ("X-Gate-RateLimit-Requests-Remain", str(max(0, LIMIT - used))),
        ("X-Gate-RateLimit-Limit", str(LIMIT)),
        ("X-Gate-RateLimit-Reset-Timestamp", str((window + 1) * WINDOW_MS // 1000)),
    )


def endpoint_of(path: str, patterns: list[tuple[str, re.Pattern[str]]]) -> str | None:
    """The route pattern (``/api/v4/futures/{settle}/candlesticks``) ``path`` is counted under."""
    return next((name for name, regex in patterns if regex.fullmatch(path)), None)


def compile_routes(paths: list[str]) -> list[tuple[str, re.Pattern[str]]]:
    """(pattern, regex) pairs for route paths with ``{name}`` segments; literal routes first."""
    compiled = [(p, re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(p)))) for p in paths]
    return sorted(compiled, key=lambda item: "{" in item[0])
