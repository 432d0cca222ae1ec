"""A webhook receiver for the simulators to send to: a real HTTP server recording each request."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.server import serve

WAIT = 20.0  # seconds: only a guard against a test that would otherwise wait for ever

Answer = Callable[[Request], Response]


@dataclass(frozen=True)
class Seen:
    """One request as it arrived."""

    method: str
    path: str
    query: str  # raw, as sent
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def keys(self) -> list[str]:
        """The parameter names, in order, from the query and the body alike."""
        return [key for key, _ in self.pairs]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        pairs = parse_qsl(self.query, keep_blank_values=True)
        kind = self.headers.get("content-type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            pairs += parse_qsl(self.body.decode(), keep_blank_values=True)
        elif kind.startswith("application/json"):
            pairs += [(k, str(v)) for k, v in json.loads(self.body).items()]
        return pairs

    @property
    def params(self) -> dict[str, str]:
        return dict(self.pairs)


@dataclass
class Recorder:
    """Records every request; answers each with ``answer`` (an empty 200 by default)."""

    answer: Answer | None = None
    hang: bool = False
    seen: list[Seen] = field(default_factory=list)
    _arrived: anyio.Event = field(default_factory=anyio.Event)

    async def endpoint(self, request: Request) -> Response:
        self.seen.append(
            Seen(
                request.method,
                request.url.path,
                request.url.query,
                {k.lower(): v for k, v in request.headers.items()},
                await request.body(),
            )
        )
        self._arrived.set()
        self._arrived = anyio.Event()
        if self.hang:
            await anyio.sleep_forever()
        return self.answer(request) if self.answer else Response(b"", 200)

    @property
    def app(self) -> Starlette:
        route = Route("/{path:path}", self.endpoint, methods=["GET", "POST"])
        return Starlette(routes=[route])

    @staticmethod
    def routes_of(seen: list[Seen], route: str) -> list[Seen]:
        return [request for request in seen if request.route == route]

    async def wait_for(self, done: Callable[[list[Seen]], bool]) -> list[Seen]:
        with anyio.fail_after(WAIT):
            while not done(self.seen):
                await self._arrived.wait()
        return self.seen


@asynccontextmanager
async def receiving(
    recorder: Recorder, *sims: SimulatedPbx, token: str = ""
) -> AsyncIterator[dict[str, int]]:
    """Serve the recorder and the simulators; each simulator sends its hooks to the recorder
    at ``/hook/<name>``. Yields the ports."""
    apps: dict[str, ASGIApp] = {"recorder": recorder.app, **{s.name: s.app for s in sims}}
    async with serve(apps) as ports, anyio.create_task_group() as tg:
        for sim in sims:
            assert sim.hooks is not None
            sim.hooks.configure(
                {"url": f"http://127.0.0.1:{ports['recorder']}/hook/{sim.name}", "token": token}
            )
            await tg.start(_run_hooks, sim)
        yield ports
        tg.cancel_scope.cancel()


async def _run_hooks(sim: SimulatedPbx, *, task_status: anyio.abc.TaskStatus[None]) -> None:
    assert sim.hooks is not None
    async with sim.hooks.running():
        task_status.started()
        await anyio.sleep_forever()


def advance(sim: SimulatedPbx, seconds: float) -> None:
    """Move the simulator's scenario on by ``seconds`` of its time, in catch-up-sized steps."""
    scenario = sim.scenario
    target = scenario.now + seconds
    while scenario.now + 1 <= target:
        scenario.advance(min(target, scenario.now + 600))


async def wait_until(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds (it is looked at every few milliseconds)."""
    with anyio.fail_after(WAIT):
        # Counters of the code under test have no event to wait on.
        while not condition():  # noqa: ASYNC110
            await anyio.sleep(0.01)


def free_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def sent_all(sim: SimulatedPbx) -> None:
    """Wait until the simulator's emitter has nothing left to send."""
    await wait_until(lambda: sim.hooks is not None and sim.hooks.queued == 0)
