"""MEXC's native answers for injected faults, by fault kind (see ``ExchangePlugin.fault_response``).

A server error comes in the envelope of the API asked (spot ``{"msg","code":500,"_extend"}``,
contract ``{"success":false,"code":500,...}``; ccxt: ExchangeError). Maintenance is the answer ccxt's
error table records for both APIs, ``{"code":500,"message":"Under maintenance, please try again
later","announcement":...}``, which ccxt raises as OnMaintenance (it matches "maintenance" in the
body); its HTTP status is UNVERIFIED (503 here). A backend timeout is nginx's 504 page (MEXC's API
sits behind nginx), ccxt RequestTimeout.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from mockfeed.exchanges import gateway
from mockfeed.exchanges.base import FaultKind, RestResponse
from mockfeed.exchanges.mexc import errors
from mockfeed.exchanges.mexc.errors import Api

MAINTENANCE = RestResponse(503, orjson.dumps({
    "code": 500,
    "message": "Under maintenance, please try again later",
    "announcement": "https://www.mexc.com/support/articles/17827791510263",
}))

FAULTS: Mapping[str, Mapping[Api, RestResponse]] = {
    FaultKind.SERVER_ERROR: {
        Api.SPOT: errors.SPOT_INTERNAL.response(),
        Api.CONTRACT: errors.CONTRACT_INTERNAL.response(),
    },
    FaultKind.MAINTENANCE: dict.fromkeys(Api, MAINTENANCE),
    FaultKind.TIMEOUT: dict.fromkeys(Api, gateway.GATEWAY_TIMEOUT),
}
