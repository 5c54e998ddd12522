"""Encoded rows of closed candles, which never change: encode once, serve from memory after.

Rows are encoded either from :class:`Candle` objects by a plugin's own function, or straight from
the model's integers (:data:`~mockfeed.market.model.RawCandle`) by a :class:`Layout`: a row
described as data (literal bytes and numeric fields), formatted without ``Decimal``, a whole batch
at a time with numpy when the model hands out numpy columns. Both give the same bytes.
"""

from __future__ import annotations

import enum
import operator
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from mockfeed.market import Candle, Interval, MarketModel
from mockfeed.market.model import RawCandle

Encoder = Callable[[Candle], bytes]

_INT64_MAX = 2**63 - 1
_DIGITS = 20  # an int64 has at most 19 digits; five groups of four


class Kind(enum.Enum):
    """How a :class:`Field` writes its integer."""

    INT = "int"  # plain integer: (value + offset) // divisor
    FIXED = "fixed"  # exactly ``places`` digits after the point (``f"{d:.8f}"``)
    PLAIN = "plain"  # no trailing zeros, no exponent (``f"{d.normalize():f}"``)
    POINT = "point"  # PLAIN, but at least one digit after the point (``61230.0``)
    FLAG = "flag"  # one of two texts by the ``closed`` flag


