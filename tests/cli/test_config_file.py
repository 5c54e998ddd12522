"""The TOML configuration file: the documented example, round trips, refusals with key paths,
precedence of flags and environment, and per-exchange conditions served over real sockets."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import mockfeed
from mockfeed import cli, config_file
from mockfeed.config_file import ConfigError
from mockfeed.exchanges import ExchangeType
from mockfeed.runtime.conditions import KEYS, Conditions

DOCS = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _doc_example() -> str:
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(), re.S)
    assert len(blocks) == 1, "docs/configuration.md should hold exactly one complete TOML example"
    return str(blocks[0])


def _print_config(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert cli.main([*args, "--print-config"]) == 0
    return capsys.readouterr().out


def test_the_documented_example_is_valid_and_complete() -> None:
    """The example in docs/configuration.md loads, and shows every key (new condition keys included)."""
    text = _doc_example()
    config = config_file.build(config_file.loads(text))
    data = tomllib.loads(text)
    assert set(data) == set(config_file.TOP_KEYS)
    assert {k for k, v in data["conditions"].items() if not isinstance(v, dict)} == set(KEYS)
    assert set(config_file.PAIR_KEYS) <= set().union(*(p.keys() for p in data["pairs"]))
    assert config.exchanges == (ExchangeType.OKX_SPOT, ExchangeType.BINANCE_PERPETUAL)
    assert config.pairs[1].tick_size == Decimal("0.00000001")
    assert config.conditions_for(ExchangeType.BINANCE_PERPETUAL).latency_ms == 150
    assert config.conditions_for(ExchangeType.OKX_SPOT).latency_ms == 20


def test_print_config_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--print-config output read back with --config gives an equal config and the same text."""
    source = tmp_path / "in.toml"
    source.write_text(_doc_example())
    first = _print_config(capsys, "--config", str(source))
    again = tmp_path / "again.toml"
    again.write_text(first)
    assert _print_config(capsys, "--config", str(again)) == first
    assert config_file.build(config_file.load(again)) == config_file.build(config_file.load(source))


