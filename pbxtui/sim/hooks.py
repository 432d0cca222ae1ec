"""The webhooks a simulated PBX sends: one emitter per simulator, fed by its live scenario.

A vendor's *feed* turns each call event of the scenario (a call starts, rings, is answered,
ends, fails) into the requests that vendor's PBX would send (``HookRequest``: a route and its
parameters in the vendor's words). The ``HookEmitter`` queues them and sends them with httpx
from a task of its own, so a slow, hanging or refusing receiver never delays the simulator's
own API: queuing never waits (a full queue drops the request and counts it), and a failed
send is counted, never raised.

Requests go to ``<url>/<route>`` (the receiver's ``/hook/{pbx}`` for this PBX) with the token
as a ``token`` query parameter or an ``Authorization: Bearer`` header, as GET with a query
string or POST with a form or JSON body (``HookQuirks``). While sending, the emitter also
advances the scenario once a second, so events happen on time when nobody polls.

Everything is switchable while the simulator runs, through its control endpoint::

    curl -X POST http://127.0.0.1:PORT/_sim/hooks \\
         -d '{"url": "http://127.0.0.1:8787/hook/branch", "token": "…"}'
    curl -X POST http://127.0.0.1:PORT/_sim/hooks -d '{"quirks": {"encoding": "form"}}'
    curl -X POST http://127.0.0.1:PORT/_sim/hooks -d '{"clear": true}'   # stop sending

Its answer (also to GET) says what was sent, what failed and why; never the token.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args, get_origin, get_type_hints
from urllib.parse import quote_plus

import anyio
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pbxtui.redact import redact_url
from pbxtui.sim.scenario import CallEvent, Scenario
from pbxtui.tls import tls_context

CONTROL_PATH = "/_sim/hooks"
QUEUE_SIZE = 1000
TIMEOUT = 2.0  # seconds per request: a PBX does not wait long on a webhook
TICK = 1.0  # seconds between the scenario's steps while hooks are on

Encoding = Literal["query", "form", "json"]
TokenIn = Literal["query", "bearer"]
Param = tuple[str, str | None]
"""A parameter; a value of None is a bare key written without ``=`` (IEXPBX's template)."""

log = logging.getLogger("pbxtui.sim.hooks")


@dataclass
class HookQuirks:
    """How every vendor's hooks may be sent; each vendor's quirks add its own switches."""

    encoding: Encoding = "query"  # GET ?a=b; "form" and "json": POST with that body
    token_in: TokenIn = "query"  # ?token=…, or an Authorization: Bearer header


@dataclass(frozen=True)
class HookReply:
    """What came back from one request (``status`` None: no answer at all)."""

    status: int | None
    content_type: str = ""
    body: bytes = b""
    error: str = ""
    elapsed: float = 0.0


@dataclass(frozen=True)
class HookRequest:
    route: str
    params: Sequence[Param] | Callable[[], Sequence[Param]]
    """The parameters, or a function giving them when the request is sent (a While1 event
    carries the contact id its caller-data answer gave, which may arrive in between)."""
    copies: int = 1  # sent this many times in a row (a sender's retry, to test dedupe)
    url: str = ""  # a full URL instead of ``<url>/<route>``
    on_reply: Callable[[HookReply], None] | None = None


class HookFeed(Protocol):
    """A vendor's webhooks: what its PBX sends on each call event."""

    @property
    def quirks(self) -> HookQuirks: ...

    def requests(self, event: CallEvent) -> Iterable[HookRequest]: ...


@dataclass
class HookStats:
    sent: int = 0  # answered 2xx
    failed: int = 0  # no answer, or an answer other than 2xx
    dropped: int = 0  # the queue was full
    by_route: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    last_error: str = ""


class HookEmitter:
    """One simulator's webhook sender (off until it has a URL)."""

    def __init__(
        self,
        scenario: Scenario,
        feed: HookFeed,
        *,
        url: str = "",
        token: str = "",
        queue_size: int = QUEUE_SIZE,
        timeout: float = TIMEOUT,
        tick: float = TICK,
    ) -> None:
        self.scenario = scenario
        self.feed = feed
        self.url = url
        self.token = token
        self.timeout = timeout
        self.tick = tick
        self.stats = HookStats()
        self._pending = 0
        self._default_quirks = dataclasses.replace(feed.quirks)
        self._send: MemoryObjectSendStream[HookRequest]
        self._receive: MemoryObjectReceiveStream[HookRequest]
        self._send, self._receive = anyio.create_memory_object_stream[HookRequest](queue_size)
        self._listen()

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    @property
    def queued(self) -> int:
        """Requests not sent yet: waiting, or being sent."""
        return self._pending

    # -- queuing (called inside the scenario's steps: must never wait) ----------------------
    def _listen(self) -> None:
        """Observe the scenario only while on: an observer costs every step of a big one."""
        observers = self.scenario.observers
        if self.enabled and self._observe not in observers:
            observers.append(self._observe)
        elif not self.enabled and self._observe in observers:
            observers.remove(self._observe)

    def _observe(self, event: CallEvent) -> None:
        for request in self.feed.requests(event):
            self.enqueue(request)

    def enqueue(self, request: HookRequest) -> bool:
        try:
            self._send.send_nowait(request)
        except anyio.WouldBlock:
            self.stats.dropped += 1
            return False
        self._pending += 1
        return True

    # -- sending ----------------------------------------------------------------------------
    @asynccontextmanager
    async def running(self) -> AsyncIterator[HookEmitter]:
        """Send (and keep the scenario moving) until the block ends."""
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
        async with (
            httpx.AsyncClient(
                verify=tls_context(), limits=limits, follow_redirects=False
            ) as client,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(self._sender, client)
            tg.start_soon(self._ticker)
            try:
                yield self
            finally:
                tg.cancel_scope.cancel()

    async def _ticker(self) -> None:
        while True:
            await anyio.sleep(self.tick)
            if self.enabled:
                self.scenario.advance()

    async def _sender(self, client: httpx.AsyncClient) -> None:
        async for request in self._receive:
            try:
                for _ in range(max(1, request.copies)):
                    if not self.enabled:
                        break  # switched off meanwhile: what was queued is not sent
                    answer = await self._deliver(client, request)
                    if request.on_reply is not None:
                        request.on_reply(answer)
            finally:
                self._pending -= 1

    async def _deliver(self, client: httpx.AsyncClient, request: HookRequest) -> HookReply:
        params = list(request.params() if callable(request.params) else request.params)
        quirks = self.feed.quirks
        headers: dict[str, str] = {}
        query: list[Param] = []
        if self.token and quirks.token_in == "bearer":
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.token:
            query.append(("token", self.token))
        target = request.url or f"{self.url.rstrip('/')}/{request.route}"
        method, content = "GET", b""
        if quirks.encoding == "query":
            query = params + query
        elif quirks.encoding == "form":
            method, content = "POST", encode(params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            method = "POST"
            content = json.dumps({k: "" if v is None else v for k, v in params}).encode()
            headers["Content-Type"] = "application/json"
        if query:
            target += ("&" if "?" in target else "?") + encode(query)
        started = time.monotonic()
        try:
            response = await client.request(
                method, target, content=content or None, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            return self._failed(request, type(exc).__name__, started)
        answer = HookReply(
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            body=response.content,
            elapsed=time.monotonic() - started,
        )
        self.stats.statuses[str(response.status_code)] += 1
        if 200 <= response.status_code < 300:
            self.stats.sent += 1
            self.stats.by_route[request.route] += 1
        else:
            self.stats.failed += 1
            self.stats.last_error = f"{request.route}: HTTP {response.status_code}"
        return answer

    def _failed(self, request: HookRequest, reason: str, started: float) -> HookReply:
        self.stats.failed += 1
        self.stats.last_error = f"{request.route}: {reason}"
        log.debug("webhook %s to %s failed: %s", request.route, redact_url(self.url), reason)
        return HookReply(status=None, error=reason, elapsed=time.monotonic() - started)

    # -- switching at run time ---------------------------------------------------------------
    def configure(self, values: dict[str, Any]) -> None:
        """``url``, ``token``, ``timeout``, ``quirks`` ({name: value}) and ``clear`` (off)."""
        known = {"url", "token", "timeout", "quirks", "clear"}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown setting {sorted(unknown)[0]!r}; known: {sorted(known)}")
        if values.get("clear"):
            self.url, self.token = "", ""
            for quirk in dataclasses.fields(self._default_quirks):
                setattr(self.feed.quirks, quirk.name, getattr(self._default_quirks, quirk.name))
        if "url" in values:
            self.url = _text(values["url"], "url")
        self._listen()
        if not self.url:
            self._drain()  # off: what was waiting is not sent later
        if "token" in values:
            self.token = _text(values["token"], "token")
        if "timeout" in values:
            self.timeout = float(values["timeout"])
        if "quirks" in values:
            if not isinstance(values["quirks"], dict):
                raise ValueError("quirks: expected a JSON object")
            update_quirks(self.feed.quirks, values["quirks"])

    def _drain(self) -> None:
        while True:
            try:
                self._receive.receive_nowait()
            except anyio.WouldBlock:
                return
            self._pending -= 1

    def status(self) -> dict[str, Any]:
        return {
            "url": redact_url(self.url) if self.url else "",
            "token_set": bool(self.token),
            "timeout": self.timeout,
            "quirks": dataclasses.asdict(self.feed.quirks),
            "queued": self.queued,
            "sent": self.stats.sent,
            "failed": self.stats.failed,
            "dropped": self.stats.dropped,
            "by_route": dict(self.stats.by_route),
            "statuses": dict(self.stats.statuses),
            "last_error": self.stats.last_error,
        }

    def control(self, app: ASGIApp) -> ASGIApp:
        """``app`` with this emitter's control endpoint (``/_sim/hooks``) in front of it."""

        async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"] != CONTROL_PATH:
                await app(scope, receive, send)
                return
            answer: PlainTextResponse | JSONResponse
            try:
                if scope["method"] == "POST":
                    values = json.loads(await Request(scope, receive).body() or b"{}")
                    if not isinstance(values, dict):
                        raise ValueError("expected a JSON object")
                    self.configure(values)
                answer = JSONResponse(self.status())
            except ValueError as exc:
                answer = PlainTextResponse(str(exc), status_code=400)
            await answer(scope, receive, send)

        return endpoint


def did_for(seed: int, prefix: str = "03") -> str:
    """A simulated PBX's own number (the DID its inbound calls dial), fixed by its seed."""
    return f"{prefix}{(seed * 7919) % 10**7:07d}"


def encode(params: Iterable[Param]) -> str:
    """``a=1&b=2``, form-encoded; a bare key (value None) written without ``=``."""
    return "&".join(
        quote_plus(key) if value is None else f"{quote_plus(key)}={quote_plus(value)}"
        for key, value in params
    )


def update_quirks(quirks: Any, values: dict[str, Any]) -> None:
    """Set a quirks dataclass's fields from JSON values, checked against their types."""
    hints = get_type_hints(type(quirks))
    names = {f.name for f in dataclasses.fields(quirks)}
    for name, value in values.items():
        if name not in names:
            raise ValueError(f"unknown quirk {name!r}; known: {', '.join(sorted(names))}")
        setattr(quirks, name, _coerce(name, hints[name], value))


def _coerce(name: str, hint: Any, value: Any) -> Any:
    if get_origin(hint) is Literal:
        if value not in get_args(hint):
            choices = ", ".join(repr(c) for c in get_args(hint))
            raise ValueError(f"quirk {name!r} is one of {choices}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"quirk {name!r} takes true or false")
        return value
    if hint is int and not isinstance(value, bool):
        return int(value)
    if hint is float and not isinstance(value, bool):
        return float(value)
    if hint is str:
        return str(value)
    raise ValueError(f"quirk {name!r} cannot take {value!r}")


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected a string")
    return value
