"""Figure 5: how faithfully the injected faults match their configuration, and what they cost.

In one process (mockfeed and its loopback clients share a trio run; the shared overhead cancels in
the differences), run by run:

* REST latency: median round trip of sequential requests with ``latency_ms=L`` minus the median with
  no latency, against L (the target: within 3 ms of L at low load);
* WebSocket latency: median push lag (receive time minus the push's event time, the market clock
  following real time) with ``latency_ms=L`` minus the same without, against L;
* loss: 5,000 pushes to one connection at ``loss=p``; the figure is the observed rate's distance
  from p in standard deviations (target ≤ 3), and the same seed must give the same dropped set;
* fan-out cost under latency: CPU time of pushing to N connections (encode, schedule, write) with a
  fixed latency, against the same pushes to the same connections with no fault, after a warm-up
  pass (ratio; subscribers due together are written in one delayed pass, so it stays well under
  a per-subscriber path's cost).
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

import httpx
import trio
from trio_websocket import open_websocket_url

import mockfeed
from benchmarks.common import Row, Settings, median
from mockfeed.runtime.conditions import Conditions

NAME = "faults"
LATENCY_MS = 50.0
REQUESTS = 30
LAG_PUSHES = 30
LOSS = 0.1
LOSS_PUSHES = 5_000
FANOUT_CONNECTIONS = 200
FANOUT_PUSHES = 50
STREAM = "/ws/btcusdt@kline_1m"
LOSS_START = "2024-03-01T00:00:00Z"


async def _rest_median_ms(server: mockfeed.Server) -> float:
    times = []
    async with httpx.AsyncClient(base_url=server.rest_url) as client:
        await client.get("/api/v3/time")
        for _ in range(REQUESTS):
            started = time.perf_counter()
            await client.get("/api/v3/time")
            times.append((time.perf_counter() - started) * 1000)
    return float(statistics.median(times))


async def _push_lag_median_ms(server: mockfeed.Server) -> float:
    hub = server["binance_spot"].hub
    lags = []
    async with open_websocket_url(server.ws_url + STREAM) as ws:
        await ws.get_message()
        for _ in range(LAG_PUSHES):
            hub.push_now()
            push = json.loads(await ws.get_message())
            lags.append(time.time() * 1000 - push["E"])
            await trio.sleep(0.005)
    return float(statistics.median(lags))


async def _received(server: mockfeed.Server) -> list[int]:
    """Event times received of LOSS_PUSHES pushes, market time frozen and moved 1 ms per push."""
    hub = server["binance_spot"].hub
    hub.plugin.push_period = lambda subscription: 3600.0  # type: ignore[method-assign]
    got: list[int] = []
    async with open_websocket_url(server.ws_url + STREAM) as ws:
        await ws.get_message()
        for batch in range(LOSS_PUSHES // 250):
            for _ in range(250):
                server.advance(1)
                hub.push_now()
            await ws.send_message(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": batch}))
            while True:
                message = json.loads(await ws.get_message())
                if message.get("id") == batch:
                    break
                got.append(message["E"])
    return got


async def _fanout_cpu_ms(server: mockfeed.Server) -> tuple[float, float]:
    """CPU ms to push FANOUT_PUSHES to FANOUT_CONNECTIONS connections that read nothing meanwhile,
    including the delayed writes: under a perfect network, then (same connections) with
    LATENCY_MS, which stays set afterwards."""
    hub = server["binance_spot"].hub

    async def spent() -> float:
        started = time.process_time()
        for _ in range(FANOUT_PUSHES):
            hub.push_now()
        await trio.sleep((server.conditions.latency_ms + 20) / 1000)  # the delayed writes fire
        return (time.process_time() - started) * 1000

    async with trio.open_nursery() as nursery:
        ready = trio.Semaphore(0)
        done = trio.Event()

        async def client() -> None:
            async with open_websocket_url(server.ws_url + STREAM) as ws:
                await ws.get_message()
                ready.release()
                await done.wait()

        for _ in range(FANOUT_CONNECTIONS):
            nursery.start_soon(client)
        for _ in range(FANOUT_CONNECTIONS):
            await ready.acquire()
        await spent()  # warm-up: the first pushes to new connections cost more, whatever the network
        base = await spent()
        server.conditions = Conditions(latency_ms=LATENCY_MS)
        faulty = await spent()
        done.set()
    return base, faulty


async def _one_run(with_loss: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    options: dict[str, Any] = {"exchanges": ["binance_spot"], "port": 0, "ws_port": 0}
    async with mockfeed.serve(**options) as server:
        out["rest_base_ms"] = await _rest_median_ms(server)
        out["ws_base_ms"] = await _push_lag_median_ms(server)
        out["fanout_base_cpu_ms"], out["fanout_latency_cpu_ms"] = await _fanout_cpu_ms(server)
        out["rest_latency_ms"] = await _rest_median_ms(server)  # the latency is set from here on
        out["ws_latency_ms"] = await _push_lag_median_ms(server)
    out["rest_added_ms"] = out["rest_latency_ms"] - out["rest_base_ms"]
    out["ws_added_ms"] = out["ws_latency_ms"] - out["ws_base_ms"]
    if with_loss:  # seeded: every run would draw the very same losses
        sets = []
        for _ in range(2):
            async with mockfeed.serve(**options, speed=0, start=LOSS_START, loss=LOSS, fault_seed=1) as server:
                sets.append(await _received(server))
        sigma = (LOSS * (1 - LOSS) / LOSS_PUSHES) ** 0.5
        observed = 1 - len(sets[0]) / LOSS_PUSHES
        out["loss_observed"] = observed
        out["loss_sigmas"] = abs(observed - LOSS) / sigma
        out["loss_same_set"] = sets[0] == sets[1]
    return out


def run(settings: Settings) -> list[Row]:
    """Interleaved runs; rows of the medians."""
    runs = []
    for index in range(settings.runs):
        result = trio.run(_one_run, index == 0)
        runs.append(result)
        loss = (
            f"; loss {result['loss_observed']:.4f} ({result['loss_sigmas']:.2f} σ, same set "
            f"{result['loss_same_set']})" if "loss_sigmas" in result else ""
        )
        print(
            f"   run {index + 1} REST +{result['rest_added_ms']:.2f} ms, WS +{result['ws_added_ms']:.2f} ms "
            f"for L={LATENCY_MS:g}{loss}; fan-out CPU {result['fanout_latency_cpu_ms']:.1f} ms "
            f"vs {result['fanout_base_cpu_ms']:.1f} ms",
            flush=True,
        )

    def values(key: str) -> list[float]:
        return [float(r[key]) for r in runs if key in r]

    extra = {"runs": runs, "latency_ms": LATENCY_MS, "loss": LOSS, "loss_pushes": LOSS_PUSHES}
    rest_error = [abs(v - LATENCY_MS) for v in values("rest_added_ms")]
    ws_error = [abs(v - LATENCY_MS) for v in values("ws_added_ms")]
    return [
        Row(name="faults.rest_latency_error", figure=f"REST latency L={LATENCY_MS:g} ms: |added − L|",
            value=median(rest_error), unit="ms", better="lower", runs=rest_error, extra=extra,
            target=3.0, target_op="<="),
        Row(name="faults.ws_latency_error", figure=f"WS push latency L={LATENCY_MS:g} ms: |added − L|",
            value=median(ws_error), unit="ms", better="lower", runs=ws_error, extra=extra,
            target=3.0, target_op="<="),
        Row(name="faults.loss_sigmas", figure=f"WS loss p={LOSS:g}, {LOSS_PUSHES} pushes: |observed − p|",
            value=median(values("loss_sigmas")), unit="σ", better="lower", runs=values("loss_sigmas"),
            extra=extra, target=3.0, target_op="<="),
        Row(name="faults.fanout_latency_cpu", figure=f"WS fan-out CPU, N={FANOUT_CONNECTIONS}, L={LATENCY_MS:g} ms",
            value=median(values("fanout_latency_cpu_ms")), unit="ms", better="lower",
            ceiling=median(values("fanout_base_cpu_ms")), ceiling_note="same pushes, no fault",
            runs=values("fanout_latency_cpu_ms"), ceiling_runs=values("fanout_base_cpu_ms"), extra=extra),
    ]
