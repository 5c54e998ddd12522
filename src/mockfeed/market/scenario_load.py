"""Scenarios from TOML or JSON files, from plain data, or from event objects.

A file holds a list ``events`` of tables, each with a ``kind`` (``jump``, ``crash``, ``trend``,
``halt``, ``volatility``, ``listing``, ``gap``, ``maintenance``) and that event's fields (see :mod:`mockfeed.market.scenario`).
Every error is a :class:`~mockfeed.market.scenario.ScenarioError` that names the file and the key
path (``events[2].pct``), or the line and column of a syntax error.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import attrs

from mockfeed.market.scenario import EVENT_KINDS, Event, Maintenance, Scenario, ScenarioError, bind

__all__ = [
    "fits_config", "load_scenario", "parse_scenario", "scenario_from_data", "scenario_to_data", "to_scenario",
]


def _where(source: str | None) -> str:
    """The prefix naming where a scenario came from (None: nothing, the caller says it)."""
    return "" if source is None else f"scenario {source}: "


def load_scenario(path: str | os.PathLike[str]) -> Scenario:
    """Read a scenario file; its format follows the extension (``.toml`` or ``.json``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ScenarioError(f"scenario {path}: expected a .toml or .json file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"scenario {path}: cannot read: {error}") from None
    return parse_scenario(text, suffix[1:], str(path))


def parse_scenario(text: str, fmt: str, source: str | None = "<text>") -> Scenario:
    """A scenario from the text of a file, ``fmt`` being ``toml`` or ``json``."""
    try:
        if fmt == "toml":
            data: Any = tomllib.loads(text)
        elif fmt == "json":
            data = json.loads(text)
        else:
            raise ScenarioError(f"{_where(source)}unknown format {fmt!r} (toml or json)")
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{_where(source)}TOML syntax error: {error}") from None
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{_where(source)}JSON syntax error at line {error.lineno}, column {error.colno}: "
            f"{error.msg}"
        ) from None
    return scenario_from_data(data, source)


def scenario_from_data(data: object, source: str | None = "<data>") -> Scenario:
    """A scenario from ``{"events": [{"kind": ..., ...}, ...]}`` (parsed TOML or JSON)."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{_where(source)}expected a table with a list 'events'")
    unknown = sorted(set(data) - {"events"})
    if unknown:
        raise ScenarioError(f"{_where(source)}{unknown[0]}: unknown key (expected 'events')")
    items = data.get("events", [])
    if not isinstance(items, list):
        raise ScenarioError(f"{_where(source)}events: expected a list of tables")
    return Scenario(tuple(_event(item, f"events[{k}]", source) for k, item in enumerate(items)))


def _event(item: object, path: str, source: str | None) -> Event:
    if not isinstance(item, Mapping):
        raise ScenarioError(f"{_where(source)}{path}: expected a table")
    kind = item.get("kind")
    cls = EVENT_KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ScenarioError(
            f"{_where(source)}{path}.kind: expected one of {', '.join(EVENT_KINDS)}, not {kind!r}"
        )
    fields = {name: f for name, f in attrs.fields_dict(cls).items() if f.init}
    values = {key: value for key, value in item.items() if key != "kind"}
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            raise ScenarioError(
                f"{_where(source)}{path}.{key}: unknown key for a {kind} "
                f"(expected {', '.join(fields)})"
            )
        if field.converter is not None:
            try:
                cast(Callable[[object], object], field.converter)(value)
            except ScenarioError as error:
                raise ScenarioError(f"{_where(source)}{path}.{key}: {error}") from None
    missing = [name for name, f in fields.items() if f.default is attrs.NOTHING and name not in values]
    if missing:
        raise ScenarioError(f"{_where(source)}{path}.{missing[0]}: missing (a {kind} needs it)")
    return cls(**values)


def scenario_to_data(scenario: Scenario | None) -> dict[str, list[dict[str, object]]]:
    """``{"events": [...]}`` in the file format (JSON-ready): what :func:`scenario_from_data`
    reads back into the same scenario. Times and spans stay as given (offsets too)."""
    events: list[dict[str, object]] = []
    for event in () if scenario is None else scenario.events:
        item: dict[str, object] = {"kind": type(event).__name__.lower()}
        for name, field in attrs.fields_dict(type(event)).items():
            value = getattr(event, name)
            if field.init and value is not None:
                item[name] = _plain(value)
        events.append(item)
    return {"events": events}


def _plain(value: object) -> object:
    """A field's value as JSON: percentages and factors as numbers when exact, else strings."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return value.numerator
        number = float(value)
        if Fraction(Decimal(repr(number))) == value:
            return number
        return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
    if isinstance(value, _dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_dt.UTC)).isoformat()
    if isinstance(value, _dt.timedelta):
        return f"{int(value.total_seconds())}s"
    return value


def to_scenario(value: object) -> Scenario | None:
    """What :class:`~mockfeed.config.ServerConfig` accepts as ``scenario``: None, a Scenario, a
    file path, the parsed data of a file, or an iterable of event objects."""
    if value is None or isinstance(value, Scenario):
        return value
    if isinstance(value, str | os.PathLike):
        return load_scenario(value)
    if isinstance(value, Mapping):
        return scenario_from_data(value)
    if isinstance(value, Iterable):
        return Scenario(tuple(value))
    raise ScenarioError(f"a scenario is a file path, a Scenario or a list of events, not {value!r}")


def fits_config(config: Any, _attribute: object, scenario: Scenario | None) -> None:
    """attrs validator of ``ServerConfig.scenario``: every event's pair is served, none clash.

    Offsets are checked from the config's ``start`` (or now): a server refuses a bad scenario
    before it listens on anything.
    """
    bound = bind(scenario, config.start)
    if bound is not None:
        scenario = bound.scenario
        scenario.check([p.name for p in config.pairs], bound.origin_ms)
        served = [str(e) for e in config.exchanges]
        for k, event in enumerate(scenario.events):
            if isinstance(event, Maintenance) and event.exchange is not None and event.exchange not in served:
                raise ScenarioError(
                        f"events[{k}].exchange: {event.exchange} is not served (exchanges: {', '.join(served)})"
                    )
        for exchange in served:
            scenario.maintenance_windows(exchange, bound.origin_ms)
