"""The command line: ``python -m mockfeed --exchange binance_spot [...]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

import trio

from mockfeed.config import ServerConfig
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
from mockfeed.runtime.server import Server

EXIT_USAGE = 2
CONTROL_PORT_OFFSET = 100  # default control port: the first exchange's REST port + 100 (9200 for Binance)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (kept separate so the README's reference can be checked against it)."""
    parser = argparse.ArgumentParser(
        prog="python -m mockfeed",
        description="Serve mock crypto exchange candle APIs (REST and WebSocket) on loopback.",
    )
    parser.add_argument(
        "--exchange", action="append", metavar="NAME",
        help="exchange product to serve; repeat for several, or 'all' (default: binance_spot)",
    )
    parser.add_argument("--list", action="store_true", help="list exchange products and exit")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=None,
        help="REST port of the first exchange, the k-th uses PORT+2k; 0 = ephemeral "
        "(default: each exchange's fixed port)",
    )
    parser.add_argument(
        "--ws-port", type=int, default=None,
        help="WebSocket port of the first exchange, the k-th uses WS_PORT+2k; 0 = ephemeral",
    )
    parser.add_argument("--seed", type=int, default=0, help="market seed (default 0)")
    parser.add_argument(
        "--pairs", default=None, metavar="BASE-QUOTE,...",
        help="pairs to serve, canonical names (default BTC-USDT,ETH-USDT,SOL-USDT)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, metavar="N",
        help="market time runs N times as fast as real time (default 1; 0 freezes it)",
    )
    parser.add_argument(
        "--start", default=None, metavar="ISO8601",
        help="market time at start, e.g. 2024-01-01T00:00:00Z (default: now)",
    )
    parser.add_argument(
        "--control-port", default=None, metavar="PORT|off",
        help="HTTP control endpoint port; 0 = ephemeral, off = none (default: the first exchange's "
        f"REST port + {CONTROL_PORT_OFFSET}, e.g. 9200; none with --port 0 unless given)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, metavar="MS",
        help="delay every REST answer by MS milliseconds (default 0)",
    )
    parser.add_argument(
        "--jitter", type=float, default=0.0, metavar="MS",
        help="add a delay uniform in [0, MS) ms on top of --latency (default 0)",
    )
    parser.add_argument(
        "--error-rate", type=float, default=0.0, metavar="P",
        help="answer each REST request with the exchange's native server error with probability P "
        "(default 0)",
    )
    parser.add_argument(
        "--fault-seed", type=int, default=0, metavar="N",
        help="seed of the fault draws: the same seed fails and delays the same requests (default 0)",
    )
    parser.add_argument(
        "--loss", type=float, default=0.0, metavar="P",
        help="drop each WebSocket push with probability P (default 0)",
    )
    parser.add_argument(
        "--loss-burst", type=int, default=1, metavar="N",
        help="pushes dropped in a row per loss event (default 1)",
    )
    parser.add_argument(
        "--timeout-rate", type=float, default=0.0, metavar="P",
        help="hold each REST request --timeout-ms, then answer the exchange's timeout error, with "
        "probability P (default 0)",
    )
    parser.add_argument(
        "--timeout-ms", type=float, default=30_000.0, metavar="MS",
        help="how long a timed-out request is held (default 30000)",
    )
    parser.add_argument(
        "--maintenance", action="store_true",
        help="start in maintenance: REST answers the native maintenance error, WebSockets are refused",
    )
    parser.add_argument(
        "--stall", action="store_true", help="start stalled: WebSockets stay open but get no pushes",
    )
    parser.add_argument(
        "--ws-lifetime", type=float, default=None, metavar="S",
        help="close every WebSocket S seconds after it opened (default: the exchange's own limit)",
    )
    parser.add_argument(
        "--rate-limits", action="store_true",
        help="enforce each exchange's documented request limits (default: off)",
    )
    parser.add_argument(
        "--tls-cert", default=None, metavar="PEM",
        help="serve https and wss with this certificate chain (PEM)",
    )
    parser.add_argument(
        "--tls-key", default=None, metavar="PEM", help="the certificate's private key (default: in --tls-cert)",
    )
    parser.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    return parser


def _control_port(value: str | None, exchanges: Sequence[ExchangeType], port: int | None) -> int | None:
    """The control port the flags ask for: explicit, off, or the default next to the REST ports."""
    if value is None:
        if port == 0:
            return None  # ephemeral runs (test harnesses) get no extra listener unless they ask
        rest = exchanges[0].default_rest_port if port is None else port
        return rest + CONTROL_PORT_OFFSET
    if value.strip().lower() == "off":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"--control-port expects a port number or off, not {value!r}") from None


def _conditions(args: argparse.Namespace) -> dict[str, object]:
    """The condition fields of ServerConfig from the flags; ValueError naming the flag."""
    flags: dict[str, tuple[str, str, Callable[[Any, str], object]]] = {
        "latency_ms": ("--latency", "latency", check_delay),
        "jitter_ms": ("--jitter", "jitter", check_delay),
        "error_rate": ("--error-rate", "error_rate", check_rate),
        "fault_seed": ("--fault-seed", "fault_seed", check_seed),
        "loss": ("--loss", "loss", check_rate),
        "loss_burst": ("--loss-burst", "loss_burst", check_burst),
        "timeout_rate": ("--timeout-rate", "timeout_rate", check_rate),
        "timeout_ms": ("--timeout-ms", "timeout_ms", check_delay),
        "maintenance": ("--maintenance", "maintenance", check_flag),
        "stall": ("--stall", "stall", check_flag),
        "ws_lifetime_s": ("--ws-lifetime", "ws_lifetime", check_lifetime),
        "rate_limits": ("--rate-limits", "rate_limits", check_flag),
    }
    return {key: check(getattr(args, attr), flag) for key, (flag, attr, check) in flags.items()}


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


def _exchanges(names: Sequence[str] | None) -> list[ExchangeType]:
    if not names:
        return [ExchangeType.BINANCE_SPOT]
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list:
        print(_list())
        return 0
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        exchanges = _exchanges(args.exchange)
        options: dict[str, object] = {
            "exchanges": exchanges, "host": args.host, "port": args.port,
            "ws_port": args.ws_port, "seed": args.seed, "speed": args.speed, "start": args.start,
            "control_port": _control_port(args.control_port, exchanges, args.port),
            "tls_cert": args.tls_cert, "tls_key": args.tls_key,
            **_conditions(args),
        }
        if args.pairs is not None:
            options["pairs"] = parse_pairs(args.pairs)
        config = ServerConfig(**options)  # type: ignore[arg-type]
    except (ValueError, NotAvailable, PairError) as error:
        print(f"mockfeed: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        logging.getLogger("mockfeed").warning("binding %s: reachable beyond this machine", args.host)
    try:
        trio.run(_run, config)
    except (OSError, BaseExceptionGroup) as error:
        cause = _listen_error(error)
        if cause is None:
            raise
        print(f"mockfeed: cannot listen: {cause}", file=sys.stderr)
        return 1
    return 0


def _listen_error(error: BaseException) -> OSError | None:
    """The OSError behind a failed start, unwrapped from trio's exception groups (else None)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error if isinstance(error, OSError) else None


async def _run(config: ServerConfig) -> None:
    server = Server(config)
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:
            await server.start(nursery)
            for line in server.ready_lines():
                print(line, flush=True)
            if server.control_line is not None:
                print(server.control_line, flush=True)
            async for _ in signals:
                break
            await server.aclose()
            nursery.cancel_scope.cancel()
