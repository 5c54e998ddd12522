"""A live view of a running server on the terminal: per exchange, connections, subscriptions,
pushes and REST requests per second, injected faults, and the conditions that differ from a perfect
network. Shown by the CLI only when stdout is a terminal (and not with ``--no-live``); drawn with rich,
imported only then."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import attrs
import trio

from mockfeed.runtime.conditions import Conditions

if TYPE_CHECKING:
    from mockfeed.runtime.server import Server

REFRESH = 1.0  # seconds between redraws
_DEFAULTS = Conditions().to_json()


@attrs.define
class Sample:
    """One exchange's counters at one moment."""

    connections: int
    subscriptions: int
    pushes: int
    requests: int
    faults: int


def sample(server: Server) -> dict[str, Sample]:
    """Every exchange's counters now."""
    out = {}
    for exchange, served in server.exchanges.items():
        app = served.rest_app
        out[str(exchange)] = Sample(
            connections=len(served.connections),
            subscriptions=sum(len(m) for m in served.hub.subscribers.values()),
            pushes=served.hub.pushes,
            requests=0 if app is None else app.requests,
            faults=0 if app is None else app.faults_injected,
        )
    return out


def changed_conditions(conditions: Conditions) -> str:
    """The conditions that differ from a perfect network, as ``key=value`` (``-`` when none)."""
    now = conditions.to_json()
    parts = [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in now.items() if v != _DEFAULTS[k]]
    return " ".join(parts) or "-"


def rows(server: Server, before: dict[str, Sample], after: dict[str, Sample], seconds: float) -> list[list[str]]:
    """The table's rows: one per exchange, rates over ``seconds``."""
    def rate(new: int, old: int) -> str:
        return f"{(new - old) / seconds:,.0f}" if seconds > 0 else "-"

    out = []
    for name, now in after.items():
        then = before.get(name, now)
        out.append([
            name, str(now.connections), str(now.subscriptions), rate(now.pushes, then.pushes),
            rate(now.requests, then.requests), str(now.faults),
            changed_conditions(server[name].conditions),
        ])
    return out


HEADERS = ["exchange", "conns", "subs", "pushes/s", "REST/s", "faults", "conditions"]


async def show(server: Server) -> None:
    """Redraw the view every second until cancelled (then it stays on screen as last drawn)."""
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    def table(data: list[list[str]], now_ms: int) -> Any:
        grid = Table(title=f"mockfeed — market time {now_ms}", title_justify="left")
        for header in HEADERS:
            grid.add_column(header, no_wrap=header != "conditions")
        for row in data:
            grid.add_row(*row)
        return grid

    console = Console(file=sys.stdout)
    before = sample(server)
    mark = trio.current_time()
    with Live(table(rows(server, before, before, 0), server.now_ms()), console=console,
              auto_refresh=False, transient=False) as live:
        while True:
            await trio.sleep(REFRESH)
            after, now = sample(server), trio.current_time()
            live.update(table(rows(server, before, after, now - mark), server.now_ms()), refresh=True)
            before, mark = after, now
