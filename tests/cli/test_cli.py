"""The command line in a subprocess: ready line, listing, refusals, SIGINT."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from mockfeed import cli
from mockfeed.exchanges import ExchangeType, registry

READY = re.compile(r"^(\w+) rest=(http://127\.0\.0\.1:\d+) ws=(ws://127\.0\.0\.1:\d+)$")


def _run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockfeed", *args], capture_output=True, text=True, timeout=timeout
    )


def test_list_names_every_exchange() -> None:
    """--list prints all 17 products with their default ports and exits 0."""
    result = _run("--list")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 17
    assert lines[0].split()[:5] == ["binance_spot", "rest", "9100", "ws", "9101"]


def test_unknown_exchange_exits_2_with_valid_names() -> None:
    """An unknown name prints the valid names and exits 2, without a traceback."""
    result = _run("--exchange", "binanse_spot")
    assert result.returncode == 2
    assert "binance_spot" in result.stderr and "okx_spot" in result.stderr
    assert "Traceback" not in result.stderr


def test_known_but_unserved_exchange_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A product whose plugin module is missing is refused with a message, exit 2, no traceback."""
    monkeypatch.setitem(
        registry.PLUGINS, ExchangeType.ASCEND_EX_SPOT, ("mockfeed.exchanges.not_written", "X")
    )
    assert cli.main(["--exchange", "ascend_ex_spot", "--port", "0", "--ws-port", "0"]) == 2
    err = capsys.readouterr().err
    assert "ascend_ex_spot is not served yet" in err
    assert "Traceback" not in err


def test_bad_pairs_are_refused() -> None:
    """--pairs with a non-canonical name exits 2 with a message."""
    result = _run("--pairs", "BTCUSDT", "--port", "0", "--ws-port", "0")
    assert result.returncode == 2
    assert "BASE-QUOTE" in result.stderr


async def _start(*args: str) -> tuple[trio.Process, list[tuple[str, str, str]]]:
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", *args],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    buffer = b""
    with trio.fail_after(20):
        while buffer.count(b"\n") < args.count("--exchange"):
            chunk = await process.stdout.receive_some()
            assert chunk, "mockfeed exited before its ready line"
            buffer += chunk
    ready = []
    for line in buffer.decode().splitlines():
        match = READY.match(line)
        assert match, line
        ready.append((match.group(1), match.group(2), match.group(3)))
    return process, ready


async def test_ready_lines_serving_and_sigint_closes_with_1001() -> None:
    """Two exchanges on ephemeral ports: ready lines, REST answers, SIGINT → WS 1001, exit 0."""
    process, ready = await _start(
        "--exchange", "binance_spot", "--exchange", "binance_perpetual",
        "--port", "0", "--ws-port", "0", "--seed", "7", "--pairs", "BTC-USDT,ETH-USDT",
    )
    try:
        assert [name for name, _, _ in ready] == ["binance_spot", "binance_perpetual"]
        async with httpx.AsyncClient() as client:
            info = (await client.get(ready[0][1] + "/api/v3/exchangeInfo")).json()
            assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
            perp = (await client.get(ready[1][1] + "/fapi/v1/time")).json()
            assert "serverTime" in perp
        async with open_websocket_url(ready[0][2] + "/ws/btcusdt@kline_1s") as ws:
            with trio.fail_after(10):
                await ws.get_message()
            process.send_signal(signal.SIGINT)
            with trio.fail_after(10), pytest.raises(ConnectionClosed) as closed:
                while True:
                    await ws.get_message()
            assert closed.value.reason.code == 1001
        with trio.fail_after(10):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_sigterm_exits_0() -> None:
    """SIGTERM stops the server cleanly with exit status 0."""
    process, _ = await _start("--exchange", "binance_perpetual", "--port", "0", "--ws-port", "0")
    try:
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(10):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_exchange_all_serves_every_product() -> None:
    """--exchange all starts every product on ephemeral ports, one ready line each, then stops on SIGINT."""
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", "--exchange", "all", "--port", "0", "--ws-port", "0"],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    buffer = b""
    try:
        with trio.fail_after(30):
            while buffer.count(b"\n") < len(ExchangeType):
                chunk = await process.stdout.receive_some()
                assert chunk, "mockfeed exited before its ready lines"
                buffer += chunk
        names = [READY.match(line).group(1) for line in buffer.decode().splitlines()]  # type: ignore[union-attr]
        assert names == [e.value for e in ExchangeType]
        process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_readme_documents_every_flag() -> None:
    """Each long option of the parser appears in the README's command-line reference."""
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    flags = [o for a in cli.build_parser()._actions for o in a.option_strings if o.startswith("--")]
    missing = [flag for flag in flags if flag != "--help" and f"`{flag}" not in readme
               and f", {flag}" not in readme]
    assert not missing, f"README does not document {missing}"
