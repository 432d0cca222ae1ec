"""The engine: one path from drivers to views, and from operators back to drivers.

Two sources feed it: the pollers (one loop per PBX and resource) and what the PBXs push
(``ingest``, from the webhook receiver). Every result becomes the PBX's new immutable state,
joined across resources, with the changes it brought, published through the one state store
(``store``: numbered updates, synchronous subscribers and coalescing streams). Actions go
through the one policy (``policy``) that the console and the headless commands share, and
every attempt is audited. It satisfies the model's ``EnginePort`` (read side and write side).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType

import anyio
import anyio.lowlevel
import anyio.to_thread
import httpx

from pbxtui.config import Config, PbxConfig
from pbxtui.drivers import create_driver
from pbxtui.drivers.base import (
    Driver,
    DriverError,
    NotSupported,
    PbxTimeout,
    off_loop,
)
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.http import asking
from pbxtui.engine.audit import AuditLog
from pbxtui.engine.changes import diff_health, diff_records
from pbxtui.engine.consultations import ConsultationBook, consultation_leg, transferer_leg
from pbxtui.engine.dispatch import dispatch
from pbxtui.engine.figures import keep_reading, read_figures
from pbxtui.engine.health import derive_health
from pbxtui.engine.joins import Joiner
from pbxtui.engine.name_sources import open_names
from pbxtui.engine.names import CallerNames
from pbxtui.engine.policy import ActionPolicy
from pbxtui.engine.poller import Publish, ResourcePoller, fetch_limit, interval_for, log_bug
from pbxtui.engine.push import RINGING_TTL, PushTracker
from pbxtui.engine.store import StateStore, Subscription
from pbxtui.model import (
    Action,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    ActionStatus,
    AttendedTransfer,
    Call,
    CancelTransfer,
    Capabilities,
    Change,
    ChangeKind,
    CompleteTransfer,
    Consultation,
    DirectoryEntry,
    EngineUpdate,
    FetchDirectory,
    HealthState,
    PbxHealth,
    PbxState,
    PlaceCall,
    Resource,
    ResourceState,
    ScheduleCall,
    utcnow,
)
from pbxtui.model.figures import TenantFigures
from pbxtui.model.port import Listener, Source
from pbxtui.model.push import PushEvent
from pbxtui.redact import scrub
from pbxtui.tls import tls_context

logger = logging.getLogger("pbxtui.engine")

DriverFactory = Callable[[PbxConfig, httpx.AsyncClient], Driver]

# Connections a PBX's actions may use beside its polls' ``max_in_flight`` (actions take no
# in-flight slot of the budget, so an operator never waits behind a sweep).
ACTION_CONNECTIONS = 4
# Idle connections are kept this long: polls every second reuse theirs, and servers that
# close idle ones sooner (Apache's 5 s) are noticed by the pool before reuse.
KEEPALIVE_SECONDS = 15.0
# Drivers pass their own per-request timeout; this only bounds a request that forgets to.
CLIENT_TIMEOUT = httpx.Timeout(30.0)
DEFAULT_FETCH_MARGIN = 2.0
# Actions that place a call may block while it rings (a dialup click2call waits up to its
# Timeout). The driver's own request timeout bounds them; this only catches a driver bug.
ORIGINATE_ACTIONS = frozenset(
    {Action.CLICK2CALL, Action.SCHEDULED_CALL, Action.CALLBACK, Action.CALL_IVR}
)
ORIGINATE_ALLOWANCE = 120.0
NAMES_BATCH = 0.2
"""Seconds names arriving together wait to be published together (one repaint, not 50)."""
DIRECTORY_REFRESH = 600.0
"""Seconds between two readings of a PBX's phone directory, for names."""
MAYBE_DONE = " (the PBX may still have carried it out)"
UNRECORDED = "not sent: it could not be recorded in the audit log first"


def client_limits(pbx: PbxConfig) -> httpx.Limits:
    """One PBX's pool: as many connections as its budget lets requests be in flight, all
    kept alive, so a steady poll never opens a connection."""
    size = pbx.max_in_flight + ACTION_CONNECTIONS
    return httpx.Limits(
        max_connections=size, max_keepalive_connections=size, keepalive_expiry=KEEPALIVE_SECONDS
    )


