"""PBX Cloud's ``CHANNELS`` answer read into calls: one row per channel, legs paired.

The format has never been published (vendor-notes §1.5), so rows are read under any of the
plausible names (``core show channels concise`` or AMI CoreShowChannel, any key case), and
the legs of one call are paired by LinkedID, else by bridge, else left alone.

An answer at NOC scale is 10,000 rows that mostly repeat the previous answer but for their
ticking durations. So the field layout is resolved once per key set (``reading.Layouts``),
each row's leg is reused while the row's other values are unchanged, and each call is reused
while its legs are: only the durations are read afresh. Everything here is pure but for the
``ChannelReader``'s memos, which are safe to use from a worker thread.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pbxtui.drivers.reading import (
    MEMO_LIMIT,
    Fields,
    Layout,
    Layouts,
    RowMemo,
    Unreadable,
    text_of,
)
from pbxtui.drivers.values import clock_seconds
from pbxtui.model import Call, CallState, Direction, utcnow

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
HELD_FLAGS = frozenset({"1", "yes", "true"})
EXTENSION_RE = re.compile(r"[0-9*#]+")
OTHER_TENANT_RE = re.compile(r"([0-9]+)-[A-Za-z][A-Za-z0-9_.]*")
SHORT_NUMBER_RE = re.compile(r"[0-9]{1,6}")
FOLD_RE = re.compile(r"[\s_-]")
CHANNEL_SUFFIX_RE = re.compile(r"-[0-9a-fA-F]{6,}(;\d+)?$")
INTERNAL_NUMBER_RE = re.compile(r"[0-9*#]{1,6}")
EXTERNAL_NUMBER_RE = re.compile(r"\+?[0-9]{7,}")

LEG_FIELDS = Fields(
    {
        "channel": ("channel", "name", "channelname"),
        "state": ("channelstatedesc", "state", "channelstate", "status"),
        "bridge": ("bridgedto", "bridgedchannel", "bridged_to", "bridgeid", "bridge_id"),
        "held": ("held", "onhold", "hold"),
        "application": ("application", "app", "appl"),
        "data": ("data", "applicationdata", "appdata"),
        "caller_id": ("callerid", "calleridnum", "callerid_num", "cid_num", "cidnum"),
        "caller_name": ("calleridname", "callerid_name", "cid_name"),
        "exten": ("extension", "exten"),
        "duration": ("duration", "durationseconds"),
        "unique_id": ("uniqueid", "unique_id"),
        "linked_id": ("linkedid", "linked_id"),
    },
    volatile={"duration"},
)


# -- names --------------------------------------------------------------------------------------
def strip_tenant(name: str, tenant: str) -> str:
    """``201-ACME`` → ``201``; any other name is returned as it is."""
    suffix = f"-{tenant}".upper()
    return name[: -len(suffix)] if tenant and name.upper().endswith(suffix) else name


def extension_number(peer: str, tenant: str) -> str:
    """The extension a peer name stands for (``201-ACME`` or ``201``), or "" for a trunk."""
    stripped = strip_tenant(peer, tenant)
    if stripped != peer and EXTENSION_RE.fullmatch(stripped):
        return stripped
    # Another tenant's code (an admin key sees every tenant) still names an extension.
    other = OTHER_TENANT_RE.fullmatch(stripped)
    if other:
        return other.group(1)
    return stripped if SHORT_NUMBER_RE.fullmatch(stripped) else ""


def channel_peer(channel: str) -> str:
    """``PJSIP/201-ACME-0000a1b2`` → ``201-ACME``; ``Local/201@ctx-00000012;1`` → ``201``."""
    _, _, rest = channel.partition("/")
    rest = rest or channel
    if "@" in rest:
        return rest.split("@", 1)[0]
    return CHANNEL_SUFFIX_RE.sub("", rest)


# -- legs ---------------------------------------------------------------------------------------
@dataclass(eq=False, slots=True)
class Leg:
    """One channel row, read; all but its duration, which ticks and is read every time.

    Compared and hashed by identity (in C: cheap): a leg is reused for as long as its row is
    unchanged, so the same object stands for the same row, and a call's legs are a cheap key
    for the call read from them. Never changed once made (not frozen only because a frozen
    dataclass costs several times as much to make, 10,000 times per answer at NOC scale).
    """

    channel: str
    state: str
    application: str
    data: str
    caller_id: str
    caller_name: str
    exten: str
    unique_id: str
    linked_id: str
    bridge: str
    held: bool
    number: str  # the extension this channel belongs to, "" for a trunk
    word: str  # the state folded: "Dialing Offhook" → "dialingoffhook"
    app: str  # the application in lower case
    # How likely it is the calling leg (lower first): the one its LinkedID names, then not
    # an outgoing line; ties go to the oldest, then the first listed.
    rank: tuple[bool, bool]


def read_leg(row: Mapping[str, Any], layout: Layout, tenant: str, position: int) -> Leg | None:
    """A row's leg, or None for a row that names no channel."""
    where = f"channel {position + 1}"
    text = layout.text
    channel = text(row, "channel", where)
    if not channel:
        return None
    state = text(row, "state", where)
    state = CHANNEL_STATE_CODES.get(state, state)
    bridge = text(row, "bridge", where)
    application = text(row, "application", where)
    app = application.lower()
    unique_id, linked_id = text(row, "unique_id", where), text(row, "linked_id", where)
    return Leg(
        channel=channel,
        state=state,
        application=application,
        data=text(row, "data", where),
        caller_id=text(row, "caller_id", where),
        caller_name=text(row, "caller_name", where),
        exten=text(row, "exten", where),
        unique_id=unique_id,
        linked_id=linked_id,
        bridge="" if bridge.lower() in NO_BRIDGE else bridge,
        held=text(row, "held", where, flags=True).lower() in HELD_FLAGS or app in HOLD_APPLICATIONS,
        number=extension_number(channel_peer(channel), tenant),
        word=FOLD_RE.sub("", state).lower(),
        app=app,
        rank=(not (linked_id and unique_id == linked_id), app in OUTGOING_APPLICATIONS),
    )


