"""A fake in-memory driver and builders for testing the engine without any HTTP.

Everything is handed to tests through fixtures (``from conftest import`` is ambiguous when
several test folders have a conftest).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from pbxtui.config import Config, PbxConfig, parse_config
from pbxtui.drivers.base import Driver
from pbxtui.engine import AuditLog, Engine
from pbxtui.model import (
    Action,
    ActionResult,
    Agent,
    AgentState,
    Call,
    CallState,
    Capabilities,
    Click2Call,
    Click2CallOption,
    DirectoryEntry,
    Extension,
    LineState,
    Peer,
    Queue,
    Record,
    Resource,
)

CANARY = "CANARY-SECRET-123"

FAKE_CAPABILITIES = Capabilities(
    resources=frozenset(
        {Resource.CALLS, Resource.EXTENSIONS, Resource.PEERS, Resource.QUEUES, Resource.AGENTS}
    ),
    actions=frozenset(
        {
            Action.HANGUP,
            Action.TRANSFER,
            Action.PAUSE,
            Action.UNPAUSE,
            Action.CLICK2CALL,
            Action.PHONEBOOK,
        }
    ),
    click2call_options=frozenset(Click2CallOption),
)


def sample_records(pbx: str) -> dict[Resource, list[Record]]:
    return {
        Resource.CALLS: [
            Call(
                pbx=pbx,
                id="c1",
                channel="SIP/201-0000a1",
                caller="0501234567",
                callee="201",
                state=CallState.UP,
                duration=42,
            )
        ],
        Resource.EXTENSIONS: [
            Extension(pbx=pbx, id="201", number="201", name="Alice", state=LineState.BUSY)
        ],
        Resource.PEERS: [Peer(pbx=pbx, id="trunk", name="trunk", registered=True)],
        Resource.QUEUES: [Queue(pbx=pbx, id="sales", name="Sales", waiting=1)],
        Resource.AGENTS: [
            Agent(
                pbx=pbx,
                id="a201",
                extension="201",
                queue_id="sales",
                name="Alice",
                state=AgentState.AVAILABLE,
            )
        ],
    }


class FakeDriver(Driver):
    """Serves in-memory records; switches make it fail, hang, or refuse actions."""

    kind = "fake"
    vendor = "Fake PBX"
    capabilities = FAKE_CAPABILITIES

    def __init__(self, config: PbxConfig, client: httpx.AsyncClient) -> None:
        super().__init__(config, client)
        self.client = client
        self.data = sample_records(config.name)
        # Failure switches: an exception raised by every fetch (or only these resources).
        self.error: Exception | None = None
        self.error_resources: set[Resource] | None = None
        # Seconds every fetch sleeps (ignoring its timeout, like a stuck server).
        self.delay = 0.0
        self.delay_resources: set[Resource] | None = None
        # Counters.
        self.fetches: Counter[Resource] = Counter()
        self.in_flight: Counter[Resource] = Counter()
        self.max_in_flight: Counter[Resource] = Counter()
        # Actions.
        self.actions: list[tuple[str, tuple[Any, ...]]] = []
        self.action_result = ActionResult(ok=True, message="Channel Hungup", vendor_id="x1")
        self.action_error: Exception | None = None
        self.action_delay = 0.0
        self.action_gate: anyio.Event | None = None  # actions wait for it when set
        self.directory = [DirectoryEntry(pbx=config.name, name="Reception", number="200")]

    def fail_with(self, error: Exception | None, resources: set[Resource] | None = None) -> None:
        self.error = error
        self.error_resources = resources

    def hang(self, seconds: float, resources: set[Resource] | None = None) -> None:
        self.delay = seconds
        self.delay_resources = resources

    async def _serve(self, resource: Resource) -> list[Any]:
        self.fetches[resource] += 1
        self.in_flight[resource] += 1
        self.max_in_flight[resource] = max(self.max_in_flight[resource], self.in_flight[resource])
        try:
            if self.delay and (self.delay_resources is None or resource in self.delay_resources):
                await anyio.sleep(self.delay)
            if self.error is not None and (
                self.error_resources is None or resource in self.error_resources
            ):
                raise self.error
            return list(self.data[resource])
        finally:
            self.in_flight[resource] -= 1

    async def fetch_calls(self) -> list[Call]:
        return await self._serve(Resource.CALLS)

    async def fetch_extensions(self) -> list[Extension]:
        return await self._serve(Resource.EXTENSIONS)

    async def fetch_peers(self) -> list[Peer]:
        return await self._serve(Resource.PEERS)

    async def fetch_queues(self) -> list[Queue]:
        return await self._serve(Resource.QUEUES)

    async def fetch_agents(self) -> list[Agent]:
        return await self._serve(Resource.AGENTS)

    async def _act(self, name: str, *args: Any) -> ActionResult:
        self.actions.append((name, args))
        if self.action_delay:
            await anyio.sleep(self.action_delay)
        if self.action_gate is not None:
            await self.action_gate.wait()
        if self.action_error is not None:
            raise self.action_error
        return self.action_result

    async def hangup(self, call: Call) -> ActionResult:
        return await self._act("hangup", call)

    async def transfer(self, call: Call, destination: str) -> ActionResult:
        return await self._act("transfer", call, destination)

    async def pause_agent(self, agent: Agent, reason: str) -> ActionResult:
        return await self._act("pause_agent", agent, reason)

    async def unpause_agent(self, agent: Agent) -> ActionResult:
        return await self._act("unpause_agent", agent)

    async def click2call(self, request: Click2Call) -> ActionResult:
        return await self._act("click2call", request)

    async def phone_directory(self) -> list[DirectoryEntry]:
        self.actions.append(("phone_directory", ()))
        return list(self.directory)


def config_text(*names: str, **fields: Any) -> str:
    """TOML for pbxcloud-kind PBXs; ``fields`` apply to all, ``name__field`` to one."""
    blocks = []
    for name in names:
        values: dict[str, Any] = {
            "poll_interval": 0.2,
            "timeout": 0.1,
            **{k: v for k, v in fields.items() if "__" not in k},
            **{k.split("__")[1]: v for k, v in fields.items() if k.startswith(f"{name}__")},
        }
        lines = [
            "[[pbx]]",
            f'name = "{name}"',
            'kind = "pbxcloud"',
            f'url = "https://{name}.example.invalid/pbx/proxyapi.php"',
            'tenant = "ACME"',
            f'key = "{CANARY}"',
        ]
        for key, value in values.items():
            text = str(value).lower() if isinstance(value, bool) else repr(value)
            lines.append(f"{key} = {text}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


class Fakes:
    """The fake drivers an engine created, by PBX name, and the clients they were given."""

    def __init__(self) -> None:
        self.drivers: dict[str, FakeDriver] = {}

    def factory(self, config: PbxConfig, client: httpx.AsyncClient) -> Driver:
        driver = FakeDriver(config, client)
        self.drivers[config.name] = driver
        return driver

    def __getitem__(self, name: str) -> FakeDriver:
        return self.drivers[name]


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def make_config() -> Callable[..., Config]:
    def make(*names: str, settings: str = "", **fields: Any) -> Config:
        return parse_config(settings + "\n" + config_text(*(names or ("hq",)), **fields))

    return make


@pytest.fixture
def make_engine(fakes: Fakes) -> Callable[..., Engine]:
    def make(config: Config, **kwargs: Any) -> Engine:
        kwargs.setdefault("fetch_margin", 0.1)
        kwargs.setdefault("rng", random.Random(7))
        return Engine(config, driver_factory=fakes.factory, **kwargs)

    return make


@pytest.fixture
def audit(tmp_path: Any) -> AuditLog:
    return AuditLog(tmp_path / "state" / "pbxtui" / "audit.jsonl")


async def _wait_until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    with anyio.fail_after(timeout):
        while not predicate():  # noqa: ASYNC110 (a test helper polling a condition)
            await anyio.sleep(0.01)


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    """``await wait_until(lambda: cond, timeout=3)``: fails the test if it never holds."""
    return _wait_until


@pytest.fixture
def canary() -> str:
    return CANARY


@pytest.fixture
def sample() -> Callable[[str], dict[Resource, list[Record]]]:
    return sample_records


@asynccontextmanager
async def _running(engine: Engine) -> AsyncIterator[Engine]:
    async with engine, anyio.create_task_group() as tg:
        tg.start_soon(engine.run)
        yield engine
        tg.cancel_scope.cancel()


@pytest.fixture
def running() -> Callable[[Engine], AbstractAsyncContextManager[Engine]]:
    """``async with running(engine):`` opens the engine and runs its loops in the background."""
    return _running
