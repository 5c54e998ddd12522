"""AnswerMemo with plain values: an answer is reused only in its own second and model generation."""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse, Reuse
from mockfeed.runtime.answer_memo import AnswerMemo


def answer(second: int, generation: int = 0, body: bytes = b"[]") -> RestResponse:
    return RestResponse(200, body, reuse=Reuse(second, generation))


KEY = ("GET", "/api/v3/klines", b"symbol=BTCUSDT&interval=1m")


def test_an_answer_is_reused_within_its_second_and_generation_only() -> None:
    memo = AnswerMemo()
    kept = answer(100, 3)
    memo.put(KEY, kept)
    assert memo.get(KEY, 100, 3) is kept
    assert memo.get(KEY, 101, 3) is None
    assert memo.get(KEY, 99, 3) is None  # the clock was set back
    assert memo.get(KEY, 100, 4) is None  # a scenario changed the candles
    assert memo.get(("GET", "/api/v3/klines", b"symbol=ETHUSDT&interval=1m"), 100, 3) is None
    assert memo.get(("HEAD", *KEY[1:]), 100, 3) is None
    assert memo.hits == 1


def test_answers_without_reuse_are_not_kept() -> None:
    memo = AnswerMemo()
    memo.put(KEY, RestResponse(200, b"[]"))
    assert len(memo) == 0 and memo.get(KEY, 0, 0) is None


def test_the_memo_is_bounded_and_drops_older_seconds_first() -> None:
    memo = AnswerMemo(size=4)
    for i in range(3):
        memo.put(("GET", "/old", str(i).encode()), answer(1))
    memo.put(("GET", "/new", b"0"), answer(2))
    memo.put(("GET", "/new", b"1"), answer(2))  # full: the second-1 answers go
    assert len(memo) == 2
    assert memo.get(("GET", "/new", b"0"), 2, 0) is not None
    for i in range(2, 6):
        memo.put(("GET", "/new", str(i).encode()), answer(2))  # full of this second: start again
    assert len(memo) <= 4
    assert memo.get(("GET", "/new", b"5"), 2, 0) is not None
