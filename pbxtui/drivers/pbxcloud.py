"""Driver for MiRTA PBX's legacy ``proxyapi.php`` (sold as "PBX Cloud").

Every request is a GET with ``reqtype``, ``tenant``, ``key`` and ``format=json`` in the query
string. The API answers HTTP 200 for everything, sends its errors as short text bodies whatever
the format, and labels bodies by the format asked for rather than by what they are, so this
driver decides by the body, never by the Content-Type (vendor-notes §1.3, §1.4).

The active-calls format (CHANNELS) has never been published: the parser accepts the plausible
shapes (``core show channels concise`` names or AMI CoreShowChannel names, in any case; an
array or an object keyed by anything; durations in seconds or ``H:MM:SS``) and pairs the legs
of one call by LinkedID, else by bridge, else leaves each channel a call of its own.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import anyio
import httpx

from pbxtui.config import PbxCloudConfig, PbxConfig
from pbxtui.drivers.base import ActionRefused, AuthRefused, BadAnswer, Driver, DriverError
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.http import VendorResponse, asking
from pbxtui.drivers.values import clock_seconds, qualify
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
    Click2CallOption,
    Direction,
    Extension,
    LampKind,
    LineState,
    Peer,
    Queue,
    Resource,
    utcnow,
)

T = TypeVar("T")

# Bodies the API sends for "nothing": 0 bytes (SIMPLECDRS, CDR), a lone "]" (CDRS, QUEUELOGS),
# "null" (AGENTS of an unknown queue), and the empty containers PHP's json_encode gives.
EMPTY_BODIES = frozenset({"", "]", "null", "[]", "{}"})
# Texts that mean the credentials were refused, matched in lower case.
AUTH_TEXTS = ("mistaken the security api key", "wrong or missing tenant")
# Bare texts the API (or Asterisk behind it) uses to say no, without the "Error|" prefix.
REFUSAL_TEXTS = (
    "no such channel",
    "extension does not exist",
    "interface not found",
    "no id specified",
    "no extension specified",
    "no channel specified",
    "not found",
    "permission denied",
)
QUEUE_LIMIT = 4  # per-queue requests in flight at once
QUEUE_LIST_TTL = 30.0  # seconds the queue list is reused between polls
PEERS_REUSE_SECONDS = 5.0  # a peers answer this fresh serves the extension list too

# Asterisk device states (names and the numeric enum) → the console's line states.
DEVICE_STATES: dict[str, LineState] = {
    "NOTINUSE": LineState.IDLE,
    "IDLE": LineState.IDLE,
    "INUSE": LineState.BUSY,
    "BUSY": LineState.BUSY,
    "ONHOLD": LineState.BUSY,
    "RINGINUSE": LineState.BUSY,
    "RINGING": LineState.RINGING,
    "UNAVAILABLE": LineState.UNAVAILABLE,
    "INVALID": LineState.UNAVAILABLE,
    "UNKNOWN": LineState.UNKNOWN,
    "0": LineState.UNKNOWN,
    "1": LineState.IDLE,
    "2": LineState.BUSY,
    "3": LineState.BUSY,
    "4": LineState.UNAVAILABLE,
    "5": LineState.UNAVAILABLE,
    "6": LineState.RINGING,
    "7": LineState.BUSY,
    "8": LineState.BUSY,
}
# Asterisk's numeric channel states (AMI ChannelState) → their words.
CHANNEL_STATE_CODES = {
    "0": "Down",
    "1": "Rsrvd",
    "2": "OffHook",
    "3": "Dialing",
    "4": "Ring",
    "5": "Ringing",
    "6": "Up",
    "7": "Busy",
    "8": "Dialing Offhook",
    "9": "Pre-ring",
}
DIALING_WORDS = frozenset({"down", "dialing", "dialingoffhook", "prering", "offhook", "rsrvd"})
RINGING_WORDS = frozenset({"ring", "ringing"})
QUEUE_WAIT_WORDS = RINGING_WORDS | {"up"}
HOLD_APPLICATIONS = frozenset({"musiconhold", "hold", "startmusiconhold"})
OUTGOING_APPLICATIONS = frozenset({"appdial", "appdial2", "appqueue"})
NO_BRIDGE = frozenset({"", "(none)", "<none>", "none", "null"})


# -- reading rows -------------------------------------------------------------------------------
def _row(obj: Mapping[Any, Any]) -> dict[str, Any]:
    """Lower-cased names, without the positional duplicates of a PHP FETCH_BOTH row."""
    return {str(k).lower(): v for k, v in obj.items() if not str(k).isdigit()}


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def _pick(row: Mapping[str, Any], *names: str) -> str:
    """The first non-empty value among ``names`` (lower-case), as text."""
    for name in names:
        value = _text(row.get(name))
        if value:
            return value
    return ""


def _int(value: Any) -> int | None:
    text = _text(value).rstrip("%").strip()
    try:
        return int(float(text))
    except ValueError:
        return None


def _float(value: Any) -> float | None:
    text = _text(value).rstrip("%").strip().replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _duration(value: Any) -> int:
    """``"123"``, ``123``, ``"2:03"``, ``"0:02:03"`` or ``"00:02:03"`` → seconds."""
    return clock_seconds(_text(value)) or 0


def _timestamp(value: Any) -> datetime | None:
    """MiRTA's ``YYYY-MM-DD HH:MM:SS`` (read as UTC: the API names no zone) or epoch seconds."""
    text = _text(value)
    if not text or text.startswith("0000"):
        return None
    if re.fullmatch(r"\d{9,11}(\.\d+)?", text):
        return datetime.fromtimestamp(float(text), UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _line_state(raw: str) -> LineState:
    key = re.sub(r"[\s_-]", "", raw).upper()
    return DEVICE_STATES.get(key, LineState.UNKNOWN)


def _records(data: Any, marker: str, what: str) -> list[dict[str, Any]]:
    """Rows from an array, an object keyed by anything, or one bare row (``marker`` names it).

    Raises ValueError for anything else; callers turn it into BadAnswer.
    """
    if data is None:
        return []
    if isinstance(data, dict):
        if marker in _row(data):
            items: Iterable[Any] = [data]
        elif all(isinstance(v, dict) for v in data.values()):
            items = data.values()
        else:
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise ValueError(f"expected a list of {what}, got an object")
            items = lists[0]
    elif isinstance(data, list):
        items = data
    else:
        raise ValueError(f"expected a list of {what}, got {type(data).__name__}")
    rows = []
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"expected {what} as objects, got {type(item).__name__}")
        rows.append(_row(item))
    return rows


