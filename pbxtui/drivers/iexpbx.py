"""IEXPBX ``api/old/get``: live calls, users, queues and a few call actions.

One GET endpoint dispatches on ``action``; credentials are the ``username`` and ``password``
query parameters. Every JSON answer is a ``{success, count, data}`` envelope that the vendor's
own samples wrap in a one-element array (its Delphi sample skips the ``[``, its JavaScript
sample reads a bare object), so both shapes are read, and ``count`` is never trusted. A
listing answers its rows in ``data``, maybe none (``[]``); an envelope with ``data`` null or
missing, a ``success`` that is neither true nor false, or an empty list in place of the
envelope is no answer to it: a BadAnswer, never "ok, 0 calls" (``iexpbx_rows``).

What the API does not give is derived, and the rules are stated where they are applied:

* Direction of a call, from its channel: a channel whose peer is an extension-length number
  (``SIP/201-0000a1b2``) was placed by an extension, so the call is internal when the
  destination is an extension or a queue and outbound otherwise; any other peer is a trunk
  (``SIP/trunk-sip-Trunk110-36a9b``), so the call is inbound when the destination is internal
  and outbound otherwise (a callback between two outside numbers). Without a readable channel
  the same test is made on ``src``. "Extension-length" means 2 to 5 digits.
* Line state of an extension: ``users`` gives registration only, so an extension seen as a
  party of a live call is busy (ringing when it is the called party of a ringing call),
  unavailable when unregistered, unknown when the PBX does not monitor it, idle otherwise.
* Queue waiting figures and agents: from the queue members and the live calls whose
  application is ``Queue(<n>)``; the API has no pause, so no agent is ever paused.
* A caller waiting in a queue: a ``Queue(<n>)`` call not answered yet (``Waiting``, or
  ringing while ``dst`` is still the queue) is QUEUED; ringing an agent, it is RINGING.

Undocumented answers (INFERENCE, see vendor-notes §3.4): actions answer the same envelope;
only ``success`` is relied on and the message (``message``, ``msg`` or ``error``) is kept. Bad
credentials are a ``success: false`` envelope whose message speaks of a password or a login.
The phone directory is XML of unknown markup, read by looking for repeated elements that
carry a name-like and a number-like field.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from functools import partial
from typing import ClassVar, TypeVar

import httpx

from pbxtui.config import IexPbxConfig, PbxConfig
from pbxtui.drivers import iexpbx_history
from pbxtui.drivers.base import ActionRefused, AuthRefused, BadAnswer, Driver, DriverError
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.http import VendorResponse, asking, login_page
from pbxtui.drivers.iexpbx_rows import (
    CallReader,
    Envelope,
    QueueInfo,
    Row,
    User,
    channel_peer,
    classify,
    parse_calltype,
    parse_duration,
    parse_envelope,
    parse_regstatus,
    queues_from_rows,
    users_from_rows,
)
from pbxtui.drivers.reading import Unreadable, parse_xml
from pbxtui.drivers.shared_reads import SharedReads
from pbxtui.model import (
    Action,
    ActionResult,
    Agent,
    AgentState,
    BlfLamp,
    Call,
    CallState,
    Capabilities,
    Click2Call,
    DirectoryEntry,
    Extension,
    IvrCall,
    LampKind,
    LineState,
    Peer,
    Queue,
    Resource,
)
from pbxtui.model.history import HistoryPage, HistoryQuery

__all__ = [
    "IexPbxDriver",
    "classify",
    "parse_calltype",
    "parse_directory",
    "parse_duration",
    "parse_envelope",
    "parse_regstatus",
]

T = TypeVar("T")
A = TypeVar("A")
logger = logging.getLogger("pbxtui.drivers")

# A refusal that names the credentials; "user" alone is too broad ("User 999 not found" is
# what an action on an unknown extension may well say).
AUTH_WORDS_RE = re.compile(
    r"password|passwd|credential|unauthori|authenticat|login|log in|username|api user"
    "|şifre|sifre|parola|yetki|kullan\u0131c\u0131 ad\u0131",  # Turkish: password, user name
    re.IGNORECASE,
)

NAME_KEYS = ("name", "fullname", "displayname", "contactname", "contact", "cn", "isim", "adsoyad")
FIRST_NAME_KEYS = ("firstname", "givenname", "ad")
LAST_NAME_KEYS = ("lastname", "surname", "familyname", "soyad")
NUMBER_KEYS = (
    "number",
    "telephone",
    "phone",
    "phonenumber",
    "tel",
    "telefon",
    "numara",
    "extension",
    "ext",
    "mobile",
    "cell",
    "gsm",
    "office",
    "work",
    "home",
    "dial",
)


def looks_like_auth_refusal(message: str) -> bool:
    return bool(AUTH_WORDS_RE.search(message))


def line_states(calls: Iterable[Call], known: set[str]) -> dict[str, tuple[LineState, Call]]:
    """Each known extension seen on a live call: busy, or ringing when it is being called."""
    lines: dict[str, tuple[LineState, Call]] = {}
    for call in calls:
        parties = dict.fromkeys((channel_peer(call.channel), call.caller, call.callee))
        for party in parties:
            if party not in known or party == call.queue:
                continue
            ringing = call.state is CallState.RINGING and party == call.callee
            state = LineState.RINGING if ringing else LineState.BUSY
            if lines.get(party, (LineState.RINGING,))[0] is LineState.RINGING:
                lines[party] = (state, call)
    return lines


# -- phone directory ------------------------------------------------------------------------
def parse_directory(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(name, number, extra) for each element that carries a name and a number."""
    body = text.strip().lstrip("\ufeff")
    if not body:
        raise Unreadable("answered an empty body instead of the XML directory")
    root = parse_xml(body)  # refuses any DTD: entity expansion is how XML bombs work
    entries: list[tuple[str, str, dict[str, str]]] = []
    try:
        _collect_entries(root, entries)
    except RecursionError:
        raise Unreadable("answered XML nested too deeply to read") from None
    return entries


