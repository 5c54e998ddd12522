"""The ceiling server: hypercorn on trio serving precomputed bytes, optionally with a WS listener.

``python -m benchmarks.ceiling_server [--body FILE] [--header 'name: value' ...] [--ws]`` prints
``ceiling rest=http://127.0.0.1:P [ws=ws://127.0.0.1:Q]`` once listening, like mockfeed's ready
line. It does no per-request work beyond what hypercorn and the ASGI call need, so it is the best
mockfeed's REST path could do on the same stack; with ``--ws`` its startup is the best mockfeed's
startup could do (trio, hypercorn and trio-websocket imported, both listeners open).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import trio
from hypercorn.config import Config
from hypercorn.trio import serve

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Message, Receive, Send], Awaitable[None]]


def make_app(body: bytes, headers: Sequence[tuple[bytes, bytes]]) -> App:
    """An ASGI app answering every HTTP request with 200, ``headers`` and ``body``."""
    header_list = list(headers)

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        while True:  # drain the request body, as any app must
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 200, "headers": header_list})
        await send({"type": "http.response.body", "body": body})

    return app


def _header(text: str) -> tuple[bytes, bytes]:
    name, sep, value = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected 'name: value', got {text!r}")
    return name.strip().lower().encode(), value.strip().encode()


async def _serve(args: argparse.Namespace) -> None:
    body = Path(args.body).read_bytes() if args.body else b"[]"
    headers = args.header or [(b"content-type", b"application/json")]
    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.accesslog = None
    config.loglevel = "WARNING"
    async with trio.open_nursery() as nursery:
        binds: list[str] = await nursery.start(
            partial(serve, make_app(body, headers), config, mode="asgi")
        )
        line = f"ceiling rest={binds[0]}"
        if args.ws:
            from trio_websocket import WebSocketRequest, serve_websocket

            async def handler(request: WebSocketRequest) -> None:
                ws = await request.accept()
                await ws.get_message()

            ws_server: Any = await nursery.start(
                partial(serve_websocket, handler, args.host, 0, None)
            )
            line += f" ws=ws://{args.host}:{ws_server.port}"
        print(line, flush=True)


def main() -> None:
    """Parse arguments and serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ceiling_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--body", help="file whose bytes every response carries (default: [])")
    parser.add_argument("--header", type=_header, action="append", help="'name: value'")
    parser.add_argument("--ws", action="store_true", help="also open a trio-websocket listener")
    trio.run(_serve, parser.parse_args())


if __name__ == "__main__":
    main()
