"""Server-side WebSocket frames, built once and written as plain bytes to every subscriber.

A server frame is never masked and mockfeed negotiates no extension (trio-websocket accepts none,
so permessage-deflate is off), so a message's frame is a function of the message alone: the same
bytes serve every connection that receives it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from mockfeed.exchanges.base import Message

_TEXT = 0x81  # FIN + text opcode
_BINARY = 0x82  # FIN + binary opcode
_U16 = struct.Struct("!BBH")
_U64 = struct.Struct("!BBQ")


def encode_frame(message: Message) -> bytes:
    """``message`` as one unmasked, unfragmented frame: text for ``str``, binary for ``bytes``."""
    if isinstance(message, str):
        payload, head = message.encode(), _TEXT
    else:
        payload, head = bytes(message), _BINARY
    size = len(payload)
    if size < 126:
        return bytes((head, size)) + payload
    if size < 1 << 16:
        return _U16.pack(head, 126, size) + payload
    return _U64.pack(head, 127, size) + payload


class Push:
    """Messages bound for the same connections, framed once: ``frame`` is their frames back to back.

    Usually one message; several when pushes of a stream fall due together (a close and the next
    forming candle, catch-up after a stall), so each connection gets them in one write.
    """

    __slots__ = ("frame", "messages")

    def __init__(self, messages: tuple[Message, ...], frame: bytes) -> None:
        self.messages = messages
        self.frame = frame

    @classmethod
    def of(cls, messages: Sequence[Message]) -> Push:
        """Frame ``messages`` once, in order."""
        return cls(tuple(messages), b"".join(encode_frame(m) for m in messages))

    def __len__(self) -> int:
        return len(self.messages)
