"""Answers from the reverse proxy in front of an exchange's API, for faults the API never sees.

When an exchange's backend is down or too slow, the proxy (nginx at MEXC, for example) answers
instead of the API, with its own small HTML page and no JSON envelope; clients then go by the HTTP
status alone (ccxt: 502/503 ExchangeNotAvailable, 504 RequestTimeout).
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse

#: nginx's reason phrases for the statuses a proxy sends on its own.
REASONS = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


def proxy_page(status: int) -> RestResponse:
    """nginx's default error page for ``status`` (one of :data:`REASONS`)."""
    title = f"{status} {REASONS[status]}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    return RestResponse(status, page.encode(), content_type="text/html")


BAD_GATEWAY = proxy_page(502)
UNAVAILABLE = proxy_page(503)
GATEWAY_TIMEOUT = proxy_page(504)
