"""The scenario a running server's market follows, replaceable at run time.

:class:`Scenarios` owns it: :meth:`Scenarios.replace` validates a new one against the served pairs
and exchanges (changing nothing on error), swaps the pair models of the
:class:`~mockfeed.market.MarketModel` (whose generation counter makes every plugin's row cache drop
its rows and pages) and reschedules maintenance windows. REST and WebSocket both read the model, so
the change shows on both from the next request and the next push. History is rewritten: a candle
already served or pushed may differ when asked for again.

:func:`scenario_routes` is its control endpoint table::

    GET    /scenario                       {"events": [...]} in the file format (docs/scenarios.md)
    PUT    /scenario {"events": [...]}     replace it; 400 naming the key path if it is bad
    DELETE /scenario                       no scenario: the plain market

Offsets (``"+2h"``) count from the server's start, as in a file.
"""

from __future__ import annotations

from collections.abc import Sequence

from mockfeed.market import MarketModel
from mockfeed.market.scenario import Bound, Scenario, ScenarioError, bind
from mockfeed.market.scenario_load import scenario_from_data, scenario_to_data, to_scenario
from mockfeed.runtime.control import BadRequest, ControlRequest, ControlResponse, RouteTable
from mockfeed.runtime.windows import Schedule, Window

__all__ = ["Scenarios", "scenario_routes"]


class Scenarios:
    """The scenario in force over ``model`` (``bound``, already applied to it), with offsets
    counted from ``origin_ms``; its maintenance windows go to ``schedule``."""

    def __init__(
        self,
        model: MarketModel,
        pairs: Sequence[str],
        schedule: Schedule,
        origin_ms: int,
        bound: Bound | None = None,
    ) -> None:
        self.model = model
        self.pairs = list(pairs)
        self.schedule = schedule
        self.origin_ms = origin_ms
        self.bound = bound
        self.schedule.replace(self._windows(self.bound))

    @property
    def scenario(self) -> Scenario | None:
        """The scenario in force (None: the plain market)."""
        return None if self.bound is None else self.bound.scenario

    def replace(self, value: object) -> None:
        """Serve ``value`` from now on: a :class:`Scenario`, a list of events, ``{"events": ...}``
        data, a file path, or None (the plain market).

        Raises :class:`ScenarioError` (naming the key path) and changes nothing if it does not fit.
        """
        scenario = to_scenario(value)
        if scenario is not None and not scenario.events:
            scenario = None
        bound = bind(scenario, self.origin_ms)
        windows = self._windows(bound)  # checks the maintenance events
        if bound is not None:
            bound.scenario.check(self.pairs, self.origin_ms)
        self.model.set_scenario(bound)
        self.bound = bound
        self.schedule.replace(windows)

    def _windows(self, bound: Bound | None) -> dict[str, Sequence[Window]]:
        if bound is None:
            return {}
        scenario = bound.scenario
        for k, event in enumerate(scenario.events):
            exchange = getattr(event, "exchange", None)
            if exchange is not None and exchange not in self.schedule.holders:
                served = ", ".join(self.schedule.holders)
                raise ScenarioError(f"events[{k}].exchange: {exchange} is not served (exchanges: {served})")
        return {e: scenario.maintenance_windows(e, bound.origin_ms) for e in self.schedule.holders}


def scenario_routes(scenarios: Scenarios) -> RouteTable:
    """``GET``/``PUT``/``DELETE /scenario`` over ``scenarios`` (see the module's docstring)."""

    def show(request: ControlRequest) -> ControlResponse:
        return ControlResponse(200, scenario_to_data(scenarios.scenario))

    def put(request: ControlRequest) -> ControlResponse:
        body = request.json_object()
        try:
            scenarios.replace(scenario_from_data(body, None))
        except ScenarioError as refused:
            raise BadRequest(str(refused)) from None
        return show(request)

    def delete(request: ControlRequest) -> ControlResponse:
        scenarios.replace(None)
        return show(request)

    return {"/scenario": {"GET": show, "PUT": put, "DELETE": delete}}
