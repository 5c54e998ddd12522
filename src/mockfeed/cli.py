"""The command line: ``python -m mockfeed --exchange binance_spot [...]``."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import trio

from mockfeed import config_file, logs
from mockfeed.config import ServerConfig
from mockfeed.config_file import CONTROL_PORT_OFFSET, default_control_port, resolve_exchanges
from mockfeed.exchanges import ExchangeType, NotAvailable, available
from mockfeed.market import PairError, parse_pairs
from mockfeed.runtime.conditions import (
    check_burst,
    check_delay,
    check_flag,
    check_lifetime,
    check_rate,
    check_seed,
)
from mockfeed.runtime.server import Placement, Server

EXIT_USAGE = 2
TOKEN_ENV = "MOCKFEED_CONTROL_TOKEN"  # the control token when --control-token is not given


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so the README's reference can be checked against it).

    Flags have no argparse defaults (``argument_default=SUPPRESS``): the namespace holds only what was
    given, so a flag left out never overrides the configuration file. The defaults in the help texts
    are :class:`ServerConfig`'s.
    """
    parser = argparse.ArgumentParser(
        prog="python -m mockfeed",
        description="Serve mock crypto exchange candle APIs (REST and WebSocket) on loopback.",
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--config", metavar="FILE",
        help="read the configuration from a TOML file (docs/configuration.md); flags given override it",
    )
    parser.add_argument(
        "--print-config", action="store_true",
        help="print the effective configuration as TOML (readable by --config) and exit",
    )
    parser.add_argument(
        "--ready-json", action="store_true",
        help='when ready, print one JSON line {"exchanges": {NAME: {"rest": URL, "ws": URL}}, '
        '"control": URL|null} instead of the text lines',
    )
    parser.add_argument(
        "--exchange", action="append", metavar="NAME",
        help="exchange product to serve; repeat for several, or 'all' (default: binance_spot)",
    )
    parser.add_argument("--list", action="store_true", help="list exchange products and exit")
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int,
        help="REST port of the first exchange, the k-th uses PORT+2k; 0 = ephemeral "
        "(default: each exchange's fixed port)",
    )
    parser.add_argument(
        "--ws-port", type=int,
        help="WebSocket port of the first exchange, the k-th uses WS_PORT+2k; 0 = ephemeral",
    )
    parser.add_argument("--seed", type=int, help="market seed (default 0)")
    parser.add_argument(
        "--pairs", metavar="BASE-QUOTE,...",
        help="pairs to serve, canonical names (default BTC-USDT,ETH-USDT,SOL-USDT)",
    )
    parser.add_argument(
        "--speed", type=float, metavar="N",
        help="market time runs N times as fast as real time (default 1; 0 freezes it)",
    )
    parser.add_argument(
        "--start", metavar="ISO8601",
        help="market time at start, e.g. 2024-01-01T00:00:00Z (default: now)",
    )
    parser.add_argument(
        "--control-port", metavar="PORT|off",
        help="HTTP control endpoint port; 0 = ephemeral, off = none (default: the first exchange's "
        f"REST port + {CONTROL_PORT_OFFSET}, e.g. 9200; none with --port 0 unless given)",
    )
    parser.add_argument(
        "--control-token", metavar="TOKEN",
        help=f"require 'Authorization: Bearer TOKEN' on every control request (default: ${TOKEN_ENV}, "
        "else none)",
    )
    for spec in CONDITION_FLAGS.values():
        if spec.kind is None:
            parser.add_argument(spec.flag, action=argparse.BooleanOptionalAction, help=spec.help)
        else:
            parser.add_argument(spec.flag, type=spec.kind, metavar=spec.metavar, help=spec.help)
    parser.add_argument(
        "--max-ws-connections", type=int, metavar="N",
        help="open WebSockets allowed per exchange; handshakes beyond get HTTP 503 (default 10000)",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N",
        help="serve from N processes sharing the ports (SO_REUSEPORT), identical data (default 1)",
    )
    parser.add_argument(
        "--tls-cert", metavar="PEM",
        help="serve https and wss with this certificate chain (PEM)",
    )
    parser.add_argument(
        "--tls-key", metavar="PEM", help="the certificate's private key (default: in --tls-cert)",
    )
    parser.add_argument("--scenario", metavar="FILE", help="scripted market events, TOML or JSON (docs/scenarios.md)")
    parser.add_argument("--log-level", help="logging level (default WARNING)")
    parser.add_argument(
        "--log-format", choices=("text", "json"), help="log lines as text (default) or one JSON object each",
    )
    parser.add_argument(
        "--live", action=argparse.BooleanOptionalAction,
        help="a live view of connections, pushes/s, requests/s and faults (default: on when stdout "
        "is a terminal; --no-live turns it off)",
    )
    parser.add_argument(
        "--trace", action="store_true",
        help="log what each client sends and receives (REST, WebSocket messages, pushes per stream)",
    )
    return parser


