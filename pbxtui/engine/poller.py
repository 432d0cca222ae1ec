"""The loop that keeps one resource of one PBX fresh: ``while True: fetch; publish; sleep``.

The next poll is scheduled only when the previous one has finished, so polls never overlap
and a slow PBX is polled less often instead of piling requests up. Each fetch is bounded by
the driver's per-request timeout plus an outer safety margin, the time its requests only wait
for the PBX's request budget not counted; failures back off with jitter; ``wake()`` cuts the
sleep short so an operator's refresh (or an action) shows at once, within the budget.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Awaitable, Callable

import anyio

from pbxtui.drivers.base import Driver, DriverError
from pbxtui.drivers.budget import WaitMeter, meter, priority
from pbxtui.drivers.http import asking
from pbxtui.model import Record, Resource, ResourceState, utcnow
from pbxtui.redact import scrub

logger = logging.getLogger("pbxtui.engine")

MAX_BACKOFF = 30.0
MIN_PEER_INTERVAL = 5.0

Publish = Callable[[Resource, ResourceState, ResourceState], Awaitable[None]]
"""Called with (resource, previous state, new state) after every poll."""


def log_bug(message: str, exc: BaseException) -> None:
    """Log an unexpected error with its traceback, scrubbed of secrets.

    Not ``logger.exception``: handlers format ``exc_info`` after any filter has run, so a
    secret in an exception's text (a vendor echoing a key) would reach the log file.
    """
    details = "".join(traceback.format_exception(exc))
    logger.error("%s", scrub(f"{message}\n{details}"))


def fetch_limit(driver: Driver, margin: float) -> float:
    """The outer bound on one whole fetch: what the driver says it may take, plus a margin."""
    return driver.fetch_seconds() + margin


def interval_for(resource: Resource, poll_interval: float) -> float:
    """How often to poll ``resource``: slow-changing lists less often than calls."""
    if resource is Resource.QUEUES:
        return 2 * poll_interval
    if resource is Resource.PEERS:
        return max(5 * poll_interval, MIN_PEER_INTERVAL)
    return poll_interval


def backoff_delay(interval: float, failures: int, rng: random.Random | None = None) -> float:
    """The pause before the next poll after ``failures`` consecutive failures.

    ``min(interval * 2**failures, 30 s) * uniform(0.8, 1.2)``; the cap is never below the
    normal interval, so backing off never polls a slow resource more often than usual.
    """
    if failures <= 0:
        return interval
    cap = max(MAX_BACKOFF, interval)
    base: float = min(interval * 2.0 ** min(failures, 32), cap)
    jitter: float = (rng or random).uniform(0.8, 1.2)
    return base * jitter


async def fetch_resource(
    driver: Driver, resource: Resource, previous: ResourceState, *, limit: float
) -> ResourceState:
    """Poll ``resource`` once; never raises (but cancellation): a failure is in the state.

    ``limit`` bounds the time the PBX takes: the time the requests only wait for the PBX's
    budget (``WaitMeter``) is not counted, so a fetch of many requests under a tight budget
    is never reported as a timeout of the PBX, and the latency is the PBX's own.
    """
    started = time.perf_counter()
    records: list[Record] | None = None
    try:
        with anyio.CancelScope(deadline=anyio.current_time() + limit) as scope:
            watch = WaitMeter(scope)
            token = meter.set(watch)
            try:
                with asking(resource.value, priority.get()):
                    records = await driver.fetch(resource)
            finally:
                meter.reset(token)
    except DriverError as exc:
        return previous.failed(scrub(exc.reason), exc.label, at=utcnow())
    except Exception as exc:
        # A driver bug must not stop this loop, let alone the task group of every PBX.
        log_bug(f"{driver.name}: unexpected error polling {resource}", exc)
        reason = scrub(f"internal error polling {resource}: {type(exc).__name__}: {exc}")
        return previous.failed(reason[:300], "error", at=utcnow())
    if records is None:  # the deadline passed
        reason = f"no answer within {limit:g} s (polling {resource})"
        return previous.failed(reason, "timeout", at=utcnow())
    elapsed = time.perf_counter() - started - watch.waited
    latency_ms = max(0, round(elapsed * 1000))
    return previous.succeeded(tuple(records), at=utcnow(), latency_ms=latency_ms)


class ResourcePoller:
    """Polls one resource of one driver; owns that resource's current ``ResourceState``."""

    def __init__(
        self,
        driver: Driver,
        resource: Resource,
        *,
        interval: float,
        limit: float,
        publish: Publish,
        rng: random.Random | None = None,
    ) -> None:
        self.driver = driver
        self.resource = resource
        self.interval = interval
        self.limit = limit
        self.state = ResourceState()
        self.delay = 0.0
        """The pause chosen after the last poll (for display and tests)."""
        self._publish = publish
        self._rng = rng or random.Random()
        self._lock = anyio.Lock()
        self._wake = anyio.Event()

    async def poll(self) -> ResourceState:
        """One fetch, then publish. Serialized: a poll never overlaps another of this one."""
        async with self._lock:
            previous = self.state
            self.state = await fetch_resource(
                self.driver, self.resource, previous, limit=self.limit
            )
            if self.state.failing:
                logger.info(
                    "%s: %s poll failed (%d in a row): %s",
                    self.driver.name,
                    self.resource,
                    self.state.failures,
                    self.state.error,
                )
            await self._publish(self.resource, previous, self.state)
            return self.state

    async def run(self) -> None:
        """Poll forever, until cancelled."""
        while True:
            state = await self.poll()
            self.delay = backoff_delay(self.interval, state.failures, self._rng)
            await self._sleep(self.delay)

    def wake(self) -> None:
        """Poll now (or right after the poll in progress) instead of after the pause."""
        self._wake.set()

    async def _sleep(self, delay: float) -> None:
        with anyio.move_on_after(delay):
            await self._wake.wait()
        # A wake-up that comes during the next fetch sets this new event, and is honoured
        # by the sleep after it: a refresh asked for mid-poll is never lost.
        self._wake = anyio.Event()
