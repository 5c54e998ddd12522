"""Answers a plugin marked reusable (:class:`~mockfeed.exchanges.base.Reuse`), kept for the market
second they were made in, so identical requests within it cost one lookup.

Clients poll the same klines URL many times a second (a bot fleet, a candles feed per strategy);
within one market second and one model generation the page is the same bytes, so building it again
is wasted work. Only answers given under a perfect network are kept and reused: any fault, latency
or rate limit sends the request down the full path.
"""

from __future__ import annotations

from mockfeed.exchanges.base import RestResponse

Key = tuple[str, str, bytes]  # method, path, raw query string

MAX_ANSWERS = 128  # entries; every one belongs to the current second, so stale ones go first


class AnswerMemo:
    """Reusable answers by (method, path, query string), each valid for one market second."""

    def __init__(self, size: int = MAX_ANSWERS) -> None:
        self.size = size
        self._answers: dict[Key, RestResponse] = {}
        self.hits = 0

    def get(self, key: Key, second: int, generation: int) -> RestResponse | None:
        """The answer kept for ``key`` if it was made in ``second`` of model ``generation`` (its
        ``reuse.headers``, if any, are still to be recomputed for the request)."""
        answer = self._answers.get(key)
        if answer is None:
            return None
        reuse = answer.reuse
        if reuse is None or reuse.second != second or reuse.generation != generation:
            return None
        self.hits += 1
        return answer

    def put(self, key: Key, answer: RestResponse) -> None:
        """Keep ``answer`` (which carries its :class:`Reuse`) for ``key``."""
        reuse = answer.reuse
        if reuse is None:
            return
        answers = self._answers
        if key not in answers and len(answers) >= self.size:
            stale = [k for k, a in answers.items() if a.reuse is None or a.reuse.second != reuse.second]
            for k in stale or list(answers):
                del answers[k]
        answers[key] = answer

    def clear(self) -> None:
        """Forget every answer."""
        self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)
