"""The I/O runtime: hypercorn for REST, trio-websocket for streams, a hub for fan-out."""

from mockfeed.runtime.server import ExchangeServer, Server, serve

__all__ = ["ExchangeServer", "Server", "serve"]
