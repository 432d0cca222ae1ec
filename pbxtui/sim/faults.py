"""Fault injection for any simulator: latency, HTTP 500s, hangs, HTML pages, truncated bodies.

``Faults`` is plain mutable state, so a test (in-process) or an operator (through the
``/_sim/faults`` control endpoint) can flip a simulated PBX between healthy and broken while
it runs. Auth refusal is vendor-specific, so each vendor app reads ``auth_refused`` itself.

The middleware also notes when each API request arrived (``/_sim/requests`` lists them), so a
benchmark in another process can count the requests a PBX received per second.
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import asdict, dataclass, fields
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PATH = "/_sim/faults"
REQUESTS_PATH = "/_sim/requests"
REQUESTS_KEPT = 100_000

HTML_ERROR_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n"
)


@dataclass
class Faults:
    latency: float = 0.0  # seconds added before every answer
    http_500: bool = False
    hang: bool = False  # accept the request and never answer (client times out)
    html: bool = False  # an HTML error page with HTTP 200, as a proxy in front might send
    truncated: bool = False  # the body cut in half
    garbage: bool = False  # bytes that are no format at all
    auth_refused: bool = False  # the vendor's own "bad credentials" answer

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(known)}")
            setattr(self, name, float(value) if name == "latency" else bool(value))

    def clear(self) -> None:
        self.update(asdict(Faults()))

    @property
    def active(self) -> list[str]:
        return [name for name, value in asdict(self).items() if value]


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
        if faults.latency:
            await anyio.sleep(faults.latency)
        if faults.hang:
            await anyio.sleep_forever()
        if faults.http_500:
            await _reply(send, 500, b"Internal Server Error", "text/plain")
            return
        if faults.html:
            await _reply(send, 200, HTML_ERROR_PAGE.encode(), "text/html; charset=UTF-8")
            return
        if faults.garbage:
            await _reply(send, 200, b"\x00\x1f\xfe#!garbage{{]", "application/json")
            return
        if faults.truncated:
            await self._truncated(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        cut = bytes(body[: max(1, len(body) // 2)])
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send(
            {"type": "http.response.start", "status": start.get("status", 200), "headers": headers}
        )
        await send({"type": "http.response.body", "body": cut})

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
        await _reply(send, 200, json.dumps(asdict(self.faults)).encode(), "application/json")


async def _reply(send: Send, status: int, body: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
