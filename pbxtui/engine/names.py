"""Who is on each call: names beside numbers, resolved in the engine for every view.

A number is named from the first source that knows it, in this order:

1. what the PBX itself said (a driver's caller id name, a push);
2. the ``[contacts]`` CSV file;
3. the vendor's own directory, where it has one (IEXPBX ``phonedirectory``);
4. the PBX's extensions' names, for its internal numbers;
5. the ``[lookup]`` CRM, asked in the background.

The first four are dict look-ups, done wherever a state is built (even a poll's, even in a
worker thread). The CRM is never asked on that path: a number no other source knows is only
*wanted* there, and ``flush`` (on the event loop) hands it to a few workers, one request per
number however many calls and panes show it. Answers are cached for ``ttl`` (the all-null
"unknown" too), failures for ``FAILURE_TTL``; when an answer arrives the engine is told
(``on_change``) and publishes its states again, so the rows repaint with the name. A cached
answer past its TTL stays shown while it is asked again, so a name never flickers away.

A failing CRM is one fact, not one per call: ``health`` is the lookup's ``SourceHealth``
(carried on every PBX's health for the strip to show once), and it is logged once when it
starts failing and once when it is back.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from pbxtui import redact
from pbxtui.contacts import SHORT_NUMBER, CallerData, CsvContacts, number_key
from pbxtui.engine.lookup import LookupClient, LookupFailed
from pbxtui.model import (
    Call,
    DirectoryEntry,
    HealthState,
    PbxState,
    Record,
    Resource,
    SourceHealth,
)

log = logging.getLogger("pbxtui.names")

FAILURE_TTL = 30.0
"""Seconds a number whose lookup failed waits before it is asked again."""
MAX_CACHED = 50_000
"""Numbers remembered at the most (the oldest forgotten first)."""
MAX_QUEUED = 5_000
"""Numbers waiting for a worker at the most; more are wanted again on the next state."""
SOURCE_NAME = "names"
_NO_DIGITS = re.compile(r"^[\d\s+()./*#-]*$")


@lru_cache(maxsize=65_536)
def _key(number: str, country_code: str | None) -> str:
    # Every poll names every call again: the same few thousand numbers, keyed once each.
    return number_key(number, country_code)


def is_name(text: str) -> bool:
    """A caller id "name" that is only the number again (``0501234567``) names nobody."""
    return bool(text.strip()) and not _NO_DIGITS.match(text) and text.lower() != "<unknown>"


@dataclass(frozen=True, slots=True)
class Named:
    name: str
    backend_link: str = ""


@dataclass(slots=True)
class _Cached:
    data: CallerData | None
    """The CRM's answer (all-``None`` for "unknown"); None when the request failed."""
    until: float


@dataclass(frozen=True, slots=True)
class _Wanted:
    key: str
    telephone: str
    dnid: str


@dataclass(frozen=True)
class _NamedCalls:
    """One PBX's calls as the last ``name_state`` named them."""

    sources: tuple[object, ...]
    """What the names came from: the extensions' names, the version, the contacts' loads."""
    records: tuple[Record, ...]
    """The calls as polled, and ``named``: them named."""
    named: tuple[Record, ...]
    calls: dict[int, tuple[Call, Call]]
    """By ``id`` of the call as polled: (that call, it named). Holding the call keeps the id
    from being reused by another object while the entry lives."""
    until: float
    """When these are named afresh (``CallerNames._memo_seconds``), on ``clock``."""


