"""docs/pytest.md's examples, run as written, so the documentation cannot rot.

Every ```python block of the page is compiled (with its markdown line numbers, so a failure points
into the page) and run in a namespace of its own, so a block that forgets an import fails here too;
the test functions it defines become tests of this module, collected with the real fixtures.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

PAGE = Path(__file__).resolve().parents[2] / "docs" / "pytest.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def blocks(text: str) -> list[tuple[int, str]]:
    """The page's python blocks, each with the line number (0-based) of its first code line."""
    return [(text.count("\n", 0, found.start(1)), found.group(1)) for found in _BLOCK.finditer(text)]


def _run(line: int, source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": __name__}
    exec(compile("\n" * line + source, str(PAGE), "exec"), namespace)
    return namespace


_EXAMPLES = blocks(PAGE.read_text(encoding="utf-8"))
_TESTS: dict[str, int] = {}
for _line, _source in _EXAMPLES:
    for _name, _value in _run(_line, _source).items():
        if _name.startswith("test_") and callable(_value):
            assert _name not in globals(), f"docs/pytest.md defines {_name} twice"
            globals()[_name] = _value
            _TESTS[_name] = _line


def test_every_example_defines_a_test() -> None:
    """The page has its examples, and each block contributes at least one test here."""
    assert len(_EXAMPLES) >= 5
    assert {line for line, _ in _EXAMPLES} == set(_TESTS.values())
    assert {"test_python_binance_klines", "test_closed_candles_match_rest"} <= set(_TESTS)
