"""Encoded rows of closed candles, which never change: encode once, serve from memory after."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from mockfeed.market import Candle, Interval, MarketModel

Encoder = Callable[[Candle], bytes]


class RowCache:
    """Encoded rows by (pair, interval, variant) and open time, bounded in total.

    Closed candles are kept until the bound is reached (then the oldest series is dropped); the
    forming candle is kept only for the second it was computed in, since it changes every second.
    ``variant`` separates encodings of the same candle (precision, row layout...).
    """

    def __init__(self, model: MarketModel, max_rows: int = 50_000) -> None:
        self.model = model
        self.max_rows = max_rows
        self._series: dict[tuple[str, Interval, Hashable], dict[int, bytes]] = {}
        self._forming: dict[tuple[str, Interval, Hashable], tuple[int, int, bytes]] = {}
        self._count = 0

    def rows(
        self,
        pair: str,
        interval: Interval,
        opens: list[int],
        now_ms: int,
        encode: Encoder,
        variant: Hashable = "",
    ) -> list[bytes]:
        """The encoded rows for ``opens`` (in that order), computing only what is not cached."""
        key = (pair, interval, variant)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = {}
        found = [series.get(open_ms) for open_ms in opens]
        if None not in found:
            return found  # type: ignore[return-value]
        model = self.model.pair(pair)
        now_s = now_ms // 1000
        forming = self._forming.get(key)
        wanted = [
            t for t, row in zip(opens, found, strict=True)
            if row is None and not (forming is not None and forming[0] == t and forming[1] == now_s)
        ]
        wanted.sort()  # the batch wants ascending opens, whatever order the page is in
        # One batch for everything missing: the model computes whole series of nodes at once.
        fresh = dict(zip(wanted, model.candles_at(interval, wanted, now_ms), strict=True))
        out: list[bytes] = []
        for open_ms, row in zip(opens, found, strict=True):
            if row is None:
                if open_ms not in fresh:
                    assert forming is not None
                    out.append(forming[2])
                    continue
                candle = fresh[open_ms]
                if candle is None:
                    continue
                row = encode(candle)
                if candle.closed:
                    self._store(series, open_ms, row)
                else:
                    self._forming[key] = (open_ms, now_s, row)
            out.append(row)
        return out

    def _store(self, series: dict[int, bytes], open_ms: int, row: bytes) -> None:
        if self._count >= self.max_rows:
            oldest = next(iter(self._series))
            self._count -= len(self._series[oldest])
            self._series[oldest].clear()
        series[open_ms] = row
        self._count += 1


def json_array(rows: list[bytes]) -> bytes:
    """``[row,row,...]`` from encoded JSON rows."""
    return b"[" + b",".join(rows) + b"]"