def _collect_entries(element: ET.Element, out: list[tuple[str, str, dict[str, str]]]) -> bool:
    """Depth first, so the innermost elements with both fields are the entries."""
    found_below = False
    for child in element:
        found_below = _collect_entries(child, out) or found_below
    if found_below:
        return True
    fields = _element_fields(element)
    entry = directory_entry(fields)
    if entry is None and not any(_norm(k) in NUMBER_KEYS for k in fields):
        for leaf in element.iter():  # numbers nested one level down, e.g. <phones><phone>
            if len(leaf) == 0 and leaf is not element:
                fields.setdefault(_norm(leaf.tag), (leaf.text or "").strip())
        entry = directory_entry(fields)
    if entry is None:
        return False
    out.append(entry)
    return True


def _element_fields(element: ET.Element) -> dict[str, str]:
    fields = {_norm(key): value.strip() for key, value in element.attrib.items()}
    for child in element:
        if len(child) == 0:
            fields.setdefault(_norm(child.tag), (child.text or "").strip())
    return fields


def _norm(tag: str) -> str:
    return re.sub(r"[-_\s.]", "", tag.rsplit("}", 1)[-1]).lower()


def directory_entry(fields: Mapping[str, str]) -> tuple[str, str, dict[str, str]] | None:
    """A (name, number, extra) from one record's fields, or None if it has no name or number."""
    normal = {_norm(key): value for key, value in fields.items() if value}
    number_key = next((key for key in NUMBER_KEYS if key in normal), "")
    name_key = next((key for key in NAME_KEYS if key in normal), "")
    name = normal.get(name_key, "")
    used = {number_key, name_key}
    if not name:
        parts = _name_parts(normal)
        name = " ".join(part for part, _ in parts)
        used |= {key for _, key in parts}
    if not number_key or not name:
        return None
    extra = {key: value for key, value in normal.items() if key not in used}
    return name, normal[number_key], extra


def _name_parts(fields: Mapping[str, str]) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    for keys in (FIRST_NAME_KEYS, LAST_NAME_KEYS):
        key = next((k for k in keys if k in fields), "")
        if key:
            parts.append((fields[key], key))
    return parts


