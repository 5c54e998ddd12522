"""Connection caps and the --host warning."""

from __future__ import annotations

import subprocess
import sys

import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url

from mockfeed import Server
from mockfeed.cli import exposed


@pytest.mark.mockfeed(exchanges=["binance_spot"], max_ws_connections=2)
async def test_handshakes_beyond_the_cap_get_503(mockfeed_server: Server) -> None:
    """Two open connections, a third refused with 503; once one closes, a new one is accepted."""
    url = mockfeed_server.ws_url + "/ws"
    async with open_websocket_url(url):
        async with open_websocket_url(url):
            with pytest.raises(ConnectionRejected) as refused:
                async with open_websocket_url(url):
                    pass
            assert refused.value.status_code == 503
        with trio.fail_after(5):
            while len(mockfeed_server["binance_spot"].connections) > 1:
                await trio.sleep(0.01)
        async with open_websocket_url(url) as ws:
            await ws.send_message('{"method": "LIST_SUBSCRIPTIONS", "id": 1}')
            assert '"id":1' in str(await ws.get_message())


@pytest.mark.parametrize(
    ("host", "warn"),
    [("127.0.0.1", False), ("localhost", False), ("::1", False), ("127.0.0.2", False),
     ("0.0.0.0", True), ("::", True), ("192.168.1.10", True), ("example.org", True)],
)
def test_which_hosts_are_exposed(host: str, warn: bool) -> None:
    """Loopback addresses stay quiet; anything else is reachable from elsewhere and warns."""
    assert exposed(host) is warn


def test_binding_beyond_loopback_logs_a_warning() -> None:
    """--host 0.0.0.0 (explicit) starts, with a warning on stderr naming the address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockfeed", "--host", "0.0.0.0", "--port", "0", "--ws-port", "0", "--no-live"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        assert "rest=http://0.0.0.0:" in process.stdout.readline()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=15)
    assert "binding 0.0.0.0: reachable beyond this machine" in err


@pytest.mark.mockfeed(exchanges=["okx_spot"], rate_limits=True)
async def test_okx_refuses_a_fourth_connection_attempt_in_a_second(
    autojump_clock: trio.MockClock, mockfeed_server: Server
) -> None:
    """OKX allows 3 connection requests per second per IP (with rate limits on); a 4th gets 429,
    and a second later connections are accepted again."""
    url = mockfeed_server["okx_spot"].ws_url + "/ws/v5/business"
    for _ in range(3):
        async with open_websocket_url(url):
            pass
    with pytest.raises(ConnectionRejected) as refused:
        async with open_websocket_url(url):
            pass
    assert refused.value.status_code == 429
    await trio.sleep(1.0)
    async with open_websocket_url(url) as ws:
        await ws.send_message("ping")
        assert await ws.get_message() == "pong"


@pytest.mark.mockfeed(exchanges=["okx_spot"])
async def test_connection_attempts_are_free_with_rate_limits_off(mockfeed_server: Server) -> None:
    """The default: no connection-rate limit."""
    url = mockfeed_server["okx_spot"].ws_url + "/ws/v5/business"
    for _ in range(6):
        async with open_websocket_url(url):
            pass