def _user_agent() -> str:
    try:
        return f"pbxtui/{version('pbxtui')}"
    except PackageNotFoundError:
        return "pbxtui"


class _Pbx:
    """The engine's private bookkeeping for one PBX."""

    def __init__(self, config: PbxConfig, driver: Driver, pollers: dict[Resource, ResourcePoller]):
        self.config = config
        self.driver = driver
        self.pollers = pollers
        self.health = PbxHealth(pbx=config.name, kind=driver.kind)
        self.state: PbxState | None = None
        self.consultations: tuple[Consultation, ...] = ()
        self.joiner = Joiner()
        self.publishing = anyio.Lock()
        ring_timeout = getattr(config, "ring_timeout", None)
        self.pushed = PushTracker(
            config.name,
            push_only=driver.push_only,
            ringing_ttl=timedelta(seconds=ring_timeout) if ring_timeout else RINGING_TTL,
        )
        self.push_refusals = 0
        self.last_push_refusal = ""
        self.figures: TenantFigures | None = None
        self.push_error = ""


class Engine:
    """Polls every configured PBX, holds the latest state, and performs actions.

    Use as ``async with Engine(config) as engine:`` then either ``await engine.run()`` (live,
    until cancelled) or ``await engine.poll_once()`` (one round, for headless commands).
    """

    def __init__(
        self,
        config: Config,
        *,
        read_only: bool = False,
        audit: AuditLog | None = None,
        driver_factory: DriverFactory = create_driver,
        fetch_margin: float = DEFAULT_FETCH_MARGIN,
        rng: random.Random | None = None,
        consultations: ConsultationBook | None = None,
        sources: Sequence[Source] = (),
    ) -> None:
        """``fetch_margin``: seconds added to a PBX's ``timeout`` to bound a whole fetch;
        ``consultations``: where pending attended transfers are kept (in memory if None);
        ``sources``: what feeds it beside its pollers, run by ``run`` (the webhook receiver)."""
        self.config = config
        self.audit = audit
        self.policy = ActionPolicy(
            config, self.capabilities, read_only=read_only, vendor=self._vendor
        )
        self.book = consultations or ConsultationBook()
        self._driver_factory = driver_factory
        self._fetch_margin = fetch_margin
        self._rng = rng or random.Random()
        self._pbxs: dict[str, _Pbx] = {}
        self.store = StateStore()
        self.names = CallerNames()
        """Who is on each call (``names``): the sources are opened with the engine."""
        self._renamed: anyio.Event | None = None
        self.sources = tuple(sources)
        self._stack: AsyncExitStack | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Engine:
        if self._stack is not None:
            raise RuntimeError("this Engine is already open")
        stack = AsyncExitStack()
        try:
            self.names = await open_names(self.config, stack, on_change=self._names_changed)
            for pbx in self.config.pbx:
                # A client (so a connection pool) per PBX: a hanging PBX holds only its own
                # connections, and no healthy PBX ever waits for a slot in a shared pool.
                client = await stack.enter_async_context(
                    httpx.AsyncClient(
                        verify=tls_context(pbx.verify_tls),
                        limits=client_limits(pbx),
                        timeout=CLIENT_TIMEOUT,
                        headers={"User-Agent": _user_agent()},
                    )
                )
                self._pbxs[pbx.name] = self._build(pbx, self._driver_factory(pbx, client))
                # Opened inside the console's loop: let it paint between PBXs (50 PBXs take
                # about 90 ms to open), so the first frame never waits for the engine.
                await anyio.lowlevel.checkpoint()
        except BaseException:
            self._pbxs.clear()
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    def _build(self, config: PbxConfig, driver: Driver) -> _Pbx:
        limit = fetch_limit(driver, self._fetch_margin)
        pollers = {
            resource: ResourcePoller(
                driver,
                resource,
                interval=interval_for(resource, config.poll_interval),
                limit=limit,
                publish=self._publisher(config.name),
                rng=self._rng,
            )
            for resource in Resource
            if resource in driver.capabilities.resources and not driver.push_only
        }
        entry = _Pbx(config, driver, pollers)
        entry.health = self._health(entry)
        entry.state = self._snapshot(entry)
        self.store.put(entry.state)
        return entry

    # -- lookups --------------------------------------------------------------------------
    @property
    def pbx_names(self) -> list[str]:
        return [pbx.name for pbx in self.config.pbx]

    def _get(self, name: str) -> _Pbx:
        self.config.get(name)  # raises ConfigError naming the known PBXs
        if self._stack is None:
            raise RuntimeError("the engine is not open: use `async with Engine(...)`")
        return self._pbxs[name]

    def driver(self, name: str) -> Driver:
        return self._get(name).driver

    def _vendor(self, name: str) -> str:
        entry = self._pbxs.get(name)
        return entry.driver.vendor if entry is not None else ""

    def capabilities(self, name: str) -> Capabilities:
        return self._get(name).driver.capabilities

    def is_read_only(self, pbx: str) -> bool:
        return self.policy.is_read_only(pbx)

    def is_protected(self, pbx: str) -> bool:
        return self.policy.is_protected(pbx)

    def state(self) -> dict[str, PbxState]:
        """The latest state of every PBX, in config order."""
        return {name: self._state_of(self._get(name)) for name in self.pbx_names}

    def _state_of(self, entry: _Pbx) -> PbxState:
        if entry.state is None:
            entry.state = self._snapshot(entry)
        return entry.state

    # -- subscriptions --------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` after every update (poll result, push, action); returns the
        unsubscriber."""
        return self.store.subscribe(listener)

    def updates(self, *, max_changes: int | None = None) -> Subscription:
        """A coalescing stream of updates for an async reader (``async for batch in …``);
        give it back with ``engine.store.close_stream``."""
        return (
            self.store.stream()
            if max_changes is None
            else self.store.stream(max_changes=max_changes)
        )

    def _publish(
        self, entry: _Pbx, resource: Resource | None, changes: tuple[Change, ...] = ()
    ) -> EngineUpdate:
        return self.store.publish(self._state_of(entry), resource, changes)

    # -- polling --------------------------------------------------------------------------
    async def run(self) -> None:
        """Poll every resource of every PBX in its own loop, and run every source beside the
        pollers, until cancelled."""
        entries = [self._get(name) for name in self.pbx_names]
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._republish_names, name="names")
            for source in self.sources:
                tg.start_soon(source.run, self, name=f"source {source.name}")
            for entry in entries:
                for poller in entry.pollers.values():
                    tg.start_soon(poller.run, name=f"poll {entry.config.name} {poller.resource}")
                if entry.driver.figures_seconds > 0:
                    publish = partial(self._figures_read, entry)
                    tg.start_soon(keep_reading, entry.driver, publish)
                if self.names.configured and entry.driver.capabilities.supports(Action.PHONEBOOK):
                    # Read only where names are wanted: a console without [contacts] or
                    # [lookup] costs its PBXs no request they did not cost before.
                    directory = f"directory {entry.config.name}"
                    tg.start_soon(self._directory_loop, entry, name=directory)

    async def poll_once(
        self, *, pbx: str | None = None, resources: Iterable[Resource] | None = None
    ) -> dict[str, PbxState]:
        """Poll once, concurrently, and return the states polled (errors are in the state).

        Resources a PBX does not support are skipped.
        """
        names = [pbx] if pbx is not None else self.pbx_names
        entries = [self._get(name) for name in names]
        wanted = set(resources) if resources is not None else set(Resource)
        async with anyio.create_task_group() as tg:
            for entry in entries:
                for resource, poller in entry.pollers.items():
                    if resource in wanted:
                        tg.start_soon(poller.poll)
        self.names.flush()
        return {entry.config.name: self._state_of(entry) for entry in entries}

    async def named_states(
        self, states: dict[str, PbxState], *, timeout: float
    ) -> dict[str, PbxState]:
        """``states`` again once their callers are named: each PBX's own directory read, and
        the CRM's answers waited for, within ``timeout`` seconds in all (``snapshot``)."""
        if not self.names.configured:
            return states
        entries = [self._get(name) for name in states]
        with anyio.move_on_after(timeout):
            async with anyio.create_task_group() as tg:
                for entry in entries:
                    if entry.driver.capabilities.supports(Action.PHONEBOOK):
                        tg.start_soon(self._read_directory, entry)
            self._rename(entries)  # what the directories name is not asked of the CRM
            await self.names.settled()
        named = self._rename(entries)
        return {entry.config.name: state for entry, state in zip(entries, named, strict=True)}

    def _rename(self, entries: Iterable[_Pbx]) -> list[PbxState]:
        renamed = []
        for entry in entries:
            entry.health = self._health(entry)
            entry.state = self._snapshot(entry)
            renamed.append(entry.state)
        self.names.flush()
        return renamed

    # -- names ----------------------------------------------------------------------------
    def _names_changed(self) -> None:
        if self._renamed is not None:
            self._renamed.set()

    async def _republish_names(self) -> None:
        """Publish every PBX's state again when names arrived (a CRM's answer, a directory)
        or the CRM's health changed: the rows repaint with their names."""
        while True:
            self._renamed = anyio.Event()
            await self._renamed.wait()
            self._renamed = anyio.Event()  # what arrives while publishing makes another round
            await anyio.sleep(NAMES_BATCH)
            for name in self.pbx_names:
                await self._rename_one(self._get(name))
            self.names.flush()

    async def _rename_one(self, entry: _Pbx) -> None:
        """Name ``entry``'s calls again and publish them, if anything it shows changed. A
        large PBX is named off the event loop, as its polls are joined."""
        async with entry.publishing:
            before = self._state_of(entry)
            health = self._health(entry)
            prepare = partial(self._snapshot, entry, health=health)
            state = await off_loop(prepare, rows=len(before.records(Resource.CALLS)))
            if health == entry.health and state.records(Resource.CALLS) is before.records(
                Resource.CALLS
            ):
                return
            entry.health, entry.state = health, state
            self.store.publish(state, Resource.CALLS)

    async def _directory_loop(self, entry: _Pbx) -> None:
        while True:
            await self._read_directory(entry)
            await anyio.sleep(DIRECTORY_REFRESH)

    async def _read_directory(self, entry: _Pbx) -> None:
        """The PBX's phone directory, for names (never on a poll's path; failures logged)."""
        limit = fetch_limit(entry.driver, self._fetch_margin)
        try:
            with anyio.fail_after(limit):
                found = await entry.driver.phone_directory()
        except (DriverError, TimeoutError) as exc:
            reason = f"{exc.label}: {exc.reason}" if isinstance(exc, DriverError) else "timeout"
            logger.info("%s: no phone directory for names: %s", entry.config.name, scrub(reason))
            return
        except Exception as exc:
            log_bug(f"{entry.config.name}: unexpected error reading the directory", exc)
            return
        self.names.set_directory(entry.config.name, found)

    def refresh(self, pbx: str | None = None) -> None:
        """Wake the loops (of one PBX, or all) so they poll now."""
        names = [pbx] if pbx is not None else self.pbx_names
        for name in names:
            for poller in self._get(name).pollers.values():
                poller.wake()

    # -- what the PBXs push ---------------------------------------------------------------
    async def ingest(self, event: PushEvent) -> None:
        """Take in one event a PBX pushed (the webhook receiver calls this): the live state and
        the Events pane show it at once, and the PBX is polled now to catch up (within its
        request budget). An event for an unknown PBX raises ConfigError."""
        entry = self._get(event.pbx)
        async with entry.publishing:
            named = self.names.namer(self._state_of(entry))
            changes = tuple(entry.pushed.apply(event, named=named))
            entry.health = self._health(entry)
            entry.state = self._snapshot(entry)
            self.store.publish(entry.state, Resource.CALLS, changes)
        self.names.flush()
        for poller in entry.pollers.values():
            if poller.resource in (Resource.CALLS, Resource.EXTENSIONS, Resource.BLF):
                poller.wake()

    async def push_refused(self, pbx: str, reason: str, count: int = 1) -> None:
        """``count`` webhook requests for ``pbx`` were refused: counted in its health, with the
        last one's reason."""
        entry = self._pbxs.get(pbx)
        if entry is None:
            return
        async with entry.publishing:
            entry.push_refusals += count
            entry.last_push_refusal = scrub(reason)[:200]
            entry.health = self._health(entry)
            entry.state = self._snapshot(entry)
            self.store.publish(entry.state, None)

    async def tenant_figures(self, pbx: str) -> TenantFigures | None:
        """Read ``pbx``'s tenant figures now (``check``), and show them in its health."""
        entry = self._get(pbx)
        figures = await read_figures(entry.driver)
        if figures is not None:
            await self._figures_read(entry, figures)
        return figures

    async def _figures_read(self, entry: _Pbx, figures: TenantFigures) -> None:
        async with entry.publishing:
            entry.figures = figures
            entry.health = self._health(entry)
            entry.state = self._snapshot(entry)
            self.store.publish(entry.state, None)

    async def push_unavailable(self, pbxs: Sequence[str], reason: str) -> None:
        """What ``pbxs`` push cannot be received: said on their health and in Events once."""
        reason = scrub(reason)[:200]
        for name in pbxs:
            entry = self._pbxs.get(name)
            if entry is None or entry.push_error == reason:
                continue
            async with entry.publishing:
                entry.push_error = reason
                entry.health = self._health(entry)
                entry.state = self._snapshot(entry)
                # Its badge says it; a PBX known only from what it pushes is down, in Events too.
                changes = (
                    Change(
                        at=utcnow(),
                        pbx=name,
                        kind=ChangeKind.PBX_DOWN,
                        text=f"{name}: down: webhooks not received: {reason}",
                        ok=False,
                        source="push",
                    ),
                )
                self.store.publish(entry.state, None, changes if entry.pushed.push_only else ())

    def push_history(self, pbx: str) -> tuple[PushEvent, ...]:
        """The calls ``pbx`` pushed the end of (newest last): history where no CDR API is."""
        return tuple(self._get(pbx).pushed.history)

    async def probe(self, pbx: str) -> tuple[bool, str, int | None]:
        """One cheap authenticated request: ``(ok, reason, latency_ms)``."""
        entry = self._get(pbx)
        limit = fetch_limit(entry.driver, self._fetch_margin)
        started = time.perf_counter()
        try:
            with anyio.fail_after(limit):
                await entry.driver.probe()
        except DriverError as exc:
            return False, f"{exc.label}: {scrub(exc.reason)}", None
        except TimeoutError:
            return False, f"timeout: no answer within {limit:g} s", None
        except Exception as exc:
            log_bug(f"{pbx}: unexpected error probing", exc)
            return False, scrub(f"internal error: {type(exc).__name__}: {exc}")[:300], None
        if entry.driver.push_only:
            return True, "push-only: its events come to the webhook receiver", None
        latency_ms = round((time.perf_counter() - started) * 1000)
        return True, f"ok in {latency_ms} ms", latency_ms

    def _publisher(self, name: str) -> Publish:
        async def publish(
            resource: Resource, previous: ResourceState, current: ResourceState
        ) -> None:
            entry = self._pbxs[name]
            try:
                # One result of a PBX at a time, in order: each is joined with the latest of
                # the others. A large one (thousands of calls) is diffed and joined off the
                # event loop (`off_loop`), so the other PBXs never wait for it.
                async with entry.publishing:
                    prepare = partial(self._prepare, entry, resource, previous, current)
                    prepared = await off_loop(prepare, rows=len(current.records))
                    self._apply(entry, resource, *prepared)
            except Exception as exc:
                # A bug here must not stop the poll loop that called it.
                log_bug(f"{name}: failed to publish a {resource} result", exc)

        return publish

    def _prepare(
        self, entry: _Pbx, resource: Resource, previous: ResourceState, current: ResourceState
    ) -> tuple[PbxHealth, tuple[Consultation, ...], PbxState, tuple[Change, ...]]:
        """What a poll result changes, computed without touching the engine's state (it may
        run in a worker thread): the health, pending transfers, joined state and changes."""
        now = utcnow()
        changes: list[Change] = []
        if current.ok:
            baseline = previous.records if previous.fetched_at is not None else None
            changes += diff_records(
                entry.config.name,
                resource,
                baseline,
                current.records,
                at=now,
                named=self.names.namer(self._state_of(entry)),
            )
        health = self._health(entry)
        changes += diff_health(entry.health, health, at=now)
        consultations = (
            self._consultations(entry) if resource is Resource.CALLS else entry.consultations
        )
        state = self._snapshot(entry, health=health, consultations=consultations)
        return health, consultations, state, tuple(changes)

    def _apply(
        self,
        entry: _Pbx,
        resource: Resource,
        health: PbxHealth,
        consultations: tuple[Consultation, ...],
        state: PbxState,
        changes: tuple[Change, ...],
    ) -> None:
        for change in changes:
            if change.kind in (ChangeKind.PBX_DOWN, ChangeKind.PBX_UP):
                logger.warning("%s", change.text)
        entry.health, entry.consultations, entry.state = health, consultations, state
        self.store.publish(state, resource, changes)
        self.names.flush()

    def _health(self, entry: _Pbx) -> PbxHealth:
        health = derive_health(
            entry.config.name,
            entry.driver.kind,
            {resource: poller.state for resource, poller in entry.pollers.items()},
            read_only=self.is_read_only(entry.config.name),
            protected=entry.config.protected,
            tls_verified=entry.config.verify_tls,
        )
        pushed = entry.pushed
        update: dict[str, object] = {
            "pushes": pushed.events,
            "last_push": pushed.last_event_at,
            "push_refusals": entry.push_refusals,
            "last_push_refusal": entry.last_push_refusal,
            "names": self.names.health,
            "figures": entry.figures,
            "push_error": entry.push_error,
        }
        if pushed.push_only:
            # Nothing to poll: it is up once it has been heard from, down when it cannot be.
            state = HealthState.OK if pushed.last_event_at else HealthState.STARTING
            update |= {
                "push_only": True,
                "state": HealthState.DOWN if entry.push_error else state,
                "last_ok": pushed.last_event_at,
                "last_error": entry.push_error,
            }
        return health.model_copy(update=update)

    def _snapshot(
        self,
        entry: _Pbx,
        *,
        health: PbxHealth | None = None,
        consultations: tuple[Consultation, ...] | None = None,
    ) -> PbxState:
        """The state to publish: the pollers' latest results, joined (``joins``) so every
        view and command reads the same cross-resource facts."""
        state = PbxState(
            name=entry.config.name,
            kind=entry.driver.kind,
            capabilities=entry.driver.capabilities,
            health=health or entry.health,
            resources=self._resources(entry),
            consultations=entry.consultations if consultations is None else consultations,
        )
        try:
            state = entry.joiner.join(state)
        except Exception as exc:
            # A bug in a join must not freeze every pane: publish the records unjoined.
            log_bug(f"{entry.config.name}: failed to join its resources", exc)
            return state
        try:
            return self.names.name_state(state)
        except Exception as exc:
            log_bug(f"{entry.config.name}: failed to name its callers", exc)
            return state

    def _resources(self, entry: _Pbx) -> dict[Resource, ResourceState]:
        """The pollers' latest results, the calls merged with what the PBX pushed."""
        resources = {resource: poller.state for resource, poller in entry.pollers.items()}
        pushed = entry.pushed
        if pushed.push_only:
            resources[Resource.CALLS] = ResourceState(
                records=pushed.calls(), fetched_at=pushed.last_event_at
            )
        elif pushed.events and Resource.CALLS in resources:
            calls = resources[Resource.CALLS]
            polled = [c for c in calls.records if isinstance(c, Call)]
            resources[Resource.CALLS] = replace(calls, records=pushed.overlay(polled))
        return resources

    def _consultations(self, entry: _Pbx) -> tuple[Consultation, ...]:
        poller = entry.pollers.get(Resource.CALLS)
        calls = poller.state.records if poller is not None and poller.state.ok else None
        known = [c for c in calls if isinstance(c, Call)] if calls is not None else None
        return self.book.pending(entry.config.name, known)

    # -- actions --------------------------------------------------------------------------
    def refusal(self, action: Action, pbx: str) -> str:
        """Why ``action`` cannot go to ``pbx`` whatever its target ("" if it may)."""
        refusal = self.policy.refusal(action, pbx)
        return refusal.reason if refusal is not None else ""

    def in_flight(self, request: ActionRequest) -> bool:
        return self.policy.in_flight(request)

    def refuse_action(self, action: Action, pbx: str, target: str) -> str:
        """Audit the refusal of ``action`` on ``pbx`` before any target is known (the CLI asks
        for an agent on a PBX whose API cannot pause): the reason, or "" if it may go."""
        refusal = self.policy.refusal(action, pbx)
        if refusal is None:
            return ""
        if self.audit is not None:
            try:
                self.audit.append(
                    pbx=pbx,
                    action=action.value,
                    target=target,
                    params={},
                    result=refusal.status.value,
                    message=refusal.reason,
                )
            except OSError as exc:
                logger.error("cannot write the audit log %s: %s", self.audit.path, exc.strerror)
        return refusal.reason

    async def perform(self, request: ActionRequest) -> ActionOutcome:
        """Check, send, audit and announce one action; never raises for a refusal or failure.

        The policy claims the target first, so a second request for the same call while the
        first is in flight sends nothing. No lock is held while the driver works, so a long
        action (a click2call that rings for a minute) never holds up polling.
        """
        refusal = self.policy.claim(request)
        audit_id = ""
        if refusal is not None:
            outcome = ActionOutcome(request, refusal.status, scrub(refusal.reason))
        else:
            try:
                # In a thread: an fsync on a slow disk must not stall every poll and the UI.
                audit_id, unrecorded = await anyio.to_thread.run_sync(self._audit_intent, request)
                if unrecorded:
                    outcome = ActionOutcome(request, ActionStatus.FAILED, unrecorded)
                else:
                    outcome = await self._send(request)
            finally:
                self.policy.release(request)
        outcome = await anyio.to_thread.run_sync(self._audit, outcome, audit_id)
        return self._conclude(outcome)

    def find_consultation(self, pbx: str, ident: str) -> Consultation | None:
        """The pending attended transfer on ``pbx`` whose held call or transferer is ``ident``."""
        entry = self._get(pbx)
        poller = entry.pollers.get(Resource.CALLS)
        calls = [c for c in poller.state.records if isinstance(c, Call)] if poller else []
        return self.book.find(pbx, ident, calls)

    def _conclude(self, outcome: ActionOutcome) -> ActionOutcome:
        """Log and announce ``outcome`` (audited already); refresh the PBX after a success."""
        request = outcome.request
        log = logger.info if outcome.ok else logger.warning
        log("%s", scrub(outcome.text()))
        change = Change(
            at=utcnow(),
            pbx=request.pbx,
            kind=ChangeKind.ACTION,
            text=scrub(outcome.text()),
            key=request.record_key,
            ok=outcome.ok,
            source="action",
        )
        entry = self._pbxs.get(request.pbx)
        if entry is not None:
            if outcome.consultation is not None or isinstance(
                request, CompleteTransfer | CancelTransfer
            ):
                entry.consultations = self._consultations(entry)
                entry.state = self._snapshot(entry)
            self._publish(entry, None, (change,))
            if outcome.ok:
                self.refresh(request.pbx)
        return outcome

    async def _send(self, request: ActionRequest) -> ActionOutcome:
        def outcome(
            status: ActionStatus,
            message: str,
            result: ActionResult | None = None,
            entries: tuple[DirectoryEntry, ...] = (),
        ) -> ActionOutcome:
            if result is not None:  # vendors echo what they were sent, credentials included
                result = result.model_copy(
                    update={"message": scrub(result.message), "vendor_id": scrub(result.vendor_id)}
                )
            return ActionOutcome(request, status, scrub(message), result, entries)

        entry = self._get(request.pbx)
        driver = entry.driver
        limit = entry.config.timeout + self._fetch_margin
        if request.capability in ORIGINATE_ACTIONS:
            ring = request.dial.timeout if isinstance(request, PlaceCall | ScheduleCall) else None
            limit += max(ring or 0, ORIGINATE_ALLOWANCE)
        if isinstance(request, CompleteTransfer | CancelTransfer):
            limit += fetch_limit(driver, self._fetch_margin)
        before = tuple(c.key for c in self._calls_now(entry))
        what = "directory" if isinstance(request, FetchDirectory) else "action"
        try:
            with anyio.fail_after(limit), asking(what, Priority.ACTION):
                if isinstance(request, FetchDirectory):
                    entries = tuple(await driver.phone_directory())
                    return outcome(ActionStatus.OK, f"{len(entries)} entries", entries=entries)
                if isinstance(request, CompleteTransfer | CancelTransfer):
                    result = await self._second_step(entry, request)
                else:
                    result = await dispatch(driver, request)
        except NotSupported as exc:
            return outcome(ActionStatus.UNSUPPORTED, exc.reason)
        except PbxTimeout as exc:
            return outcome(ActionStatus.FAILED, exc.reason + MAYBE_DONE)
        except DriverError as exc:
            return outcome(ActionStatus.FAILED, exc.reason)
        except TimeoutError:
            return outcome(ActionStatus.FAILED, f"no answer within {limit:g} s{MAYBE_DONE}")
        except Exception as exc:
            log_bug(f"{request.pbx}: unexpected error performing {request.kind}", exc)
            return outcome(ActionStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}")
        if not result.ok:
            return outcome(
                ActionStatus.FAILED, result.message or "the PBX refused, without a reason", result
            )
        done = outcome(ActionStatus.OK, result.message or "done", result)
        if isinstance(request, AttendedTransfer):
            consultation = Consultation(
                pbx=request.pbx,
                held=request.call,
                transferer=request.call.extension,
                destination=request.destination,
                before=before,
            )
            self.book.add(consultation)
            done = replace(done, consultation=consultation)
        elif isinstance(request, CompleteTransfer | CancelTransfer):
            self.book.remove(request.consultation)
        return done

    def _calls_now(self, entry: _Pbx) -> list[Call]:
        poller = entry.pollers.get(Resource.CALLS)
        if poller is None:
            return []
        return [c for c in poller.state.records if isinstance(c, Call)]

    async def _second_step(
        self, entry: _Pbx, request: CompleteTransfer | CancelTransfer
    ) -> ActionResult:
        """Complete or cancel an attended transfer: one hangup, found on the calls as they
        are now (polled afresh), never on what the operator saw a minute ago."""
        poller = entry.pollers.get(Resource.CALLS)
        if poller is not None:
            await poller.poll()
            if poller.state.failing:
                return ActionResult(
                    ok=False, message=f"cannot read the calls now: {poller.state.error}"
                )
        calls = self._calls_now(entry)
        consultation = request.consultation
        if isinstance(request, CompleteTransfer):
            leg, what = transferer_leg(consultation, calls), "the transferer's leg"
        else:
            leg, what = consultation_leg(consultation, calls), "the consultation call"
        if leg is None:
            self.book.remove(consultation)
            return ActionResult(
                ok=False,
                message=f"cannot find {what} on {entry.config.name} any more: "
                "the transfer may have ended",
            )
        return await entry.driver.hangup(leg)

    def _audit_intent(self, request: ActionRequest) -> tuple[str, str]:
        """Record the action before it is sent: ``(id for its outcome line, "")``, or
        ``("", why nothing may be sent)`` when the audit log cannot be written, as an action
        that might leave no record is not sent at all."""
        if self.audit is None:
            return "", ""
        try:
            entry = self.audit.intent(
                pbx=request.pbx,
                action=request.kind,
                target=request.describe_target(),
                params=request.params(),
                user=request.requested_by,
            )
        except OSError as exc:
            logger.error("cannot write the audit log %s: %s", self.audit.path, exc.strerror)
            return "", f"{UNRECORDED} (the audit log {self.audit.path}: {exc.strerror})"
        return str(entry["id"]), ""

    def _audit(self, outcome: ActionOutcome, audit_id: str = "") -> ActionOutcome:
        """Append the attempt's outcome to the audit log (after its intent line, when it was
        sent); a failure to write is said in the outcome."""
        if self.audit is None:
            return outcome
        request = outcome.request
        try:
            self.audit.append(
                pbx=request.pbx,
                action=request.kind,
                target=request.describe_target(),
                params=request.params(),
                result=outcome.status.value,
                message=outcome.message,
                entry_id=audit_id,
                user=request.requested_by,
            )
        except OSError as exc:
            logger.error("cannot write the audit log %s: %s", self.audit.path, exc.strerror)
            if outcome.message.startswith(UNRECORDED):
                return outcome  # already says so
            message = f"{outcome.message} (not recorded in the audit log: {exc.strerror})"
            return replace(outcome, message=message)
        return outcome
