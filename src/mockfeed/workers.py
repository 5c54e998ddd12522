"""Several worker processes serving the same exchanges on the same ports (``--workers N``).

Each worker is a full mockfeed (its own trio runtime, hub and caches) bound with SO_REUSEPORT, so
the kernel spreads new connections across them; the market model is deterministic, so every worker
serves identical candles, and all workers' clocks start from the same wall-clock moment. The
supervisor (this module, in the process the user started) reserves ephemeral ports, starts the
workers (``python -m mockfeed.workers SPEC``), prints the usual ready lines once all listen, serves
the control endpoint itself and forwards every control request to each worker, and stops them all
on SIGINT/SIGTERM.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import attrs
import trio

from mockfeed import config_file, logs
from mockfeed.config import ServerConfig
from mockfeed.exchanges import ExchangeType
from mockfeed.market.clock import wall_ms
from mockfeed.runtime.control import ControlApp, ControlRequest, ControlResponse, ControlServer
from mockfeed.runtime.server import Placement
from mockfeed.runtime.tls import TlsFiles

logger = logging.getLogger("mockfeed.workers")

MAX_WORKERS = 64
READY_TIMEOUT = 60.0  # seconds a worker gets to start listening
STOP_TIMEOUT = 10.0  # seconds workers get to exit after SIGTERM before they are killed
FORWARD_TIMEOUT = 10.0


def check_workers(value: object, flag: str = "--workers") -> int:
    """A worker count: an integer in 1 … 64; ValueError naming ``flag`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_WORKERS:
        raise ValueError(f"{flag} must be an integer between 1 and {MAX_WORKERS}, got {value!r}")
    return value


def _reserve(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT (not listening) that holds ``port`` (0: an ephemeral one)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host.strip("[]"), port))
    return sock


class ForwardingControl(ControlApp):
    """The supervisor's control endpoint: every request goes to each worker's, in turn; the answer is
    the first worker's (the others must agree, or the supervisor answers 502)."""

    def __init__(self, workers: list[str], token: str | None) -> None:
        super().__init__(token=token)
        self.workers = workers
        self.token = token

    async def respond(self, request: ControlRequest) -> ControlResponse:
        """Forward ``request`` to every worker; their common answer."""
        answers = [await trio.to_thread.run_sync(self._forward, url, request) for url in self.workers]
        first = answers[0]
        if any(a.status != first.status for a in answers[1:]):
            statuses = [a.status for a in answers]
            return ControlResponse(502, {"error": f"workers disagree: statuses {statuses}"})
        return first

    def _forward(self, base: str, request: ControlRequest) -> ControlResponse:
        url = base + request.path + (f"?{request.query}" if request.query else "")
        body = request.body if request.method not in ("GET", "HEAD") else None
        forwarded = urllib.request.Request(url, data=body, method=request.method)
        forwarded.add_header("Content-Type", "application/json")
        if self.token is not None:
            forwarded.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(forwarded, timeout=FORWARD_TIMEOUT) as answer:
                return ControlResponse(answer.status, json.loads(answer.read() or b"null"))
        except urllib.error.HTTPError as refused:
            return ControlResponse(refused.code, json.loads(refused.read() or b"null"))
        except (OSError, ValueError) as error:
            return ControlResponse(502, {"error": f"worker {base} did not answer: {error}"})


@attrs.define
class _Worker:
    process: trio.Process
    ready: dict[str, Any] = attrs.Factory(dict)


async def supervise(
    config: ServerConfig, workers: int, as_json: bool, log: tuple[str, str, bool] = ("WARNING", "text", False)
) -> int:
    """Run ``workers`` processes serving ``config`` until SIGINT/SIGTERM; the exit status."""
    held: list[socket.socket] = []
    ports: dict[ExchangeType, tuple[int, int]] = {}
    try:
        for exchange in config.exchanges:
            pair = []
            for port in config.ports(exchange):
                sock = _reserve(config.host, port)
                held.append(sock)
                pair.append(sock.getsockname()[1])
            ports[exchange] = (pair[0], pair[1])
        spec = {
            "config": config_file.dump(attrs.evolve(
                config, control_port=None if config.control_port is None else 0,
            )),
            "tls": None if config.tls_cert is None else [config.tls_cert, config.tls_key],
            "ports": {str(e): list(p) for e, p in ports.items()},
            "started_at_wall_ms": wall_ms(),
            "log": list(log),
        }
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(spec, handle)
        try:
            return await _run_workers(config, workers, handle.name, as_json, held)
        finally:
            os.unlink(handle.name)
    finally:
        for sock in held:
            sock.close()


async def _run_workers(
    config: ServerConfig, count: int, spec_path: str, as_json: bool, held: list[socket.socket]
) -> int:
    workers: list[_Worker] = []
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        try:
            for _ in range(count):
                process = await trio.lowlevel.open_process(
                    [sys.executable, "-m", "mockfeed.workers", spec_path], stdout=subprocess.PIPE,
                )
                workers.append(_Worker(process))
            with trio.fail_after(READY_TIMEOUT):
                for worker in workers:
                    worker.ready = await _ready_line(worker.process)
        except (trio.TooSlowError, RuntimeError) as error:
            print(f"mockfeed: a worker did not start: {error}", file=sys.stderr)
            await _stop(workers)
            return 1
        for sock in held:
            sock.close()  # the workers listen now; the reservations have done their job
        control: ControlServer | None = None
        async with trio.open_nursery() as nursery:
            if config.control_port is not None:
                urls = [w.ready["control"] for w in workers]
                tls = None if config.tls_cert is None else TlsFiles(config.tls_cert, config.tls_key)
                control = ControlServer(
                    ForwardingControl(urls, config.control_token), config.host, config.control_port, tls
                )
                await nursery.start(control.run)
            _announce(workers[0].ready, None if control is None else control.url, as_json, count)
            for worker in workers:
                nursery.start_soon(_watch, worker, nursery.cancel_scope)
            async for _ in signals:
                break
            nursery.cancel_scope.cancel()
        await _stop(workers)
    return 0 if all(w.process.returncode in (0, -signal.SIGTERM) for w in workers) else 1


async def _ready_line(process: trio.Process) -> dict[str, Any]:
    assert process.stdout is not None
    buffer = b""
    while b"\n" not in buffer:
        chunk = await process.stdout.receive_some()
        if not chunk:
            raise RuntimeError("a worker exited before it was ready")
        buffer += chunk
    ready: dict[str, Any] = json.loads(buffer.partition(b"\n")[0])
    return ready


async def _watch(worker: _Worker, scope: trio.CancelScope) -> None:
    """A worker that exits on its own takes the whole group down (a half-served port is worse)."""
    await worker.process.wait()
    logger.error("worker %d exited with %s; stopping", worker.process.pid, worker.process.returncode)
    scope.cancel()


def _announce(ready: Mapping[str, Any], control: str | None, as_json: bool, count: int) -> None:
    exchanges = ready["exchanges"]
    if as_json:
        print(json.dumps({"exchanges": exchanges, "control": control, "workers": count}), flush=True)
        return
    for name, urls in exchanges.items():
        print(f"{name} rest={urls['rest']} ws={urls['ws']}", flush=True)
    if control is not None:
        print(f"control={control}", flush=True)


async def _stop(workers: list[_Worker]) -> None:
    for worker in workers:
        if worker.process.returncode is None:
            worker.process.send_signal(signal.SIGTERM)
    with trio.move_on_after(STOP_TIMEOUT):
        for worker in workers:
            await worker.process.wait()
    for worker in workers:
        if worker.process.returncode is None:
            worker.process.kill()
            await worker.process.wait()


def main(argv: list[str] | None = None) -> int:
    """A worker: ``python -m mockfeed.workers SPEC.json`` (started by :func:`supervise`)."""
    args = sys.argv[1:] if argv is None else argv
    with open(args[0], encoding="utf-8") as handle:
        spec = json.load(handle)
    options = config_file.loads(spec["config"])
    if spec["tls"] is not None:
        options["tls_cert"], options["tls_key"] = spec["tls"]
    config = config_file.build(options)
    ports = {ExchangeType(name): (p[0], p[1]) for name, p in spec["ports"].items()}
    level, fmt, trace = spec.get("log", ["WARNING", "text", False])
    logs.configure(level, fmt, trace)
    from mockfeed.cli import serve_until_signalled  # the CLI imports this module only with --workers

    trio.run(serve_until_signalled, config, True, False, Placement(ports, spec["started_at_wall_ms"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