PLAIN_PAIRS = re.compile(r"(?:[^:|\r\n]+:[^|\r\n]*\|)+")


def _pairs(text: str) -> list[tuple[str, str]] | None:
    """The plain ``<id>:<value>|<id>: <value>|`` form (A-43, A-56), or None if not that."""
    body = text.strip()
    if not PLAIN_PAIRS.fullmatch(body):
        return None
    pairs = []
    for part in body.split("|")[:-1]:
        key, _, value = part.partition(":")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _truncated(body: str) -> bool:
    """Whether JSON text ends inside a string or an open array/object."""
    depth, in_string, escaped = 0, False, False
    for char in body:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
    return in_string or depth > 0


def _unreadable(body: str) -> bool:
    return "\ufffd" in body or any(ord(c) < 32 and c not in "\r\n\t" for c in body)


# -- names --------------------------------------------------------------------------------------
def strip_tenant(name: str, tenant: str) -> str:
    """``201-ACME`` → ``201``; any other name is returned as it is."""
    suffix = f"-{tenant}".upper()
    return name[: -len(suffix)] if tenant and name.upper().endswith(suffix) else name


def extension_number(peer: str, tenant: str) -> str:
    """The extension a peer name stands for (``201-ACME`` or ``201``), or "" for a trunk."""
    stripped = strip_tenant(peer, tenant)
    if stripped != peer and re.fullmatch(r"[0-9*#]+", stripped):
        return stripped
    # Another tenant's code (an admin key sees every tenant) still names an extension.
    other = re.fullmatch(r"([0-9]+)-[A-Za-z][A-Za-z0-9_.]*", stripped)
    if other:
        return other.group(1)
    return stripped if re.fullmatch(r"[0-9]{1,6}", stripped) else ""


def channel_peer(channel: str) -> str:
    """``PJSIP/201-ACME-0000a1b2`` → ``201-ACME``; ``Local/201@ctx-00000012;1`` → ``201``."""
    _, _, rest = channel.partition("/")
    rest = rest or channel
    if "@" in rest:
        return rest.split("@", 1)[0]
    return re.sub(r"-[0-9a-fA-F]{6,}(;\d+)?$", "", rest)