# -- the driver ---------------------------------------------------------------------------------
class IexPbxDriver(Driver):
    kind = "iexpbx"
    vendor = "IEXPBX"
    capabilities = Capabilities(
        resources=frozenset(
            {
                Resource.CALLS,
                Resource.EXTENSIONS,
                Resource.PEERS,
                Resource.BLF,
                Resource.QUEUES,
                Resource.AGENTS,
            }
        ),
        actions=frozenset(
            {Action.HANGUP, Action.CLICK2CALL, Action.CALLBACK, Action.CALL_IVR, Action.PHONEBOOK}
        ),
    )
    # Extensions, lamps, queues and agents are all derived from the same three lists; polls
    # of those views landing together share one answer for this long. A view's own list is
    # always asked afresh, or shared while on its way; any action forgets everything.
    cache_seconds: ClassVar[float] = 0.5

    def __init__(self, config: PbxConfig, client: httpx.AsyncClient) -> None:
        if not isinstance(config, IexPbxConfig):
            raise TypeError(f"{config.name}: an IEXPBX driver needs an iexpbx config")
        super().__init__(config, client)
        self.iex = config
        self._listings: SharedReads[list[Row]] = SharedReads(reuse_for=self.cache_seconds)
        self._call_reader = CallReader(config.name)
        self._last_calls: tuple[list[Row], list[Call]] | None = None

    # -- live resources -----------------------------------------------------------------------
    async def fetch_calls(self) -> list[Call]:
        rows = await self._rows("activecalls", fresh=True)
        return await self.off_loop(partial(self._calls, rows), rows=len(rows))

    async def fetch_extensions(self) -> list[Extension]:
        users = await self._users(fresh=True)
        lines = line_states(await self._cached_calls(), {u.number for u in users})
        return [self._extension(user, lines.get(user.number)) for user in users]

    async def fetch_peers(self) -> list[Peer]:
        return [
            Peer(
                pbx=self.name,
                id=user.number,
                name=user.number,
                status_raw=user.regstatus,
                registered=user.registered,
                latency_ms=user.latency_ms,
                description=user.name,
            )
            for user in await self._users(fresh=True)
        ]

    async def fetch_blf(self) -> list[BlfLamp]:
        return [
            BlfLamp(
                pbx=self.name,
                id=ext.number,
                label=ext.name or ext.number,
                kind=LampKind.EXTENSION,
                state=ext.state,
                state_raw=ext.state_raw,
                extension=ext.number,
            )
            for ext in await self.fetch_extensions()
        ]

    async def fetch_queues(self) -> list[Queue]:
        queues = await self._queues()
        calls = await self._cached_calls()
        return [self._queue(info, calls) for info in queues]

    async def fetch_agents(self) -> list[Agent]:
        queues = await self._queues()
        users = {user.number: user for user in await self._users()}
        lines = line_states(await self._cached_calls(), set(users))
        return [
            self._agent(info.number, member, users.get(member), lines.get(member))
            for info in queues
            for member in info.members
        ]

    async def probe(self) -> None:
        await self._users(fresh=True)

    # -- history (iexpbx_history) ---------------------------------------------------------------
    def history_source(self) -> str:
        return iexpbx_history.SOURCE

    async def history(self, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        async for page in iexpbx_history.pages(self, query):
            yield page

    # -- actions ------------------------------------------------------------------------------
    async def hangup(self, call: Call) -> ActionResult:
        channel = call.channel or (call.id if "/" in call.id else "")
        if not channel:
            raise ActionRefused(self.name, "this call has no channel name to hang up")
        return await self._act("hangupcall", {"channel": channel})

    async def click2call(self, request: Click2Call) -> ActionResult:
        if request.scheduled_at is not None:
            raise self.unsupported(Action.SCHEDULED_CALL)
        return await self._act(
            "callnumber", {"internal": request.source, "number": request.destination}
        )

    async def callback(self, number1: str, number2: str) -> ActionResult:
        return await self._act("callback", {"number1": number1, "number2": number2})

    async def call_ivr(self, request: IvrCall) -> ActionResult:
        params = {"number": request.number}
        if request.dialplan:
            params["dp"] = request.dialplan
        if request.destination:
            params["dest"] = request.destination
        if request.announcements:
            params["file"] = "|".join(request.announcements)
        return await self._act("callivr", params)

    async def phone_directory(self) -> list[DirectoryEntry]:
        with asking("directory", Priority.ACTION):
            response = await self._send("phonedirectory", {}, expected="XML")
        body = response.text.strip().lstrip("\ufeff")
        if body[:1] in ("[", "{"):  # an error envelope, or a JSON directory
            envelope = self._checked(self._read(parse_envelope, response.text))
            if not envelope.success:
                raise ActionRefused(self.name, envelope.message or "refused the phone directory")
            found = [directory_entry(_strings(row)) for row in envelope.rows or []]
            entries = [entry for entry in found if entry is not None]
        else:
            entries = self._read(parse_directory, response.text)
        return [
            DirectoryEntry(pbx=self.name, name=name, number=number, extra=extra)
            for name, number, extra in entries
        ]

    # -- building the model -------------------------------------------------------------------
    def _calls(self, rows: list[Row]) -> list[Call]:
        """The calls of an activecalls answer; the same answer read twice (the calls poll and
        the views derived from it) gives the same calls, seen at the same time."""
        if self._last_calls is not None and self._last_calls[0] is rows:
            return self._last_calls[1]
        calls = self._read(self._call_reader.read, rows)
        self._last_calls = (rows, calls)
        return calls

    def _extension(self, user: User, line: tuple[LineState, Call] | None) -> Extension:
        if line is not None:
            state, call = line
            state_raw, call_id = call.state_raw or user.regstatus, call.id
        else:
            state, state_raw, call_id = self._idle_state(user), user.regstatus, ""
        return Extension(
            pbx=self.name,
            id=user.number,
            number=user.number,
            name=user.name,
            state=state,
            state_raw=state_raw,
            registered=user.registered,
            latency_ms=user.latency_ms,
            call_id=call_id,
        )

    @staticmethod
    def _idle_state(user: User) -> LineState:
        if user.registered is None:
            return LineState.UNKNOWN
        return LineState.IDLE if user.registered else LineState.UNAVAILABLE

    def _queue(self, info: QueueInfo, calls: list[Call]) -> Queue:
        # Not yet talking means still waiting; a held call was answered already.
        waiting = [
            call
            for call in calls
            if call.queue == info.number and call.state not in (CallState.UP, CallState.HELD)
        ]
        return Queue(
            pbx=self.name,
            id=info.number,
            name=info.name,
            waiting=len(waiting),
            longest_wait=max((call.duration for call in waiting), default=0),
            agents_total=len(info.members),
            members=info.members,
        )

    def _agent(
        self,
        queue: str,
        member: str,
        user: User | None,
        line: tuple[LineState, Call] | None,
    ) -> Agent:
        if line is not None:
            state, state_raw = AgentState.BUSY, line[1].state_raw
        elif user is None:
            state, state_raw = AgentState.UNAVAILABLE, "not in the users list"
        elif user.registered is False:
            state, state_raw = AgentState.UNAVAILABLE, user.regstatus
        else:
            # Registered, or not monitored by the PBX: nothing says the agent is away.
            state, state_raw = AgentState.AVAILABLE, user.regstatus
        return Agent(
            pbx=self.name,
            id=member,
            extension=member,
            queue_id=queue,
            name=user.name if user else "",
            state=state,
            state_raw=state_raw,
        )

    # -- requests -----------------------------------------------------------------------------
    async def _users(self, *, fresh: bool = False) -> list[User]:
        return self._read(users_from_rows, await self._rows("users", fresh=fresh))

    async def _queues(self) -> list[QueueInfo]:
        return self._read(queues_from_rows, await self._rows("queues", fresh=True))

    async def _cached_calls(self) -> list[Call]:
        return self._calls(await self._rows("activecalls"))

    async def _rows(self, action: str, *, fresh: bool = False) -> list[Row]:
        return await self._listings.read(action, partial(self._listing, action), fresh=fresh)

    async def _listing(self, action: str) -> list[Row]:
        response = await self._send(action, {}, expected="JSON")
        return await self.off_loop(partial(self.read_rows, action, response), size=response.size)

    def read_rows(self, action: str, response: VendorResponse) -> list[Row]:
        """The rows of a listing's answer (synchronous and free of I/O: fit for a worker
        thread). A listing answers its rows, maybe none, in ``data``; an envelope without
        data, or with null there, is no answer to it."""
        envelope = self._checked(self._read(parse_envelope, response.text))
        if not envelope.success:
            reason = envelope.message or "success is false, with no reason given"
            raise BadAnswer(self.name, f"refused {action}: {reason}")
        if envelope.rows is None:
            raise BadAnswer(self.name, f"answered {action} without data (no rows, not even [])")
        return envelope.rows

    async def _act(self, action: str, params: dict[str, str]) -> ActionResult:
        try:
            with asking("action", Priority.ACTION):
                envelope = self._checked(await self._envelope(action, params))
        finally:
            self._listings.forget()  # whatever happened, the next poll must look again
        return ActionResult(ok=envelope.success, message=envelope.message)

    async def _envelope(self, action: str, params: dict[str, str]) -> Envelope:
        response = await self._send(action, params, expected="JSON")
        return self._read(parse_envelope, response.text)

    def _checked(self, envelope: Envelope) -> Envelope:
        if not envelope.success and looks_like_auth_refusal(envelope.message):
            raise AuthRefused(self.name, f"refused the credentials: {envelope.message}")
        return envelope

    async def _send(self, action: str, params: dict[str, str], *, expected: str) -> VendorResponse:
        query = {
            "username": self.iex.username,
            "password": self.iex.password.get_secret_value(),
            "action": action,
            **params,
        }
        response = await self.http.get(query)
        if response.looks_like_login:
            raise AuthRefused(self.name, login_page(expected, response.status))
        if response.looks_like_html:
            raise BadAnswer(
                self.name,
                f"answered an HTML page instead of {expected} (HTTP {response.status})",
            )
        return response

    def _read(self, parse: Callable[[A], T], value: A) -> T:
        """``parse(value)``, with an unreadable answer said as this PBX's BadAnswer."""
        try:
            return parse(value)
        except Unreadable as exc:
            raise BadAnswer(self.name, str(exc)) from None
        except DriverError:
            raise
        except Exception as exc:
            # A defect, not a PBX's doing: on record in full; the operator sees a reason.
            logger.exception("%s: reading an answer failed", self.name)
            reason = f"answered something this driver cannot read ({type(exc).__name__})"
            raise BadAnswer(self.name, reason) from None


def _strings(row: Row) -> dict[str, str]:
    return {key: str(value) for key, value in row.items() if isinstance(value, str | int)}