@attrs.frozen
class Field:
    """One number of a row: column ``column`` of a raw candle, scaled to ``places`` digits."""

    column: int
    kind: Kind
    scale: int = 1  # FIXED/PLAIN: units of 10**-places per raw unit
    places: int = 0
    divisor: int = 1  # INT only
    offset: int = 0  # INT only
    texts: tuple[bytes, bytes] = (b"", b"")  # FLAG: (open, closed)

    def text(self, value: int) -> str:
        """The field's text for one raw value (the pure-Python path)."""
        if self.kind is Kind.INT:
            return str((value + self.offset) // self.divisor)
        if self.kind is Kind.FLAG:
            return self.texts[bool(value)].decode()
        digits = str(value * self.scale)
        places = self.places
        if not places:
            return digits
        if len(digits) <= places:
            digits = digits.rjust(places + 1, "0")
        text = f"{digits[:-places]}.{digits[-places:]}"
        if self.kind is Kind.POINT:
            text = text.rstrip("0")
            return text + "0" if text.endswith(".") else text
        return text.rstrip("0").rstrip(".") if self.kind is Kind.PLAIN else text


def integer(column: int, divisor: int = 1, offset: int = 0) -> Field:
    """An integer column (times in ms or s, trade counts, lots)."""
    return Field(column, Kind.INT, divisor=divisor, offset=offset)


def _units(step: Decimal) -> tuple[int, int]:
    """``step`` as ``(m, d)`` with ``step == m × 10**-d`` and ``d ≥ 0``."""
    sign, digits, exponent = step.normalize().as_tuple()
    assert isinstance(exponent, int) and not sign
    mantissa = int("".join(map(str, digits)))
    return (mantissa, -exponent) if exponent < 0 else (mantissa * 10**exponent, 0)


def fixed(column: int, step: Decimal, places: int) -> Field:
    """``raw × step`` with exactly ``places`` digits after the point; ValueError if it would round."""
    mantissa, decimals = _units(step)
    if places < decimals:
        raise ValueError(f"a step of {step} does not fit in {places} places")
    return Field(column, Kind.FIXED, scale=mantissa * 10 ** (places - decimals), places=places)


def plain(column: int, step: Decimal, point: bool = False) -> Field:
    """``raw × step`` in plain notation without trailing zeros (``Decimal.normalize``, ``f``);
    with ``point``, whole numbers keep ``.0``."""
    mantissa, decimals = _units(step)
    if not point:
        return Field(column, Kind.PLAIN, scale=mantissa, places=decimals)
    places = max(decimals, 1)  # a whole step still writes its ".0"
    return Field(column, Kind.POINT, scale=mantissa * 10 ** (places - decimals), places=places)


def flag(open_text: str, closed_text: str) -> Field:
    """A text chosen by the candle's ``closed`` flag."""
    return Field(11, Kind.FLAG, texts=(open_text.encode(), closed_text.encode()))


class Layout:
    """A row as literal bytes and :class:`Field` values, in order, encodable from raw integers."""

    def __init__(self, *parts: str | Field) -> None:
        self.parts = tuple(p.encode() if isinstance(p, str) else p for p in parts)
        self.fields = [p for p in self.parts if isinstance(p, Field)]
        literals = [p.replace(b"%", b"%%") if isinstance(p, bytes) else b"%s" for p in self.parts]
        self._template = b"".join(literals).decode()

    def row(self, raw: RawCandle) -> bytes:
        """One encoded row (the pure-Python path)."""
        return (self._template % tuple(f.text(raw[f.column]) for f in self.fields)).encode()

    def columns(self, columns: Any) -> list[bytes]:
        """Rows of closed candles from eleven columns (a numpy array or lists, as the model gives)."""
        if isinstance(columns, list):
            return [self.row((*values, True)) for values in zip(*columns, strict=True)]
        rows = _numpy_rows(self, columns)
        if rows is None:  # a value too large for int64 once scaled, or too many places
            return self.columns(columns.tolist())
        return rows


_tables: tuple[Any, Any, Any] | None = None


def _numpy_tables() -> tuple[Any, Any, Any]:
    """numpy, the 4-digit groups 0000-9999 as uint32 (ASCII), and powers of ten 10..10**18."""
    global _tables
    if _tables is None:
        import numpy as np

        groups = np.frombuffer(b"".join(b"%04d" % i for i in range(10_000)), dtype=np.uint32)
        powers = np.array([10**i for i in range(1, 19)], dtype=np.int64)
        _tables = (np, groups, powers)
    return _tables


def _numpy_rows(layout: Layout, columns: Any) -> list[bytes] | None:
    """The rows of an (11, n) int64 block, every number formatted at once;
    None when a value does not fit (int64 overflow once scaled).

    Each number becomes ASCII digits, four at a time from a table; each field takes, in every row,
    as many characters as its widest value, with a mask of the characters to keep (leading zeros,
    and trailing ones of plain numbers, are dropped). The rows are the kept characters, read row by
    row from a matrix built a character position at a time.
    """
    np, groups, powers = _numpy_tables()
    n = columns.shape[1]
    numeric = [f for f in layout.fields if f.kind is not Kind.FLAG]
    if not n:
        return []
    units = np.empty((len(numeric), n), dtype=np.int64)
    for i, f in enumerate(numeric):
        values = columns[f.column]
        if f.kind is Kind.INT:
            if f.offset and int(values.max()) > _INT64_MAX - f.offset:
                return None
            units[i] = (values + f.offset) // f.divisor if f.divisor != 1 or f.offset else values
        elif f.scale != 1:
            if int(values.max()) > _INT64_MAX // f.scale:
                return None
            np.multiply(values, f.scale, out=units[i])
        else:
            units[i] = values
    counts = np.searchsorted(powers, units, side="right") + 1  # digits of each number
    places = [f.places for f in numeric]
    size = max(int(counts.max()), max(places) + 1)
    if size > _DIGITS:
        return None
    width = -(-size // 4) * 4
    index = np.empty((width // 4, len(numeric), n), dtype=np.int64)  # groups of 4 digits, last first
    rest = units
    for g in range(width // 4 - 1, 0, -1):
        quotient = rest // 10_000
        np.subtract(rest, quotient * 10_000, out=index[g])
        rest = quotient
    index[0] = rest
    # Work column-major (a character position of every row at a time: long contiguous runs).
    grouped = np.take(groups, index).view(np.uint8).reshape(width // 4, len(numeric), n, 4)
    digits = np.ascontiguousarray(grouped.transpose(1, 0, 3, 2)).reshape(len(numeric), width, n)
    whole = np.maximum(counts - np.array(places)[:, None], 1)  # digits before the point
    widths = whole.max(axis=1).tolist()
    ragged = (whole.min(axis=1) < whole.max(axis=1)).tolist()  # fields whose widths differ by row
    # Every row starts as a template: the literals, and zeros and points where the numbers go.
    slots = _slots(layout, widths, places)
    template = b"".join(text if field is None else b"0" * w + (b"." + b"0" * p if p else b"")
                        for text, field, w, p in slots)
    matrix = np.empty((len(template), n), dtype=np.uint8)
    matrix[:] = np.frombuffer(template, dtype=np.uint8)[:, None]
    keep = np.ones((len(template), n), dtype=bool)
    lengths = whole.sum(axis=0) + sum(len(text) for text, field, _, _ in slots if field is None)
    steps = np.arange(max(max(widths), max(places)))[:, None]
    at = number = 0
    for text, field, w, p in slots:
        if field is None:
            at += len(text)
            continue
        d = digits[number]
        matrix[at : at + w] = d[width - p - w : width - p]
        if ragged[number]:
            np.greater_equal(steps[:w], w - whole[number], out=keep[at : at + w])
        number += 1
        at += w
        if not p:
            continue
        fraction = d[width - p :]
        matrix[at + 1 : at + 1 + p] = fraction
        if field.kind is Kind.PLAIN or field.kind is Kind.POINT:
            zeros = np.logical_and.accumulate(fraction[::-1] == 48, axis=0).sum(axis=0)
            if field.kind is Kind.POINT:
                zeros = np.minimum(zeros, p - 1)
            keep[at] = zeros < p
            np.less(steps[:p], p - zeros, out=keep[at + 1 : at + 1 + p])
            lengths += (p - zeros) + (zeros < p)
        else:
            lengths += p + 1
        at += p + 1
    data = matrix.T[keep.T].tobytes()
    ends = np.cumsum(lengths).tolist()
    return [data[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _slots(
    layout: Layout, widths: list[int], places: list[int]
) -> list[tuple[bytes, Field | None, int, int]]:
    """A closed row's parts: (text, None, 0, 0) for literals (and flags), else (b"", field, digits
    before the point, places)."""
    slots: list[tuple[bytes, Field | None, int, int]] = []
    number = 0
    for part in layout.parts:
        if isinstance(part, bytes):
            slots.append((part, None, 0, 0))
        elif part.kind is Kind.FLAG:
            slots.append((part.texts[1], None, 0, 0))
        else:
            slots.append((b"", part, widths[number], places[number]))
            number += 1
    return slots


RowEncoder = Encoder | Layout


class RowCache:
    """Encoded rows by (pair, interval, variant) and open time, bounded in total.

    Closed candles are kept until the bound is reached (then the oldest series is dropped); the
    forming candle is kept only for the second it was computed in, since it changes every second.
    ``variant`` separates encodings of the same candle (precision, row layout...). Whole pages of
    closed rows are also kept, joined, up to ``max_page_bytes`` (least recently used dropped first),
    so a page asked for again costs one lookup and one copy. Everything is dropped when the model's
    scenario changes (:attr:`MarketModel.generation`).
    """

    def __init__(self, model: MarketModel, max_rows: int = 50_000, max_page_bytes: int = 8 << 20) -> None:
        self.model = model
        self.max_rows = max_rows
        self.max_page_bytes = max_page_bytes
        self._series: dict[tuple[str, Interval, Hashable], dict[int, bytes]] = {}
        self._forming: dict[tuple[str, Interval, Hashable], tuple[int, int, bytes]] = {}
        self._count = 0
        #: By page: (its closed rows joined, the last rows after them, the last body).
        self._pages: OrderedDict[tuple[object, ...], tuple[bytes, list[bytes], bytes]] = OrderedDict()
        self._page_bytes = 0
        self._generation = model.generation

    def _check_generation(self) -> None:
        """Forget every row and page if the model's scenario changed since they were encoded."""
        if self._generation != self.model.generation:
            self._generation = self.model.generation
            self._series.clear()
            self._forming.clear()
            self._pages.clear()
            self._count = self._page_bytes = 0

    def info(self) -> dict[str, int]:
        """Rows and page bytes held, and their bounds."""
        return {
            "rows": self._count,
            "max_rows": self.max_rows,
            "page_bytes": self._page_bytes,
            "max_page_bytes": self.max_page_bytes,
        }

    def rows(
        self,
        pair: str,
        interval: Interval,
        opens: Sequence[int],
        now_ms: int,
        encode: RowEncoder,
        variant: Hashable = "",
    ) -> list[bytes]:
        """The encoded rows for ``opens`` (in that order), computing only what is not cached."""
        found = self._aligned(pair, interval, opens, now_ms, encode, variant)
        return [row for row in found if row is not None]

    def page(
        self,
        pair: str,
        interval: Interval,
        opens: Sequence[int],
        now_ms: int,
        encode: RowEncoder,
        variant: Hashable = "",
        newest_first: bool = False,
    ) -> bytes:
        """The JSON array of the rows for ``opens``: consecutive open times, ascending (as
        :meth:`MarketModel.open_times` gives them), written oldest first or ``newest_first``."""
        self._check_generation()
        closed = bisect_left(opens, interval.floor(now_ms))  # only these never change
        memo_key = (pair, interval, variant, newest_first, closed and opens[0], closed and opens[closed - 1], closed)
        memo = self._pages.get(memo_key) if closed else None
        if memo is not None:
            self._pages.move_to_end(memo_key)
            joined, last_tail, last_body = memo
            tail = self.rows(pair, interval, opens[closed:], now_ms, encode, variant)
            if len(tail) == len(last_tail) and all(map(operator.is_, tail, last_tail)):
                # The same bytes object as last time: a fresh 170 KB body per request costs more
                # in allocation and page faults than building it (a quarter of a static server's
                # throughput).
                return last_body
        else:
            found = self._aligned(pair, interval, opens, now_ms, encode, variant)
            done = found[:closed]
            if None in done:
                done = [row for row in done if row is not None]
            if newest_first:
                done.reverse()
            if closed == len(found):  # all closed: one copy, and nothing kept to join a tail to
                body = json_array(done)  # type: ignore[arg-type]
                if closed:
                    self._remember_page(memo_key, b"", [], body)
                return body
            tail = [row for row in found[closed:] if row is not None]
            joined = b",".join(done)  # type: ignore[arg-type]
        closed_part = [joined] if joined else []
        body = json_array([*tail[::-1], *closed_part] if newest_first else [*closed_part, *tail])
        if closed:
            self._remember_page(memo_key, joined, tail, body)
        return body

    def _aligned(
        self,
        pair: str,
        interval: Interval,
        opens: Sequence[int],
        now_ms: int,
        encode: RowEncoder,
        variant: Hashable,
    ) -> list[bytes | None]:
        """Rows for ``opens``, aligned with them (None where no candle exists)."""
        self._check_generation()
        key = (pair, interval, variant)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = {}
        forming_open = interval.floor(now_ms)
        # A stored row is closed; after the clock is set back its candle may be forming again.
        if opens and _newest(opens) < forming_open:
            found: list[bytes | None] = list(map(series.get, opens))  # a page of the past
        else:
            found = [series.get(t) if t < forming_open else None for t in opens]
        if None not in found:
            return found
        now_s = now_ms // 1000
        forming = self._forming.get(key)
        if forming is not None and (forming[0], forming[1]) == (forming_open, now_s):
            found = [forming[2] if t == forming_open else row for t, row in zip(opens, found, strict=True)]
            if None not in found:
                return found
        missing = found.count(None)
        if missing == len(found):  # a cold page: loops over its rows kept to C speed
            wanted = list(opens) if _ascending(opens) else sorted(opens)
        else:
            wanted = sorted(t for t, row in zip(opens, found, strict=True) if row is None)
        fresh = self._encode(pair, interval, wanted, now_ms, encode)
        newest = fresh.get(wanted[-1])
        if wanted[-1] >= forming_open and newest is not None:
            self._forming[key] = (wanted[-1], now_s, newest)
        closed = fresh
        if wanted[-1] >= forming_open or None in fresh.values():
            closed = {t: row for t, row in fresh.items() if row is not None and t < forming_open}
        self._store(series, closed)  # type: ignore[arg-type]
        if missing == len(found):
            return list(map(fresh.get, opens))
        return [fresh.get(t) if row is None else row for t, row in zip(opens, found, strict=True)]

    def _encode(
        self, pair: str, interval: Interval, wanted: list[int], now_ms: int, encode: RowEncoder
    ) -> dict[int, bytes | None]:
        """Encoded rows of ``wanted`` (ascending), in one model batch."""
        model = self.model.pair(pair)
        if not isinstance(encode, Layout):
            candles = model.candles_at(interval, wanted, now_ms)
            return {t: None if c is None else encode(c) for t, c in zip(wanted, candles, strict=True)}
        out: dict[int, bytes | None] = {}
        blocks, singles = model.raw_columns(interval, wanted, now_ms)
        for slots, columns in blocks:
            out.update(zip([wanted[j] for j in slots], encode.columns(columns), strict=True))
        for j, raw in singles:
            out[wanted[j]] = None if raw is None else encode.row(raw)
        return out

    def _store(self, series: dict[int, bytes], rows: dict[int, bytes]) -> None:
        """Keep new closed ``rows`` of ``series``, emptying the oldest series while over the bound."""
        if len(rows) > self.max_rows:
            return
        while self._count + len(rows) > self.max_rows:
            # Empty the oldest series and move it last (callers may hold it, so it stays the same dict).
            oldest = next(iter(self._series))
            emptied = self._series.pop(oldest)
            self._count -= len(emptied)
            emptied.clear()
            self._series[oldest] = emptied
        series.update(rows)
        self._count += len(rows)

    def _remember_page(self, key: tuple[object, ...], joined: bytes, tail: list[bytes], body: bytes) -> None:
        """Keep a page's joined closed rows, and its last body with the rows it ended with."""
        old = self._pages.pop(key, None)
        if old is not None:
            self._page_bytes -= len(old[0]) + len(old[2])
        size = len(joined) + len(body)
        if size > self.max_page_bytes:
            return
        self._pages[key] = (joined, tail, body)
        self._page_bytes += size
        while self._page_bytes > self.max_page_bytes:
            _, (dropped, _, last) = self._pages.popitem(last=False)
            self._page_bytes -= len(dropped) + len(last)


def _ascending(values: Sequence[int]) -> bool:
    return (isinstance(values, range) and values.step > 0) or all(map(int.__lt__, values, values[1:]))


def _newest(opens: Sequence[int]) -> int:
    return opens[-1] if isinstance(opens, range) and opens.step > 0 else max(opens)


def json_array(rows: list[bytes]) -> bytes:
    """``[row,row,...]`` from encoded JSON rows, every byte copied once."""
    if len(rows) > 4:
        edged = list(rows)
        edged[0] = b"[" + edged[0]
        edged[-1] += b"]"
        return b",".join(edged)
    pieces = [b"["]
    for row in rows:
        pieces += (row, b",")
    pieces[-1 if rows else 1:] = [b"]"]
    return b"".join(pieces)
