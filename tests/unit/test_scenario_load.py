"""Loading scenarios: the documented example, TOML and JSON, and errors that name the key or line."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from mockfeed import ServerConfig
from mockfeed.market import Interval, MarketModel, parse_pairs
from mockfeed.market.clock import parse_time
from mockfeed.market.scenario import (
    Crash,
    Gap,
    Halt,
    Jump,
    Listing,
    Maintenance,
    Scenario,
    ScenarioError,
    Trend,
    Volatility,
)
from mockfeed.market.scenario_load import load_scenario, parse_scenario, scenario_from_data, scenario_to_data

_MINUTE = Interval.parse("1m")
DOCS = Path(__file__).parents[2] / "docs" / "scenarios.md"
START = "2024-03-01T00:00:00Z"


def docs_example() -> str:
    """The complete TOML file of docs/scenarios.md."""
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    return str(blocks[0])


def test_the_documented_file_loads_and_fits_the_default_pairs(tmp_path: Path) -> None:
    """The example in the docs is valid, and means what its comments say."""
    path = tmp_path / "day.toml"
    path.write_text(docs_example(), encoding="utf-8")
    scenario = load_scenario(path)
    assert [type(e) for e in scenario.events] == [
        Listing, Jump, Halt, Volatility, Crash, Gap, Trend, Maintenance,
    ]
    config = ServerConfig(scenario=path, start=START)
    assert config.scenario == scenario
    start_s = parse_time(START) // 1000
    resolved = scenario.for_pair("BTC-USDT", start_s * 1000)
    assert [(r.kind, r.start - start_s, r.end - r.start) for r in resolved] == [
        ("jump", 7200, 300), ("halt", 10800, 1800), ("crash", 18000, 3600), ("trend", 28800, 3 * 86400),
    ]
    assert scenario.maintenance_windows("okx_spot", start_s * 1000) == [
        ((start_s + 36000) * 1000, (start_s + 36000 + 900) * 1000)
    ]


def test_json_is_the_same_as_toml() -> None:
    """The JSON spelling of a file gives the same scenario."""
    toml = parse_scenario(docs_example(), "toml")
    data = {"events": [{"kind": type(e).__name__.lower(), **_fields(e)} for e in toml.events]}
    assert parse_scenario(json.dumps(data), "json", "day.json") == toml


def _fields(event: object) -> dict[str, object]:
    out = {}
    for name in ("at", "over", "pair", "exchange"):
        value = getattr(event, name, None)
        if value is not None:
            out[name] = value
    for name in ("pct", "pct_per_day", "factor"):
        value = getattr(event, name, None)
        if value is not None:
            out[name] = str(value)
    return out


def test_written_data_reads_back_the_same() -> None:
    """scenario_to_data writes the file format (JSON-ready), read back into the same scenario."""
    toml = parse_scenario(docs_example(), "toml")
    data = scenario_to_data(toml)
    assert scenario_from_data(json.loads(json.dumps(data))) == toml
    assert data["events"][3] == {"kind": "volatility", "at": "+1h", "over": "4h", "factor": 3,
                                 "pair": "ETH-USDT"}
    odd = Scenario([Volatility(at=1_709_251_200_000, over="1h", factor="0.35"),
                    Jump(at="+1h", pct=Fraction(1, 3))])
    written = scenario_to_data(odd)
    assert written["events"][0]["factor"] == 0.35
    again = scenario_from_data(json.loads(json.dumps(written)))
    assert again.events[0] == odd.events[0]
    assert abs(again.events[1].pct - Fraction(1, 3)) < Fraction(1, 10**25)  # not a decimal: close
    assert scenario_to_data(None) == {"events": []}


def test_the_model_takes_the_documented_scenario() -> None:
    """SOL has no candles before its listing an hour after the start."""
    start = parse_time(START)
    model = MarketModel(parse_pairs("BTC-USDT,ETH-USDT,SOL-USDT"),
                        scenario=parse_scenario(docs_example(), "toml").at(start))
    assert model.raw_candles("SOL-USDT", _MINUTE, now_ms=start + 3_599_999, limit=100) == []
    assert len(model.raw_candles("SOL-USDT", _MINUTE, now_ms=start + 3_660_000, limit=100)) == 2


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("[[events]]\nkind = \"jump\"\nat = \n", "toml", r"TOML syntax error: .*at line 3"),
        ('{"events": [\n{"kind": "gap",}\n]}', "json", r"JSON syntax error at line 2, column 16"),
        ('[[events]]\nkind = "hault"\nat = "+1h"\n', "toml", r"events\[0\]\.kind: expected one of jump"),
        ('[[events]]\nkind = "jump"\nat = "+1h"\npct = "twelve"\n', "toml",
         r"events\[0\]\.pct: a percentage is a number, not 'twelve'"),
        ('[[events]]\nkind = "gap"\nat = "+1h"\nover = "5m"\n[[events]]\nkind = "halt"\nat = "+2h"\n',
         "toml", r"events\[1\]\.over: missing"),
        ('[[events]]\nkind = "gap"\nat = "+1h"\nover = "5m"\nprice = 3\n', "toml",
         r"events\[0\]\.price: unknown key for a gap"),
        ('[[events]]\nkind = "listing"\nat = "yesterday"\n', "toml", r"events\[0\]\.at: not a time"),
        ('[[events]]\nkind = "listing"\nat = "+1h"\npair = "btc"\n', "toml", r"events\[0\]\.pair: "),
        ('events = 3\n', "toml", r"events: expected a list"),
        ('[event]\nkind = "gap"\n', "toml", r"event: unknown key"),
        ('[3]', "json", r"expected a table"),
    ],
)
def test_errors_name_the_key_or_the_line(text: str, fmt: str, message: str) -> None:
    """Every mistake is a ScenarioError naming the source and the key path, or the line."""
    with pytest.raises(ScenarioError, match=rf"^scenario day\.{fmt}: {message}"):
        parse_scenario(text, fmt, f"day.{fmt}")


def test_files_need_a_known_extension(tmp_path: Path) -> None:
    """The format follows the extension; a missing file is an error, not a traceback."""
    (tmp_path / "day.yaml").write_text("events: []\n")
    with pytest.raises(ScenarioError, match=r"expected a \.toml or \.json file"):
        load_scenario(tmp_path / "day.yaml")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


def test_config_refuses_unserved_pairs_and_clashes() -> None:
    """ServerConfig checks the scenario against its pairs before anything starts."""
    with pytest.raises(ScenarioError, match=r"events\[0\]\.pair: DOGE-USDT is not served"):
        ServerConfig(scenario=[Gap(at="+1h", over="1m", pair="DOGE-USDT")])
    with pytest.raises(ScenarioError, match="a halt overlaps a jump"):
        ServerConfig(scenario=[Jump(at="+1h", pct=5, over="1h"), Halt(at="+90m", over="5m")], start=START)
    config = ServerConfig(scenario=Scenario((Crash(at="+1h", pct=30),)))
    assert config.scenario is not None and len(config.scenario.events) == 1
    assert ServerConfig(scenario=[]).scenario == Scenario()
    assert scenario_from_data({}) == Scenario()


def test_a_maintenance_for_an_exchange_not_served_is_refused() -> None:
    """A maintenance window names a served exchange (or none: every one)."""
    with pytest.raises(ValueError, match=r"events\[0\]\.exchange: kraken_spot is not served"):
        ServerConfig(scenario=[Maintenance(at="+1h", over="5m", exchange="kraken_spot")], start=START)
    with pytest.raises(ValueError, match="maintenance needs a span"):
        ServerConfig(scenario=[Maintenance(at="+1h", over="0s")], start=START)
    with pytest.raises(ScenarioError, match=r"events\[0\]\.pair: unknown key for a maintenance"):
        parse_scenario('[[events]]\nkind = "maintenance"\nat = "+1h"\nover = "5m"\npair = "BTC-USDT"\n', "toml")
