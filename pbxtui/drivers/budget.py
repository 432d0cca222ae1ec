"""One PBX's request budget, shared by every source of requests: polls, refreshes, actions.

Two limits, as the config states them (``max_in_flight``, ``requests_per_second``):

- at most ``max_in_flight`` poll requests in flight at once (actions take no such slot, so
  a hang-up never queues behind a sweep of a hundred extensions);
- at most ``requests_per_second`` requests in any second, actions included, *as the PBX sees
  them*: a poll round goes out at once, and a burst delayed on the way (a busy network, PBX
  or console) could land in the same second as the next one, so the budget counts its
  starts over a second and a quarter (``JITTER``); a stream that never stops runs at four
  fifths of the budget. A PBX with ``spread = True`` (dialup) gets its starts evenly spaced
  at the budget instead: no bursts, so nothing to bunch up.

Actions go to the head of the queue; polls are served first come, first served.

The budget adapts to how the PBX copes (AIMD, as TCP does): a timeout, a refused connection
or an overloaded answer (429, 502, 503, 504) halves the rate and the in-flight limit, at most
once a second, down to a tenth of the configured rate; an answer slower than half the
request timeout takes one in-flight slot away; every prompt answer gives back a tenth of the
rate and one slot. A ``Retry-After`` pauses the polls (not the actions) for that long, up to
``MAX_PAUSE``. So a slow or struggling PBX is asked less, never more.

The time a request waits here is the console's own doing and is never counted against the
PBX's timeout (``WaitMeter`` tells a fetch's outer bound how long it waited).
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import IntEnum

import anyio

MAX_PAUSE = 30.0
JITTER = 0.25  # seconds by which arrivals may bunch up on the way to the PBX
MIN_RATE_FRACTION = 0.1
CUT_EVERY = 1.0  # seconds between two multiplicative cuts: one outage is one signal
SLOW_FRACTION = 0.5  # of the request timeout: an answer slower than this is "slow"


class Priority(IntEnum):
    ACTION = 0
    POLL = 1


priority: ContextVar[Priority] = ContextVar("pbxtui_request_priority", default=Priority.POLL)
"""What the requests made in this context are for; the engine sets ACTION around an action."""


class WaitMeter:
    """Stops one fetch's outer deadline while its requests only wait for their budget.

    A fetch runs many requests at once; the time that is not the PBX's is the time during
    which none of them was on the wire and at least one was waiting here. ``scope`` is the
    cancel scope whose deadline bounds the fetch: it is lifted for such a time, and put
    back with what was left of it.
    """

    def __init__(
        self,
        scope: anyio.CancelScope | None = None,
        clock: Callable[[], float] = anyio.current_time,
    ) -> None:
        self.scope = scope
        self.clock = clock
        self.waited = 0.0
        self._waiting = 0
        self._sending = 0
        self._since: float | None = None
        self._left = 0.0

    def waiting(self, delta: int) -> None:
        self._waiting += delta
        self._update()

    def sending(self, delta: int) -> None:
        self._sending += delta
        self._update()

    def _update(self) -> None:
        idle = self._waiting > 0 and self._sending == 0
        now = self.clock()
        if idle and self._since is None:
            self._since = now
            if self.scope is not None:
                self._left = self.scope.deadline - now
                self.scope.deadline = math.inf
        elif not idle and self._since is not None:
            self.waited += now - self._since
            self._since = None
            if self.scope is not None:
                self.scope.deadline = now + self._left


meter: ContextVar[WaitMeter | None] = ContextVar("pbxtui_wait_meter", default=None)


@dataclass(order=True)
class _Waiter:
    priority: int
    seq: int
    event: anyio.Event = field(compare=False, default_factory=anyio.Event)
    gone: bool = field(compare=False, default=False)


class RequestBudget:
    """The request budget of one PBX. ``async with budget.slot(): send one request``."""

    def __init__(
        self,
        per_second: float,
        max_in_flight: int,
        *,
        spread: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0 or max_in_flight < 1:
            raise ValueError("a budget needs per_second > 0 and max_in_flight >= 1")
        self.per_second = per_second
        self.max_in_flight = max_in_flight
        self.spread = spread
        self.clock = clock
        self.rate = per_second  # the adapted rate, between the floor and ``per_second``
        self.cap = max_in_flight  # the adapted in-flight limit
        self.floor = per_second * MIN_RATE_FRACTION
        self.in_flight = 0
        self.started = 0  # requests started, for tests and benchmarks
        self.paused_until = 0.0
        self._starts: deque[float] = deque()
        self._heap: list[_Waiter] = []
        self._seq = itertools.count()
        self._last_cut = -math.inf

    # -- taking a slot ----------------------------------------------------------------------
    @asynccontextmanager
    async def slot(self, kind: Priority | None = None) -> AsyncIterator[None]:
        kind = priority.get() if kind is None else kind
        await self._acquire(kind)
        try:
            yield
        finally:
            if kind is Priority.POLL:
                self.in_flight -= 1
            self._wake_head()

    async def _acquire(self, kind: Priority) -> None:
        if not self._heap and self._delay(kind) == 0:
            self._take(kind)
            return
        waiter = _Waiter(int(kind), next(self._seq))
        heapq.heappush(self._heap, waiter)
        watch = meter.get()
        if watch is not None:
            watch.waiting(1)
        try:
            while True:
                if self._head() is waiter:
                    delay = self._delay(kind)
                    if delay == 0:
                        heapq.heappop(self._heap)
                        self._take(kind)
                        return
                    with anyio.move_on_after(delay):
                        await waiter.event.wait()
                else:
                    await waiter.event.wait()
                waiter.event = anyio.Event()
        except BaseException:
            waiter.gone = True
            raise
        finally:
            if watch is not None:
                watch.waiting(-1)
            self._wake_head()

    def _head(self) -> _Waiter | None:
        while self._heap and self._heap[0].gone:
            heapq.heappop(self._heap)
        return self._heap[0] if self._heap else None

    def _wake_head(self) -> None:
        head = self._head()
        if head is not None:
            head.event.set()

    def _take(self, kind: Priority) -> None:
        now = self.clock()
        self._starts.append(now)
        self.started += 1
        if kind is Priority.POLL:
            self.in_flight += 1

    def _delay(self, kind: Priority) -> float:
        """Seconds until a request of this kind may start (inf: until a slot is freed)."""
        now = self.clock()
        if kind is Priority.POLL:
            if self.in_flight >= self.cap:
                return math.inf
            if now < self.paused_until:
                return self.paused_until - now
        if self.spread:
            if not self._starts:
                return 0.0
            return max(0.0, self._starts[-1] + 1.0 / self.rate - now)
        # At most ``count`` starts in any ``window`` seconds: a whole poll round may go at
        # once, and no second the PBX sees ever holds more than the budget.
        count = max(1, int(self.rate))
        window = count / self.rate + JITTER
        while self._starts and self._starts[0] <= now - window:
            self._starts.popleft()
        while len(self._starts) > count:  # the rate was cut: only the newest count
            self._starts.popleft()
        if len(self._starts) < count:
            return 0.0
        return max(0.0, self._starts[0] + window - now)

    # -- adapting -----------------------------------------------------------------------------
    def congested(self) -> None:
        """The PBX timed out, refused a connection or said it is overloaded."""
        now = self.clock()
        if now - self._last_cut < CUT_EVERY:
            return
        self._last_cut = now
        self.rate = max(self.floor, self.rate / 2)
        self.cap = max(1, self.cap // 2)

    def answered(self, seconds: float, timeout: float) -> None:
        """An answer came after ``seconds`` for a request allowed ``timeout``."""
        if seconds > timeout * SLOW_FRACTION:
            self.cap = max(1, self.cap - 1)
            return
        self.rate = min(self.per_second, self.rate + self.per_second * MIN_RATE_FRACTION)
        if self.cap < self.max_in_flight:
            self.cap += 1
            self._wake_head()

    def pause(self, seconds: float) -> None:
        """Hold the polls for ``seconds`` (a ``Retry-After``), at most ``MAX_PAUSE``."""
        seconds = min(max(seconds, 0.0), MAX_PAUSE)
        self.paused_until = max(self.paused_until, self.clock() + seconds)
        self.congested()
