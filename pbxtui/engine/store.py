"""The one state store every source feeds, and the bus its subscribers read.

Sources (the pollers, the webhook receiver, later a remote collector) hand the store a PBX's
new immutable ``PbxState`` with the changes that led to it; the store numbers each update
(``seq``, one sequence for the whole engine), keeps the latest state of each PBX, and tells
its subscribers in order.

Two ways to listen: ``subscribe`` calls a function synchronously after each update (the
console coalesces on its side), and ``stream`` gives a bounded, coalescing subscription for
async readers (``pbxtui listen --state``, a publisher to a broker): while a reader is behind,
a newer state of a PBX replaces the stale one waiting, and changes are kept up to a bound
(what was dropped is counted, never silently lost).
"""

from __future__ import annotations

import logging
import traceback
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from pbxtui.model import Change, EngineUpdate, PbxState, Resource
from pbxtui.model.port import Listener
from pbxtui.redact import scrub

logger = logging.getLogger("pbxtui.engine")

MAX_QUEUED_CHANGES = 10_000


@dataclass(frozen=True)
class Batch:
    """What a stream reader gets: the newest update of each PBX that changed since its last
    read (``updates``, in the order of their ``seq``), every change since (``changes``), and
    how many changes were dropped because the reader was too far behind."""

    updates: tuple[EngineUpdate, ...]
    changes: tuple[Change, ...]
    dropped: int = 0

    @property
    def last_seq(self) -> int:
        return max((u.seq for u in self.updates), default=0)


@dataclass
class Subscription:
    """A coalescing mailbox: ``offer`` never blocks the store; ``__anext__`` waits."""

    max_changes: int = MAX_QUEUED_CHANGES
    _latest: dict[str, EngineUpdate] = field(default_factory=dict)
    _changes: deque[Change] = field(default_factory=deque)
    _dropped: int = 0
    _closed: bool = False

    def __post_init__(self) -> None:
        # A wake-up of size one: the state itself waits in ``_latest``, newest only.
        pair: tuple[MemoryObjectSendStream[None], MemoryObjectReceiveStream[None]] = (
            anyio.create_memory_object_stream(1)
        )
        self._wake_send, self._wake_receive = pair

    def offer(self, update: EngineUpdate) -> None:
        self._latest[update.pbx] = update
        for change in update.changes:
            if len(self._changes) >= self.max_changes:
                self._changes.popleft()
                self._dropped += 1
            self._changes.append(change)
        try:
            self._wake_send.send_nowait(None)
        except anyio.WouldBlock:
            pass  # a wake-up is already waiting: this update joins it
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    def take(self) -> Batch:
        updates = tuple(sorted(self._latest.values(), key=lambda u: u.seq))
        batch = Batch(updates, tuple(self._changes), self._dropped)
        self._latest, self._changes, self._dropped = {}, deque(), 0
        return batch

    def close(self) -> None:
        self._closed = True
        self._wake_send.close()

    def __aiter__(self) -> AsyncIterator[Batch]:
        return self

    async def __anext__(self) -> Batch:
        if self._closed and not self._latest:
            raise StopAsyncIteration
        try:
            await self._wake_receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            if not self._latest and not self._changes:
                raise StopAsyncIteration from None
        return self.take()


class StateStore:
    def __init__(self) -> None:
        self._states: dict[str, PbxState] = {}
        self._seq = 0
        self._listeners: list[Listener] = []
        self._streams: list[Subscription] = []

    @property
    def seq(self) -> int:
        """The number of the last update (0 before any)."""
        return self._seq

    def get(self, pbx: str) -> PbxState | None:
        return self._states.get(pbx)

    def put(self, state: PbxState) -> None:
        """Set a PBX's state without telling anyone (its first, before any source runs)."""
        self._states[state.name] = state

    def publish(
        self, state: PbxState, resource: Resource | None, changes: tuple[Change, ...] = ()
    ) -> EngineUpdate:
        """Store ``state`` as its PBX's latest and tell every subscriber, in order."""
        self._seq += 1
        self._states[state.name] = state
        update = EngineUpdate(state.name, resource, state, changes, seq=self._seq)
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception as exc:  # one broken subscriber must not stop the others
                details = "".join(traceback.format_exception(exc))
                logger.error(
                    "%s",
                    scrub(f"an engine listener failed on an update of {state.name}\n{details}"),
                )
        for stream in list(self._streams):
            stream.offer(update)
        return update

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def stream(self, *, max_changes: int = MAX_QUEUED_CHANGES) -> Subscription:
        """A coalescing subscription; ``close_stream`` it when done."""
        subscription = Subscription(max_changes=max_changes)
        self._streams.append(subscription)
        return subscription

    def close_stream(self, subscription: Subscription) -> None:
        if subscription in self._streams:
            self._streams.remove(subscription)
        subscription.close()
