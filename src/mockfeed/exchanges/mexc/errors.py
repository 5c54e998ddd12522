"""MEXC's native REST error bodies, one envelope per API.

* Spot v3 (``/api/v3``) answers like Binance, with an extra ``_extend``:
  ``{"msg": "Invalid symbol.", "code": -1121, "_extend": null}`` and HTTP 400.
* Contract v1 (``/api/v1/contract``) keeps its success envelope and says why in ``message``:
  ``{"success": false, "code": 600, "message": "Param error!"}`` with HTTP 200.

Observed codes (spec §5.1, §6.1 and ccxt's error map): -1121 for a bad symbol *and* a bad interval,
-1128 for an invalid combination, 1001 "contract does not exist", 600 "Param error!". The wording of
the other Binance-style spot codes (-1100, -1102, -1130) is Binance's, which MEXC's v3 API mirrors;
which of them MEXC sends for which malformed query is UNVERIFIED.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

from mockfeed.exchanges.base import RestResponse, json_response

NUMBER_RANGE = "^[0-9]{1,20}$"


class Api(enum.Enum):
    """MEXC's two public REST APIs, which also differ in their error envelope."""

    SPOT = "spot"
    CONTRACT = "contract"


def _spot_body(code: int, msg: str) -> dict[str, object]:
    return {"msg": msg, "code": code, "_extend": None}


def _contract_body(code: int, msg: str) -> dict[str, object]:
    return {"success": False, "code": code, "message": msg}


_BODIES: Mapping[Api, Callable[[int, str], dict[str, object]]] = {
    Api.SPOT: _spot_body,
    Api.CONTRACT: _contract_body,
}


class MexcError(Exception):
    """A request MEXC would refuse: native code, message and HTTP status, in one API's envelope."""

    def __init__(self, api: Api, code: int, msg: str, status: int) -> None:
        super().__init__(msg)
        self.api = api
        self.code = code
        self.msg = msg
        self.status = status

    def response(self) -> RestResponse:
        """The native error response."""
        return json_response(self.status, _BODIES[self.api](self.code, self.msg))


# -- spot v3 ------------------------------------------------------------------------------------


def spot(code: int, msg: str, status: int = 400) -> MexcError:
    """A spot v3 error (HTTP 400 unless told)."""
    return MexcError(Api.SPOT, code, msg, status)


def spot_missing(name: str) -> MexcError:
    """-1102: a mandatory parameter is absent or empty."""
    return spot(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def spot_illegal(name: str) -> MexcError:
    """-1100: a numeric parameter holds something else."""
    return spot(-1100, f"Illegal characters found in parameter '{name}'; legal range is '{NUMBER_RANGE}'.")


def spot_invalid(name: str) -> MexcError:
    """-1130: a parameter parses but its value is not allowed (e.g. ``limit=0``)."""
    return spot(-1130, f"Data sent for parameter '{name}' is not valid.")


SPOT_INVALID_SYMBOL = spot(-1121, "Invalid symbol.")
SPOT_INVALID_INTERVAL = spot(-1121, "Invalid interval.")  # sic: MEXC reuses -1121 here
SPOT_BAD_COMBINATION = spot(-1128, "Combination of optional parameters invalid.")
SPOT_NOT_FOUND = spot(404, "Not Found", 404)
SPOT_INTERNAL = spot(500, "Internal error", 500)


# -- contract v1 --------------------------------------------------------------------------------


def contract(code: int, msg: str, status: int = 200) -> MexcError:
    """A contract v1 error (HTTP 200 unless told: the envelope carries the failure)."""
    return MexcError(Api.CONTRACT, code, msg, status)


CONTRACT_NOT_EXIST = contract(1001, "Contract does not exist!")
CONTRACT_PARAM_ERROR = contract(600, "Param error!")
CONTRACT_NOT_FOUND = contract(404, "Not Found", 404)
CONTRACT_INTERNAL = contract(500, "System internal error!", 500)
