"""Kraken's public REST throttle: about one request per second per IP, per pair for OHLC and Trades.

Kraken publishes no exact figure ("1 request per second is safe", support article); mockfeed admits
5 requests in any 5 seconds per IP and endpoint (and per ``pair`` on OHLC and Trades), which keeps a
client spaced at 1 s safe despite jitter. Over it: ``{"error":["EGeneral:Too many requests"]}``
with HTTP 200 (the status is UNVERIFIED), which ccxt raises as DDoSProtection.
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestRequest, RestResponse
from mockfeed.exchanges.kraken.errors import KrakenError
from mockfeed.exchanges.ratelimit import SlidingWindow

LIMIT = 5
WINDOW_MS = 5_000
PER_PAIR = ("/0/public/OHLC", "/0/public/Trades")
TOO_MANY = KrakenError("EGeneral:Too many requests").response()


class KrakenLimits:
    """Per (IP, endpoint[, pair]) sliding windows (times are wall ms)."""

    def __init__(self) -> None:
        self.window = SlidingWindow(LIMIT, WINDOW_MS)

    def check(self, request: RestRequest) -> RestResponse | None:
        """None if admitted (and counted), else Kraken's throttle error."""
        pair = ""
        if request.path in PER_PAIR:
            pair = next((value for key, value in request.query if key == "pair"), "")
        key = (request.client, request.path, pair)
        return None if self.window.hit(key, request.wall_ms).admitted else TOO_MANY
