"""The control endpoint's bearer token, through real sockets: missing, wrong, right, from the env."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import orjson
import pytest
import trio

import mockfeed

TOKEN = "s3cret-T0ken_with.chars~"


async def test_without_a_token_every_request_is_refused_with_401() -> None:
    """No Authorization header: 401, a JSON error and ``WWW-Authenticate: Bearer``; nothing changes."""
    async with mockfeed.serve(exchanges=["okx_spot"], port=0, ws_port=0, control_port=0,
                              control_token=TOKEN) as server:
        async with httpx.AsyncClient(base_url=server.control_url) as client:
            for method, path in [("GET", "/"), ("GET", "/time"), ("PATCH", "/conditions/okx_spot")]:
                answer = await client.request(method, path, json={"latency_ms": 50})
                assert answer.status_code == 401, (method, path)
                assert answer.headers["www-authenticate"] == 'Bearer realm="mockfeed"'
                assert answer.headers["content-type"] == "application/json"
                assert "Authorization: Bearer" in answer.json()["error"]
        assert server["okx_spot"].conditions.latency_ms == 0


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer", TOKEN,
                                    f"Basic {TOKEN}", f"Token {TOKEN}"])
async def test_a_wrong_token_is_refused(header: str) -> None:
    """A wrong token or scheme: 401 ``invalid_token``, the body never echoes the token."""
    async with mockfeed.serve(exchanges=["okx_spot"], port=0, ws_port=0, control_port=0,
                              control_token=TOKEN) as server:
        async with httpx.AsyncClient(base_url=server.control_url) as client:
            answer = await client.patch("/conditions/okx_spot", json={"maintenance": True},
                                        headers={"Authorization": header})
            assert answer.status_code == 401
            assert answer.headers["www-authenticate"] == 'Bearer realm="mockfeed", error="invalid_token"'
            assert answer.json() == {"error": "invalid control token"}
            # the connection stays usable after a refused request whose body was never read
            right = await client.get("/time", headers={"Authorization": f"Bearer {TOKEN}"})
            assert right.status_code == 200
        assert server["okx_spot"].conditions.maintenance is False


async def test_the_right_token_is_served() -> None:
    """The right token (scheme in any case) reaches every route as before."""
    async with mockfeed.serve(exchanges=["okx_spot"], port=0, ws_port=0, control_port=0,
                              control_token=TOKEN) as server:
        async with httpx.AsyncClient(base_url=server.control_url) as client:
            answer = await client.patch("/conditions/okx_spot", json={"latency_ms": 5},
                                        headers={"Authorization": f"bearer {TOKEN}"})
            assert answer.status_code == 200
            assert answer.json()["latency_ms"] == 5
            index = await client.get("/", headers={"Authorization": f"Bearer {TOKEN}"})
            assert "/conditions" in index.json()["endpoints"]
            bad = await client.patch("/conditions/okx_spot", json={"loss": 2},
                                     headers={"Authorization": f"Bearer {TOKEN}"})
            assert bad.status_code == 400  # authorised requests still get the usual errors
        assert server["okx_spot"].conditions.latency_ms == 5


async def test_no_token_configured_needs_no_header() -> None:
    """Without a token the endpoint stays open, as before."""
    async with (
        mockfeed.serve(exchanges=["okx_spot"], port=0, ws_port=0, control_port=0) as server,
        httpx.AsyncClient(base_url=server.control_url) as client,
    ):
        assert (await client.get("/time")).status_code == 200


def test_bad_tokens_are_refused_in_the_config() -> None:
    """An empty token or one a header cannot carry is a ValueError naming control_token."""
    for token in ["", "two words", "tab\there", "é"]:
        with pytest.raises(ValueError, match="control_token"):
            mockfeed.ServerConfig(control_token=token)


async def test_token_from_the_environment() -> None:
    """``MOCKFEED_CONTROL_TOKEN`` protects the CLI's control endpoint; ``--control-token`` wins over it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MOCKFEED_CONTROL_TOKEN": TOKEN}
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "mockfeed", "--exchange", "okx_spot", "--port", "0", "--ws-port", "0",
         "--control-port", "0", "--ready-json"],
        stdout=subprocess.PIPE, env=env,
    )
    try:
        assert process.stdout is not None
        buffer = b""
        with trio.fail_after(30):
            while b"\n" not in buffer:
                chunk = await process.stdout.receive_some()
                assert chunk, "mockfeed exited before its ready line"
                buffer += chunk
        control = orjson.loads(buffer.split(b"\n")[0])["control"]
        async with httpx.AsyncClient(base_url=control) as client:
            assert (await client.get("/time")).status_code == 401
            assert (await client.get("/time", headers={"Authorization": "Bearer nope"})).status_code == 401
            assert (await client.get("/time", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 200
        process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
