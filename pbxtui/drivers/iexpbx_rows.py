"""IEXPBX answers read: the ``{success, count, data}`` envelope and the rows inside it.

Pure functions, but for ``CallReader``'s memo (safe from a worker thread): a driver may run
any of them off the event loop. Whatever the PBX sends ends in a value or in ``Unreadable``.

An ``activecalls`` answer at NOC scale is 10,000 rows that mostly repeat the previous one but
for their durations: the field layout is resolved once per key set, and a call is reused
while its row's other values are unchanged (``CallReader``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pbxtui.drivers.reading import (
    Fields,
    Layout,
    Layouts,
    RowMemo,
    Unreadable,
    decode_json,
    kind_of,
    text_of,
    truncated_json,
)
from pbxtui.drivers.values import clock_seconds, qualify
from pbxtui.model import Call, CallState, Direction, utcnow

Row = Mapping[str, Any]

EXTENSION_RE = re.compile(r"[0-9]{2,5}")
# tech/peer-hexid, optionally ";1" for Local channels: the peer is what matters.
CHANNEL_RE = re.compile(r"^(?P<tech>[A-Za-z0-9_]+)/(?P<peer>.+?)(?:-[0-9A-Fa-f]{4,})?(?:;\d+)?$")
QUEUE_RE = re.compile(r"^\s*queue\s*[(:\s]\s*(?P<queue>[^,)\s]+)", re.IGNORECASE)
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

CALL_FIELDS = Fields(
    {
        "channel": ("channel", "chan", "chanid"),
        "src": ("src", "caller", "callerid"),
        "dst": ("dst", "called", "destination"),
        "callinfo": ("callinfo", "status", "state"),
        "calltype": ("calltype", "application", "app"),
        "duration": ("duration", "time"),
    },
    volatile={"duration"},
)
USER_FIELDS = Fields(
    {
        "number": ("username", "user", "extension", "exten", "number"),
        "regstatus": ("regstatus", "status", "registration"),
        "name": ("name", "fullname"),
    }
)
QUEUE_FIELDS = Fields(
    {
        "number": ("queuenumber", "queue", "number", "id"),
        "name": ("name", "queuename"),
        "members": ("internal", "members"),
    }
)


# -- envelope -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Envelope:
    success: bool
    message: str
    rows: list[Row] | None  # None: no data at all (an action's answer needs none)


def parse_envelope(text: str) -> Envelope:
    """``[{success, count, data}]`` or the bare object; ``count`` is ignored."""
    document = load_json(text)
    if isinstance(document, list):
        if not document:
            raise Unreadable("answered an empty JSON list instead of a {success, data} object")
        if len(document) == 1 and _is_envelope(document[0]):
            document = document[0]
        elif all(isinstance(item, dict) and not _is_envelope(item) for item in document):
            return Envelope(True, "", _data_rows(document))  # the rows without an envelope
        else:
            raise Unreadable("answered a JSON list that is not one {success, data} object")
    if not isinstance(document, dict):
        raise Unreadable(
            f"answered a JSON {kind_of(document)} instead of a {{success, data}} object"
        )
    fields = {str(key).strip().lower(): value for key, value in document.items()}
    message = next((m for key in MESSAGE_KEYS if (m := _message(fields.get(key)))), "")
    if "success" in fields:
        success = _truth(fields["success"])
        if success is None:
            shown = kind_of(fields["success"])
            raise Unreadable(f"answered 'success' as a JSON {shown}, neither true nor false")
    elif "data" in fields:
        success = True
    else:
        raise Unreadable("answered JSON without a success flag or data")
    data = fields.get("data")
    return Envelope(success, message, _data_rows(data) if success and data is not None else None)


def load_json(text: str) -> object:
    body = text.strip().lstrip("\ufeff")
    if not body:
        raise Unreadable("answered an empty body instead of JSON")
    try:
        document: object = decode_json(body)
    except json.JSONDecodeError as exc:
        if body[0] not in "[{":
            shown = _excerpt(body)
            raise Unreadable(f"answered something that is not JSON (starts {shown})") from None
        kind = "truncated" if truncated_json(body, exc) else "malformed"
        raise Unreadable(f"answered {kind} JSON: {exc.msg} at character {exc.pos}") from None
    return document


def _message(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _is_envelope(item: object) -> bool:
    return isinstance(item, dict) and any(
        str(key).strip().lower() in ("success", "data", "count") for key in item
    )


def _data_rows(data: object) -> list[Row]:
    """The rows of ``data``: a list of objects, objects keyed by id, or one bare row."""
    if isinstance(data, dict):
        values = list(data.values())
        # Rows keyed by id, as PHP associative arrays come out, or one bare row.
        data = values if all(isinstance(v, dict) for v in values) else [data]
    if not isinstance(data, list):
        raise Unreadable(f"answered data as a JSON {kind_of(data)} instead of a list of rows")
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            raise Unreadable(f"answered row {index + 1} as a JSON {kind_of(row)}, not an object")
    return data


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


def _excerpt(text: str) -> str:
    shown = "".join(ch if ch.isprintable() else "?" for ch in text[:24])
    return repr(shown + ("…" if len(text) > 24 else ""))


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
    return bool(EXTENSION_RE.fullmatch(number))


def classify(channel: str, src: str, dst: str, queue: str) -> tuple[Direction, str]:
    """Direction and the internal party (see the driver's docstring for the rule)."""
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


# -- rows ---------------------------------------------------------------------------------------
def call_from_row(
    pbx: str, row: Row, *, index: int, at: datetime, layout: Layout | None = None
) -> Call | None:
    """A row's call; None for a row that names no channel and no party."""
    layout = layout or CALL_FIELDS.layout(row)
    where = f"call {index + 1}"
    channel = layout.text(row, "channel", where)
    src = layout.text(row, "src", where)
    dst = layout.text(row, "dst", where)
    if not (channel or src or dst):
        return None
    info = layout.text(row, "callinfo", where)
    application = layout.text(row, "calltype", where)
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
        duration=call_duration(row, layout, index),
        queue=queue,
        direction=direction,
        extension=extension,
        application=application,
        observed_at=at,
    )


