"""Hyperliquid's native HTTP error bodies: short plain-text lines from its axum server.

Hyperliquid answers a body that does not fit the request type with HTTP 422 and exactly
``Failed to deserialize the JSON body into the target type`` (no field detail: ccxt and client
logs quote the bare line), and a body that is not JSON with axum's HTTP 400 sibling line. Unknown
paths and wrong methods get axum's bare 404 and 405.
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse

TEXT = "text/plain; charset=utf-8"

DESERIALIZE_TEXT = "Failed to deserialize the JSON body into the target type"
PARSE_TEXT = "Failed to parse the request body as JSON"


def text_response(status: int, text: str) -> RestResponse:
    """A plain-text response, as axum writes its rejections."""
    return RestResponse(status, text.encode(), content_type=TEXT)


UNPROCESSABLE = text_response(422, DESERIALIZE_TEXT)
MALFORMED = text_response(400, PARSE_TEXT)
NOT_FOUND = text_response(404, "")
METHOD_NOT_ALLOWED = text_response(405, "")
INTERNAL = text_response(500, "Internal Server Error")
