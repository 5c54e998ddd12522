"""The configuration file: TOML read with :mod:`tomllib`, checked key by key, and written back.

:func:`load` turns a file into :class:`~mockfeed.config.ServerConfig` options (a dict the command
line overlays with the flags actually given); :func:`dump` writes a config as TOML that :func:`load`
reads back into an equal config. Every refusal is a :class:`ConfigError` whose message names the file
and the key path (``conditions.okx_spot.loss: ...``) or, for TOML syntax, the line. docs/configuration.md
has an annotated example of every key.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import attrs

from mockfeed.config import ServerConfig, check_token
from mockfeed.exchanges import ExchangeType, NotAvailable, available
from mockfeed.market import PairSpec, pair_spec
from mockfeed.market.clock import check_speed, format_time, parse_time
from mockfeed.market.scenario import ScenarioError
from mockfeed.market.scenario_load import scenario_from_data
from mockfeed.runtime.conditions import Conditions, check_routes

#: Keys of a pair table besides ``name``, in the order :func:`dump` writes them.
PAIR_KEYS = ("start_price", "volatility", "tick_size", "lot_size", "daily_quote_volume", "mean_trade_quote")
_DECIMAL_KEYS = {"start_price", "tick_size", "lot_size"}
MAX_VOLATILITY = 20.0  # 2000 % a year: more is surely a unit mistake

Options = dict[str, Any]


class ConfigError(ValueError):
    """A configuration that cannot be served; the message names where (file, key path or line)."""


def _fail(path: str, message: object) -> ConfigError:
    return ConfigError(f"{path}: {message}" if path else str(message))


def load(path: str | os.PathLike[str]) -> Options:
    """:class:`ServerConfig` options from a TOML file; :class:`ConfigError` naming file and key or line."""
    try:
        with open(path, "rb") as file:
            data = tomllib.load(file)
    except OSError as error:
        raise ConfigError(f"{os.fspath(path)}: cannot read it: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:  # its message ends "(at line L, column C)"
        raise ConfigError(f"{os.fspath(path)}: invalid TOML: {error}") from None
    try:
        found = options(data)
    except ConfigError as error:
        raise ConfigError(f"{os.fspath(path)}: {error}") from None
    scenario = found.get("scenario")
    if isinstance(scenario, str) and not os.path.isabs(scenario):
        found["scenario"] = os.path.join(os.path.dirname(os.path.abspath(path)), scenario)
    return found


def loads(text: str) -> Options:
    """:func:`load` for TOML text (messages name the key, or the line of a syntax error)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"invalid TOML: {error}") from None
    return options(data)


def options(data: Mapping[str, Any]) -> Options:
    """:class:`ServerConfig` options from parsed TOML; only the keys present, each checked.

    ``control_port = "off"`` gives ``control_port: None``; an absent ``control_port`` is absent, so
    the command line's default (REST port + 100) still applies.
    """
    out: Options = {}
    for key, value in data.items():
        reader = _READERS.get(key)
        if reader is None:
            raise _fail(key, f"unknown key; expected some of {', '.join(_READERS)}")
        out.update(reader(value, key))
    return out


def build(found: Mapping[str, Any]) -> ServerConfig:
    """The :class:`ServerConfig` of some options, with the command line's default control port."""
    found = dict(found)
    if "control_port" not in found:
        found["control_port"] = default_control_port(found.get("exchanges"), found.get("port"))
    try:
        return ServerConfig(**found)
    except ValueError as error:
        raise ConfigError(str(error)) from None


CONTROL_PORT_OFFSET = 100  # default control port: the first exchange's REST port + 100 (9200 for Binance)


def default_control_port(exchanges: Sequence[ExchangeType] | None, port: int | None) -> int | None:
    """The control port when none is given: off on ephemeral ports, else the first REST port + 100."""
    if port == 0:
        return None  # ephemeral runs (test harnesses) get no extra listener unless they ask
    first = exchanges[0] if exchanges else ExchangeType.BINANCE_SPOT
    rest = first.default_rest_port if port is None else port
    return rest + CONTROL_PORT_OFFSET


def resolve_exchanges(names: Sequence[str]) -> list[ExchangeType]:
    """Exchange names (or ``all``) as served products; ValueError / NotAvailable naming the culprit."""
    if "all" in names:
        return available()
    valid = {e.value for e in ExchangeType}
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise ValueError(
            f"unknown exchange {unknown[0]!r}; valid names: {', '.join(sorted(valid))}, all"
        )
    chosen = [ExchangeType(n) for n in names]
    missing = [e for e in chosen if e not in available()]
    if missing:
        served = ", ".join(available())
        raise NotAvailable(f"{missing[0]} is not served yet by this version (served: {served})")
    return list(dict.fromkeys(chosen))


# -- readers: one per top-level key, (value, key path) -> options ----------------------------------------


