"""The one protocol every vendor driver implements, its capabilities, and its errors.

A driver turns one vendor's HTTP API into the normalized model. It declares what it can do
(``capabilities``) so the console can say "this PBX's API has no attended transfer" instead of
failing; an operation it lacks raises ``NotSupported`` with that sentence. Every error a driver
raises is a ``DriverError`` whose text is safe to show: no URL with credentials, no secret.
"""

from __future__ import annotations

from abc import ABC
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import ClassVar, TypeVar

import anyio
import anyio.to_thread
import httpx
from anyio.lowlevel import RunVar

from pbxtui.config import PbxConfig
from pbxtui.drivers.budget import RequestBudget
from pbxtui.drivers.http import VendorHttp
from pbxtui.model import (
    ACTION_LABELS,
    Action,
    ActionResult,
    Agent,
    BlfLamp,
    Call,
    Capabilities,
    Click2Call,
    DirectoryEntry,
    Extension,
    IvrCall,
    Peer,
    Queue,
    Record,
    Resource,
)
from pbxtui.model.errors import ShowableError
from pbxtui.model.figures import TenantFigures
from pbxtui.model.history import HistoryPage, HistoryQuery
from pbxtui.model.requests import CampaignVerb, FlowStateWord

T = TypeVar("T")

# Answers this large are parsed in a worker thread: about 1,000 rows of calls, a few
# milliseconds of parsing; below that a thread hop costs more than it saves.
OFF_LOOP_BYTES = 256 * 1024
OFF_LOOP_ROWS = 1000


MAX_REASON = 500  # characters of a reason: a vendor echoing a 10 kB id must not flood a screen


def _cut(text: str) -> str:
    if len(text) <= MAX_REASON:
        return text
    return f"{text[:MAX_REASON]}… ({len(text)} characters)"


_PARSE_LIMITER: RunVar[anyio.CapacityLimiter] = RunVar("pbxtui_parse_limiter")


_PARSES_INLINE: RunVar[bool] = RunVar("pbxtui_parses_inline", default=False)


def parse_inline_on_this_loop() -> None:
    """This event loop runs an engine alone (the console's own loop is another, in another
    thread: ``pbxtui.engine.in_thread``): a parse holds up nothing else here, and a thread
    for it would only take more turns on the interpreter lock from the console's."""
    _PARSES_INLINE.set(True)


async def off_loop(work: Callable[[], T], *, size: int = 0, rows: int = 0) -> T:
    """``work()`` in a worker thread when it is large (``size`` bytes, or ``rows`` rows),
    inline when it is small: a big parse must not stall the event loop (and every other PBX
    and the screen with it), a small one is cheaper than a thread hop. Inline whatever its
    size on a loop that runs an engine alone (``parse_inline_on_this_loop``)."""
    if (size < OFF_LOOP_BYTES and rows < OFF_LOOP_ROWS) or _PARSES_INLINE.get():
        return work()
    return await anyio.to_thread.run_sync(work, limiter=parse_limiter())


def parse_limiter() -> anyio.CapacityLimiter:
    """One parse thread per event loop: more would only take turns on the interpreter lock,
    and each would make the event loop wait longer for its own turn."""
    try:
        return _PARSE_LIMITER.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(1)
        _PARSE_LIMITER.set(limiter)
        return limiter


class DriverError(ShowableError):
    """Base of every driver error; ``str()`` is a readable reason safe to show anywhere."""

    label = "error"
    overloaded = False
    """The PBX said it is overloaded (HTTP 429, 502, 503, 504): its budget backs off."""
    retry_after: float | None = None
    """Seconds the PBX asked to be left alone for (``Retry-After``), if it said."""

    def __init__(self, pbx: str, reason: str) -> None:
        from pbxtui.redact import scrub

        self.pbx = pbx
        self.reason = _cut(scrub(reason))
        super().__init__(f"{pbx}: {self.reason}")


class PbxUnreachable(DriverError):
    label = "unreachable"


class PbxTimeout(DriverError):
    label = "timeout"


class ConsoleBusy(DriverError):
    """No connection of this console's own pool came free in time: not the PBX's doing."""

    label = "busy"


class AuthRefused(DriverError):
    label = "auth refused"


class BadAnswer(DriverError):
    """The PBX answered something this driver cannot read (HTML, garbage, truncated JSON)."""

    label = "bad answer"


class NotSupported(DriverError):
    label = "not supported"


class ActionRefused(DriverError):
    """The PBX understood the action and said no, in its own words."""

    label = "refused"


