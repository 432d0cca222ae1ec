"""IEXPBX ``api/old/get``: live calls, users, queues and a few call actions.

One GET endpoint dispatches on ``action``; credentials are the ``username`` and ``password``
query parameters. Every JSON answer is a ``{success, count, data}`` envelope that the vendor's
own samples wrap in a one-element array (its Delphi sample skips the ``[``, its JavaScript
sample reads a bare object), so both shapes are read, and ``count`` is never trusted.

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

import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import ClassVar, TypeVar

import httpx

from pbxtui.config import IexPbxConfig, PbxConfig
from pbxtui.drivers.base import ActionRefused, AuthRefused, BadAnswer, Driver
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.http import VendorResponse, asking
from pbxtui.drivers.values import clock_seconds, json_scalar, qualify
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
    Direction,
    DirectoryEntry,
    Extension,
    IvrCall,
    LampKind,
    LineState,
    Peer,
    Queue,
    Resource,
    utcnow,
)

Row = dict[str, object]
T = TypeVar("T")
A = TypeVar("A")

EXTENSION_RE = re.compile(r"^\d{2,5}$")
# tech/peer-hexid, optionally ";1" for Local channels: the peer is what matters.
CHANNEL_RE = re.compile(r"^(?P<tech>[A-Za-z0-9_]+)/(?P<peer>.+?)(?:-[0-9A-Fa-f]{4,})?(?:;\d+)?$")
QUEUE_RE = re.compile(r"^\s*queue\s*[(:\s]\s*(?P<queue>[^,)\s]+)", re.IGNORECASE)
# A refusal that names the credentials; "user" alone is too broad ("User 999 not found" is
# what an action on an unknown extension may well say).
AUTH_WORDS_RE = re.compile(
    r"password|passwd|credential|unauthori|authenticat|login|log in|username|api user"
    "|şifre|sifre|parola|yetki|kullan\u0131c\u0131 ad\u0131",  # Turkish: password, user name
    re.IGNORECASE,
)
MESSAGE_KEYS = ("message", "msg", "error", "errormessage", "error_message", "reason", "detail")

CALLINFO_STATES: dict[str, CallState] = {
    "talking": CallState.UP,
    "up": CallState.UP,
    "answered": CallState.UP,
    "connected": CallState.UP,
    "ringing": CallState.RINGING,
    "ring": CallState.RINGING,
    # Not answered yet; in a queue that is QUEUED (see ``call_state``). INFERENCE: the page
    # shows only "Talking".
    "waiting": CallState.RINGING,
    "dialing": CallState.DIALING,
    "dialling": CallState.DIALING,
    "hold": CallState.HELD,
    "on hold": CallState.HELD,
    "onhold": CallState.HELD,
    "held": CallState.HELD,
    # A Turkish panel's words (INFERENCE): ringing, talking, calling out, on hold.
    "\u00e7al\u0131yor": CallState.RINGING,
    "konu\u015fuyor": CallState.UP,
    "aran\u0131yor": CallState.DIALING,
    "beklemede": CallState.HELD,
    "bekliyor": CallState.RINGING,  # waiting
}
WAITING_WORDS = frozenset({"waiting", "bekliyor"})

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


class Unreadable(ValueError):
    """A vendor answer this driver cannot read; the text is a short reason for a person."""


# -- envelope -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Envelope:
    success: bool
    message: str
    rows: list[Row]


def parse_envelope(text: str) -> Envelope:
    """``[{success, count, data}]`` or the bare object; ``count`` is ignored."""
    document = _load_json(text)
    if isinstance(document, list):
        if not document:
            return Envelope(True, "", [])  # a sloppy "nothing": no reason to fail a poll
        if len(document) == 1 and _is_envelope(document[0]):
            document = document[0]
        elif all(isinstance(item, dict) and not _is_envelope(item) for item in document):
            return Envelope(True, "", _data_rows(document))  # the rows without an envelope
        else:
            raise Unreadable("answered a JSON list that is not one {success, data} object")
    if not isinstance(document, dict):
        raise Unreadable(f"answered a JSON {_kind(document)} instead of a {{success, data}} object")
    fields = _lowered(document)
    message = next(
        (_text(fields, key) for key in MESSAGE_KEYS if isinstance(fields.get(key), str)), ""
    )
    success = _truth(fields.get("success"))
    if success is None:
        if "data" not in fields:
            raise Unreadable("answered JSON without a success flag or data")
        success = True
    return Envelope(success, message, _data_rows(fields.get("data")) if success else [])


def _load_json(text: str) -> object:
    body = text.strip().lstrip("\ufeff")
    if not body:
        raise Unreadable("answered an empty body instead of JSON")
    try:
        document: object = json.loads(body)
    except json.JSONDecodeError as exc:
        if body[0] in "[{" and body[-1] not in "]}":
            raise Unreadable(f"answered truncated JSON: {exc.msg} at character {exc.pos}") from None
        if body[0] in "[{":
            raise Unreadable(f"answered malformed JSON: {exc.msg} at character {exc.pos}") from None
        raise Unreadable(f"answered something that is not JSON (starts {_excerpt(body)})") from None
    except RecursionError:
        raise Unreadable("answered JSON nested too deeply to read") from None
    return document


def _is_envelope(item: object) -> bool:
    return isinstance(item, dict) and any(
        str(key).strip().lower() in ("success", "data", "count") for key in item
    )


def _data_rows(data: object) -> list[Row]:
    if data is None or data == "":
        return []
    if isinstance(data, dict):
        values = list(data.values())
        # Rows keyed by id, as PHP associative arrays come out, or one bare row.
        data = values if values and all(isinstance(v, dict) for v in values) else [data]
    if not isinstance(data, list):
        raise Unreadable(f"answered data as a JSON {_kind(data)} instead of a list of rows")
    rows: list[Row] = []
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            raise Unreadable(f"answered row {index + 1} as a JSON {_kind(row)}, not an object")
        rows.append(_lowered(row))
    return rows


def _lowered(row: Mapping[object, object]) -> Row:
    return {str(key).strip().lower(): value for key, value in row.items()}


def _truth(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "1", "yes", "ok", "success"):
            return True
        if word in ("false", "0", "no", "error", "fail", "failed"):
            return False
    return None


def _text(row: Row, *keys: str) -> str:
    """The first of ``keys`` present in ``row``, as text (numbers vendors send as numbers)."""
    for key in keys:
        if key not in row:
            continue
        value = row[key]
        if value is None:
            return ""
        text = json_scalar(value)
        if text is not None:
            return text
        raise Unreadable(f"answered {key!r} as a JSON {_kind(value)} instead of text")
    return ""


def _kind(value: object) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _excerpt(text: str) -> str:
    shown = "".join(ch if ch.isprintable() else "?" for ch in text[:24])
    return repr(shown + ("…" if len(text) > 24 else ""))


def looks_like_auth_refusal(message: str) -> bool:
    return bool(AUTH_WORDS_RE.search(message))


# -- values -------------------------------------------------------------------------------------
def parse_duration(raw: str) -> int:
    """``HH:MM:SS``, ``MM:SS`` or plain seconds (``"74"``, ``"85,6972"``) → whole seconds."""
    # A display figure: an unreadable one is shown as 0, not a failed poll.
    return clock_seconds(raw) or 0


def parse_regstatus(raw: str) -> tuple[bool | None, int | None]:
    """chan_sip qualify text → (registered, latency ms). ``Unmonitored`` → unknown (None)."""
    return qualify(raw)


def parse_callinfo(raw: str) -> CallState:
    return CALLINFO_STATES.get(_word(raw), CallState.OTHER)


def _word(raw: str) -> str:
    return " ".join(raw.lower().split())


def call_state(callinfo: str, queue: str, dst: str) -> CallState:
    """``callinfo``'s state, except that a caller in ``Queue(n)`` not yet answered is QUEUED
    until an agent is rung: until ``dst`` names an extension, unless the word says waiting."""
    state = parse_callinfo(callinfo)
    if not queue or state is not CallState.RINGING:
        return state
    agent_rung = is_extension(dst) and dst != queue and _word(callinfo) not in WAITING_WORDS
    return CallState.RINGING if agent_rung else CallState.QUEUED


def parse_calltype(raw: str) -> str:
    """The queue of ``Queue(630)`` (or ``Queue(630,t,,,300)``); "" for any other application."""
    match = QUEUE_RE.match(raw)
    return match["queue"] if match else ""


def channel_peer(channel: str) -> str:
    match = CHANNEL_RE.match(channel.strip())
    return match["peer"] if match else ""


def is_extension(number: str) -> bool:
    return bool(EXTENSION_RE.match(number))


def classify(channel: str, src: str, dst: str, queue: str) -> tuple[Direction, str]:
    """Direction and the internal party, by the rule in the module docstring."""
    peer = channel_peer(channel)
    to_inside = bool(queue) or is_extension(dst)
    inside_dst = dst if is_extension(dst) and dst != queue else ""
    if peer and is_extension(peer):
        return (Direction.INTERNAL if to_inside else Direction.OUTBOUND), peer
    if peer:
        return (Direction.INBOUND, inside_dst) if to_inside else (Direction.OUTBOUND, "")
    if is_extension(src):
        return (Direction.INTERNAL if to_inside else Direction.OUTBOUND), src
    if to_inside:
        return Direction.INBOUND, inside_dst
    return Direction.UNKNOWN, ""


def call_from_row(pbx: str, row: Row, *, index: int, at: datetime) -> Call:
    channel = _text(row, "channel", "chan", "chanid")
    src = _text(row, "src", "caller", "callerid")
    dst = _text(row, "dst", "called", "destination")
    info = _text(row, "callinfo", "status", "state")
    application = _text(row, "calltype", "application", "app")
    queue = parse_calltype(application)
    direction, extension = classify(channel, src, dst, queue)
    return Call(
        pbx=pbx,
        # Without a channel the call cannot be acted on, but it is still shown.
        id=channel or f"{src}>{dst}#{index}",
        channel=channel,
        caller=src,
        callee=dst,
        state=call_state(info, queue, dst),
        state_raw=info,
        duration=parse_duration(_text(row, "duration", "time")),
        queue=queue,
        direction=direction,
        extension=extension,
        application=application,
        observed_at=at,
    )


@dataclass(frozen=True)
class User:
    number: str
    name: str
    regstatus: str
    registered: bool | None
    latency_ms: int | None


def users_from_rows(rows: list[Row]) -> list[User]:
    users: dict[str, User] = {}
    for row in rows:
        number = _text(row, "username", "user", "extension", "exten", "number")
        if not number or number in users:
            continue
        raw = _text(row, "regstatus", "status", "registration")
        registered, latency = parse_regstatus(raw)
        users[number] = User(number, _text(row, "name", "fullname"), raw, registered, latency)
    if rows and not users:
        raise Unreadable("answered users without a username in any row")
    return list(users.values())


@dataclass(frozen=True)
class QueueInfo:
    number: str
    name: str
    members: tuple[str, ...]


def queues_from_rows(rows: list[Row]) -> list[QueueInfo]:
    queues: dict[str, QueueInfo] = {}
    for row in rows:
        number = _text(row, "queuenumber", "queue", "number", "id")
        if not number or number in queues:
            continue
        members = _members(row.get("internal", row.get("members")))
        queues[number] = QueueInfo(number, _text(row, "name", "queuename"), members)
    if rows and not queues:
        raise Unreadable("answered queues without a queuenumber in any row")
    return list(queues.values())


def _members(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        items = [str(item).strip() for item in value if isinstance(item, str | int)]
    elif isinstance(value, str | int):
        items = re.split(r"[,;\s]+", str(value))
    else:
        items = []
    return tuple(dict.fromkeys(item for item in items if item))


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
    lowered = body.lower()
    if "<!doctype" in lowered or "<!entity" in lowered:
        # Entity expansion is how XML bombs work; a directory has no use for a DTD.
        raise Unreadable("answered XML with a DOCTYPE or ENTITY declaration, refused for safety")
    body = re.sub(r"^<\?xml[^>]*\?>", "", body).strip()  # str input: the encoding is done
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise Unreadable(f"answered malformed or truncated XML: {exc}") from None
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
    # of those views landing together share one answer for this long. The calls view always
    # asks afresh, and any action forgets everything.
    cache_seconds: ClassVar[float] = 0.5

    def __init__(self, config: PbxConfig, client: httpx.AsyncClient) -> None:
        if not isinstance(config, IexPbxConfig):
            raise TypeError(f"{config.name}: an IEXPBX driver needs an iexpbx config")
        super().__init__(config, client)
        self.iex = config
        self._cache: dict[str, tuple[float, list[Row]]] = {}

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
            found = [directory_entry(_strings(row)) for row in envelope.rows]
            entries = [entry for entry in found if entry is not None]
        else:
            entries = self._read(parse_directory, response.text)
        return [
            DirectoryEntry(pbx=self.name, name=name, number=number, extra=extra)
            for name, number, extra in entries
        ]

    # -- building the model -------------------------------------------------------------------
    def _calls(self, rows: list[Row]) -> list[Call]:
        observed_at = utcnow()
        calls: dict[str, Call] = {}
        for index, row in enumerate(rows):
            call = self._read(partial(call_from_row, self.name, index=index, at=observed_at), row)
            calls.setdefault(call.id, call)  # a repeated channel would break keyed tables
        return list(calls.values())

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
        cached = self._cache.get(action)
        if not fresh and cached and time.monotonic() - cached[0] < self.cache_seconds:
            return cached[1]
        envelope = self._checked(await self._envelope(action, {}))
        if not envelope.success:
            reason = envelope.message or "success is false, with no reason given"
            raise BadAnswer(self.name, f"refused {action}: {reason}")
        self._cache[action] = (time.monotonic(), envelope.rows)
        return envelope.rows

    async def _act(self, action: str, params: dict[str, str]) -> ActionResult:
        try:
            with asking("action", Priority.ACTION):
                response = await self._send(action, params, expected="JSON")
            envelope = self._checked(self._read(parse_envelope, response.text))
        finally:
            self._cache.clear()  # whatever happened, the next poll must look again
        return ActionResult(ok=envelope.success, message=envelope.message)

    async def _envelope(self, action: str, params: dict[str, str]) -> Envelope:
        response = await self._send(action, params, expected="JSON")
        parse = partial(self._read, parse_envelope, response.text)
        return await self.off_loop(parse, size=response.size)

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


def _strings(row: Row) -> dict[str, str]:
    return {key: str(value) for key, value in row.items() if isinstance(value, str | int)}
