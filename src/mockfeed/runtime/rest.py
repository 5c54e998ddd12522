"""An ASGI application built from a plugin's route table (served by hypercorn)."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

import attrs
import trio

from mockfeed.exchanges.base import ExchangePlugin, FaultKind, RestHandler, RestRequest, RestResponse
from mockfeed.logs import TRACE, preview, tracing
from mockfeed.market.clock import Clock
from mockfeed.runtime.answer_memo import AnswerMemo
from mockfeed.runtime.conditions import ConditionsHolder

log = logging.getLogger("mockfeed.rest")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_NO_CLIENT = ("127.0.0.1", 0)
MAX_BODY_BYTES = 64 * 1024  # larger request bodies are refused with 413
BODY_TIMEOUT = 10.0  # seconds a client gets to send a whole request body, else 408


class RestApp:
    """Routes each request to the plugin handler for (method, path); never leaks a traceback.

    Every request that arrives whole is delayed and possibly failed per the current ``conditions``
    (see :mod:`mockfeed.runtime.conditions`): refused by the plugin's own rate limits when they are
    on, answered with the plugin's ``fault_response`` of the kind the conditions pick (maintenance,
    timeout after a hold, server error) instead of its answer.
    """

    def __init__(
        self, plugin: ExchangePlugin, clock: Clock, conditions: ConditionsHolder | None = None
    ) -> None:
        self.plugin = plugin
        self.clock = clock
        self.conditions = conditions if conditions is not None else ConditionsHolder(str(plugin.exchange))
        routes = dict(plugin.routes())
        self.routes = {key: h for key, h in routes.items() if "{" not in key[1]}
        self.patterns: list[tuple[str, re.Pattern[str], RestHandler]] = [
            (method, _compile(path), h) for (method, path), h in routes.items() if "{" in path
        ]
        self.paths = {path for _, path in self.routes}
        self.requests = 0  # requests answered so far (for the live view)
        self.faults_injected = 0  # of which answered with an injected fault or a rate-limit refusal
        self.memo = AnswerMemo()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = await _read_body(scope, receive)
        response = body if isinstance(body, RestResponse) else await self._answer(scope, body)
        if tracing():
            _trace(scope, body, response)
        headers = [
            (b"content-type", response.content_type.encode()),
            (b"content-length", str(len(response.body)).encode()),
            *((k.encode(), v.encode()) for k, v in response.headers),
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _answer(self, scope: Scope, body: bytes) -> RestResponse:
        """The answer under the current conditions: after their latency, maybe an injected fault."""
        path = scope["path"]
        conditions, number = self.conditions.next_request(path)
        self.requests += 1
        if conditions.perfect_for_rest and not body:
            return self._plain_answer(scope, path)
        exchange = self.conditions.exchange
        delay = conditions.delay_ms(exchange, number)
        if delay > 0:
            await trio.sleep(delay / 1000)
        request = self._request(scope, body, self.clock.now_ms())
        if conditions.rate_limits:
            refusal = self._guarded(lambda: self.plugin.limit_request(request), request)
            if refusal is not None:
                self.faults_injected += 1
                return refusal
        if conditions.maintenance:
            return self.fault(FaultKind.MAINTENANCE, request)
        if conditions.times_out(exchange, number):
            await trio.sleep(conditions.timeout_ms / 1000)
            return self.fault(FaultKind.TIMEOUT, attrs.evolve(request, now_ms=self.clock.now_ms()))
        if conditions.fails(exchange, number):
            return self.fault(FaultKind.SERVER_ERROR, request)
        return self.respond(request)

    def _plain_answer(self, scope: Scope, path: str) -> RestResponse:
        """The answer under a perfect network to a request without a body: a reused one when the
        plugin said it holds for this second (see :mod:`mockfeed.runtime.answer_memo`)."""
        now_ms = self.clock.now_ms()
        key = (scope["method"], path, scope["query_string"])
        kept = self.memo.get(key, now_ms // 1000, self.plugin.model.generation)
        if kept is None:
            answer = self.respond(self._request(scope, b"", now_ms))
            if answer.reuse is not None:
                self.memo.put(key, answer)
            return answer
        per_request = kept.reuse.headers if kept.reuse is not None else None
        if per_request is None:
            return kept
        client = scope.get("client") or _NO_CLIENT
        try:
            headers = per_request(str(client[0]), int(trio.current_time() * 1000), now_ms)
        except Exception:
            log.exception("plugin failed on the headers of %s %s", scope["method"], path)
            return self.plugin.internal_error(self._request(scope, b"", now_ms))
        return RestResponse(kept.status, kept.body, headers, kept.content_type)

    def fault(self, kind: FaultKind, request: RestRequest) -> RestResponse:
        """The plugin's native answer for an injected fault (its internal error should that fail)."""
        self.faults_injected += 1
        answer = self._guarded(lambda: self.plugin.fault_response(kind, request), request)
        return self.plugin.internal_error(request) if answer is None else answer

    def _guarded(self, fn: Callable[[], RestResponse | None], request: RestRequest) -> RestResponse | None:
        try:
            return fn()
        except Exception:
            log.exception("plugin failed on %s %s", request.method, request.path)
            return self.plugin.internal_error(request)

    def _request(self, scope: Scope, body: bytes, now_ms: int) -> RestRequest:
        client = scope.get("client") or _NO_CLIENT
        return RestRequest(
            method=scope["method"],
            path=scope["path"],
            query=_query(scope["query_string"].decode("latin-1")),
            body=body,
            now_ms=now_ms,
            client=str(client[0]),
            wall_ms=int(trio.current_time() * 1000),
        )

    def respond(self, request: RestRequest) -> RestResponse:
        """The plugin's answer to one request."""
        method = "GET" if request.method == "HEAD" else request.method
        handler = self.routes.get((method, request.path))
        known_path = request.path in self.paths
        if handler is None and self.patterns:
            for route_method, pattern, candidate in self.patterns:
                match = pattern.match(request.path)
                if match is None:
                    continue
                known_path = True
                if route_method == method:
                    request = attrs.evolve(request, path_params=match.groupdict())
                    handler = candidate
                    break
        try:
            if handler is not None:
                return handler(request)
            if known_path:
                return self.plugin.method_not_allowed(request)
            return self.plugin.not_found(request)
        except Exception:
            log.exception("plugin failed on %s %s", request.method, request.path)
            return self.plugin.internal_error(request)


