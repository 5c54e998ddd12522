"""Logging set-up: one line per event, as text or JSON, and the client trace (``--trace``).

Every module logs through the standard library under ``mockfeed.*``. The trace logger
``mockfeed.trace`` records what each client sent and received (REST requests and answers, WebSocket
messages both ways, pushes per stream); it is silent unless :func:`configure` enables it, and the
runtime checks :func:`tracing` before building any trace line, so it costs nothing when off.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

TRACE = logging.getLogger("mockfeed.trace")
TRACE.setLevel(logging.WARNING)  # off until --trace
PREVIEW = 300  # characters of a message or body shown in a trace line

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """A JSON object per line: time, level, logger, message, and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: str = "WARNING", fmt: str = "text", trace: bool = False) -> None:
    """Log to stderr at ``level`` as ``text`` or ``json``; ``trace`` turns the client trace on."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        formatter: logging.Formatter = JsonFormatter()
        formatter.converter = time.gmtime
    else:
        formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    TRACE.setLevel(logging.INFO if trace else logging.WARNING)


def tracing() -> bool:
    """Whether the client trace is on."""
    return TRACE.isEnabledFor(logging.INFO)


def preview(data: str | bytes) -> str:
    """A message or body shortened for a trace line (binary shown as its length and hex start)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return f"<{len(data)} bytes {data[:16].hex()}…>"
    else:
        text = data
    return text if len(text) <= PREVIEW else text[:PREVIEW] + f"…(+{len(text) - PREVIEW})"
