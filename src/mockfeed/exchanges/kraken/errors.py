"""Kraken's native REST error bodies: ``{"error": ["<Category>:<message>"]}``, mostly with HTTP 200."""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse, json_response


class KrakenError(Exception):
    """A request Kraken would refuse: its error string and HTTP status (Kraken answers 200 for most)."""

    def __init__(self, text: str, status: int = 200) -> None:
        super().__init__(text)
        self.text = text
        self.status = status

    def response(self) -> RestResponse:
        """The native error response (no ``result`` key, as Kraken sends it)."""
        return json_response(self.status, {"error": [self.text]})


INVALID_ARGUMENTS = "EGeneral:Invalid arguments"  # missing or malformed parameter; bad interval (3P live)
UNKNOWN_ASSET_PAIR = "EQuery:Unknown asset pair"  # 3P live
UNKNOWN_ASSET = "EQuery:Unknown asset"
UNKNOWN_METHOD = "EGeneral:Unknown method"  # with HTTP 404 (3P live)
INTERNAL_ERROR = "EGeneral:Internal error"


def invalid_arguments() -> KrakenError:
    """A missing, empty or malformed parameter, or a value outside its set."""
    return KrakenError(INVALID_ARGUMENTS)


def unknown_asset_pair() -> KrakenError:
    """A pair name Kraken does not list."""
    return KrakenError(UNKNOWN_ASSET_PAIR)


def unknown_asset() -> KrakenError:
    """An asset name Kraken does not list."""
    return KrakenError(UNKNOWN_ASSET)