class CallerNames:
    """The name sources of one engine, and the CRM's cache and workers."""

    def __init__(
        self,
        *,
        contacts: CsvContacts | None = None,
        lookup: LookupClient | None = None,
        ttl: float = 600.0,
        concurrency: int = 4,
        country_code: str | None = None,
        on_change: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.contacts = contacts
        self.lookup = lookup
        self.ttl = ttl
        self.concurrency = concurrency
        self.country_code = country_code
        self.on_change = on_change
        self.clock = clock
        self.requests = 0
        """Requests sent to the CRM."""
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._directories: dict[str, dict[str, str]] = {}
        self._wanted: dict[str, _Wanted] = {}
        self._pending: set[str] = set()
        """Keys queued for a worker or being asked now."""
        self._lock = threading.Lock()
        self._version = 0
        self._named: dict[str, _NamedCalls] = {}
        """Per PBX: each call named by the last ``name_state``, while the sources stand."""
        self._extensions: dict[str, tuple[tuple[Record, ...], dict[str, str]]] = {}
        self._wants = 0
        """Numbers handed to the CRM's queue so far: a call whose naming wanted one is named
        again next time (the queue may have been full; a later answer bumps the version)."""
        self._health: SourceHealth | None = (
            SourceHealth(name=SOURCE_NAME) if lookup is not None else None
        )
        self._idle: anyio.Event | None = None
        """Set when the last pending number has been answered (made by ``settled``)."""
        self._send: MemoryObjectSendStream[_Wanted] | None = None
        self._receive: MemoryObjectReceiveStream[_Wanted] | None = None

    @property
    def configured(self) -> bool:
        """Whether any source beside the PBXs' own is set up (``[contacts]``, ``[lookup]``)."""
        return self.contacts is not None or self.lookup is not None

    @property
    def health(self) -> SourceHealth | None:
        """The CRM lookup's health, or None without ``[lookup]``."""
        return self._health

    # -- the sources -------------------------------------------------------------------------
    def set_directory(self, pbx: str, entries: Iterable[DirectoryEntry]) -> None:
        """``pbx``'s own phone directory (a vendor's ``phonedirectory``), by number key."""
        names: dict[str, str] = {}
        for entry in entries:
            key = _key(entry.number, self.country_code)
            if key and is_name(entry.name):
                names.setdefault(key, " ".join(entry.name.split()))
        self._directories[pbx] = names
        self._changed()

    def find(
        self, number: str, pbx: str, extensions: Mapping[str, str], dnid: str = ""
    ) -> Named | None:
        """Who ``number`` is by the sources that need no request; the CRM's cached answer
        last. A number none of them knows is wanted from the CRM (see ``flush``), with
        ``dnid``, the other party's number."""
        if not number:
            return None
        key = _key(number, self.country_code)
        if not key:
            return None
        if self.contacts is not None:
            data = self.contacts.find(number)
            if data is not None and data.name:
                return Named(data.name, data.backend_link or "")
        directory = self._directories.get(pbx)
        if directory:
            name = directory.get(key)
            if name:
                return Named(name)
        extension = extensions.get(number)
        if extension:
            return Named(extension)
        return self._looked_up(number, key, dnid)

    def _looked_up(self, number: str, key: str, dnid: str) -> Named | None:
        if self.lookup is None or len(key.lstrip("+")) < SHORT_NUMBER:
            return None
        cached = self._cache.get(key)
        if (cached is None or cached.until <= self.clock()) and key not in self._pending:
            with self._lock:
                self._wanted.setdefault(key, _Wanted(key, number, dnid))
                self._wants += 1
        data = cached.data if cached is not None else None
        if data is None or not data.name:
            return None
        return Named(data.name, data.backend_link or "")

    # -- naming records ----------------------------------------------------------------------
    def name_call(
        self,
        call: Call,
        extensions: Mapping[str, str],
        seen: dict[tuple[str, str, str, str, str], dict[str, str]] | None = None,
    ) -> Call:
        """``call`` with its parties' names (a name the PBX gave is kept). ``seen``: the
        names found for each pair of parties already, when many calls share them."""
        if seen is None:
            update = self._names_of(call, extensions)
        else:
            pair = (call.caller, call.callee, call.caller_name, call.callee_name, call.backend_link)
            found = seen.get(pair)
            if found is None:
                found = seen[pair] = self._names_of(call, extensions)
            update = found
        return call.model_copy(update=update) if update else call

    def _names_of(self, call: Call, extensions: Mapping[str, str]) -> dict[str, str]:
        update: dict[str, str] = {}
        link = ""
        if not is_name(call.caller_name):
            found = self.find(call.caller, call.pbx, extensions, call.callee)
            if found is not None:
                update["caller_name"] = found.name
                link = found.backend_link
        if not is_name(call.callee_name):
            found = self.find(call.callee, call.pbx, extensions, call.caller)
            if found is not None:
                update["callee_name"] = found.name
                link = link or found.backend_link
        if link and not call.backend_link:
            update["backend_link"] = link
        return update

    def namer(self, state: PbxState) -> Callable[[Call], Call]:
        """A function naming one call of ``state`` (for the Events lines of a poll)."""
        extensions = extension_names(state)
        return lambda call: self.name_call(call, extensions)

    def name_state(self, state: PbxState) -> PbxState:
        """``state`` with every call named. Redone only when its calls, its extensions or
        what the sources know changed; then a call that is the same record as last time is
        not named again (a poll of 10,000 calls keeps nine in ten of them, see
        ``Call.observed_again``), and each pair of parties is looked up once per state."""
        calls = state.resources.get(Resource.CALLS)
        if calls is None or not calls.records:
            return state
        # The extensions' names, by value: their records are joined anew on every calls
        # poll (their call ids), their names seldom change.
        sources: tuple[object, ...] = (self._extension_names(state), self._version, self._loads())
        before = self._named.get(state.name)
        usable = (
            before
            if before is not None and _same(before.sources, sources) and self._fresh(before)
            else None
        )
        if usable is not None and usable.records is calls.records:
            named = usable.named
        else:
            known = usable.calls if usable is not None else {}
            named, kept = self._named_calls(state, calls.records, known)
            if (
                before is not None
                and before.records is calls.records
                and _alike(named, before.named)
            ):
                # The same calls named as before (a name arrived for another PBX's caller):
                # the same tuple, so the engine sees there is nothing to publish here.
                named = before.named
            until = usable.until if usable is not None else self._memo_until()
            self._named[state.name] = _NamedCalls(sources, calls.records, named, kept, until)
        if named is calls.records:
            return state
        resources = dict(state.resources)
        resources[Resource.CALLS] = replace(calls, records=named)
        return replace(state, resources=resources)

    def _named_calls(
        self, state: PbxState, records: tuple[Record, ...], known: dict[int, tuple[Call, Call]]
    ) -> tuple[tuple[Record, ...], dict[int, tuple[Call, Call]]]:
        """``records`` named, a call found in ``known`` (the same object) as it was named
        then; and what to know next time."""
        kept: dict[int, tuple[Call, Call]] = {}
        by_number = self._extension_names(state)
        seen: dict[tuple[str, str, str, str, str], dict[str, str]] = {}
        named: list[Record] = []
        for record in records:
            if not isinstance(record, Call):
                named.append(record)
                continue
            hit = known.get(id(record))
            if hit is not None and hit[0] is record:
                result = hit[1]
            else:
                wants = self._wants
                result = self.name_call(record, by_number, seen)
                if self._wants != wants:
                    seen.clear()  # its pair is not settled: name the calls sharing it anew
                    named.append(result)
                    continue
            kept[id(record)] = (record, result)
            named.append(result)
        return tuple(named), kept

    def _memo_until(self) -> float:
        """Until when calls' names are kept without looking again: for ever without a CRM;
        with one, no longer than its answers are (a failure is asked again after
        ``FAILURE_TTL``), so a cached answer that expired is asked for again."""
        if self.lookup is None:
            return math.inf
        return self.clock() + min(FAILURE_TTL, self.ttl)

    def _fresh(self, named: _NamedCalls) -> bool:
        return self.clock() < named.until

    def _extension_names(self, state: PbxState) -> dict[str, str]:
        """``extension_names(state)``, made again only when its extension records are new."""
        records = state.records(Resource.EXTENSIONS)
        known = self._extensions.get(state.name)
        if known is None or known[0] is not records:
            known = self._extensions[state.name] = (records, extension_names(state))
        return known[1]

    def _loads(self) -> int:
        return self.contacts.loads if self.contacts is not None else 0

    # -- the CRM's workers -------------------------------------------------------------------
    async def run(self) -> None:
        """Ask the CRM for the wanted numbers, ``concurrency`` at a time, until cancelled."""
        if self.lookup is None:
            return
        send, receive = anyio.create_memory_object_stream[_Wanted](MAX_QUEUED)
        self._send, self._receive = send, receive
        async with send, receive, anyio.create_task_group() as group:
            for _ in range(self.concurrency):
                group.start_soon(self._worker, receive.clone())
            self.flush()

    def flush(self) -> None:
        """Hand the numbers wanted since the last flush to the workers (on the event loop)."""
        send = self._send
        if send is None:
            return  # kept until the workers run
        with self._lock:
            wanted, self._wanted = self._wanted, {}
        for item in wanted.values():
            if item.key in self._pending:
                continue
            try:
                send.send_nowait(item)
            except anyio.WouldBlock:
                break  # wanted again by the next state
            self._pending.add(item.key)

    async def settled(self) -> None:
        """Return once no number is waiting for the CRM (``snapshot`` waits for its names)."""
        self.flush()
        while self._pending:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()

    async def _worker(self, receive: MemoryObjectReceiveStream[_Wanted]) -> None:
        lookup = self.lookup
        assert lookup is not None
        async with receive:
            async for item in receive:
                try:
                    await self._ask(lookup, item)
                except Exception as exc:
                    # A bug here must not take the engine (whose task group this is) down.
                    log.error(
                        "caller names: unexpected error asking the CRM: %s",
                        redact.scrub(f"{type(exc).__name__}: {exc}"),
                    )
                finally:
                    self._pending.discard(item.key)
                    if not self._pending and self._idle is not None:
                        self._idle.set()
                        self._idle = None

    async def _ask(self, lookup: LookupClient, item: _Wanted) -> None:
        self.requests += 1
        try:
            data: CallerData | None = await lookup.lookup(item.telephone, item.dnid)
        except LookupFailed as exc:
            self._store(item.key, None, FAILURE_TTL)
            self._failed(exc.reason)
        else:
            self._store(item.key, data, self.ttl)
            self._answered()

    def _store(self, key: str, data: CallerData | None, ttl: float) -> None:
        before = self._cache.get(key)
        if data is None and before is not None and before.data is not None:
            data = before.data  # a failure keeps the last good answer shown
        self._cache[key] = _Cached(data, self.clock() + ttl)
        self._cache.move_to_end(key)
        while len(self._cache) > MAX_CACHED:
            self._cache.popitem(last=False)
        if before is None or before.data != data:
            self._changed()

    def _failed(self, reason: str) -> None:
        health = self._health or SourceHealth(name=SOURCE_NAME)
        if health.state is not HealthState.DOWN:
            log.warning("caller names: the CRM lookup is failing: %s", reason)
        self._set_health(
            health.model_copy(
                update={
                    "state": HealthState.DOWN,
                    "last_error": reason[:200],
                    "failures": health.failures + 1,
                }
            )
        )

    def _answered(self) -> None:
        health = self._health or SourceHealth(name=SOURCE_NAME)
        if health.state is HealthState.DOWN:
            log.warning("caller names: the CRM lookup answers again")
        if health.state is not HealthState.OK or health.failures:
            self._set_health(SourceHealth(name=SOURCE_NAME))

    def _set_health(self, health: SourceHealth) -> None:
        changed = health.state != (self._health.state if self._health else None)
        self._health = health
        if changed:
            self.on_change()

    def _changed(self) -> None:
        self._version += 1
        self.on_change()


def extension_names(state: PbxState) -> dict[str, str]:
    """Extension number → its name, for a PBX's internal numbers."""
    return {e.number: e.name for e in state.extensions() if e.name}


def _alike(a: Sequence[object], b: Sequence[object]) -> bool:
    return len(a) == len(b) and all(x is y or x == y for x, y in zip(a, b, strict=True))


def _same(a: Sequence[object], b: Sequence[object]) -> bool:
    """Record tuples compare by identity (replaced, never mutated), the rest by value."""
    return len(a) == len(b) and all(
        x is y or (not isinstance(x, tuple) and x == y) for x, y in zip(a, b, strict=True)
    )
