"""hypercorn configuration shared by the exchange REST listeners and the control endpoint."""

from __future__ import annotations

import socket
from typing import Any

from hypercorn.config import Config

SEND_TIMEOUT = 4.0  # seconds a REST connection may stall with unsent response data, then reset


class BoundedConfig(Config):
    """hypercorn's config whose listening sockets bound a stalled response write.

    hypercorn writes responses with no timeout inside a shielded scope, so a client that stops
    reading would hold its connection, and a shutdown, forever. ``TCP_USER_TIMEOUT`` (Linux; accepted
    sockets inherit it) resets a connection whose unsent data makes no progress for
    :data:`SEND_TIMEOUT`.
    """

    def create_sockets(self) -> Any:
        """hypercorn's sockets, with the send timeout set where the platform has it."""
        sockets = super().create_sockets()
        option = getattr(socket, "TCP_USER_TIMEOUT", None)
        if option is not None:
            for sock in [*sockets.secure_sockets, *sockets.insecure_sockets]:
                sock.setsockopt(socket.IPPROTO_TCP, option, int(SEND_TIMEOUT * 1000))
        return sockets