def leg_duration(row: Mapping[str, Any], layout: Layout, position: int) -> int:
    """``"123"``, ``123``, ``"2:03"``, ``"0:02:03"`` → seconds; 0 when unreadable (a figure
    shown, not a reason to fail the poll), but an object or a list there is a bad answer."""
    value = layout.first(row, "duration")
    if type(value) is str:  # the usual case first: read for every row of every answer
        return clock_seconds(value) or 0
    if type(value) is int and 0 <= value < 10**9:
        return value
    return clock_seconds(text_of(value, f"channel {position + 1} duration")) or 0


def group_legs(legs: Sequence[Leg]) -> list[list[int]]:
    """Positions of the legs of each call: joined by LinkedID, else through their bridge,
    else alone; calls in the order of their first leg."""
    if all(leg.linked_id for leg in legs) and len({leg.channel for leg in legs}) == len(legs):
        # The usual answer (every leg names its call, no channel listed twice): the general
        # joining below would come to the same groups, at several times the cost.
        by_call: dict[str, list[int]] = {}
        for position, leg in enumerate(legs):
            by_call.setdefault(leg.linked_id, []).append(position)
        return list(by_call.values())
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
    groups: dict[str, list[int]] = {}
    for position, leg in enumerate(legs):
        groups.setdefault(find("c:" + leg.channel), []).append(position)
    return list(groups.values())


# -- calls --------------------------------------------------------------------------------------
def _call_state(legs: Sequence[Leg]) -> CallState:
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
    calling = legs[0]
    if any(_dialling_out(leg, i == 0, calling) for i, leg in enumerate(legs)):
        return CallState.DIALING
    if any(word in RINGING_WORDS for word in words):
        return CallState.RINGING
    return CallState.OTHER


def _queued(legs: Sequence[Leg]) -> bool:
    """A caller in the Queue application with no agent's leg yet. Queue() answers the caller
    before its music on hold (Up); with its ``r`` option the caller hears ringback (Ring)."""
    caller, *agents = legs
    return not agents and caller.app == "queue" and caller.word in QUEUE_WAIT_WORDS


def _dialling_out(leg: Leg, primary: bool, calling: Leg) -> bool:
    if leg.number or leg.word not in RINGING_WORDS:
        return False
    return leg.app in OUTGOING_APPLICATIONS or (not primary and calling.word == "up")


def _direction(legs: Sequence[Leg]) -> Direction:
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
    if INTERNAL_NUMBER_RE.fullmatch(number):
        return Direction.INTERNAL
    return external if EXTERNAL_NUMBER_RE.fullmatch(number) else Direction.UNKNOWN


def _queue_of(legs: Sequence[Leg], tenant: str) -> str:
    for leg in legs:
        if leg.app == "queue":
            return strip_tenant(leg.data.split(",", 1)[0].strip(), tenant)
    return ""


def _bridged_name(leg: Leg) -> str:
    """The peer channel a lone leg's BridgedTo names (it may be on another node); a BridgeID
    names a bridge, not a channel, so it is no answer."""
    return leg.bridge if "/" in leg.bridge else ""


