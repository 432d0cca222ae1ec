"""One request for a listing, shared by every view that asks for it while it is on its way.

Some vendors derive several views from one listing (IEXPBX's extensions, peers and lamps all
come from ``users``; the dialup.php family's calls, extensions and lamps from one sweep of
every extension). Polled at the same moment, each view would ask the PBX for the same
answer; here the first one asks and the others wait for its answer, so the PBX is asked once
and the request budget is spent once. Joining a request already on its way is as fresh as
asking again: its answer is younger than any the caller could get by a request of its own.
A landed answer also serves for ``reuse_for`` seconds, unless the caller wants it afresh. An
action makes the PBX change, so ``forget`` drops the answers and stops anyone joining a
request sent before it (whose answer, landing later, is not kept either).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

T = TypeVar("T")


class _Flight(Generic[T]):
    """One request on its way, and how it ended once it has."""

    def __init__(self) -> None:
        self.landed = anyio.Event()
        self.answered: tuple[T] | None = None
        self.error: Exception | None = None


class SharedReads(Generic[T]):
    """Reads by key (what is asked), each shared while it is on its way and for
    ``reuse_for`` seconds after it landed."""

    def __init__(self, reuse_for: float = 0.0) -> None:
        self.reuse_for = reuse_for
        self._flights: dict[str, _Flight[T]] = {}
        self._landed: dict[str, tuple[float, T]] = {}  # key → (monotonic time, answer)

    def forget(self) -> None:
        """The PBX changed (an action): later reads ask again rather than reuse or join."""
        self._flights.clear()
        self._landed.clear()

    async def read(self, key: str, fetch: Callable[[], Awaitable[T]], *, fresh: bool = False) -> T:
        """The answer landed less than ``reuse_for`` ago (unless ``fresh``), else that of
        the same read already on its way, else ``fetch()``'s."""
        landed = self._landed.get(key)
        if not fresh and landed is not None and time.monotonic() - landed[0] < self.reuse_for:
            return landed[1]
        while (flight := self._flights.get(key)) is not None:
            await flight.landed.wait()
            if flight.answered is not None:
                return flight.answered[0]
            if flight.error is not None:
                raise flight.error
            # The one asking was cancelled (its poll ran out of time): ask anew.
        flight = self._flights[key] = _Flight()
        try:
            answer = await fetch()
        except Exception as exc:
            flight.error = exc
            raise
        else:
            flight.answered = (answer,)
            if self._flights.get(key) is flight:  # not forgotten meanwhile
                self._landed[key] = (time.monotonic(), answer)
            return answer
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.landed.set()
