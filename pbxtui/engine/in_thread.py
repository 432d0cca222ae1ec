"""The console's engine on an event loop of its own, in a thread of its own.

At NOC scale the engine is busy most of every second: answers decoded, calls prepared,
names and joins brought up to date. On the console's loop, every step of a key's work
(a dialog composes, mounts, lays out and paints over several turns of the loop) queued
behind whatever engine callback was ready, and a dialog took 100-300 ms to open. On a loop
of its own the engine can only delay the console while it holds the interpreter, which it
gives up every ``SWITCH_INTERVAL``.

``EngineThread`` is the engine the console runs (``LiveEngine``); ``HistoryInThread`` and
``MediaInThread`` are its history and recordings. Whatever the engine calls back (updates,
download progress) is handed to the console's loop; every coroutine of the engine runs on
the engine's loop, where its HTTP clients live.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import anyio

from pbxtui.drivers.base import parse_inline_on_this_loop
from pbxtui.engine.engine import Engine
from pbxtui.model.events import EngineUpdate
from pbxtui.model.history import HistoryPage, HistoryQuery, HistorySource
from pbxtui.model.media import Downloaded, MediaSource, ProgressListener
from pbxtui.model.outcomes import ActionOutcome
from pbxtui.model.port import Listener
from pbxtui.model.requests import ActionRequest
from pbxtui.model.state import PbxState
from pbxtui.model.vocabulary import Action, Capabilities

T = TypeVar("T")

SWITCH_INTERVAL = 0.001
"""How long one thread may hold the interpreter while another waits (Python's default is
5 ms). The console waits for the engine's thread at most this long per turn of its loop;
measured over the NOC load, cursor keys p50 41 → 12 ms at 1 ms."""

INPUT_HOLD = 0.1
"""How long the engine's thread steps aside when a key arrives. Measured over the NOC load
(20 PBXs, 10,000 calls): dialogs opened in 121 ms (p50) with the engine running on, 80 ms
with it stepping aside; cursor keys in 11-14 ms either way."""

PAINT_SWITCH_INTERVAL = 0.05
"""How long the console's thread may hold the interpreter while it answers a key or paints,
once it has it (``EngineThread.painting``). Measured over the NOC load, side by side: with
the hand-over every 1 ms the console took turns with the engine's thread, and a repaint
slice of 10 ms of work took 19 ms (p90 38 ms); event-loop stalls p99 94-107 → 65-76 ms."""

UNHEARD_KEPT = 1_000
"""Updates kept for the first subscriber, published before it subscribed (the newest: the
state itself is ``state()``'s)."""

_END = object()


def _settle(future: concurrent.futures.Future[Any], result: Any = None, error: Any = None) -> None:
    """Resolve ``future`` unless its waiter has given up on it (cancelled it) already."""
    with contextlib.suppress(concurrent.futures.InvalidStateError):
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class EngineLoop:
    """A thread running an event loop for one engine, from ``start`` to ``close``."""

    def __init__(self, name: str = "pbxtui-engine") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._home: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._lock = threading.Lock()
        self._early: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self._closed: concurrent.futures.Future[None] = concurrent.futures.Future()

    def start(self, session: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
        """Start the thread and run ``session(stop)`` there, from a running loop (the
        opener's, where callbacks are handed back): ``session`` ends itself once ``stop`` is
        set (by ``close``), so nothing it opened is closed under a cancellation."""
        self._home = asyncio.get_running_loop()

        async def main() -> None:
            parse_inline_on_this_loop()
            loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            with self._lock:
                self._loop = loop
                early, self._early = self._early, []
            for fn, args in early:
                loop.call_soon(fn, *args)
            _settle(self._started)
            await session(self._stop)

        def thread() -> None:
            try:
                anyio.run(main, backend="asyncio")
                _settle(self._closed)
            except BaseException as exc:  # told to whoever waits, never lost in the thread
                _settle(self._started, error=exc)
                _settle(self._closed, error=exc)

        threading.Thread(target=thread, name=self._name, daemon=True).start()

    async def started(self) -> None:
        """Once the thread's loop is up."""
        await asyncio.wrap_future(self._started)

    async def close(self) -> None:
        """Stop the session and wait for the thread's loop to end (never cut short)."""
        if self._home is None:
            return
        with anyio.CancelScope(shield=True):
            with contextlib.suppress(Exception):  # a thread that failed says so below
                await asyncio.wrap_future(self._started)
            if self._loop is not None and self._stop is not None:
                with contextlib.suppress(RuntimeError):  # its loop has ended already
                    self._loop.call_soon_threadsafe(self._stop.set)
            await asyncio.wrap_future(self._closed)

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn`` on the thread's loop: once it is up if it is starting, directly if
        the thread was never started."""
        if self._home is None:
            fn(*args)
            return
        with self._lock:
            if self._loop is None:
                self._early.append((fn, args))
                return
        with contextlib.suppress(RuntimeError):  # its loop has ended
            self._loop.call_soon_threadsafe(fn, *args)

    def back_home(self, fn: Callable[..., Any]) -> Callable[..., None]:
        """``fn`` as a callback the thread may call: it runs on the opener's loop."""

        def hand_over(*args: Any) -> None:
            home = self._home
            if home is None:  # not opened: called where it was given
                fn(*args)
                return
            with contextlib.suppress(RuntimeError):  # the console's loop has closed
                home.call_soon_threadsafe(fn, *args)

        return hand_over

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the thread's loop; cancelling the caller cancels it there."""
        try:
            loop = self._loop_or_fail()
        except RuntimeError:
            coro.close()  # never awaited: closed, so Python does not warn of it
            raise
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    async def iterate(self, iterator: AsyncIterator[T]) -> AsyncIterator[T]:
        """Items of ``iterator``, which runs as one task on the thread's loop (so its cancel
        scopes stay in one task), one item ahead of nothing: an item is read when asked."""
        demands: asyncio.Queue[concurrent.futures.Future[Any]] = asyncio.Queue()

        async def pump() -> None:
            while True:
                reply = await demands.get()
                try:
                    item: Any = await anext(iterator)
                except StopAsyncIteration:
                    _settle(reply, _END)
                    return
                except Exception as exc:
                    _settle(reply, error=exc)
                    return
                _settle(reply, item)

        async def pumping() -> None:
            try:
                await pump()
            finally:
                aclose = getattr(iterator, "aclose", None)
                if aclose is not None:
                    with anyio.CancelScope(shield=True):
                        await aclose()

        pumped = asyncio.run_coroutine_threadsafe(pumping(), self._loop_or_fail())
        try:
            while True:
                reply: concurrent.futures.Future[Any] = concurrent.futures.Future()
                self.call(demands.put_nowait, reply)
                item = await asyncio.wrap_future(reply)
                if item is _END:
                    return
                yield item
        finally:
            pumped.cancel()

    def _loop_or_fail(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("the engine's thread is not running")
        return self._loop


class EngineThread:
    """``engine`` run by the console from a thread of its own (a ``LiveEngine``)."""

    def __init__(self, engine: Engine, loop: EngineLoop | None = None) -> None:
        self.engine = engine
        self.loop = loop if loop is not None else EngineLoop()
        self._opened: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._ran: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._asked_to_run: asyncio.Event | None = None
        self._next_step_aside = 0.0
        self._paints = 0
        self._opening = False
        self._run_at_once = False
        self._lock = threading.Lock()
        self._listeners: list[Callable[[EngineUpdate], None]] = []
        self._unheard: collections.deque[EngineUpdate] = collections.deque(maxlen=UNHEARD_KEPT)
        engine.subscribe(self._dispatch)

    def start_early(self) -> None:
        """Open the engine and start polling now, in its thread, while the console is still
        starting: ``__aenter__`` then waits for what is left of the opening, ``run`` for the
        end, and what was published before the console subscribed is handed to its first
        subscriber."""
        self._run_at_once = True
        self._open()

    def _open(self) -> None:
        if self._opening:
            return
        self._opening = True
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.loop.start(self._session)

    async def __aenter__(self) -> Self:
        self._open()
        await self.loop.started()
        await asyncio.wrap_future(self._opened)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.loop.close()
        self._ran.cancel()

    async def _session(self, stop: asyncio.Event) -> None:
        self._asked_to_run = asyncio.Event()
        if self._run_at_once:
            self._asked_to_run.set()
        try:
            async with self.engine:
                _settle(self._opened)
                async with anyio.create_task_group() as group:
                    group.start_soon(self._run_when_asked, self._asked_to_run)
                    await stop.wait()
                    group.cancel_scope.cancel()
        except Exception as exc:
            _settle(self._opened, error=exc)
            raise

    async def _run_when_asked(self, asked: asyncio.Event) -> None:
        await asked.wait()
        try:
            await self.engine.run()
        except Exception as exc:
            _settle(self._ran, error=exc)
            return
        _settle(self._ran)

    async def run(self) -> None:
        """Run the engine (in its thread) until the console closes it."""
        if self._asked_to_run is None:
            raise RuntimeError("open the engine first: `async with EngineThread(...)`")
        self.loop.call(self._asked_to_run.set)
        await asyncio.wrap_future(self._ran)

    def input_arrived(self) -> None:
        """A key arrived (called on the console's thread): the engine steps aside."""
        self.loop.call(self._step_aside)

    def painting(self) -> Callable[[], None]:
        """A key's answer or a repaint starts on the console's thread: until the returned
        ``done`` is called (once the frame is drawn), the interpreter is handed over only
        every ``PAINT_SWITCH_INTERVAL``, so the console's work runs on instead of taking
        turns with the engine's thread, which waits for it. Stepping aside (``input_arrived``)
        comes later, at the engine's next turn of its loop; this holds at once."""
        self._paints += 1
        sys.setswitchinterval(PAINT_SWITCH_INTERVAL)
        finished = False

        def done() -> None:
            nonlocal finished
            if finished:
                return
            finished = True
            self._paints -= 1
            if self._paints == 0:
                sys.setswitchinterval(SWITCH_INTERVAL)

        return done

    def _step_aside(self) -> None:
        # Blocks the engine's loop on purpose: sleeping gives up the interpreter, which the
        # console then has to itself while it answers the key. Never more than half the
        # time, so keys held down cannot starve the polls.
        now = time.monotonic()
        if now < self._next_step_aside:
            return
        time.sleep(INPUT_HOLD)
        self._next_step_aside = time.monotonic() + INPUT_HOLD

    # -- what the console reads: the engine's latest state, read where it is kept ---------
    @property
    def pbx_names(self) -> list[str]:
        return self.engine.pbx_names

    def capabilities(self, name: str) -> Capabilities:
        return self.engine.capabilities(name)

    def state(self) -> dict[str, PbxState]:
        return self.engine.state()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """``listener`` is called on the subscriber's loop, in the order of the updates; the
        first subscriber is first handed what came before anyone listened (the changes, with
        the newest state)."""
        forward: Callable[[EngineUpdate], None] = self.loop.back_home(listener)
        with self._lock:
            if self._unheard:
                # Their changes as they came, each with its PBX's newest state: an old state
                # handed over now would be painted over what `state()` shows.
                latest = self.engine.state()
                while self._unheard:
                    update = self._unheard.popleft()
                    state = latest.get(update.pbx, update.state)
                    forward(dataclasses.replace(update, state=state))  # only scheduled
            self._listeners.append(forward)

        def unsubscribe() -> None:
            with self._lock:
                if forward in self._listeners:
                    self._listeners.remove(forward)

        return unsubscribe

    def _dispatch(self, update: EngineUpdate) -> None:
        """On the engine's thread, after every update."""
        with self._lock:
            listeners = list(self._listeners)
            if not listeners:
                self._unheard.append(update)
        for forward in listeners:
            forward(update)

    def refresh(self, pbx: str | None = None) -> None:
        self.loop.call(self.engine.refresh, pbx)

    # -- how the console acts: on the engine's loop ---------------------------------------
    def is_read_only(self, pbx: str) -> bool:
        return self.engine.is_read_only(pbx)

    def is_protected(self, pbx: str) -> bool:
        return self.engine.is_protected(pbx)

    def refusal(self, action: Action, pbx: str) -> str:
        return self.engine.refusal(action, pbx)

    def in_flight(self, request: ActionRequest) -> bool:
        return self.engine.in_flight(request)

    async def perform(self, request: ActionRequest) -> ActionOutcome:
        return await self.loop.run(self.engine.perform(request))


class HistoryInThread:
    """``history`` (the engine's) read on the engine's loop."""

    def __init__(self, history: HistorySource, loop: EngineLoop) -> None:
        self._history = history
        self._loop = loop

    def history_source(self, pbx: str) -> str:
        return self._history.history_source(pbx)

    async def history(self, pbx: str, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        async for page in self._loop.iterate(self._history.history(pbx, query)):
            yield page


class MediaInThread:
    """``media`` (the engine's) fetched on the engine's loop; progress told on the caller's."""

    def __init__(self, media: MediaSource, loop: EngineLoop) -> None:
        self._media = media
        self._loop = loop

    def recording_support(self, pbx: str) -> str:
        return self._media.recording_support(pbx)

    async def download_recording(
        self,
        pbx: str,
        recording: str,
        destination: Path,
        on_progress: ProgressListener | None = None,
    ) -> Downloaded:
        progress = None if on_progress is None else self._loop.back_home(on_progress)
        return await self._loop.run(
            self._media.download_recording(pbx, recording, destination, progress)
        )