def _exchanges(value: Any, path: str) -> Options:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise _fail(path, 'expected a non-empty array of exchange names, or "all"')
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise _fail(f"{path}[{i}]", f"expected an exchange name, got {name!r}")
    if len(set(names)) != len(names):
        raise _fail(path, "an exchange is listed twice")
    try:
        return {"exchanges": resolve_exchanges(names)}
    except (ValueError, NotAvailable) as error:
        raise _fail(path, error) from None


def _host(value: Any, path: str) -> Options:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"expected an address such as \"127.0.0.1\", got {value!r}")
    return {"host": value.strip()}


def _port_number(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"expected a port number, got {value!r}")
    if not 0 <= value <= 65535:
        raise _fail(path, f"port {value} is outside 0..65535")
    return value


def _port(value: Any, path: str) -> Options:
    return {path: _port_number(value, path)}


def _control_port(value: Any, path: str) -> Options:
    if isinstance(value, str) and value.strip().lower() == "off":
        return {"control_port": None}
    if isinstance(value, str):
        raise _fail(path, f'expected a port number or "off", got {value!r}')
    return {"control_port": _port_number(value, path)}


def _control_token(value: Any, path: str) -> Options:
    try:
        return {"control_token": check_token(value)}
    except ValueError as error:
        raise _fail(path, error) from None


def _seed(value: Any, path: str) -> Options:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"expected an integer, got {value!r}")
    return {"seed": value}


def _max_ws_connections(value: Any, path: str) -> Options:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _fail(path, f"expected a positive integer, got {value!r}")
    return {"max_ws_connections": value}


def _speed(value: Any, path: str) -> Options:
    try:
        return {"speed": check_speed(value)}
    except ValueError as error:
        raise _fail(path, error) from None


def _start(value: Any, path: str) -> Options:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)  # a TOML date: midnight UTC
    if isinstance(value, bool) or not isinstance(value, str | int | _dt.datetime):
        raise _fail(path, f"expected an ISO 8601 time or epoch milliseconds, got {value!r}")
    try:
        return {"start": parse_time(value)}
    except ValueError as error:
        raise _fail(path, error) from None


def _pairs(value: Any, path: str) -> Options:
    if not isinstance(value, list) or not value:
        raise _fail(path, "expected a non-empty array of pair names or pair tables")
    specs = [_pair(item, f"{path}[{i}]") for i, item in enumerate(value)]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise _fail(path, f"pair {twice} is listed twice")
    return {"pairs": tuple(specs)}


def _pair(item: Any, path: str) -> PairSpec:
    table = {"name": item} if isinstance(item, str) else item
    if not isinstance(table, dict):
        raise _fail(path, f'expected "BASE-QUOTE" or a table with a name, got {item!r}')
    name = table.get("name")
    if not isinstance(name, str):
        raise _fail(f"{path}.name", "expected a pair name such as \"BTC-USDT\"")
    try:
        spec = pair_spec(name.strip().upper())
    except ValueError as error:
        raise _fail(f"{path}.name", error) from None
    changes: dict[str, Any] = {}
    for key, raw in table.items():
        if key == "name":
            continue
        if key not in PAIR_KEYS:
            raise _fail(f"{path}.{key}", f"unknown key; expected name, {', '.join(PAIR_KEYS)}")
        changes[key] = _pair_value(key, raw, f"{path}.{key}")
    spec = attrs.evolve(spec, **changes)
    if spec.start_price < spec.tick_size:
        raise _fail(f"{path}.start_price", f"must be at least the tick size {spec.tick_size}")
    return spec


def _pair_value(key: str, raw: Any, path: str) -> Decimal | float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _fail(path, f"expected a number, got {raw!r}")
    if key in _DECIMAL_KEYS:
        try:  # a string keeps the decimal exact; a TOML float is read through its shortest repr
            number = Decimal(raw if isinstance(raw, str) else repr(raw))
        except InvalidOperation:
            raise _fail(path, f"expected a decimal number, got {raw!r}") from None
        if not number.is_finite() or number <= 0:
            raise _fail(path, f"must be a positive number, got {raw!r}")
        return number
    if isinstance(raw, str):
        raise _fail(path, f"expected a number, got {raw!r}")
    value = float(raw)
    low_ok = value >= 0 if key == "volatility" else value > 0
    if not (low_ok and value < float("inf")) or (key == "volatility" and value > MAX_VOLATILITY):
        bound = f"between 0 and {MAX_VOLATILITY:g}" if key == "volatility" else "a positive finite number"
        raise _fail(path, f"must be {bound}, got {raw!r}")
    return value


def _conditions(value: Any, path: str) -> Options:
    if not isinstance(value, dict):
        raise _fail(path, "expected a table of condition keys")
    out: Options = {}
    overrides: dict[str, dict[str, Any]] = {}
    routes: dict[str, dict[str, Any]] = {}
    for key, raw in value.items():
        if isinstance(raw, dict):
            try:
                exchange = ExchangeType(key)
            except ValueError:
                raise _fail(f"{path}.{key}", "not an exchange name (a table here overrides one "
                            "exchange's conditions)") from None
            table = dict(raw)
            if isinstance(table.get("routes"), dict):
                routes[exchange.value] = _routes(table.pop("routes"), f"{path}.{key}.routes")
            overrides[exchange.value] = {
                k: _condition(k, v, f"{path}.{key}.{k}") for k, v in table.items()
            }
        else:
            out[key] = _condition(key, raw, f"{path}.{key}")
    if overrides:
        out["exchange_conditions"] = {k: v for k, v in overrides.items() if v}
    if routes:
        out["route_conditions"] = routes
    return out


