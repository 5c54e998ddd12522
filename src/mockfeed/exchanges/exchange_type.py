"""The exchange products mockfeed knows by name."""

from __future__ import annotations

import enum


class ExchangeType(enum.StrEnum):
    """One exchange product (an exchange and a market type), named as on the CLI."""

    BINANCE_SPOT = "binance_spot"
    BINANCE_PERPETUAL = "binance_perpetual"
    BYBIT_SPOT = "bybit_spot"
    BYBIT_PERPETUAL = "bybit_perpetual"
    COINBASE_ADVANCED_TRADE = "coinbase_advanced_trade"
    KRAKEN_SPOT = "kraken_spot"
    KUCOIN_SPOT = "kucoin_spot"
    KUCOIN_PERPETUAL = "kucoin_perpetual"
    OKX_SPOT = "okx_spot"
    OKX_PERPETUAL = "okx_perpetual"
    GATE_IO_SPOT = "gate_io_spot"
    GATE_IO_PERPETUAL = "gate_io_perpetual"
    MEXC_SPOT = "mexc_spot"
    MEXC_PERPETUAL = "mexc_perpetual"
    HYPERLIQUID_SPOT = "hyperliquid_spot"
    HYPERLIQUID_PERPETUAL = "hyperliquid_perpetual"
    ASCEND_EX_SPOT = "ascend_ex_spot"

    @property
    def default_rest_port(self) -> int:
        """The fixed REST port used when none is given: 9100, 9102, ... in declaration order."""
        return 9100 + 2 * list(ExchangeType).index(self)

    @property
    def default_ws_port(self) -> int:
        """The fixed WebSocket port used when none is given: the REST port plus one."""
        return self.default_rest_port + 1
