"""The receiver served over real HTTP on 127.0.0.1, with a sink that collects its events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx
import pytest

from pbxtui.config import Config, parse_config
from pbxtui.contacts import CallerDataProvider
from pbxtui.hooks import HookServer, HookStats, serve_hooks
from pbxtui.model.push import PushEvent

TOKEN = "CANARY-hook-t0ken"
PBXS = """
[[pbx]]
name = "branch"
kind = "dialup"
url = "http://127.0.0.1:9/API/dialup.php"
user = "u"
pass = "CANARY-dialup-pass"
org = "o"
extensions = ["101"]

[[pbx]]
name = "ist"
kind = "iexpbx"
url = "http://127.0.0.1:9/api/old/get"
username = "u"
password = "CANARY-iex-pass"

[[pbx]]
name = "cc"
kind = "while1"

[[pbx]]
name = "hq"
kind = "pbxcloud"
url = "http://127.0.0.1:9/pbx/proxyapi.php"
tenant = "T"
key = "CANARY-cloud-key"
"""
WAIT = 10.0
"""A safety net for a test that would otherwise hang, never a measure of speed."""


def hook_config(
    webhooks: str = "", *, token: str | None = TOKEN, listen: str = "127.0.0.1:0"
) -> Config:
    """The four PBXs and a [webhooks] table (by default on a free loopback port)."""
    lines = ["[webhooks]", f'listen = "{listen}"']
    if "rate =" not in webhooks:
        lines.append("rate = 10000")  # the frozen clock never refills a bucket
    if token is not None:
        lines.append(f'token = "{token}"')
    return parse_config(PBXS + "\n".join(lines) + "\n" + webhooks)


class FrozenClock:
    """Time passes only when a test says so: rate buckets and dedupe ages are decided here."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Collected:
    """The sink: every event the receiver delivered, in order."""

    def __init__(self) -> None:
        self.all: list[PushEvent] = []
        self._send, self._receive = anyio.create_memory_object_stream[PushEvent](10_000)

    async def sink(self, event: PushEvent) -> None:
        self.all.append(event)
        await self._send.send(event)

    async def next(self) -> PushEvent:
        with anyio.fail_after(WAIT):
            return await self._receive.receive()


@dataclass
class Receiving:
    server: HookServer
    client: httpx.AsyncClient
    events: Collected
    clock: FrozenClock

    @property
    def stats(self) -> HookStats:
        return self.server.stats

    async def hook(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        via: str = "get",
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """``path`` with ``params`` in the query (get), a form body or a JSON body; the token
        in the query."""
        query = {"token": token} if token is not None else {}
        if via == "get":
            return await self.client.get(path, params={**query, **(params or {})}, headers=headers)
        if via == "form":
            return await self.client.post(path, params=query, data=params, headers=headers)
        return await self.client.post(path, params=query, json=params, headers=headers)

    async def marker(self) -> PushEvent:
        """Send an event no other test sends and return the next event delivered: when it is
        the marker, nothing sent before it was delivered."""
        response = await self.hook("/hook/ist/call_start", {"chan": "MARKER/1", "caller": "1"})
        assert response.status_code == 200
        return await self.events.next()


@asynccontextmanager
async def receiving(
    config: Config | None = None, *, contacts: CallerDataProvider | None = None
) -> AsyncIterator[Receiving]:
    events = Collected()
    clock = FrozenClock()
    async with (
        serve_hooks(config or hook_config(), events.sink, contacts=contacts, clock=clock) as srv,
        httpx.AsyncClient(base_url=srv.url, timeout=WAIT) as client,
    ):
        yield Receiving(srv, client, events, clock)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """``pbxtui listen`` configures the ``pbxtui`` loggers for its process; undo that."""
    loggers = [logging.getLogger(n) for n in ("pbxtui", "pbxtui.hooks", "pbxtui.contacts")]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    yield
    for lg, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate
