"""Optional TLS: https and wss from a certificate and key, checked with a throwaway CA (trustme)."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trio
import trustme
from trio_websocket import open_websocket_url

import mockfeed


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    """A certificate authority that exists only for these tests."""
    return trustme.CA()


@pytest.fixture(scope="module")
def cert_files(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("tls")
    chain, key = folder / "chain.pem", folder / "key.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    key.write_bytes(cert.private_key_pem.bytes())
    yield str(chain), str(key)


def _client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


async def test_rest_and_websocket_over_tls(ca: trustme.CA, cert_files: tuple[str, str]) -> None:
    """https REST and wss pushes (the outbox writes through the SSL stream) with a verified chain."""
    cert, key = cert_files
    context = _client_context(ca)
    async with mockfeed.serve(exchanges=["binance_spot", "coinbase_advanced_trade"], port=0, ws_port=0,
                              control_port=0, tls_cert=cert, tls_key=key, speed=600) as server:
        assert server.rest_url.startswith("https://") and server.ws_url.startswith("wss://")
        assert server.control_url.startswith("https://")
        async with httpx.AsyncClient(verify=context) as client:
            answer = await client.get(server.rest_url + "/api/v3/klines",
                                      params={"symbol": "BTCUSDT", "interval": "1m", "limit": 3})
            assert answer.status_code == 200 and len(answer.json()) == 3
            assert (await client.get(server.control_url + "/time")).status_code == 200
        url = server.ws_url + "/ws/btcusdt@kline_1s"
        async with open_websocket_url(url, ssl_context=context) as ws:
            closed = []
            with trio.fail_after(20):
                while len(closed) < 5:  # several pushes, finals among them, over one TLS stream
                    k = json.loads(await ws.get_message())["k"]
                    if k["x"]:
                        closed.append(k["t"])
            assert closed == [closed[0] + 1000 * i for i in range(5)]
        coinbase = server["coinbase_advanced_trade"].ws_url
        async with open_websocket_url(coinbase, ssl_context=context) as ws:  # personalized pushes
            await ws.send_message(json.dumps(
                {"type": "subscribe", "product_ids": ["BTC-USDT"], "channel": "candles"}))
            with trio.fail_after(20):
                sequences = [json.loads(await ws.get_message())["sequence_num"] for _ in range(3)]
            assert sequences == [0, 1, 2]


async def test_plain_clients_are_refused_without_harm(cert_files: tuple[str, str], ca: trustme.CA) -> None:
    """A plain-text client on the TLS port fails its handshake; the listener keeps serving."""
    cert, key = cert_files
    async with mockfeed.serve(exchanges=["binance_spot"], port=0, ws_port=0, tls_cert=cert,
                              tls_key=key) as server:
        plain = server.rest_url.replace("https://", "http://")
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.HTTPError):
                await client.get(plain + "/api/v3/time")
        async with httpx.AsyncClient(verify=_client_context(ca)) as client:
            assert (await client.get(server.rest_url + "/api/v3/time")).status_code == 200


def test_bad_certificate_files_are_refused_before_start(tmp_path: Path) -> None:
    """A missing or non-PEM file: exit status 2 naming the file, nothing listens."""
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate")
    for args in (["--tls-cert", str(tmp_path / "missing.pem")], ["--tls-cert", str(bogus)],
                 ["--tls-key", str(bogus)]):
        done = subprocess.run([sys.executable, "-m", "mockfeed", "--port", "0", "--ws-port", "0", *args],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2, done
        assert "mockfeed: " in done.stderr and "Traceback" not in done.stderr