def test_defaults_round_trip(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a file, --print-config writes the defaults out; they read back equal."""
    text = _print_config(capsys)
    config = config_file.build(config_file.loads(text))
    assert config == mockfeed.ServerConfig(control_port=9200)
    assert config_file.dump(config) == text


def test_every_value_kind_round_trips() -> None:
    """Odd strings, Decimals, floats, None-valued fields and per-exchange tables survive dump → load."""
    config = mockfeed.ServerConfig(
        exchanges=["kraken_spot", "okx_spot"], host="::1", port=0, ws_port=0, control_port=None,
        control_token='q"\\~!', seed=-3, speed=0.0, start="2023-06-30T23:59:59.999Z",
        pairs=["XRP-USDT", "ABC-EUR"], latency_ms=0.1, ws_lifetime_s=None, loss_burst=7,
        exchange_conditions={"okx_spot": {"stall": True, "ws_lifetime_s": 1e-3}},
    )
    text = config_file.dump(config)
    assert config_file.build(config_file.loads(text)) == config
    assert 'control_port = "off"' in text and "ws_lifetime_s" in text


ERRORS = [
    ('exchanges = ["okx_spot"\nseed = 1\n', "invalid TOML: Unclosed array (at line 2, column 1)"),
    ("exchange = ['okx_spot']\n", "exchange: unknown key; expected some of exchanges,"),
    ("exchanges = ['okx_spot', 'binanse_spot']\n", "exchanges: unknown exchange 'binanse_spot'; valid"),
    ("exchanges = ['okx_spot', 3]\n", "exchanges[1]: expected an exchange name"),
    ("exchanges = []\n", "exchanges: expected a non-empty array"),
    ("port = 70000\n", "port: port 70000 is outside 0..65535"),
    ("ws_port = '9101'\n", "ws_port: expected a port number"),
    ("control_port = 'of'\n", 'control_port: expected a port number or "off"'),
    ("control_token = 'a b'\n", "control_token: control_token may hold only visible ASCII"),
    ("seed = 1.5\n", "seed: expected an integer"),
    ("speed = -1\n", "speed: -1 is outside the speed range"),
    ("start = 'yesterday'\n", "start: not an ISO 8601 time"),
    ("start = 2001-01-01\n", "start: 978307200000 is outside the market's time span"),
    ("pairs = ['BTCUSDT']\n", "pairs[0].name: pair 'BTCUSDT' is not of the form BASE-QUOTE"),
    ("pairs = ['BTC-USDT', 'btc-usdt']\n", "pairs: pair BTC-USDT is listed twice"),
    ("[[pairs]]\nname = 'BTC-USDT'\ntick = '0.1'\n", "pairs[0].tick: unknown key; expected name,"),
    ("[[pairs]]\nname = 'BTC-USDT'\nvolatility = -1\n", "pairs[0].volatility: must be between 0 and 20"),
    ("[[pairs]]\nname = 'BTC-USDT'\nlot_size = '0'\n", "pairs[0].lot_size: must be a positive number"),
    ("[[pairs]]\nname = 'BTC-USDT'\nstart_price = 'x'\n", "pairs[0].start_price: expected a decimal"),
    ("[[pairs]]\nname = 'BTC-USDT'\nstart_price = 0.001\n", "pairs[0].start_price: must be at least the tick"),
    ("[[pairs]]\nname = 'BTC-USDT'\ndaily_quote_volume = inf\n", "pairs[0].daily_quote_volume: must be a positive"),
    ("[conditions]\nloss = 1.5\n", "conditions.loss: loss must be a probability between 0 and 1, got 1.5"),
    ("[conditions]\nlatency = 5\n", "conditions.latency: unknown key 'latency'; expected some of latency_ms,"),
    ("[conditions]\nstall = 'yes'\n", "conditions.stall: stall must be true or false"),
    ("[conditions.okx_spt]\nloss = 0.1\n", "conditions.okx_spt: not an exchange name"),
    ("[conditions.okx_spot]\nfault_seed = -1\n", "conditions.okx_spot.fault_seed: fault_seed must be between 0 and 2**63-1, got -1"),
    ("conditions = 3\n", "conditions: expected a table"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_bad_files_name_the_key(
    text: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each refusal names file and key path (or line), exits 2 and starts nothing."""
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        config_file.load(path)
    assert str(refused.value).startswith(f"{path}: {message}"), str(refused.value)
    assert cli.main(["--config", str(path), "--port", "0", "--ws-port", "0"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"mockfeed: {path}: {message}") and "Traceback" not in err


def test_missing_file_is_refused_in_a_subprocess(tmp_path: Path) -> None:
    """``python -m mockfeed --config`` with no such file: a message, status 2, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "mockfeed", "--config", str(tmp_path / "none.toml")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "none.toml: cannot read it" in result.stderr and "Traceback" not in result.stderr


def _effective(tmp_path: Path, text: str, *args: str, env: dict[str, str] | None = None) -> Any:
    path = tmp_path / "c.toml"
    path.write_text(text)
    given = vars(cli.build_parser().parse_args(["--config", str(path), *args]))
    return cli.effective_config(given, env or {})


FILE = """
exchanges = ["okx_spot", "binance_spot"]
port = 9500
seed = 5
speed = 2.0
control_token = "from-file"
pairs = ["ETH-USDT"]
[conditions]
latency_ms = 10
maintenance = true
[conditions.okx_spot]
latency_ms = 30
error_rate = 0.5
"""


def test_flags_not_given_never_override_the_file(tmp_path: Path) -> None:
    """Only the flags given override: argparse defaults play no part."""
    config = _effective(tmp_path, FILE)
    assert (config.seed, config.speed, config.port, config.latency_ms, config.maintenance) == (
        5, 2.0, 9500, 10, True
    )
    assert config.control_port == 9600  # the file's first REST port + 100
    assert [p.name for p in config.pairs] == ["ETH-USDT"]
    assert config.conditions_for(ExchangeType.OKX_SPOT).latency_ms == 30


def test_flags_given_override_the_file(tmp_path: Path) -> None:
    """Flags given win; a condition flag covers every exchange, per-exchange tables included."""
    config = _effective(
        tmp_path, FILE, "--seed", "0", "--exchange", "okx_spot", "--port", "0", "--latency", "1",
        "--pairs", "BTC-USDT", "--control-port", "off",
    )
    assert config.seed == 0 and config.exchanges == (ExchangeType.OKX_SPOT,)
    assert config.port == 0 and config.control_port is None
    assert [p.name for p in config.pairs] == ["BTC-USDT"]
    okx = config.conditions_for(ExchangeType.OKX_SPOT)
    assert (okx.latency_ms, okx.error_rate, okx.maintenance) == (1, 0.5, True)


def test_token_precedence(tmp_path: Path) -> None:
    """Control token: the flag over the environment over the file."""
    env = {cli.TOKEN_ENV: "from-env"}
    assert _effective(tmp_path, FILE).control_token == "from-file"
    assert _effective(tmp_path, FILE, env=env).control_token == "from-env"
    assert _effective(tmp_path, FILE, "--control-token", "from-flag", env=env).control_token == "from-flag"
    assert _effective(tmp_path, FILE, env={cli.TOKEN_ENV: ""}).control_token == "from-file"


async def test_per_exchange_conditions_are_served(tmp_path: Path) -> None:
    """[conditions.okx_spot] puts only OKX in maintenance; Binance answers normally."""
    path = tmp_path / "m.toml"
    path.write_text('exchanges = ["okx_spot", "binance_spot"]\nport = 0\nws_port = 0\n'
                    "[conditions.okx_spot]\nmaintenance = true\n")
    config = config_file.build(config_file.load(path))
    async with mockfeed.serve(config) as server, httpx.AsyncClient() as client:
        okx = await client.get(server["okx_spot"].rest_url + "/api/v5/public/time")
        binance = await client.get(server["binance_spot"].rest_url + "/api/v3/time")
    assert okx.status_code == 503 and okx.json()["code"] == "50001"
    assert binance.status_code == 200 and "serverTime" in binance.json()


async def test_custom_pair_parameters_are_served(tmp_path: Path) -> None:
    """A pair table's tick size and start price reach the wire (OKX instruments and candles)."""
    path = tmp_path / "p.toml"
    path.write_text('exchanges = ["okx_spot"]\nport = 0\nws_port = 0\nstart = 2025-01-01T00:00:00Z\n'
                    'speed = 0.0\n[[pairs]]\nname = "PEPE-USDT"\nstart_price = "0.00001"\n'
                    'tick_size = "0.00000001"\nlot_size = "1"\n')
    async with mockfeed.serve(config_file.build(config_file.load(path))) as server, \
            httpx.AsyncClient(base_url=server.rest_url) as client:
        instruments = (await client.get("/api/v5/public/instruments",
                                        params={"instType": "SPOT"})).json()["data"]
        rows = (await client.get("/api/v5/market/candles",
                                 params={"instId": "PEPE-USDT", "bar": "1m"})).json()["data"]
    assert [(i["instId"], i["tickSz"]) for i in instruments] == [("PEPE-USDT", "0.00000001")]
    assert rows and all(Decimal("0.000005") < Decimal(row[4]) < Decimal("0.00002") for row in rows)


def test_switches_can_be_turned_off_by_flags(tmp_path: Path) -> None:
    """--no-maintenance, --no-stall and --no-rate-limits undo a file's switches."""
    text = "[conditions]\nmaintenance = true\nstall = true\nrate_limits = true\n"
    assert _effective(tmp_path, text).conditions() == Conditions(maintenance=True, stall=True,
                                                                 rate_limits=True)
    config = _effective(tmp_path, text, "--no-maintenance", "--no-stall", "--no-rate-limits")
    assert config.conditions() == Conditions()


def test_a_scenario_file_is_found_next_to_the_config(tmp_path: Path) -> None:
    """scenario = "day.toml" is read relative to the config file, whatever the working directory."""
    (tmp_path / "day.toml").write_text('[[events]]\nkind = "crash"\nat = "+1h"\npct = 30\n')
    (tmp_path / "mockfeed.toml").write_text('start = "2024-01-01T00:00:00Z"\nscenario = "day.toml"\n')
    config = config_file.build(config_file.load(tmp_path / "mockfeed.toml"))
    assert config.scenario is not None and len(config.scenario.events) == 1
    assert "[[scenario.events]]" in config_file.dump(config)


def test_a_bad_inline_scenario_names_its_key(tmp_path: Path) -> None:
    """An inline event with a bad value: the key path under scenario, nothing starts."""
    path = tmp_path / "bad.toml"
    path.write_text('[[scenario.events]]\nkind = "jump"\nat = "+1h"\npct = "twelve"\n')
    with pytest.raises(config_file.ConfigError, match=r"bad.toml: scenario: events\[0\]\.pct: a percentage"):
        config_file.load(path)


def test_route_conditions_in_a_file_load_check_and_round_trip(tmp_path: Path) -> None:
    """[conditions.X.routes."/path"] tables: loaded, checked with the key path, written back."""
    path = tmp_path / "routes.toml"
    path.write_text('[conditions.okx_spot.routes."/api/v5/market/candles"]\nerror_rate = 0.5\n')
    config = config_file.build(config_file.load(path))
    assert config.route_conditions == {ExchangeType.OKX_SPOT: {"/api/v5/market/candles": {"error_rate": 0.5}}}
    assert config_file.build(config_file.loads(config_file.dump(config))) == config
    path.write_text('[conditions.okx_spot.routes."/api/v5/market/candles"]\nloss = 0.5\n')
    with pytest.raises(config_file.ConfigError, match=r"conditions\.okx_spot\.routes: .*cannot be set per route"):
        config_file.load(path)
