"""One request for a listing, shared by every view that asks for it while it is on its way.

Some vendors derive several views from one listing (IEXPBX's extensions, peers and lamps all
come from ``users``; the dialup.php family's calls, extensions and lamps from one sweep of
every extension). Polled at the same moment, each view would ask the PBX for the same
answer; here the first one asks and the others wait for its answer, so the PBX is asked once
and the request budget is spent once. Joining a request already on its way is as fresh as
asking again: its answer is younger than any the caller could get by a request of its own.
An action makes the PBX change, so ``forget`` stops anyone joining a request sent before it.
"""

from __future__ import annotations

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
    """Reads by key (what is asked), each shared while it is on its way."""

    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}

    def forget(self) -> None:
        """The PBX changed (an action): later reads ask again rather than join."""
        self._flights.clear()

    async def read(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        """``fetch()``'s answer, or that of the same read already on its way."""
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
            return answer
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.landed.set()