def build_call(
    legs: Sequence[Leg], *, pbx: str, tenant: str, duration: int, observed_at: datetime
) -> Call:
    """One call from its legs, the calling leg first."""
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
        duration=duration,
        queue=_queue_of(legs, tenant),
        direction=_direction(legs),
        extension=internal[-1] if internal else "",
        unique_id=primary.unique_id,
        bridged_channel=other.channel if other is not None else _bridged_name(primary),
        bridged_unique_id=other.unique_id if other is not None else "",
        application=primary.application,
        observed_at=observed_at,
    )


# -- an answer ----------------------------------------------------------------------------------
class ChannelReader:
    """Reads one PBX's successive CHANNELS answers, reusing what did not change.

    The leg memo maps (layout, a row's values but its duration) to the leg read from it; the
    call memo maps a call's legs, calling leg first, to the call built from them (duration
    and time of observation replaced on the way out). Both forget what the last answer did
    not use.
    """

    def __init__(self, *, pbx: str, tenant: str) -> None:
        self.pbx = pbx
        self.tenant = tenant
        self.layouts = Layouts(LEG_FIELDS)
        self.legs: RowMemo[Leg] = RowMemo()
        self.durations: dict[str, int] = {}  # duration text → seconds, bounded below
        # A call's legs, calling leg first → the call read from them (as last seen).
        self.calls: dict[tuple[Leg, ...], Call] = {}

    def read(
        self, rows: Sequence[Mapping[str, Any]], observed_at: datetime | None = None
    ) -> list[Call]:
        at = observed_at or utcnow()
        legs, durations = self._legs(rows)
        seen = self.calls
        kept: dict[tuple[Leg, ...], Call] = {}
        calls = []
        for group in group_legs(legs):
            if len(group) == 1:
                first = group[0]
                members: tuple[Leg, ...] = (legs[first],)
                duration = durations[first]
            elif len(group) == 2:
                a, b = group
                # The calling leg first: by rank, then the older, then the first listed.
                if (legs[b].rank, -durations[b]) < (legs[a].rank, -durations[a]):
                    a, b = b, a
                members = (legs[a], legs[b])
                duration = max(durations[a], durations[b])
            else:
                group.sort(key=lambda i: (legs[i].rank, -durations[i], i))
                members = tuple([legs[i] for i in group])
                duration = max([durations[i] for i in group])
            call = kept.get(members) or seen.get(members)
            if call is None:
                call = build_call(
                    members, pbx=self.pbx, tenant=self.tenant, duration=duration, observed_at=at
                )
            else:
                call = call.observed_again(duration, at)
            kept[members] = call
            calls.append(call)
        self.calls = kept if len(kept) <= MEMO_LIMIT else {}
        # Longest first, by when each started (a kept call's duration is as first observed).
        calls.sort(key=Call.implied_start)
        return calls

    def _legs(self, rows: Sequence[Mapping[str, Any]]) -> tuple[list[Leg], list[int]]:
        """Each row's leg (reused while its stable values are) and its duration.

        The hot loop of a 10,000-row answer, so written for speed: the layout and its memo
        tables are looked up again only when a row's keys differ from the row before's.
        """
        last, current = self.legs.begin()
        durations_of = self.durations
        if len(durations_of) > 20_000:
            durations_of.clear()
        legs: list[Leg] = []
        durations: list[int] = []
        previous_keys: tuple[object, ...] | None = None
        for position, row in enumerate(rows):
            keys = tuple(row)
            if keys != previous_keys:
                previous_keys = keys
                layout = self.layouts.of_keys(keys)
                seen = last.get(layout, {})
                kept = current.setdefault(layout, {})
                stable = layout.stable
                duration_keys = layout.keys["duration"]
            fingerprint: Hashable | None = stable(row) if stable is not None else ()
            try:
                leg = kept.get(fingerprint) or seen.get(fingerprint)
            except TypeError:  # a nested value: read in full, which names the mismatch
                fingerprint, leg = None, None
            if leg is None:
                leg = read_leg(row, layout, self.tenant, position)
                if leg is None:
                    continue
            if fingerprint is not None:
                kept[fingerprint] = leg
            legs.append(leg)
            value = row[duration_keys[0]] if duration_keys else None
            seconds = durations_of.get(value) if type(value) is str else None
            if seconds is None:
                seconds = leg_duration(row, layout, position)
                if type(value) is str and len(value) <= 16:
                    durations_of[value] = seconds
            durations.append(seconds)
        self.legs.commit(current)
        if rows and not legs:
            raise Unreadable("answered channels of which none names its channel")
        return legs, durations


def calls_from_rows(rows: Sequence[Mapping[str, Any]], *, pbx: str, tenant: str) -> list[Call]:
    """CHANNELS rows (any key case) → one Call per call, legs paired. ``Unreadable`` for a
    value of the wrong type."""
    return ChannelReader(pbx=pbx, tenant=tenant).read(rows)