def call_duration(row: Row, layout: Layout, index: int) -> int:
    value = layout.first(row, "duration")
    if type(value) is str:  # the usual case first: read for every row of every answer
        return clock_seconds(value) or 0
    return parse_duration(text_of(value, f"call {index + 1} duration"))


class CallReader:
    """Reads one PBX's successive ``activecalls`` rows, reusing the call of each row whose
    values but its duration are unchanged (the memo forgets what the last answer lacked)."""

    def __init__(self, pbx: str) -> None:
        self.pbx = pbx
        self.layouts = Layouts(CALL_FIELDS)
        self.memo: RowMemo[Call] = RowMemo()

    def read(self, rows: Sequence[Row], observed_at: datetime | None = None) -> list[Call]:
        """The calls of one answer. The hot loop of a 10,000-row answer, so written for
        speed: the layout and its memo tables are looked up again only when a row's keys
        differ from the row before's."""
        at = observed_at or utcnow()
        last, current = self.memo.begin()
        calls: dict[str, Call] = {}
        previous_keys: tuple[object, ...] | None = None
        for index, row in enumerate(rows):
            keys = tuple(row)
            if keys != previous_keys:
                previous_keys = keys
                layout = self.layouts.of_keys(keys)
                seen = last.get(layout, {})
                kept = current.setdefault(layout, {})
                stable = layout.stable
            fingerprint: Hashable | None = stable(row) if stable is not None else ()
            try:
                call = kept.get(fingerprint) or seen.get(fingerprint)
            except TypeError:  # a nested value: read in full, which names the mismatch
                fingerprint, call = None, None
            if call is None:
                call = call_from_row(self.pbx, row, index=index, at=at, layout=layout)
                if call is None:
                    continue
            else:
                call = call.observed_again(call_duration(row, layout, index), at)
            if fingerprint is not None and call.channel:  # a made-up id depends on the row
                kept[fingerprint] = call
            calls.setdefault(call.id, call)  # a repeated channel would break keyed tables
        self.memo.commit(current)
        if rows and not calls:
            raise Unreadable("answered calls of which none names a channel or a party")
        return list(calls.values())


@dataclass(frozen=True)
class User:
    number: str
    name: str
    regstatus: str
    registered: bool | None
    latency_ms: int | None


def users_from_rows(rows: Sequence[Row]) -> list[User]:
    layouts = Layouts(USER_FIELDS)
    users: dict[str, User] = {}
    for index, row in enumerate(rows):
        layout, where = layouts.of(row), f"user {index + 1}"
        number = layout.text(row, "number", where)
        if not number or number in users:
            continue
        raw = layout.text(row, "regstatus", where)
        registered, latency = parse_regstatus(raw)
        users[number] = User(number, layout.text(row, "name", where), raw, registered, latency)
    if rows and not users:
        raise Unreadable("answered users without a username in any row")
    return list(users.values())


@dataclass(frozen=True)
class QueueInfo:
    number: str
    name: str
    members: tuple[str, ...]


def queues_from_rows(rows: Sequence[Row]) -> list[QueueInfo]:
    layouts = Layouts(QUEUE_FIELDS)
    queues: dict[str, QueueInfo] = {}
    for index, row in enumerate(rows):
        layout, where = layouts.of(row), f"queue {index + 1}"
        number = layout.text(row, "number", where)
        if not number or number in queues:
            continue
        members = _members(layout.first(row, "members"), f"{where} members")
        queues[number] = QueueInfo(number, layout.text(row, "name", where), members)
    if rows and not queues:
        raise Unreadable("answered queues without a queuenumber in any row")
    return list(queues.values())


def _members(value: object, where: str) -> tuple[str, ...]:
    """``"100,101,102"`` (documented), a list of numbers, or one number."""
    if isinstance(value, list):
        items = [text_of(item, where) for item in value]
    elif value is None:
        items = []
    else:
        items = re.split(r"[,;\s]+", text_of(value, where))
    return tuple(dict.fromkeys(item for item in items if item))