def _control_port(value: str | None, exchanges: Sequence[ExchangeType], port: int | None) -> int | None:
    """The control port the flags ask for: explicit, off, or the default next to the REST ports."""
    if value is None:
        return default_control_port(exchanges, port)
    return _parse_control_port(value)


def _parse_control_port(value: str) -> int | None:
    """The control port a --control-port value asks for: a number, or None for off."""
    if value.strip().lower() == "off":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"--control-port expects a port number or off, not {value!r}") from None


#: Condition flags: ServerConfig key -> (flag, namespace attribute, check naming the flag).
@attrs.frozen
class ConditionFlag:
    """A command-line flag that sets one network condition: its check, its argparse type and help."""

    flag: str
    check: Callable[[Any, str], object]
    kind: type | None  # None: an on/off switch (--x / --no-x)
    metavar: str | None
    help: str

    @property
    def dest(self) -> str:
        """The argparse attribute of the flag."""
        return self.flag[2:].replace("-", "_")


#: Condition key -> its flag, in the order ``--help`` lists them.
CONDITION_FLAGS: dict[str, ConditionFlag] = {
    "latency_ms": ConditionFlag(
        "--latency", check_delay, float, "MS",
        "delay every REST answer and WebSocket message by MS milliseconds (default 0)",
    ),
    "jitter_ms": ConditionFlag(
        "--jitter", check_delay, float, "MS",
        "add a delay uniform in [0, MS) ms on top of --latency (default 0)",
    ),
    "error_rate": ConditionFlag(
        "--error-rate", check_rate, float, "P",
        "answer each REST request with the exchange's native server error with probability P (default 0)",
    ),
    "fault_seed": ConditionFlag(
        "--fault-seed", check_seed, int, "N",
        "seed of the fault draws: the same seed fails and delays the same requests (default 0)",
    ),
    "loss": ConditionFlag(
        "--loss", check_rate, float, "P",
        "drop each WebSocket push with probability P (default 0)",
    ),
    "loss_burst": ConditionFlag(
        "--loss-burst", check_burst, int, "N",
        "pushes dropped in a row per loss event (default 1)",
    ),
    "timeout_rate": ConditionFlag(
        "--timeout-rate", check_rate, float, "P",
        "hold each REST request --timeout-ms, then answer the exchange's timeout error, with probability P (default 0)",
    ),
    "timeout_ms": ConditionFlag(
        "--timeout-ms", check_delay, float, "MS",
        "how long a timed-out request is held (default 30000)",
    ),
    "maintenance": ConditionFlag(
        "--maintenance", check_flag, None, None,
        "start in maintenance: REST answers the native maintenance error, WebSockets are refused",
    ),
    "stall": ConditionFlag(
        "--stall", check_flag, None, None,
        "start stalled: WebSockets stay open but get no pushes",
    ),
    "ws_lifetime_s": ConditionFlag(
        "--ws-lifetime", check_lifetime, float, "S",
        "close every WebSocket S seconds after it opened (default: the exchange's own limit)",
    ),
    "rate_limits": ConditionFlag(
        "--rate-limits", check_flag, None, None,
        "enforce each exchange's documented request limits (default: off; --no-rate-limits turns off what a config file turns on, likewise --no-maintenance and --no-stall)",
    ),
    "duplicate": ConditionFlag(
        "--duplicate", check_rate, float, "P",
        "send each WebSocket push twice in a row with probability P (default 0)",
    ),
    "late": ConditionFlag(
        "--late", check_rate, float, "P",
        "hold each WebSocket push back --late-ms, overtaken by later messages, with probability P (default 0)",
    ),
    "late_ms": ConditionFlag(
        "--late-ms", check_delay, float, "MS",
        "how long a late push is held (default 1000)",
    ),
}