def _routes(value: dict[str, Any], path: str) -> dict[str, Any]:
    """One exchange's per-route overrides, checked as the control endpoint checks them."""
    try:
        check_routes(value)
    except ValueError as error:
        raise _fail(path, error) from None
    return value


def _condition(key: str, raw: Any, path: str) -> Any:
    """One condition value, checked and normalised by :meth:`Conditions.from_json`."""
    try:  # an unknown key is refused by from_json too, with the list of known ones
        return getattr(Conditions.from_json({key: raw}), key)
    except ValueError as error:
        raise _fail(path, error) from None


def _scenario(value: Any, path: str) -> Options:
    """A scenario file's path (relative ones: to the config file, see :func:`load`) or inline events."""
    if isinstance(value, str):
        return {"scenario": value}
    if not isinstance(value, dict):
        raise _fail(path, "expected the path of a scenario file or a table with a list 'events'")
    try:
        return {"scenario": scenario_from_data(value, "")}
    except ScenarioError as error:
        raise _fail(path, str(error).removeprefix("scenario : ")) from None


_READERS: dict[str, Callable[[Any, str], Options]] = {
    "exchanges": _exchanges,
    "host": _host,
    "port": _port,
    "ws_port": _port,
    "control_port": _control_port,
    "control_token": _control_token,
    "seed": _seed,
    "max_ws_connections": _max_ws_connections,
    "speed": _speed,
    "start": _start,
    "pairs": _pairs,
    "conditions": _conditions,
    "scenario": _scenario,
}
#: Every top-level key a file may hold.
TOP_KEYS = tuple(_READERS)


# -- writing ---------------------------------------------------------------------------------------------


def dump(config: ServerConfig) -> str:
    """``config`` as TOML that :func:`load` reads back into an equal config (defaults written out)."""
    lines = [
        "# mockfeed configuration (python -m mockfeed --config FILE); see docs/configuration.md",
        f"exchanges = {_value([e.value for e in config.exchanges])}",
        f"host = {_value(config.host)}",
    ]
    for key in ("port", "ws_port"):
        if getattr(config, key) is not None:
            lines.append(f"{key} = {getattr(config, key)}")
    lines.append(f"control_port = {_value('off' if config.control_port is None else config.control_port)}")
    if config.control_token is not None:
        lines.append(f"control_token = {_value(config.control_token)}")
    lines += [f"seed = {config.seed}", f"max_ws_connections = {config.max_ws_connections}",
              f"speed = {_value(config.speed)}"]
    if config.start is not None:
        lines.append(f"start = {_value(format_time(config.start))}")
    for spec in config.pairs:
        lines += ["", "[[pairs]]", f"name = {_value(spec.name)}"]
        lines += [f"{key} = {_value(getattr(spec, key))}" for key in PAIR_KEYS]
    lines += ["", "[conditions]"]
    lines += _condition_lines(config.conditions().to_json())
    for exchange, change in config.exchange_conditions.items():
        lines += ["", f"[conditions.{exchange.value}]"]
        lines += _condition_lines(change)
    for exchange, routes in config.route_conditions.items():
        for route, keys in routes.items():
            lines += ["", f"[conditions.{exchange.value}.routes.{_value(route)}]"]
            lines += _condition_lines(keys)
    for event in () if config.scenario is None else config.scenario.events:
        lines += ["", "[[scenario.events]]", f"kind = {_value(type(event).__name__.lower())}"]
        lines += [f"{name} = {_event_value(getattr(event, name))}"
                  for name, field in attrs.fields_dict(type(event)).items()
                  if field.init and getattr(event, name) is not None]
    return "\n".join(lines) + "\n"


def _event_value(value: object) -> str:
    """A scenario event's field as TOML: times and spans as written, percentages exactly."""
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        return _value(format(exact.normalize(), "f"))
    if isinstance(value, _dt.datetime):
        return _value(format_time(parse_time(value)))
    if isinstance(value, _dt.timedelta):
        return _value(f"{int(value.total_seconds())}s")
    return _value(value)


def _condition_lines(values: Mapping[str, Any]) -> list[str]:
    # TOML has no null: an absent ws_lifetime_s is None, the exchange's own limit
    return [f"{key} = {_value(value)}" for key, value in values.items() if value is not None]


def _value(value: object) -> str:
    """A TOML literal for the few types a config holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # shortest round-trip form; finite (every float is checked)
    if isinstance(value, Decimal):
        return _value(format(value, "f"))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")