class Driver(ABC):
    """Base class for every vendor driver. Subclasses override what their API offers."""

    kind: ClassVar[str]
    vendor: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    push_only: ClassVar[bool] = False
    """No polling API: the PBX's resources come from what it pushes (``Engine.ingest``)."""
    spread_requests: ClassVar[bool] = False
    """Whether this API wants its requests evenly spaced rather than at most N a second."""

    def __init__(self, config: PbxConfig, client: httpx.AsyncClient) -> None:
        self.config = config
        self.name = config.name
        self.budget = RequestBudget(
            config.requests_per_second, config.max_in_flight, spread=self.spread_requests
        )
        self.http = VendorHttp(
            pbx=config.name,
            url=config.url,
            client=client,
            timeout=config.timeout,
            budget=self.budget,
        )

    # -- live resources -------------------------------------------------------------------
    async def fetch(self, resource: Resource) -> list[Record]:
        fetchers: dict[Resource, Callable[[], Awaitable[Sequence[Record]]]] = {
            Resource.CALLS: self.fetch_calls,
            Resource.EXTENSIONS: self.fetch_extensions,
            Resource.PEERS: self.fetch_peers,
            Resource.BLF: self.fetch_blf,
            Resource.QUEUES: self.fetch_queues,
            Resource.AGENTS: self.fetch_agents,
        }
        return list(await fetchers[resource]())

    async def fetch_calls(self) -> list[Call]:
        raise self.unsupported(Resource.CALLS)

    async def fetch_extensions(self) -> list[Extension]:
        raise self.unsupported(Resource.EXTENSIONS)

    async def fetch_peers(self) -> list[Peer]:
        raise self.unsupported(Resource.PEERS)

    async def fetch_blf(self) -> list[BlfLamp]:
        raise self.unsupported(Resource.BLF)

    async def fetch_queues(self) -> list[Queue]:
        raise self.unsupported(Resource.QUEUES)

    async def fetch_agents(self) -> list[Agent]:
        raise self.unsupported(Resource.AGENTS)

    def fetch_seconds(self) -> float:
        """How long one whole fetch of a resource may take: the engine bounds it by this."""
        return self.config.timeout

    async def probe(self) -> None:
        """One cheap authenticated request: raises a DriverError if the PBX is not usable."""
        resource = next(iter(sorted(self.capabilities.resources)))
        await self.fetch(resource)

    # -- actions --------------------------------------------------------------------------
    async def hangup(self, call: Call) -> ActionResult:
        raise self.unsupported(Action.HANGUP)

    async def transfer(self, call: Call, destination: str) -> ActionResult:
        raise self.unsupported(Action.TRANSFER)

    async def attended_transfer(self, call: Call, destination: str) -> ActionResult:
        raise self.unsupported(Action.ATTENDED_TRANSFER)

    async def pause_agent(self, agent: Agent, reason: str) -> ActionResult:
        raise self.unsupported(Action.PAUSE)

    async def unpause_agent(self, agent: Agent) -> ActionResult:
        raise self.unsupported(Action.UNPAUSE)

    async def click2call(self, request: Click2Call) -> ActionResult:
        raise self.unsupported(Action.CLICK2CALL)

    async def callback(self, number1: str, number2: str) -> ActionResult:
        raise self.unsupported(Action.CALLBACK)

    async def call_ivr(self, request: IvrCall) -> ActionResult:
        raise self.unsupported(Action.CALL_IVR)

    async def phone_directory(self) -> list[DirectoryEntry]:
        raise self.unsupported(Action.PHONEBOOK)

    # -- the vendor extras ----------------------------------------------------------------------
    async def queue_callback(
        self, number: str, queue: str, source: str, max_dial: int | None
    ) -> ActionResult:
        raise self.unsupported(Action.QUEUE_CALLBACK)

    async def set_flow(self, flow: str, state: FlowStateWord | None, value: str) -> ActionResult:
        raise self.unsupported(Action.SET_FLOW)

    async def reset_queue(self, queue: Queue) -> ActionResult:
        raise self.unsupported(Action.QUEUE_RESET)

    async def campaign(self, campaign: str, verb: CampaignVerb) -> ActionResult:
        raise self.unsupported(Action.CAMPAIGN)

    async def reboot_peer(self, peer: Peer | None) -> ActionResult:
        """``peer`` None: every peer."""
        raise self.unsupported(Action.PEER_REBOOT)

    async def unregister_peer(self, peer: Peer | None) -> ActionResult:
        """``peer`` None: every peer."""
        raise self.unsupported(Action.PEER_UNREGISTER)

    figures_seconds: ClassVar[float] = 0.0
    """How often the tenant's figures may be read (0: this API has none)."""

    async def tenant_figures(self) -> TenantFigures | None:
        """Peers and channels per node and the credit left, where the API says (read rarely:
        ``figures_seconds``); None where it does not."""
        return None

    # -- history: a query, never on the poll loop ---------------------------------------------
    def history_source(self) -> str:
        """Where this PBX's call history is read from, in words ("" when its API, as
        configured, has none)."""
        return ""

    async def history(self, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        """The calls of ``query``, newest first, a page per local day, asked through the
        PBX's request budget as polls are; NotSupported where ``history_source`` is ""."""
        raise NotSupported(
            self.name, f"not supported by {self.name}'s API ({self.vendor}): call history"
        )
        yield  # makes this an async generator, as every driver's own is

    async def off_loop(self, parse: Callable[[], T], *, size: int = 0, rows: int = 0) -> T:
        """``parse()`` off the event loop when the answer is large (``off_loop``). ``parse``
        must not touch the driver's mutable state."""
        return await off_loop(parse, size=size, rows=rows)

    # -- helpers --------------------------------------------------------------------------
    def unsupported(self, what: Resource | Action) -> NotSupported:
        label = ACTION_LABELS.get(what, str(what)) if isinstance(what, Action) else str(what)
        return NotSupported(
            self.name, f"not supported by {self.name}'s API ({self.vendor}): {label}"
        )