def _flag_options(given: dict[str, Any]) -> dict[str, object]:
    """ServerConfig options from the flags actually given; ValueError naming the flag."""
    out: dict[str, object] = {}
    if "exchange" in given:
        out["exchanges"] = resolve_exchanges(given["exchange"])
    for key in ("host", "port", "ws_port", "seed", "speed", "start", "control_token", "tls_cert", "tls_key",
                "max_ws_connections",
                "scenario"):
        if key in given:
            out[key] = given[key]
    if "pairs" in given:
        out["pairs"] = parse_pairs(given["pairs"])
    if "control_port" in given:
        out["control_port"] = _parse_control_port(given["control_port"])
    for key, spec in CONDITION_FLAGS.items():
        if spec.dest in given:
            out[key] = spec.check(given[spec.dest], spec.flag)
    return out


def effective_config(given: dict[str, Any], environ: Mapping[str, str]) -> ServerConfig:
    """The configuration to serve: defaults, then the file, the environment, and the flags given.

    A condition flag sets that condition for every exchange, per-exchange tables of the file included.
    Raises ValueError (:class:`ConfigError` naming file and key), NotAvailable or PairError.
    """
    options: dict[str, Any] = config_file.load(given["config"]) if "config" in given else {}
    if environ.get(TOKEN_ENV):
        options["control_token"] = environ[TOKEN_ENV]
    flags = _flag_options(given)
    overrides = options.get("exchange_conditions", {})
    for exchange, change in overrides.items():
        overrides[exchange] = {k: v for k, v in change.items() if k not in flags}
    options.update(flags)
    return config_file.build(options)


def _list() -> str:
    served = set(available())
    lines = []
    for exchange in ExchangeType:
        state = "served" if exchange in served else "not yet served"
        lines.append(
            f"{exchange.value:<24} rest {exchange.default_rest_port}  ws {exchange.default_ws_port}"
            f"  {state}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    given = vars(build_parser().parse_args(argv))
    if given.get("list"):
        print(_list())
        return 0
    try:
        logs.configure(given.get("log_level", "WARNING"), given.get("log_format", "text"),
                       bool(given.get("trace")))
    except ValueError as error:
        print(f"mockfeed: --log-level: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = effective_config(given, os.environ)
        workers = given.get("workers", 1)
        if workers != 1:
            from mockfeed.workers import check_workers  # several processes: import it only then

            check_workers(workers)
    except (ValueError, NotAvailable, PairError) as error:
        print(f"mockfeed: {error}", file=sys.stderr)
        return EXIT_USAGE
    if given.get("print_config"):
        print(config_file.dump(config), end="")
        return 0
    if exposed(config.host):
        logging.getLogger("mockfeed").warning("binding %s: reachable beyond this machine", config.host)
    try:
        if workers > 1:
            from mockfeed.workers import supervise

            log_settings = (given.get("log_level", "WARNING"), given.get("log_format", "text"),
                            bool(given.get("trace")))
            return trio.run(supervise, config, workers, bool(given.get("ready_json")), log_settings)
        live = given.get("live", sys.stdout.isatty()) and not given.get("ready_json")
        trio.run(serve_until_signalled, config, bool(given.get("ready_json")), live)
    except (OSError, BaseExceptionGroup) as error:
        cause = _listen_error(error)
        if cause is None:
            raise
        print(f"mockfeed: cannot listen: {cause}", file=sys.stderr)
        return 1
    return 0


def exposed(host: str) -> bool:
    """Whether binding ``host`` makes the server reachable from other machines (not loopback)."""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True  # a name: it may resolve to anything


def _listen_error(error: BaseException) -> OSError | None:
    """The OSError behind a failed start, unwrapped from trio's exception groups (else None)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error if isinstance(error, OSError) else None


def ready_json(server: Server) -> str:
    """The ``--ready-json`` line: every exchange's URLs and the control URL (null when off)."""
    exchanges = {str(e): {"rest": s.rest_url, "ws": s.ws_url} for e, s in server.exchanges.items()}
    control = None if server.control is None else server.control.url
    return json.dumps({"exchanges": exchanges, "control": control})


async def serve_until_signalled(
    config: ServerConfig, as_json: bool, live: bool = False, placement: Placement | None = None
) -> None:
    """Serve ``config``, announce it (ready lines or ``--ready-json``), and stop cleanly on
    SIGINT/SIGTERM; a worker of ``--workers`` passes its ``placement``."""
    server = Server(config, placement=placement)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await server.start(nursery)
            if as_json:
                print(ready_json(server), flush=True)
            else:
                for line in server.ready_lines():
                    print(line, flush=True)
                if server.control_line is not None:
                    print(server.control_line, flush=True)
            if live:
                from mockfeed.live import show

                nursery.start_soon(show, server)
            async for _ in signals:
                break
            await server.aclose()
            nursery.cancel_scope.cancel()
