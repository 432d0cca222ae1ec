"""Fault injection for any simulator: what a broken PBX, proxy or network can answer.

``Faults`` is plain mutable state, so a test (in-process) or an operator (through the
``/_sim/faults`` control endpoint) can flip a simulated PBX between healthy and broken while
it runs. Auth refusal is vendor-specific, so each vendor app reads ``auth_refused`` itself.

The faults, applied in this order (the first that answers wins):

=================  ==========================================================================
``latency``        seconds added before every answer
``hang``           accept the request and never answer
``http_500``       HTTP 500 (also ``http_502``, ``http_503`` with ``Retry-After: 1``)
``redirect``       HTTP 302 to a login page, the original query in its ``next=`` parameter
``redirect_loop``  HTTP 302 to the very same URL
``html``           an HTML error page with HTTP 200, as a proxy in front might send
``login_page_200`` an HTML login form with HTTP 200 (a session expired behind a proxy)
``empty_200``      HTTP 200 with a 0-byte body
``garbage``        bytes that are no format at all
``huge``           a JSON-looking body of this many MiB (``true``: 50), streamed
``gzip_bomb``      1 MiB of gzip that unpacks to 1 GiB of JSON whitespace
``endless``        a body that never ends (chunked, until the client hangs up)
``truncated``      the vendor's own answer cut in half
``wrong_types``    the vendor's JSON with every list and string turned into a number
``nulls``          the vendor's JSON with every value inside an object turned into null
``slow``           the vendor's answer dribbled over this many seconds (``true``: 20): headers
                   at once, so no single read waits long, but the whole answer takes that long
=================  ==========================================================================

The control endpoint's answer also carries ``requests``: how many requests the vendor API
received (control requests not counted), for budget tests and benchmarks. The middleware also
notes when each API request arrived (``/_sim/requests`` lists them), so a benchmark in another
process can count the requests a PBX received per second.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections import deque
from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any
from urllib.parse import quote

import anyio
import anyio.lowlevel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PATH = "/_sim/faults"
REQUESTS_PATH = "/_sim/requests"
REQUESTS_KEPT = 100_000
LOGIN_PATH = "/login.php"

HTML_ERROR_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)
LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Login</title></head><body>\n"
    '<form method="post" action="/login.php"><input name="username">'
    '<input type="password" name="password"><button>Login</button></form>\n</body></html>\n'
)

SERVER_ERRORS = {
    500: b"Internal Server Error",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
}
MIB = 1024 * 1024
CHUNK = 64 * 1024
# What ``true`` means for the faults that take a size or a duration.
NUMERIC_DEFAULTS = {"latency": 0.0, "huge": 50.0, "slow": 20.0}
BOMB_UNPACKED = 1024 * MIB


@dataclass
class Faults:
    latency: float = 0.0
    hang: bool = False
    http_500: bool = False
    http_502: bool = False
    http_503: bool = False
    redirect: bool = False
    redirect_loop: bool = False
    html: bool = False
    login_page_200: bool = False
    empty_200: bool = False
    garbage: bool = False
    huge: float = 0.0
    gzip_bomb: bool = False
    endless: bool = False
    truncated: bool = False
    wrong_types: bool = False
    nulls: bool = False
    slow: float = 0.0
    auth_refused: bool = False  # the vendor's own "bad credentials" answer
    requests: int = field(default=0, metadata={"counter": True})

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name for f in _fault_fields()}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            setattr(self, name, _coerce(name, value))

    def clear(self) -> None:
        for f in _fault_fields():
            setattr(self, f.name, f.default)

    @property
    def active(self) -> list[str]:
        return [f.name for f in _fault_fields() if getattr(self, f.name)]

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _fault_fields() -> list[Any]:
    return [f for f in fields(Faults) if not f.metadata.get("counter")]


def _coerce(name: str, value: Any) -> float | bool:
    if name not in NUMERIC_DEFAULTS:
        return bool(value)
    if value is True or (isinstance(value, str) and value.lower() in ("true", "yes")):
        return NUMERIC_DEFAULTS[name]
    number = float(value)
    if number < 0:
        raise ValueError(f"fault {name!r} takes a number >= 0")
    return number


class FaultMiddleware:
    """Pure ASGI middleware applying ``Faults`` around a vendor app."""

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults
        self.arrivals: deque[float] = deque(maxlen=REQUESTS_KEPT)
        """When each API request arrived (``time.time()``), the newest ``REQUESTS_KEPT``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == CONTROL_PATH:
            await self._control(scope, receive, send)
            return
        if scope["path"] == REQUESTS_PATH:
            body = json.dumps({"arrivals": list(self.arrivals)}).encode()
            await _reply(send, 200, body, "application/json")
            return
        self.arrivals.append(time.time())
        faults = self.faults
        faults.requests += 1
        if faults.latency:
            await anyio.sleep(faults.latency)
        if faults.hang:
            await anyio.sleep_forever()
        for status, on in ((500, faults.http_500), (502, faults.http_502), (503, faults.http_503)):
            if on:
                extra = [(b"retry-after", b"1")] if status == 503 else []
                await _reply(send, status, SERVER_ERRORS[status], "text/plain", extra)
                return
        if faults.redirect or faults.redirect_loop:
            await _reply(send, 302, b"", "text/html", [(b"location", _location(scope, faults))])
            return
        canned = _canned(faults)
        if canned is not None:
            await _reply(send, 200, canned[0], canned[1])
            return
        if faults.huge:
            await _stream(send, receive, _huge_chunks(int(faults.huge * MIB)), length=None)
            return
        if faults.gzip_bomb:
            bomb = gzip_bomb()
            headers = [(b"content-encoding", b"gzip")]
            await _reply(send, 200, bomb, "application/json", headers)
            return
        if faults.endless:
            await _stream(send, receive, _endless_chunks(), length=None)
            return
        if faults.truncated or faults.wrong_types or faults.nulls or faults.slow:
            await self._rewritten(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _rewritten(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The vendor's own answer, changed by the faults that rewrite a body."""
        start: Message = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        data = bytes(body)
        faults = self.faults
        if faults.wrong_types or faults.nulls:
            data = _retyped(data, nulls=faults.nulls)
        if faults.truncated:
            data = data[: max(1, len(data) // 2)]
        headers = [
            (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
        ] + [(b"content-length", str(len(data)).encode())]
        status = start.get("status", 200)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if not faults.slow:
            await send({"type": "http.response.body", "body": data})
            return
        pieces = max(1, min(len(data), 20))
        step = -(-len(data) // pieces)
        for offset in range(0, max(len(data), 1), max(step, 1)):
            await anyio.sleep(faults.slow / pieces)
            more = offset + step < len(data)
            await send(
                {
                    "type": "http.response.body",
                    "body": data[offset : offset + step],
                    "more_body": more,
                }
            )

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "POST":
            raw = bytearray()
            while True:
                message = await receive()
                raw.extend(message.get("body", b""))
                if not message.get("more_body"):
                    break
            try:
                values = json.loads(raw or b"{}")
                if not isinstance(values, dict):
                    raise ValueError("expected a JSON object")
                if values.pop("clear", False):
                    self.faults.clear()
                self.faults.update(values)
            except ValueError as exc:
                await _reply(send, 400, str(exc).encode(), "text/plain")
                return
        reply = json.dumps(self.faults.as_dict()).encode()
        await _reply(send, 200, reply, "application/json")


def _location(scope: Scope, faults: Faults) -> bytes:
    path = str(scope.get("root_path", "")) + str(scope["path"])
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    here = path + (f"?{query}" if query else "")
    if faults.redirect_loop:
        return here.encode("latin-1")
    # A login redirect names the page asked for, credentials and all, as real ones do.
    return f"{LOGIN_PATH}?next={quote(here, safe='')}".encode("latin-1")


def _canned(faults: Faults) -> tuple[bytes, str] | None:
    """A fixed body answered with HTTP 200 in place of the vendor's, if one is set."""
    if faults.html:
        return HTML_ERROR_PAGE.encode(), "text/html; charset=UTF-8"
    if faults.login_page_200:
        return LOGIN_PAGE.encode(), "text/html; charset=UTF-8"
    if faults.empty_200:
        return b"", "application/json"
    if faults.garbage:
        return b"\x00\x1f\xfe#!garbage{{]", "application/json"
    return None


def _retyped(data: bytes, *, nulls: bool) -> bytes:
    """The JSON with its values' types changed; a body that is not JSON is left as it is."""
    try:
        value = json.loads(data)
    except ValueError:
        return data
    return json.dumps(_nulled(value) if nulls else _numbered(value)).encode()


def _numbered(value: Any) -> Any:
    if isinstance(value, list):
        return len(value)
    if isinstance(value, dict):
        return {k: _numbered(v) for k, v in value.items()}
    if isinstance(value, str):
        return len(value)
    return value


def _nulled(value: Any) -> Any:
    if isinstance(value, list):
        return [_nulled(v) for v in value]
    if isinstance(value, dict):
        return {k: None for k in value}
    return value


def _huge_chunks(size: int) -> Any:
    row = b'{"channel":"' + b"x" * 200 + b'"},'
    chunk = (row * (CHUNK // len(row) + 1))[:CHUNK]
    yield b"["
    sent = 1
    while sent < size - 1:
        piece = chunk[: size - 1 - sent]
        sent += len(piece)
        yield piece
    yield b"]"


def _endless_chunks() -> Any:
    chunk = (b'{"channel":"' + b"y" * 200 + b'"},') * (CHUNK // 215)
    yield b"["
    while True:
        yield chunk


@cache
def gzip_bomb() -> bytes:
    """``BOMB_UNPACKED`` bytes of spaces as one gzip member (about 1 MiB), made once.

    Each MiB is compressed after a full flush, so every block compresses to the same bytes
    and is compressed once; the trailer carries the true CRC and size, so a client that
    unpacks it all finds a valid answer (of whitespace) at the end.
    """
    block = b" " * MIB
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate: the header is ours
    piece = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(BOMB_UNPACKED // MIB):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, BOMB_UNPACKED & 0xFFFFFFFF)
    return header + piece * (BOMB_UNPACKED // MIB) + packer.flush() + trailer


async def _stream(send: Send, receive: Receive, chunks: Any, *, length: int | None) -> None:
    """Stream ``chunks`` until they end or the client goes away (uvicorn drops what is sent
    after a disconnect without saying so: without watching for it, an endless body would
    never stop)."""
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await anyio.lowlevel.checkpoint()  # let the disconnect be seen
        await send({"type": "http.response.body", "body": b""})
        tg.cancel_scope.cancel()


async def _reply(
    send: Send,
    status: int,
    body: bytes,
    content_type: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                *(extra or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
