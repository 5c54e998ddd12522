"""Reading Hyperliquid request bodies the way its Rust server (serde) reads them.

Hyperliquid deserializes every request into typed structs: a JSON syntax error and a well-formed
body of the wrong shape are two different failures (HTTP 400 and 422 on ``/info``, one
``Error parsing JSON ...`` message on the WebSocket). :func:`decode` raises :class:`MalformedJson`
for the first; the typed readers below raise :class:`SchemaError` for the second. Unknown fields
are ignored, as serde does by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import orjson

T = TypeVar("T")

U64_MAX = 2**64 - 1


class MalformedJson(ValueError):
    """The text is not JSON (serde_json's syntax errors; orjson rejects the same inputs)."""


class SchemaError(ValueError):
    """The JSON is valid but does not fit the request type (missing field, wrong type, bad variant)."""


def decode(data: bytes | str) -> Any:
    """Parse a JSON document; integers beyond 64 bits come back as floats, as in serde_json."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise MalformedJson(str(error)) from None


def obj(value: Any, name: str) -> dict[str, Any]:
    """A required JSON-object field of ``value``."""
    found = _field(value, name)
    if not isinstance(found, dict):
        raise SchemaError(f"invalid type for `{name}`, expected a map")
    return found


def string(value: Any, name: str) -> str:
    """A required string field."""
    return _string(name, _field(value, name))


def optional_string(value: Any, name: str) -> str | None:
    """An optional string field (``Option<String>``: absent or ``null`` gives None)."""
    found = _optional(value, name)
    return None if found is None else _string(name, found)


def u64(value: Any, name: str) -> int:
    """A required unsigned 64-bit integer: JSON integers only (no floats, strings or booleans)."""
    return _u64(name, _field(value, name))


def optional_u64(value: Any, name: str) -> int | None:
    """An optional unsigned 64-bit integer (``Option<u64>``: absent or ``null`` gives None)."""
    found = _optional(value, name)
    return None if found is None else _u64(name, found)


def variant(value: Any, name: str, table: Mapping[str, T]) -> tuple[str, T]:
    """A string field naming one entry of ``table`` (a serde unit enum): (name, entry)."""
    found = _field(value, name)
    if not isinstance(found, str) or found not in table:
        raise SchemaError(f"unknown variant for `{name}`")
    return found, table[found]


def _string(name: str, found: Any) -> str:
    if not isinstance(found, str):
        raise SchemaError(f"invalid type for `{name}`, expected a string")
    return found


def _u64(name: str, found: Any) -> int:
    if isinstance(found, bool) or not isinstance(found, int) or not 0 <= found <= U64_MAX:
        raise SchemaError(f"invalid value for `{name}`, expected u64")
    return found


def _field(value: Any, name: str) -> Any:
    if not isinstance(value, dict):
        raise SchemaError("invalid type, expected a map")
    if name not in value:
        raise SchemaError(f"missing field `{name}`")
    return value[name]


def _optional(value: Any, name: str) -> Any:
    if not isinstance(value, dict):
        raise SchemaError("invalid type, expected a map")
    return value.get(name)