# -- calls --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Leg:
    """One channel row, read."""

    index: int
    channel: str
    state: str
    application: str
    data: str
    caller_id: str
    caller_name: str
    exten: str
    duration: int
    unique_id: str
    linked_id: str
    bridge: str
    held: bool
    number: str  # the extension this channel belongs to, "" for a trunk

    @property
    def word(self) -> str:
        return re.sub(r"[\s_-]", "", self.state).lower()

    @property
    def app(self) -> str:
        return self.application.lower()


def read_leg(index: int, row: Mapping[str, Any], tenant: str) -> Leg | None:
    channel = _pick(row, "channel", "name", "channelname")
    if not channel:
        return None
    state = _pick(row, "channelstatedesc", "state", "channelstate", "status")
    state = CHANNEL_STATE_CODES.get(state, state)
    bridge = _pick(row, "bridgedto", "bridgedchannel", "bridged_to", "bridgeid", "bridge_id")
    held_flag = _pick(row, "held", "onhold", "hold").lower() in ("1", "yes", "true")
    application = _pick(row, "application", "app", "appl")
    return Leg(
        index=index,
        channel=channel,
        state=state,
        application=application,
        data=_pick(row, "data", "applicationdata", "appdata"),
        caller_id=_pick(row, "callerid", "calleridnum", "callerid_num", "cid_num", "cidnum"),
        caller_name=_pick(row, "calleridname", "callerid_name", "cid_name"),
        exten=_pick(row, "extension", "exten"),
        duration=_duration(row.get("duration", row.get("durationseconds"))),
        unique_id=_pick(row, "uniqueid", "unique_id"),
        linked_id=_pick(row, "linkedid", "linked_id"),
        bridge="" if bridge.lower() in NO_BRIDGE else bridge,
        held=held_flag or application.lower() in HOLD_APPLICATIONS,
        number=extension_number(channel_peer(channel), tenant),
    )


