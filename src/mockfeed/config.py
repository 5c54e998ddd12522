"""Server configuration: which exchanges, where, with which pairs and seed."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from mockfeed.exchanges.exchange_type import ExchangeType
from mockfeed.market import DEFAULT_PAIRS, PairSpec, pair_spec


def _exchanges(value: Iterable[ExchangeType | str] | ExchangeType | str) -> tuple[ExchangeType, ...]:
    if isinstance(value, str):
        value = [value]
    out = tuple(ExchangeType(v) for v in value)
    if not out:
        raise ValueError("at least one exchange is needed")
    if len(set(out)) != len(out):
        raise ValueError("an exchange is listed twice")
    return out


def _pairs(value: Iterable[PairSpec | str]) -> tuple[PairSpec, ...]:
    out = tuple(v if isinstance(v, PairSpec) else pair_spec(v) for v in value)
    if not out:
        raise ValueError("at least one pair is needed")
    if len({p.name for p in out}) != len(out):
        raise ValueError("a pair is listed twice")
    return out


def _port(value: int | None) -> int | None:
    if value is not None and not 0 <= value <= 65535:
        raise ValueError(f"port {value} is outside 0..65535")
    return value


@attrs.frozen
class ServerConfig:
    """What to serve.

    ``port``/``ws_port`` of None use each exchange's fixed default ports; 0 asks for ephemeral ports;
    any other value is the first exchange's port, the k-th exchange listening on ``port + 2k``
    (and ``ws_port + 2k``).
    """

    exchanges: tuple[ExchangeType, ...] = attrs.field(
        default=(ExchangeType.BINANCE_SPOT,), converter=_exchanges
    )
    host: str = "127.0.0.1"
    port: int | None = attrs.field(default=None, converter=_port)
    ws_port: int | None = attrs.field(default=None, converter=_port)
    seed: int = 0
    pairs: tuple[PairSpec, ...] = attrs.field(
        default=tuple(pair_spec(p) for p in DEFAULT_PAIRS), converter=_pairs
    )

    def ports(self, exchange: ExchangeType) -> tuple[int, int]:
        """(REST port, WS port) for one of the configured exchanges."""
        k = self.exchanges.index(exchange)
        rest = exchange.default_rest_port if self.port is None else self.port and self.port + 2 * k
        ws = exchange.default_ws_port if self.ws_port is None else self.ws_port and self.ws_port + 2 * k
        return rest, ws
