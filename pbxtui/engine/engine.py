"""The engine: one path from drivers to views, and from operators back to drivers.

It polls every (PBX, resource) in its own loop, keeps the latest immutable state, diffs it into
events, tells subscribers, and performs actions with the checks that both the console and the
headless commands rely on: read-only, capabilities, validation, audit.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType

import anyio
import httpx

from pbxtui.config import Config, ConfigError, PbxConfig
from pbxtui.drivers import create_driver
from pbxtui.drivers.base import (
    READ_ACTIONS,
    Action,
    Capabilities,
    Driver,
    DriverError,
    NotSupported,
    PbxTimeout,
    Resource,
)
from pbxtui.engine.actions import ActionOutcome, ActionRequest, ActionStatus, validate
from pbxtui.engine.audit import AuditLog
from pbxtui.engine.changes import Change, ChangeKind, diff_health, diff_records
from pbxtui.engine.health import derive_health
from pbxtui.engine.poller import ResourcePoller, fetch_limit, interval_for, log_bug
from pbxtui.engine.state import PbxState, ResourceState
from pbxtui.model import ActionResult, DirectoryEntry, PbxHealth, utcnow
from pbxtui.redact import scrub

logger = logging.getLogger("pbxtui.engine")

DriverFactory = Callable[[PbxConfig, httpx.AsyncClient], Driver]

CLIENT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=30)
# Drivers pass their own per-request timeout; this only bounds a request that forgets to.
CLIENT_TIMEOUT = httpx.Timeout(30.0)
DEFAULT_FETCH_MARGIN = 2.0
# Actions that place a call may block while it rings (a dialup click2call waits up to its
# Timeout). The driver's own request timeout bounds them; this only catches a driver bug.
ORIGINATE_ACTIONS = frozenset(
    {Action.CLICK2CALL, Action.SCHEDULED_CALL, Action.CALLBACK, Action.CALL_IVR}
)
ORIGINATE_ALLOWANCE = 120.0


def _user_agent() -> str:
    try:
        return f"pbxtui/{version('pbxtui')}"
    except PackageNotFoundError:
        return "pbxtui"


@dataclass(frozen=True)
class EngineUpdate:
    """Sent to subscribers after every poll result (``resource`` None for an action)."""

    pbx: str
    resource: Resource | None
    state: PbxState
    changes: tuple[Change, ...] = ()


Listener = Callable[[EngineUpdate], None]


class _Pbx:
    """The engine's private bookkeeping for one PBX."""

    def __init__(self, config: PbxConfig, driver: Driver, pollers: dict[Resource, ResourcePoller]):
        self.config = config
        self.driver = driver
        self.pollers = pollers
        self.health = PbxHealth(pbx=config.name, kind=driver.kind)
        self.state: PbxState | None = None


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
    ) -> None:
        """``fetch_margin``: seconds added to a PBX's ``timeout`` to bound a whole fetch."""
        self.config = config
        self.audit = audit
        self._read_only = read_only or config.settings.read_only
        self._driver_factory = driver_factory
        self._fetch_margin = fetch_margin
        self._rng = rng or random.Random()
        self._pbxs: dict[str, _Pbx] = {}
        self._listeners: list[Listener] = []
        self._stack: AsyncExitStack | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Engine:
        if self._stack is not None:
            raise RuntimeError("this Engine is already open")
        stack = AsyncExitStack()
        try:
            clients: dict[bool, httpx.AsyncClient] = {}
            for pbx in self.config.pbx:
                client = clients.get(pbx.verify_tls)
                if client is None:
                    client = await stack.enter_async_context(
                        httpx.AsyncClient(
                            verify=pbx.verify_tls,
                            limits=CLIENT_LIMITS,
                            timeout=CLIENT_TIMEOUT,
                            headers={"User-Agent": _user_agent()},
                        )
                    )
                    clients[pbx.verify_tls] = client
                self._pbxs[pbx.name] = self._build(pbx, self._driver_factory(pbx, client))
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
            if resource in driver.capabilities.resources
        }
        entry = _Pbx(config, driver, pollers)
        entry.health = self._health(entry)
        entry.state = self._snapshot(entry)
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

    def capabilities(self, name: str) -> Capabilities:
        return self._get(name).driver.capabilities

    def is_read_only(self, pbx: str) -> bool:
        return self._read_only or self.config.get(pbx).read_only

    def state(self) -> dict[str, PbxState]:
        """The latest state of every PBX, in config order."""
        return {name: self._state_of(self._get(name)) for name in self.pbx_names}

    def _state_of(self, entry: _Pbx) -> PbxState:
        if entry.state is None:
            entry.state = self._snapshot(entry)
        return entry.state

    # -- subscriptions --------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` after every poll result and action; returns the unsubscriber."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, update: EngineUpdate) -> None:
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception as exc:
                log_bug(f"an engine listener failed on an update from {update.pbx}", exc)

    # -- polling --------------------------------------------------------------------------
    async def run(self) -> None:
        """Poll every resource of every PBX in its own loop, until cancelled."""
        entries = [self._get(name) for name in self.pbx_names]
        async with anyio.create_task_group() as tg:
            for entry in entries:
                for poller in entry.pollers.values():
                    tg.start_soon(poller.run, name=f"poll {entry.config.name} {poller.resource}")

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
        return {entry.config.name: self._state_of(entry) for entry in entries}

    def refresh(self, pbx: str | None = None) -> None:
        """Wake the loops (of one PBX, or all) so they poll now."""
        names = [pbx] if pbx is not None else self.pbx_names
        for name in names:
            for poller in self._get(name).pollers.values():
                poller.wake()

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
        latency_ms = round((time.perf_counter() - started) * 1000)
        return True, f"ok in {latency_ms} ms", latency_ms

    def _publisher(self, name: str) -> Callable[[Resource, ResourceState, ResourceState], None]:
        def publish(resource: Resource, previous: ResourceState, current: ResourceState) -> None:
            try:
                self._on_result(name, resource, previous, current)
            except Exception as exc:
                # A bug here must not stop the poll loop that called it.
                log_bug(f"{name}: failed to publish a {resource} result", exc)

        return publish

    def _on_result(
        self, name: str, resource: Resource, previous: ResourceState, current: ResourceState
    ) -> None:
        entry = self._pbxs[name]
        now = utcnow()
        changes: list[Change] = []
        if current.ok:
            baseline = previous.records if previous.fetched_at is not None else None
            changes += diff_records(name, resource, baseline, current.records, at=now)
        health = self._health(entry)
        changes += diff_health(entry.health, health, at=now)
        for change in changes:
            if change.kind in (ChangeKind.PBX_DOWN, ChangeKind.PBX_UP):
                logger.warning("%s", change.text)
        entry.health = health
        entry.state = self._snapshot(entry)
        self._notify(EngineUpdate(name, resource, entry.state, tuple(changes)))

    def _health(self, entry: _Pbx) -> PbxHealth:
        return derive_health(
            entry.config.name,
            entry.driver.kind,
            {resource: poller.state for resource, poller in entry.pollers.items()},
            read_only=self.is_read_only(entry.config.name),
            protected=entry.config.protected,
        )

    def _snapshot(self, entry: _Pbx) -> PbxState:
        return PbxState(
            name=entry.config.name,
            kind=entry.driver.kind,
            capabilities=entry.driver.capabilities,
            health=entry.health,
            resources={resource: poller.state for resource, poller in entry.pollers.items()},
        )

    # -- actions --------------------------------------------------------------------------
    async def perform(self, request: ActionRequest) -> ActionOutcome:
        """Check, send, audit and announce one action; never raises for a refusal or failure.

        Holds no lock while the driver works, so a long action (a click2call that rings for
        a minute) never holds up polling: await it in its own task.
        """
        outcome = await self._attempt(request)
        outcome = self._audit(outcome)
        log = logger.info if outcome.ok else logger.warning
        log("%s", scrub(outcome.text()))
        change = Change(
            at=utcnow(),
            pbx=request.pbx,
            kind=ChangeKind.ACTION,
            text=scrub(outcome.text()),
            key=request.key,
        )
        entry = self._pbxs.get(request.pbx)
        if entry is not None:
            self._notify(EngineUpdate(request.pbx, None, self._state_of(entry), (change,)))
            if outcome.ok:
                self.refresh(request.pbx)
        return outcome

    async def _attempt(self, request: ActionRequest) -> ActionOutcome:
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
            return ActionOutcome(
                request=request,
                ok=status is ActionStatus.OK,
                status=status,
                message=scrub(message),
                result=result,
                entries=entries,
            )

        try:
            entry = self._get(request.pbx)
        except ConfigError as exc:
            return outcome(ActionStatus.REFUSED, str(exc))
        if self.is_read_only(request.pbx) and request.action not in READ_ACTIONS:
            return outcome(ActionStatus.READ_ONLY, f"{request.pbx} is read-only: no action is sent")
        driver = entry.driver
        if not driver.capabilities.supports(request.action):
            return outcome(ActionStatus.UNSUPPORTED, driver.unsupported(request.action).reason)
        problem = validate(request)
        if problem:
            return outcome(ActionStatus.REFUSED, problem)

        limit = entry.config.timeout + self._fetch_margin
        if request.action in ORIGINATE_ACTIONS:
            ring = request.click2call.timeout if request.click2call is not None else None
            limit += max(ring or 0, ORIGINATE_ALLOWANCE)
        maybe_done = " (the PBX may still have carried it out)"
        try:
            with anyio.fail_after(limit):
                if request.action is Action.PHONEBOOK:
                    entries = tuple(await driver.phone_directory())
                    return outcome(ActionStatus.OK, f"{len(entries)} entries", entries=entries)
                result = await self._dispatch(driver, request)
        except NotSupported as exc:
            return outcome(ActionStatus.UNSUPPORTED, exc.reason)
        except PbxTimeout as exc:
            return outcome(ActionStatus.FAILED, exc.reason + maybe_done)
        except DriverError as exc:
            return outcome(ActionStatus.FAILED, exc.reason)
        except TimeoutError:
            return outcome(ActionStatus.FAILED, f"no answer within {limit:g} s{maybe_done}")
        except Exception as exc:
            log_bug(f"{request.pbx}: unexpected error performing {request.action}", exc)
            return outcome(ActionStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}")
        if not result.ok:
            return outcome(
                ActionStatus.FAILED, result.message or "the PBX refused, without a reason", result
            )
        return outcome(ActionStatus.OK, result.message or "done", result)

    @staticmethod
    async def _dispatch(driver: Driver, request: ActionRequest) -> ActionResult:
        """Call the driver method for ``request`` (already validated)."""
        action = request.action
        if action is Action.HANGUP and request.call is not None:
            return await driver.hangup(request.call)
        if action is Action.TRANSFER and request.call is not None:
            return await driver.transfer(request.call, request.destination)
        if action is Action.ATTENDED_TRANSFER and request.call is not None:
            return await driver.attended_transfer(request.call, request.destination)
        if action is Action.PAUSE and request.agent is not None:
            return await driver.pause_agent(request.agent, request.reason)
        if action is Action.UNPAUSE and request.agent is not None:
            return await driver.unpause_agent(request.agent)
        if action in (Action.CLICK2CALL, Action.SCHEDULED_CALL) and request.click2call:
            return await driver.click2call(request.click2call)
        if action is Action.CALLBACK:
            return await driver.callback(request.number1, request.number2)
        if action is Action.CALL_IVR and request.ivr is not None:
            return await driver.call_ivr(request.ivr)
        raise AssertionError(f"no dispatch for {action}")  # validate() prevents this

    def _audit(self, outcome: ActionOutcome) -> ActionOutcome:
        """Append the attempt to the audit log; a failure to write is said in the outcome."""
        if self.audit is None:
            return outcome
        request = outcome.request
        try:
            self.audit.append(
                pbx=request.pbx,
                action=request.action.value,
                target=request.describe_target(),
                params=request.params(),
                result=outcome.status.value,
                message=outcome.message,
            )
        except OSError as exc:
            logger.error("cannot write the audit log %s: %s", self.audit.path, exc.strerror)
            message = f"{outcome.message} (not recorded in the audit log: {exc.strerror})"
            return replace(outcome, message=message)
        return outcome