def _trace(scope: Scope, body: bytes | RestResponse, response: RestResponse) -> None:
    client = scope.get("client") or ("?", 0)
    query = scope["query_string"].decode("latin-1")
    sent = f" body={preview(body)}" if isinstance(body, bytes) and body else ""
    TRACE.info(
        "REST %s:%s %s %s%s%s -> %d %s", client[0], client[1], scope["method"], scope["path"],
        f"?{query}" if query else "", sent, response.status, preview(response.body),
        extra={"client": f"{client[0]}:{client[1]}", "status": response.status},
    )


def _query(text: str) -> tuple[tuple[str, str], ...]:
    """``parse_qsl(text, keep_blank_values=True)``, without its per-field unquoting when nothing is quoted."""
    if "%" in text or "+" in text:
        return tuple(parse_qsl(text, keep_blank_values=True))
    return tuple((name, value) for name, _, value in (f.partition("=") for f in text.split("&") if f))


def _compile(path: str) -> re.Pattern[str]:
    """A route path with ``{name}`` segments as an anchored regex."""
    parts = re.split(r"\{(\w+)\}", path)
    literal = [re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts)]
    return re.compile("^" + "".join(literal) + "$")


async def _read_body(scope: Scope, receive: Receive) -> bytes | RestResponse:
    """The request body, or the refusal when it is too large or does not arrive in time."""
    length = _declared_length(scope)
    if length > MAX_BODY_BYTES:
        return _refusal(413, b"Payload Too Large")
    if length < 0:  # no body can follow: its end is already on its way, no timer needed
        message = await receive()
        return message.get("body", b"") if message["type"] == "http.request" else b""
    chunks: list[bytes] = []
    size = 0
    with trio.move_on_after(BODY_TIMEOUT):
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                return _refusal(413, b"Payload Too Large")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
    return _refusal(408, b"Request Timeout")


def _declared_length(scope: Scope) -> int:
    """The Content-Length the client announced (h11 has checked the syntax); 0 for a chunked body
    and -1 for none (an HTTP/1 request without either header has no body)."""
    length = -1
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value)
        if name == b"transfer-encoding":
            length = 0
    return length if scope.get("http_version", "1.1").startswith("1") else max(length, 0)


def _refusal(status: int, text: bytes) -> RestResponse:
    return RestResponse(status, text, (("Connection", "close"),), content_type="text/plain")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