def group_legs(legs: Sequence[Leg]) -> list[list[Leg]]:
    """Legs of one call together: by LinkedID, else joined through their bridge, else alone."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    for leg in legs:
        find("c:" + leg.channel)
        if leg.linked_id:
            union("c:" + leg.channel, "l:" + leg.linked_id)
        elif leg.bridge:
            # BridgedTo names the peer channel; a BridgeID is shared by both legs. Joining
            # through the value's own node covers both without knowing which one it is.
            union("c:" + leg.channel, "c:" + leg.bridge)
    groups: dict[str, list[Leg]] = {}
    for leg in legs:
        groups.setdefault(find("c:" + leg.channel), []).append(leg)
    return list(groups.values())


def _primary_first(group: list[Leg]) -> list[Leg]:
    """The calling leg first: the one the LinkedID names, else not an outgoing line, else
    the oldest, else the first listed."""
    return sorted(
        group,
        key=lambda leg: (
            not (leg.linked_id and leg.unique_id == leg.linked_id),
            leg.app in OUTGOING_APPLICATIONS,
            -leg.duration,
            leg.index,
        ),
    )


def _call_state(legs: list[Leg]) -> CallState:
    primary = legs[0]
    if any(leg.held for leg in legs):
        return CallState.HELD
    if _queued(legs):
        return CallState.QUEUED
    words = [leg.word for leg in legs]
    if all(word == "up" for word in words):
        return CallState.UP
    if any(word in DIALING_WORDS for word in words):
        return CallState.DIALING
    # A trunk rung as an outgoing line, or while the calling side is up: we are dialling out.
    if any(_dialling_out(leg, primary) for leg in legs):
        return CallState.DIALING
    if any(word in RINGING_WORDS for word in words):
        return CallState.RINGING
    return CallState.OTHER


def _queued(legs: list[Leg]) -> bool:
    """A caller in the Queue application with no agent's leg yet. Queue() answers the caller
    before its music on hold (Up); with its ``r`` option the caller hears ringback (Ring)."""
    caller, *agents = legs
    return not agents and caller.app == "queue" and caller.word in QUEUE_WAIT_WORDS


def _dialling_out(leg: Leg, primary: Leg) -> bool:
    if leg.number or leg.word not in RINGING_WORDS:
        return False
    return leg.app in OUTGOING_APPLICATIONS or (leg is not primary and primary.word == "up")


def _direction(legs: list[Leg]) -> Direction:
    primary, others = legs[0], legs[1:]
    if not primary.number:
        alone_outgoing = not others and primary.app in OUTGOING_APPLICATIONS
        return Direction.OUTBOUND if alone_outgoing else Direction.INBOUND
    if others:
        return Direction.INTERNAL if all(leg.number for leg in others) else Direction.OUTBOUND
    # A lone extension leg: what it dials says where the call goes, unless it merely names
    # itself (the called side of a call not paired with its caller: no LinkedID, no bridge
    # yet), where the caller id says who called.
    if primary.exten and primary.exten != primary.number:
        return _number_direction(primary.exten, Direction.OUTBOUND)
    if primary.app in OUTGOING_APPLICATIONS and primary.caller_id:
        return _number_direction(primary.caller_id, Direction.INBOUND)
    return Direction.UNKNOWN


def _number_direction(number: str, external: Direction) -> Direction:
    if re.fullmatch(r"[0-9*#]{1,6}", number):
        return Direction.INTERNAL
    return external if re.fullmatch(r"\+?[0-9]{7,}", number) else Direction.UNKNOWN


def _queue_of(legs: list[Leg], tenant: str) -> str:
    for leg in legs:
        if leg.app == "queue":
            return strip_tenant(leg.data.split(",", 1)[0].strip(), tenant)
    return ""


def _bridged_name(leg: Leg) -> str:
    """The peer channel a lone leg's BridgedTo names (it may be on another node); a BridgeID
    names a bridge, not a channel, so it is no answer."""
    return leg.bridge if "/" in leg.bridge else ""


def build_call(group: list[Leg], *, pbx: str, tenant: str, observed_at: datetime) -> Call:
    legs = _primary_first(group)
    primary = legs[0]
    other = legs[1] if len(legs) > 1 else None
    internal = [leg.number for leg in legs if leg.number]
    caller = primary.caller_id if primary.caller_id.lower() not in ("", "<unknown>") else ""
    if other is not None and other.number:
        callee = other.number
    else:
        callee = primary.exten if primary.exten.lower() not in ("s", "") else ""
    states = list(dict.fromkeys(leg.state for leg in legs if leg.state))
    return Call(
        pbx=pbx,
        id=primary.channel,
        channel=primary.channel,
        caller=caller or primary.number,
        caller_name=primary.caller_name if primary.caller_name.lower() != "<unknown>" else "",
        callee=callee,
        state=_call_state(legs),
        state_raw="/".join(states),
        duration=max(leg.duration for leg in legs),
        queue=_queue_of(legs, tenant),
        direction=_direction(legs),
        extension=internal[-1] if internal else "",
        unique_id=primary.unique_id,
        bridged_channel=other.channel if other is not None else _bridged_name(primary),
        bridged_unique_id=other.unique_id if other is not None else "",
        application=primary.application,
        observed_at=observed_at,
    )


def calls_from_rows(rows: Sequence[Mapping[str, Any]], *, pbx: str, tenant: str) -> list[Call]:
    """CHANNELS rows (already lower-cased) → one Call per call, legs paired."""
    legs = [leg for i, row in enumerate(rows) if (leg := read_leg(i, row, tenant)) is not None]
    observed_at = utcnow()
    calls = [
        build_call(group, pbx=pbx, tenant=tenant, observed_at=observed_at)
        for group in group_legs(legs)
    ]
    return sorted(calls, key=lambda call: -call.duration)


# -- peers, agents ------------------------------------------------------------------------------
def registration(status: str, host: str) -> tuple[bool | None, int | None]:
    """chan_sip qualify text (``OK (23 ms)``, ``UNREACHABLE``…) → (registered, latency)."""
    if host.strip().lower() in ("(unspecified)", "", "(null)", "0.0.0.0"):
        return False, None
    registered, latency = qualify(status)
    if registered is None and status.strip().lower().startswith("unmonitored"):
        return True, latency  # a known host without qualify: registered, latency unknown
    return registered, latency


def agent_state(status: str, device: str) -> AgentState:
    """Agents "1" (membership status) and "2" (device state) → one state."""
    word = re.sub(r"[\s_-]", "", status).lower()
    line = _line_state(device) if device else None
    if "pause" in word:
        return AgentState.PAUSED
    if word in ("unavailable", "loggedout", "offline", "invalid") or line is LineState.UNAVAILABLE:
        return AgentState.UNAVAILABLE
    if word in ("busy", "inuse", "ringing", "oncall") or line in (
        LineState.BUSY,
        LineState.RINGING,
    ):
        return AgentState.BUSY
    return AgentState.AVAILABLE if word or line is LineState.IDLE else AgentState.UNAVAILABLE


class PbxCloudDriver(Driver):
    kind = "pbxcloud"
    vendor = "MiRTA PBX proxyapi.php"
    capabilities = Capabilities(
        resources=frozenset(Resource),
        actions=frozenset(
            {
                Action.HANGUP,
                Action.TRANSFER,
                Action.ATTENDED_TRANSFER,
                Action.PAUSE,
                Action.UNPAUSE,
                Action.CLICK2CALL,
            }
        ),
        click2call_options=frozenset({Click2CallOption.CALLER_ID, Click2CallOption.TIMEOUT}),
    )

    def __init__(self, config: PbxConfig, client: httpx.AsyncClient) -> None:
        if not isinstance(config, PbxCloudConfig):
            raise TypeError(f"PbxCloudDriver needs a pbxcloud config, not {config.kind}")
        super().__init__(config, client)
        self.tenant = config.tenant
        self.nodename = config.nodename
        self._key = config.key
        self._queue_list: tuple[float, dict[str, str]] | None = None
        self._call_queues: dict[str, str] = {}  # call id → queue, as last seen
        self._peers: tuple[float, list[Peer]] | None = None  # (monotonic time, last answer)

    # -- transport ------------------------------------------------------------------------------
    async def _send(self, reqtype: str, **params: str) -> VendorResponse:
        query = {"reqtype": reqtype, "tenant": self.tenant, "format": "json", **params}
        query["key"] = self._key.get_secret_value()
        return await self.http.get(query)

    def _screen(self, response: VendorResponse, what: str) -> str:
        """The body, once the answers that mean the same whatever was asked are ruled out:
        the credentials refused (a short text, whatever the Content-Type) and HTML pages."""
        body = response.text.strip()
        short_text = len(body) < 200 and not body.startswith(("[", "{"))
        if short_text and any(words in body.lower() for words in AUTH_TEXTS):
            raise AuthRefused(self.name, f'refused the API key or tenant: "{body}"')
        if response.looks_like_html:
            raise BadAnswer(
                self.name, f"answered an HTML page instead of {what} (HTTP {response.status})"
            )
        return body

    def _decode(self, response: VendorResponse, what: str) -> Any:
        """The JSON of a fetch's answer, None for the API's empty answers."""
        return self._json(self._screen(response, what), what)

    def _json(self, body: str, what: str) -> Any:
        if body in EMPTY_BODIES:
            return None
        try:
            return json.loads(body)
        except json.JSONDecodeError as exc:
            raise BadAnswer(self.name, _not_json(body, exc, what)) from None

    def _plain_or_json(self, response: VendorResponse, what: str) -> Any:
        """``{id: value}`` when the plain form came back anyway, else the JSON."""
        body = self._screen(response, what)
        pairs = _pairs(body) if not body.startswith(("[", "{")) else None
        return dict(pairs) if pairs is not None else self._json(body, what)

    async def _fetch(self, reqtype: str, what: str, **params: str) -> Any:
        response = await self._send(reqtype, **params)
        return await self.off_loop(partial(self._decode, response, what), size=response.size)

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Turn a payload that parses as JSON but not as ``what`` into a BadAnswer."""
        try:
            yield
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadAnswer(self.name, f"answered {what} in an unexpected shape: {exc}") from None

    # -- resources ------------------------------------------------------------------------------
    async def probe(self) -> None:
        # The cheapest authenticated question; CHANNELS can take seconds without a nodename.
        await self._queues_by_id(fresh=True)

    async def fetch_calls(self) -> list[Call]:
        extra = {"nodename": self.nodename} if self.nodename else {}
        response = await self._send("CHANNELS", **extra)
        calls = await self.off_loop(partial(self._read_calls, response), size=response.size)
        return self._keep_queues(calls)

    def _read_calls(self, response: VendorResponse) -> list[Call]:
        data = self._decode(response, "the channel list")
        with self._reading("the channel list"):
            rows = _records(data, "channel", "channels")
            return calls_from_rows(rows, pbx=self.name, tenant=self.tenant)

    def _keep_queues(self, calls: list[Call]) -> list[Call]:
        """A call keeps the queue it came through when its channel's application changes
        (a held caller plays MusicOnHold instead of Queue)."""
        seen = self._call_queues
        kept = [
            call.model_copy(update={"queue": seen[call.id]})
            if not call.queue and call.id in seen
            else call
            for call in calls
        ]
        self._call_queues = {call.id: call.queue for call in kept if call.queue}
        return kept

    async def fetch_peers(self) -> list[Peer]:
        data = await self._fetch("PEERS", "the peer list")
        with self._reading("the peer list"):
            peers = [peer for row in _records(data, "name", "peers") if (peer := self._peer(row))]
        self._peers = (time.monotonic(), peers)
        return peers

    async def _recent_peers(self) -> list[Peer]:
        """Peers for the extension list's registration column: the peers poll's own answer
        when it is fresh, so extensions polled every second do not ask PEERS every second."""
        if self._peers is not None and time.monotonic() - self._peers[0] < PEERS_REUSE_SECONDS:
            return self._peers[1]
        return await self.fetch_peers()

    def _peer(self, row: Mapping[str, Any]) -> Peer | None:
        name = _pick(row, "name", "objectname", "peer")
        if not name:
            return None
        host = _pick(row, "host", "ipaddress", "address")
        status = _pick(row, "status")
        registered, latency = registration(status, host)
        return Peer(
            pbx=self.name,
            id=name,
            name=name,
            host="" if host.startswith("(") else host,
            status_raw=status,
            registered=registered,
            latency_ms=latency,
            description=_pick(row, "description", "desc"),
        )

    async def fetch_extensions(self) -> list[Extension]:
        jobs: list[Callable[[], Awaitable[Any]]] = [
            partial(self._fetch, "INFO", "the extension list", info="extensions"),
            self._recent_peers,
        ]
        extensions, peers = await self._gather(jobs)
        by_number = {
            number: peer for peer in peers if (number := extension_number(peer.name, self.tenant))
        }
        with self._reading("the extension list"):
            rows = _records(extensions, "ex_number", "extensions")
            found = [self._extension(row, by_number) for row in rows]
        return sorted((e for e in found if e is not None), key=lambda e: _number_key(e.number))

    def _extension(self, row: Mapping[str, Any], peers: Mapping[str, Peer]) -> Extension | None:
        # Only these named fields are read: the records also carry the SIP and web passwords.
        number = _pick(row, "ex_number", "number", "extension")
        if not number:
            return None
        state = _pick(row, "st_state", "state")
        peer = peers.get(number)
        return Extension(
            pbx=self.name,
            id=number,
            number=number,
            name=_pick(row, "ex_name", "name"),
            state=_line_state(state) if state else LineState.UNKNOWN,
            state_raw=state,
            registered=peer.registered if peer else None,
            latency_ms=peer.latency_ms if peer else None,
        )

    async def fetch_blf(self) -> list[BlfLamp]:
        data = await self._fetch("BLFS", "the BLF list")
        with self._reading("the BLF list"):
            rows = _records(data, "st_extension", "lamps")
            return [lamp for row in rows if (lamp := self._lamp(row)) is not None]

    def _lamp(self, row: Mapping[str, Any]) -> BlfLamp | None:
        name = _pick(row, "st_extension", "extension", "name")
        if not name:
            return None
        state = _pick(row, "st_state", "state")
        number = extension_number(name, self.tenant) if "-" in name else ""
        return BlfLamp(
            pbx=self.name,
            id=name,
            label=number or name,
            kind=LampKind.EXTENSION if number else LampKind.FLOW,
            state=_line_state(state),
            state_raw=state,
            since=_timestamp(row.get("st_timestamp", row.get("timestamp"))),
            extension=number,
        )

    async def fetch_queues(self) -> list[Queue]:
        queues = await self._queues_by_id()
        found = await self._gather([partial(self._queue, q, name) for q, name in queues.items()])
        return [queue for queue in found if queue is not None]

    async def _queue(self, queue_id: str, name: str) -> Queue | None:
        data = await self._fetch("INFO", "the queue figures", info="queue", id=queue_id)
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        if data is None:  # the queue went away since the list was read
            return None
        if not isinstance(data, dict):
            raise BadAnswer(self.name, f"answered queue {queue_id} as {type(data).__name__}")
        row = {k.upper(): v for k, v in _row(data).items()}
        waiting = max(0, _int(row.get("CALLSINQUEUE")) or 0)
        # INFERENCE: AVAILABLE = online and not paused, FREE = of those, not on a call.
        available = _int(row.get("AGENTSAVAILABLE"))
        free = _int(row.get("AGENTSFREE"))
        busy = max(0, available - free) if available is not None and free is not None else None
        return Queue(
            pbx=self.name,
            id=queue_id,
            name=name,
            waiting=waiting,
            longest_wait=_int(row.get("FIRSTWAITING")) if waiting else None,
            agents_available=free if free is not None else available,
            agents_busy=busy,
            agents_paused=_int(row.get("AGENTSPAUSED")),
            agents_total=_int(row.get("AGENTSONLINE")),
            service_level=_float(row.get("SERVICELEVEL")),
            answered=_int(row.get("ANSWEREDCALLS")),
            abandoned=_int(row.get("ABANDONEDCALLS")),
        )

    async def fetch_agents(self) -> list[Agent]:
        queues = await self._queues_by_id()
        found = await self._gather([partial(self._agents_of, q) for q in queues])
        return [agent for agents in found for agent in agents]

    async def _agents_of(self, queue_id: str) -> list[Agent]:
        response = await self._send("INFO", info="agents", queue=queue_id)
        data = self._plain_or_json(response, "the agent list")
        with self._reading("the agent list"):
            rows = _agent_rows(data)
            return [self._agent(agent_id, fields, queue_id) for agent_id, fields in rows]

    def _agent(self, agent_id: str, fields: Mapping[str, Any], queue_id: str) -> Agent:
        # Positional meanings (INFERENCE, see the simulator): "1" membership status word,
        # "2" device state, "4" pause reason, "5" pause start.
        status, device = _text(fields.get("1")), _text(fields.get("2"))
        state = agent_state(status, device)
        paused = state is AgentState.PAUSED
        return Agent(
            pbx=self.name,
            id=agent_id,
            extension=strip_tenant(agent_id, self.tenant),
            queue_id=queue_id,
            state=state,
            state_raw=f"{status} ({device})" if status and device else status or device,
            pause_reason=_text(fields.get("4")) if paused else "",
            paused_since=_timestamp(fields.get("5")) if paused else None,
        )

    async def _queues_by_id(self, *, fresh: bool = False) -> dict[str, str]:
        """``{queue id: name}``, reused for a while: both queue and agent polls need it."""
        cached = self._queue_list
        if cached is not None and not fresh and time.monotonic() - cached[0] < QUEUE_LIST_TTL:
            return cached[1]
        response = await self._send("INFO", info="queues")
        data = self._plain_or_json(response, "the queue list")
        with self._reading("the queue list"):
            queues = _queue_names(data)
        self._queue_list = (time.monotonic(), queues)
        return queues

    # -- concurrency ----------------------------------------------------------------------------
    @staticmethod
    async def _gather(jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        """Run the jobs a few at a time, results in order; the first DriverError is raised
        as it is (not wrapped in an exception group)."""
        limiter = anyio.CapacityLimiter(QUEUE_LIMIT)
        results: dict[int, T] = {}
        errors: list[DriverError] = []

        async def run(index: int, job: Callable[[], Awaitable[T]]) -> None:
            async with limiter:
                try:
                    results[index] = await job()
                except DriverError as exc:
                    errors.append(exc)

        async with anyio.create_task_group() as group:
            for index, job in enumerate(jobs):
                group.start_soon(run, index, job)
        if errors:
            raise errors[0]
        return [results[i] for i in range(len(jobs))]

    # -- actions --------------------------------------------------------------------------------
    async def _act(self, reqtype: str, **params: str) -> ActionResult:
        with asking("action", Priority.ACTION):
            response = await self._send(reqtype, **params)
        return self._ack(response)

    def _ack(self, response: VendorResponse) -> ActionResult:
        """The acknowledgements are undocumented (vendor-notes §1.5): "Success|…|id|", the
        DIAL-style JSON, or nothing at all. HTTP 200 that is not an error is success."""
        body = self._screen(response, "an acknowledgement")
        if body.startswith("{"):
            return self._json_ack(body)
        if _unreadable(body):
            raise BadAnswer(self.name, "answered unreadable bytes instead of an acknowledgement")
        if "|" in body:
            word, message, vendor_id, *_ = [*body.split("|"), "", ""]
            ok = word.strip().lower() not in ("error", "fail", "failed", "ko")
            return ActionResult(ok=ok, message=message.strip(), vendor_id=vendor_id.strip())
        refused = any(text in body.lower() for text in REFUSAL_TEXTS)
        return ActionResult(ok=not refused, message=body[:200])

    def _json_ack(self, body: str) -> ActionResult:
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise BadAnswer(self.name, _not_json(body, exc, "an acknowledgement")) from None
        if not isinstance(data, dict):
            raise BadAnswer(self.name, "answered an acknowledgement that is not an object")
        row = _row(data)
        word = _pick(row, "response", "result", "status").lower()
        return ActionResult(
            ok=word not in ("error", "fail", "failed", "ko"),
            message=_pick(row, "message", "msg", "error"),
            vendor_id=_pick(row, "id", "originateid", "uniqueid"),
        )

    async def hangup(self, call: Call) -> ActionResult:
        return await self._act("HANGUP", channel=call.id)

    async def transfer(self, call: Call, destination: str) -> ActionResult:
        # Redirect the far party (the one who is not our extension) to the destination.
        return await self._act("TRANSFER", channel=self._far_leg(call), dest=destination)

    async def attended_transfer(self, call: Call, destination: str) -> ActionResult:
        # Asterisk's Atxfer acts on the transferer's channel: our extension's leg.
        return await self._act("ATXTRANSFER", channel=self._own_leg(call), dest=destination)

    def _own_leg(self, call: Call) -> str:
        """The channel of the call's internal extension (falls back to the primary leg)."""
        for channel in (call.channel, call.bridged_channel):
            number = extension_number(channel_peer(channel), self.tenant) if channel else ""
            if number and number == call.extension:
                return channel
        return call.channel

    def _far_leg(self, call: Call) -> str:
        own = self._own_leg(call)
        if own == call.channel and call.bridged_channel and call.extension:
            return call.bridged_channel
        return call.channel

    async def pause_agent(self, agent: Agent, reason: str) -> ActionResult:
        return await self._act(
            "AGENT",
            action="pause",
            queue=agent.queue_id,
            extension=agent.id,
            pausereason=reason,
        )

    async def unpause_agent(self, agent: Agent) -> ActionResult:
        return await self._act("AGENT", action="unpause", queue=agent.queue_id, extension=agent.id)

    async def click2call(self, request: Click2Call) -> ActionResult:
        if request.scheduled_at is not None:
            raise self.unsupported(Action.SCHEDULED_CALL)
        if request.reverse:  # the policy refuses it first: DIAL always rings `source` first
            raise ActionRefused(self.name, "DIAL has no reverse: it always rings the source first")
        source, dest = request.source, request.destination
        params = {"source": source, "dest": dest, "account": f"{source}-{self.tenant}"}
        if request.caller_id:
            params["sourceclid"] = request.caller_id
        if request.timeout:
            params["dialtimeout"] = str(request.timeout)
        return await self._act("DIAL", **params)


def _not_json(body: str, exc: json.JSONDecodeError, what: str) -> str:
    if _unreadable(body):
        return f"answered unreadable bytes instead of {what}"
    if body.startswith(("[", "{")):
        if _truncated(body):
            return f"answered truncated JSON for {what} ({len(body)} characters)"
        return f"answered malformed JSON for {what}: {exc.msg} at character {exc.pos}"
    if body.lower().startswith("error|"):
        return f"said: {body.split('|')[1]}"[:200]
    return f'answered text instead of {what}: "{body[:80]}"'


def _number_key(number: str) -> tuple[int, str]:
    return (int(number), number) if number.isdigit() else (10**12, number)


def _queue_names(data: Any) -> dict[str, str]:
    """``{"630": "Sales"}``, or a list of rows naming id and name."""
    if data is None:
        return {}
    if isinstance(data, dict):
        return {
            str(k): _text(v) if not isinstance(v, dict) else _pick(_row(v), "name")
            for k, v in data.items()
        }
    if isinstance(data, list):
        names = {}
        for item in data:
            if not isinstance(item, dict):
                raise ValueError("expected queues as objects")
            row = _row(item)
            queue_id = _pick(row, "id", "qu_id", "queue", "number")
            if queue_id:
                names[queue_id] = _pick(row, "name", "qu_name", "label", "description")
        return names
    raise ValueError(f"expected the queues as an object, got {type(data).__name__}")


def _agent_rows(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """``{"<ext>-<TENANT>": {"0": 0, "1": "available", …}}`` (or a list of such values)."""
    if data is None:
        return []
    if isinstance(data, dict):
        items: Iterable[tuple[str, Any]] = ((str(k), v) for k, v in data.items())
    elif isinstance(data, list):
        items = (("", v) for v in data)
    else:
        raise ValueError(f"expected the agents as an object, got {type(data).__name__}")
    rows = []
    for agent_id, value in items:
        if isinstance(value, dict):
            fields = {str(k).lower(): v for k, v in value.items()}
        elif isinstance(value, list):
            fields = {str(i): v for i, v in enumerate(value)}
        elif isinstance(value, str):
            fields = {"1": value}
        else:
            raise ValueError(f"expected an agent as an object, got {type(value).__name__}")
        ident = agent_id or _text(fields.get("10")) or _text(fields.get("11"))
        if ident:
            rows.append((ident, fields))
    return rows
