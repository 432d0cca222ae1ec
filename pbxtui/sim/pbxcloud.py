"""Simulator of MiRTA PBX's legacy ``proxyapi.php`` (sold as "PBX Cloud").

One endpoint, ``/pbx/proxyapi.php``, dispatching on ``reqtype`` (case-insensitive) with the
``info`` and ``action`` sub-selectors, the way the real one behaves (vendor-notes §1):

- always HTTP 200; errors are short text bodies, the bad-credentials one verbatim;
- the Content-Type follows ``format``, not the body (``application/json`` even for an error
  text when ``format=json``, ``text/html; charset=UTF-8`` otherwise);
- ``format=plain`` (the default) is pipe-delimited; other formats answer 0 bytes;
- DB-row JSON (BLFS) carries every value twice, under a positional key and its name;
- ``INFO&info=agents`` rows have numeric keys only; peer and agent ids are ``<ext>-<TENANT>``;
- empty answers are 0 bytes, ``]`` or ``null`` depending on the operation;
- ``HELP`` answers the whole syntax index; ``COUNTPEERS`` a count per node and their total;
- history: ``INFO`` ``SIMPLECDRS`` and ``cdrs`` (JSON with positional keys, or CSV) list the
  calls the scenario ended, in the tenant's local time (``pbxcloud_cdrs``); ``INFO
  recording`` answers a WAV of an answered call, ``No id specified`` without an id;
- ``VOICEMAIL`` lists mailboxes and messages, sends a message's audio and deletes it
  (``voicemail``); files are streamed, switchable to broken ones (``media``).

Formats nobody has published (CHANNELS above all) are INFERENCE: each plausible variant sits
behind a ``Quirks`` switch so the driver can be proven against all of them.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Literal
from urllib.parse import parse_qsl

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.audio import WAV_TYPE, wav_bytes
from pbxtui.sim.cdrs import SimClock, find
from pbxtui.sim.faults import FaultMiddleware, Faults
from pbxtui.sim.media import MediaQuirks, media_response
from pbxtui.sim.pbxcloud_cdrs import (
    CDRS_FIELDS,
    CdrBook,
    csv_text,
    fetch_both,
    peer_counts,
    pipe_rows,
)
from pbxtui.sim.scenario import (
    CallPhase,
    LegState,
    Scenario,
    ScenarioSpec,
    SimAgent,
    SimCall,
    SimLeg,
    asterisk_channel,
)
from pbxtui.sim.voicemail import VoicemailStore

PATH = "/pbx/proxyapi.php"
TOO_BAD = "Too bad... you mistaken the security api key."
WRONG_TENANT = "Wrong or missing tenant"
JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=UTF-8"
JSONP_NAME = re.compile(r"[A-Za-z_$][\w$.]{0,63}")

DEFAULT_ACKS: dict[str, str] = {
    "HANGUP": "Channel Hungup",
    "TRANSFER": "Redirect successful",
    "ATXTRANSFER": "Atxfer successfully queued",
    "PAUSE": "Interface paused",
    "UNPAUSE": "Interface unpaused",
    "NO_CHANNEL": "No such channel",
    "NO_AGENT": "Interface not found",
    "SETFLOW": "Flow status set",
    "QUEUERESET": "Queue statistics reset",
    "CAMPAIGN": "Campaign updated",
    "REBOOT": "Reboot sent",
    "UNREGISTER": "Peer unregistered",
    "NO_FLOW": "Flow not found",
    "NO_QUEUE": "Queue not found",
    "NO_CAMPAIGN": "Campaign not found",
    "NOT_ON_DEMAND": "Start and stop affect only on-demand campaigns",
    "NO_PEER": "Peer not found",
}

# `core show channels concise` state words and the AMI numeric ChannelState they go with.
LEG_STATE_WORDS = {
    LegState.RING: ("Ring", 4),
    LegState.RINGING: ("Ringing", 5),
    LegState.UP: ("Up", 6),
}

QUEUE_FIELDS = (
    "AGENTSAVAILABLE", "AGENTSPAUSED", "AGENTSFREE", "AGENTSONLINE", "CALLSINQUEUE",
    "SERVICELEVEL", "FIRSTWAITING", "SECONDWAITING", "THIRDWAITING", "CALLSONLINE", "TALKTIME",
    "HOLDTIME", "ANSWEREDCALLS", "CALLSRECEIVED", "REALANSWEREDCALLS", "TRANSFEREDCALLS",
    "ABANDONEDCALLS", "TIMEDOUTCALLS", "QUEUECAR", "EXITWITHKEYCALLS", "MAXHOLDTIME",
    "AVERAGETALKTIME", "AVERAGEHOLDTIME",
)  # fmt: skip

PEER_FIELDS = (
    "node", "Name", "Host", "Dyn", "Forcerport", "Comedia", "ACL", "Port", "Status",
    "Description", "Realtime",
)  # fmt: skip

# Only a handful of the 148 INFO extensions fields are known by name (vendor-notes A-51); the
# rest of the record is padding to the observed width, so a driver that copies rows
# wholesale carries the same weight (and the same secrets) it would in production.
EXTENSION_FIELDS = (
    "ex_id", "ex_te_id", "ex_number", "ex_name", "ex_tech", "password", "ex_webpassword",
    "ex_email", "ex_callerid", "ex_callerid_name", "ex_outbound_callerid", "ex_language",
    "ex_context", "ex_codecs", "ex_nat", "ex_dtmfmode", "ex_qualify", "ex_transport",
    "ex_callgroup", "ex_pickupgroup", "ex_busylimit", "ex_ringtimeout", "ex_recording",
    "ex_voicemail", "ex_vm_email", "ex_dnd", "ex_cfu", "ex_cfb", "ex_cfna", "ex_followme",
    "ex_department", "ex_comment", "ex_disabled", "ex_created", "ex_modified",
)  # fmt: skip
EXTENSION_STATE_FIELDS = ("st_extension", "st_state", "st_timestamp", "st_peername")
EXTENSION_WIDTH = 148
NO_ID = "No id specified"  # 14 bytes, text/html whatever the format


def help_text() -> str:
    """What ``reqtype=HELP`` answers: the syntax index (vendor-docs/pbx-cloud-api.txt)."""
    return resources.files("pbxtui.sim").joinpath("pbxcloud_help.txt").read_text("utf-8")


@dataclass
class Quirks:
    """Each switch is one real or plausible behaviour; defaults follow vendor-notes §1."""

    extensions_shape: Literal["array", "object"] = "array"  # object: keyed by ex_id
    channels_shape: Literal["array", "object"] = "array"  # object: keyed by UniqueID
    # concise: `core show channels concise` names, Duration in seconds; ami: CoreShowChannel
    # names (Linkedid, BridgeId, ChannelStateDesc, CallerIDNum, Exten…), Duration HH:MM:SS.
    channels_style: Literal["concise", "ami"] = "concise"
    channels_linkedid: bool = True
    channels_bridge: Literal["bridgedto", "bridgeid"] = "bridgedto"  # concise style only
    channels_empty: Literal["zero", "bracket", "null", "emptylist"] = "emptylist"
    # How a held party shows: its application becomes MusicOnHold, or it keeps its
    # application and carries an OnHold field. Nothing is published either way.
    held_as: Literal["application", "flag"] = "application"
    peers_shape: Literal["array", "object"] = "array"  # object: keyed by Name
    duplicate_positional_keys: bool = True  # BLFS rows as PHP FETCH_BOTH
    ack_style: Literal["plain", "json", "empty"] = "plain"  # HANGUP/TRANSFER/ATXTRANSFER/AGENT
    ack_texts: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ACKS))
    json_content_type_for_errors: bool = True  # False: error texts as text/html
    json_as_html: bool = False  # JSON bodies served as text/html
    auth_refusal: Literal["key", "tenant"] = "key"  # which refusal text bad credentials get
    originate_answer_after: float = 3.0  # seconds until a click2call's source answers
    channels_latency_without_nodename: float = 0.0  # 1com: ~7 s without nodename
    # Asterisk's Queue() answers a caller before playing music on hold, so a waiting caller's
    # channel is Up; with Queue's `r` option (ringback instead of music) it stays Ring.
    queue_answers: bool = True
    # Texts (refusals, acknowledgements) end with the request as received, credentials and
    # all, percent-encoded as sent: what a debugging vendor or a PHP notice does.
    echo_url: bool = False
    # INFO extensions rows: named keys only, named and positional (FETCH_BOTH, as some
    # deployments send: MiRTA's own pages read item[132]), or positional arrays only.
    extensions_keys: Literal["named", "both", "positional"] = "named"
    extra_nodes: tuple[str, ...] = ("pbx22",)  # peers spread over the nodename and these
    recording_type: str = WAV_TYPE
    # What these simulators answered before real clients were run against them, kept as
    # switches: HELP's title line only; COUNTPEERS, CDRs and recordings as 0 bytes.
    help_title_only: bool = False
    countpeers_empty: bool = False
    cdrs_empty: bool = False
    recording_empty: bool = False
    balance: str = "123.45"  # INFO balance: a bare number whatever the format


@dataclass(frozen=True)
class Answer:
    """An operation's result in both formats; ``error`` bodies are text in any format."""

    json_text: str
    plain: str
    error: bool = False
    csv: str | None = None  # the CSV form, for the operations that have one
    binary: bytes | None = None  # a file (a recording), whatever the format
    content_type: str = ""  # set: this type whatever the format asked

    @staticmethod
    def data(value: Any, plain: str) -> Answer:
        return Answer(json.dumps(value, separators=(",", ":")), plain)

    @staticmethod
    def text(body: str, *, error: bool = True) -> Answer:
        return Answer(body, body, error)


EMPTY = Answer("", "")


@dataclass(frozen=True)
class ChannelFacts:
    """What one channel row says, before it is named in one style or the other."""

    channel: str
    state: LegState
    caller: str
    caller_name: str
    connected: str
    context: str
    exten: str
    application: str
    data: str
    seconds: int
    unique_id: str
    linked_id: str
    bridge: str


def _stamp(moment: float) -> str:
    """MiRTA's timestamp format (rendered in UTC here)."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _pipe(values: list[Any]) -> str:
    return "|".join(str(v) for v in values) + "|"


class PbxCloudSim:
    """The proxyapi.php operations over one scenario."""

    def __init__(
        self,
        scenario: Scenario,
        quirks: Quirks,
        *,
        tenant: str,
        key: str,
        nodename: str,
        clock: SimClock | None = None,
    ) -> None:
        self.scenario = scenario
        self.quirks = quirks
        self.tenant = tenant
        self.key = key
        self.nodename = nodename
        self.nodes = (nodename, *(n for n in quirks.extra_nodes if n != nodename))
        self.clock = clock or SimClock()
        self.cdr_book = CdrBook(scenario, tenant, self.clock)
        self.voicemail = VoicemailStore(scenario, tenant)
        self.media = MediaQuirks()
        self.started = scenario.now
        self.passwords = {n: secrets.token_hex(10) for n in scenario.extensions}
        self.web_passwords = {n: secrets.token_hex(10) for n in scenario.extensions}
        self._lamps: dict[str, tuple[str, float]] = {}
        self.echo = ""  # " (GET /path?query)" of the request being answered, with echo_url
        self.operations: dict[str, Callable[[Mapping[str, str]], Answer]] = {
            "CHANNELS": self.channels,
            "PEERS": self.peers,
            "BLFS": self.blfs,
            "INFO": self.info,
            "AGENT": self.agent,
            "HANGUP": self.hangup,
            "TRANSFER": self.transfer,
            "ATXTRANSFER": self.atxtransfer,
            "DIAL": self.dial,
            "HELP": self.help,
            "COUNTPEERS": self.countpeers,
            "SIMPLECDRS": self.info_simplecdrs,
            "VOICEMAIL": self.voicemail_request,
        }
        self.infos: dict[str, Callable[[Mapping[str, str]], Answer]] = {
            "queues": self.info_queues,
            "queue": self.info_queue,
            "agents": self.info_agents,
            "extensions": self.info_extensions,
            "simplecdrs": self.info_simplecdrs,
            "cdrs": self.info_cdrs,
            "recording": self.info_recording,
        }
        # The extras (SETFLOW, QUEUERESET, CAMPAIGN, REBOOT, UNREGISTER, COUNTCHANNELS,
        # INFO balance) read this module's Answer: imported here, once it exists.
        from pbxtui.sim.pbxcloud_extras import CloudExtras

        self.extras = CloudExtras(self, quirks.balance)
        self.operations.update(self.extras.operations())
        self.infos["balance"] = self.extras.info_balance

    # -- naming ---------------------------------------------------------------------------------
    def peer_name(self, number: str) -> str:
        return f"{number}-{self.tenant}"

    def strip_tenant(self, name: str) -> str:
        """``205-ACME`` or bare ``205`` → ``205``."""
        suffix = f"-{self.tenant}"
        return name[: -len(suffix)] if name.upper().endswith(suffix.upper()) else name

    # -- states ---------------------------------------------------------------------------------
    def device_states(self) -> dict[str, str]:
        """Asterisk device state of every extension (one pass over the calls)."""
        legs: dict[str, set[LegState]] = {}
        for _, leg in self.scenario.legs():
            if leg.internal:
                legs.setdefault(leg.party, set()).add(leg.state)
        states: dict[str, str] = {}
        for number, ext in self.scenario.extensions.items():
            seen = legs.get(number, set())
            if not ext.registered:
                states[number] = "UNAVAILABLE"
            elif not seen:
                states[number] = "NOT_INUSE"
            elif seen == {LegState.RINGING}:
                states[number] = "RINGING"
            elif LegState.RINGING in seen:
                states[number] = "RINGINUSE"
            else:
                states[number] = "INUSE"
        return states

    def lamp_since(self, name: str, state: str, changed: float | None = None) -> float:
        """When ``name`` entered ``state``: ``changed`` when the scenario knows it, else
        remembered across requests from the first request that saw the state."""
        known = self._lamps.get(name)
        if changed:
            known = (state, changed)
        elif known is None:
            # Lamps already in their state when the simulator started: a settled past.
            known = (state, self.started - 60 * (sum(map(ord, name)) % 47))
        elif known[0] != state:
            known = (state, self.scenario.now)
        self._lamps[name] = known
        return known[1]

    # -- CHANNELS -------------------------------------------------------------------------------
    def channels(self, params: Mapping[str, str]) -> Answer:
        wanted = params.get("nodename", "")
        rows: list[dict[str, Any]] = []
        if not wanted or wanted == self.nodename:
            for call in list(self.scenario.calls.values()):
                rows += [self.channel_row(call, leg) for leg in call.legs]
        if not rows:
            empty = {
                "zero": EMPTY,
                "bracket": Answer.text("]", error=False),
                "null": Answer("null", ""),
                "emptylist": Answer("[]", ""),
            }
            return empty[self.quirks.channels_empty]
        plain = "\n".join(_pipe(list(row.values())) for row in rows)
        if self.quirks.channels_shape == "object":
            return Answer.data({self.uniqueid_of(row): row for row in rows}, plain)
        return Answer.data(rows, plain)

    @staticmethod
    def uniqueid_of(row: Mapping[str, Any]) -> str:
        return str(row.get("UniqueID") or row.get("Uniqueid") or row.get("Channel"))

    def parties(self, call: SimCall) -> tuple[str, str, str]:
        """(calling number, calling name, dialled number) as the channels show them.

        A click2call rings the source first; the scenario records it with the destination as
        ``caller``, but on the wire the source's channel carries the source's own number and
        dials the destination.
        """
        if call.originate_id:
            return call.callee, "", call.caller
        return call.caller, call.caller_name, call.callee

    @staticmethod
    def held(call: SimCall, leg: SimLeg) -> bool:
        return call.phase is CallPhase.HELD and leg.party != call.transferer

    def application(self, call: SimCall, leg: SimLeg, first: bool) -> tuple[str, str]:
        tech, tenant = "PJSIP", self.tenant
        if self.held(call, leg) and self.quirks.held_as == "application":
            return "MusicOnHold", "default"
        if not first:
            return ("AppQueue" if call.queue else "AppDial"), "(Outgoing Line)"
        if call.queue:
            options = "t" if self.quirks.queue_answers else "rt"
            return "Queue", f"{call.queue},{options},,,300"
        if call.originate_id and leg.state is not LegState.UP:
            return "AppDial2", "(Outgoing Line)"
        other = call.other_leg(leg)
        target = other.party if other is not None else self.parties(call)[2]
        if target in self.scenario.extensions:
            return "Dial", f"{tech}/{target}-{tenant},30,tT"
        return "Dial", f"{tech}/{target}@trunk-{tenant},60,tT"

    def bridge_of(self, call: SimCall, leg: SimLeg) -> str:
        """The bridge (peer channel or bridge id), only once every leg is up, as in Asterisk."""
        if len(call.legs) < 2 or any(x.state is not LegState.UP for x in call.legs):
            return ""
        if self.quirks.channels_style == "ami" or self.quirks.channels_bridge == "bridgeid":
            return str(uuid.UUID(int=(call.id * 2654435761 + self.scenario.spec.seed) % 2**128))
        other = call.other_leg(leg)
        return other.channel if other is not None else ""

    def leg_state(self, call: SimCall, leg: SimLeg) -> LegState:
        """The scenario's caller waits in a queue ringing; Asterisk's Queue() has answered it."""
        in_queue = bool(call.queue) and leg is call.legs[0] and leg.state is LegState.RING
        return LegState.UP if in_queue and self.quirks.queue_answers else leg.state

    def channel_row(self, call: SimCall, leg: SimLeg) -> dict[str, Any]:
        first = leg is call.legs[0]
        number, name, dialled = self.parties(call)
        other = call.other_leg(leg)
        app, data = self.application(call, leg, first)
        facts = ChannelFacts(
            channel=leg.channel,
            state=self.leg_state(call, leg),
            caller=number,
            caller_name=name,
            connected=(other.party if other is not None else dialled) if first else number,
            context=f"{self.tenant}-{'internal' if call.legs[0].internal else 'from-trunk'}",
            exten=dialled if first else leg.party,
            application=app,
            data=data,
            seconds=max(0, int(self.scenario.now - leg.created)),
            unique_id=leg.unique_id,
            linked_id=call.linked_id if self.quirks.channels_linkedid else "",
            bridge=self.bridge_of(call, leg),
        )
        row = (
            self.ami_row(facts) if self.quirks.channels_style == "ami" else self.concise_row(facts)
        )
        if self.quirks.held_as == "flag":
            row["OnHold"] = "1" if self.held(call, leg) else "0"
        return row

    def ami_row(self, leg: ChannelFacts) -> dict[str, Any]:
        """Named like AMI's CoreShowChannel event; Duration as HH:MM:SS."""
        word, code = LEG_STATE_WORDS[leg.state]
        row: dict[str, Any] = {
            "Channel": leg.channel,
            "ChannelState": str(code),
            "ChannelStateDesc": word,
            "CallerIDNum": leg.caller,
            "CallerIDName": leg.caller_name,
            "ConnectedLineNum": leg.connected,
            "AccountCode": self.tenant,
            "Context": leg.context,
            "Exten": leg.exten,
            "Priority": "1",
            "Uniqueid": leg.unique_id,
            "Application": leg.application,
            "ApplicationData": leg.data,
            "Duration": _hms(leg.seconds),
            "BridgeId": leg.bridge,
        }
        if leg.linked_id:
            row["Linkedid"] = leg.linked_id
        return row

    def concise_row(self, leg: ChannelFacts) -> dict[str, Any]:
        """Named after `core show channels concise` columns, plus ``node``; seconds."""
        bridge_key = "BridgeID" if self.quirks.channels_bridge == "bridgeid" else "BridgedTo"
        row: dict[str, Any] = {
            "node": self.nodename,
            "Channel": leg.channel,
            "Context": leg.context,
            "Extension": leg.exten,
            "Priority": "1",
            "State": LEG_STATE_WORDS[leg.state][0],
            "Application": leg.application,
            "Data": leg.data,
            "CallerID": leg.caller,
            "CallerIDName": leg.caller_name,
            "Accountcode": self.tenant,
            "Duration": str(leg.seconds),
            bridge_key: leg.bridge or "(None)",
            "UniqueID": leg.unique_id,
        }
        if leg.linked_id:
            row["LinkedID"] = leg.linked_id
        return row

    # -- HELP, COUNTPEERS -----------------------------------------------------------------------
    def help(self, params: Mapping[str, str]) -> Answer:
        if self.quirks.help_title_only:
            return Answer.text("PBX Cloud - API Syntax index\n", error=False)
        return Answer.text(help_text(), error=False)

    def node_of(self, index: int) -> str:
        return self.nodes[index % len(self.nodes)]

    def countpeers(self, params: Mapping[str, str]) -> Answer:
        """Registered peers per node, and their total (A-70)."""
        if self.quirks.countpeers_empty:
            return EMPTY
        nodes = dict.fromkeys(self.nodes, 0)
        for index, ext in enumerate(self.scenario.extensions.values()):
            if ext.registered:
                nodes[self.node_of(index)] += 1
        nodes[self.nodes[0]] += 1  # the trunk
        counts = peer_counts(nodes)
        plain = _pipe([f"{node}:{count}" for node, count in counts.items()])
        return Answer.data(counts, plain)

    # -- PEERS ----------------------------------------------------------------------------------
    def peers(self, params: Mapping[str, str]) -> Answer:
        rows = [self.peer_row(number, i) for i, number in enumerate(self.scenario.extensions)]
        rows.append(self.trunk_row())
        plain = "\n".join([_pipe(list(PEER_FIELDS))] + [_pipe(list(r.values())) for r in rows])
        if self.quirks.peers_shape == "object":
            return Answer.data({row["Name"]: row for row in rows}, plain)
        return Answer.data(rows, plain)

    def peer_row(self, number: str, index: int = 0) -> dict[str, Any]:
        ext = self.scenario.extensions[number]
        name, node = self.peer_name(number), self.node_of(index)
        if ext.registered:
            word = "LAGGED" if ext.latency_ms >= 300 else "OK"
            return self.peer(name, ext.host, f"{word} ({ext.latency_ms} ms)", ext.name, node)
        if number[-1:] in "13579":
            return self.peer(name, "(Unspecified)", "UNKNOWN", ext.name, node)
        # Registered once, no longer answering its qualify.
        return self.peer(name, ext.host, "UNREACHABLE", ext.name, node)

    def trunk_row(self) -> dict[str, Any]:
        return self.peer(f"trunk-{self.tenant}", "198.51.100.7", "OK (12 ms)", "SIP trunk")

    def peer(
        self, name: str, host: str, status: str, description: str, node: str = ""
    ) -> dict[str, Any]:
        """A `sip show peers` row plus ``node`` (A-71)."""
        port = "0" if host.startswith("(") else "5060"
        values = (node or self.nodename, name, host, "D", "Auto (No)", "No", " ", port, status)
        return dict(zip(PEER_FIELDS, (*values, description, "Cached RT"), strict=True))

    # -- BLFS -----------------------------------------------------------------------------------
    def blfs(self, params: Mapping[str, str]) -> Answer:
        lamps: list[tuple[str, str, float]] = []
        for number, state in self.device_states().items():
            name = self.peer_name(number)
            lamps.append((name, state, self.lamp_since(name, state)))
        for flow in self.scenario.flows.values():
            since = self.lamp_since(flow.number, flow.state, flow.changed)
            lamps.append((flow.number, flow.state, since))
        rows: list[dict[str, Any]] = []
        lines = []
        for name, state, since in lamps:
            named = {"st_extension": name, "st_state": state, "st_timestamp": _stamp(since)}
            row: dict[str, Any] = {}
            for position, (key, value) in enumerate(named.items()):
                if self.quirks.duplicate_positional_keys:
                    row[str(position)] = value
                row[key] = value
            rows.append(row)
            lines.append(_pipe([v for value in named.values() for v in (value, value)]))
        return Answer.data(rows, "\n".join(lines))

    # -- INFO -----------------------------------------------------------------------------------
    def info(self, params: Mapping[str, str]) -> Answer:
        handler = self.infos.get(params.get("info", "").lower())
        return handler(params) if handler is not None else EMPTY

    def info_queues(self, params: Mapping[str, str]) -> Answer:
        queues = {q.id: q.name for q in self.scenario.queues.values()}
        plain = _pipe([f"{qid}: {name}" for qid, name in queues.items()])
        return Answer.data(queues or [], plain if queues else "")

    def info_queue(self, params: Mapping[str, str]) -> Answer:
        queue_id = params.get("id", "")
        if not queue_id:
            return Answer.text("No id specified")
        if queue_id not in self.scenario.queues:
            return EMPTY
        values = self.queue_values(queue_id)
        return Answer.data(values, _pipe(list(values.values())))

    def queue_values(self, queue_id: str) -> dict[str, str]:
        scenario = self.scenario
        queue = scenario.queues[queue_id]
        stats = queue.stats
        members = [a for a in scenario.agents if a.queue_id == queue_id]
        states = [scenario.agent_state(a) for a in members]
        online = [a for a, s in zip(members, states, strict=True) if s != "unavailable"]
        paused = sum(1 for a in online if a.paused)
        waiting = scenario.queue_waiting(queue_id)
        waits = [int(scenario.now - c.started) for c in waiting[:3]] + [0, 0, 0]
        talking = sum(
            1 for c in scenario.calls.values() if c.queue == queue_id and c.answered is not None
        )
        answered = stats.answered
        level = 100.0 * stats.answered_in_sla / answered if answered else 0.0
        values: dict[str, int | str] = {
            "AGENTSAVAILABLE": len(online) - paused,
            "AGENTSPAUSED": paused,
            "AGENTSFREE": states.count("available"),
            "AGENTSONLINE": len(online),
            "CALLSINQUEUE": len(waiting),
            "SERVICELEVEL": f"{level:.2f}",
            "FIRSTWAITING": waits[0],
            "SECONDWAITING": waits[1],
            "THIRDWAITING": waits[2],
            "CALLSONLINE": talking,
            "TALKTIME": stats.talk_time,
            "HOLDTIME": stats.hold_time,
            "ANSWEREDCALLS": answered,
            "CALLSRECEIVED": stats.received,
            "REALANSWEREDCALLS": answered,
            "TRANSFEREDCALLS": stats.transferred,
            "ABANDONEDCALLS": stats.abandoned,
            "TIMEDOUTCALLS": 0,
            "QUEUECAR": 0,
            "EXITWITHKEYCALLS": 0,
            "MAXHOLDTIME": stats.max_hold,
            "AVERAGETALKTIME": stats.talk_time // answered if answered else 0,
            "AVERAGEHOLDTIME": stats.hold_time // answered if answered else 0,
        }
        return {name: str(values[name]) for name in QUEUE_FIELDS}

    def info_agents(self, params: Mapping[str, str]) -> Answer:
        queue_id = params.get("queue", "")
        if queue_id and queue_id not in self.scenario.queues:
            return Answer("null", "")
        devices = self.device_states()
        rows: dict[str, dict[str, Any]] = {}
        for agent in self.scenario.agents:
            if queue_id in ("", agent.queue_id):
                rows[self.peer_name(agent.extension)] = self.agent_row(agent, devices)
        if not rows:
            return Answer("null", "")
        plain = _pipe([f"{agent_id}:{row['1']}" for agent_id, row in rows.items()])
        return Answer.data(rows, plain)

    def agent_row(self, agent: SimAgent, devices: Mapping[str, str]) -> dict[str, Any]:
        """Numeric keys only, as observed (A-43): 0,1,2,4,5,6,7,8,10,11.

        INFERENCE on meanings: "0" penalty (a number), "1" the queue membership status
        (available / paused / unavailable), "2" the device state, "4" the pause reason and
        "5" when the pause began (both empty in the observed sample of an unpaused agent),
        "6" to "8" unknown (empty), "10" and "11" the agent id.
        """
        agent_id = self.peer_name(agent.extension)
        status = "paused" if agent.paused else "available" if agent.logged_in else "unavailable"
        since = agent.paused_since
        return {
            "0": 0,
            "1": status,
            "2": devices.get(agent.extension, "INVALID"),
            "4": agent.pause_reason if agent.paused else "",
            "5": _stamp(since) if agent.paused and since is not None else "",
            "6": "",
            "7": "",
            "8": "",
            "10": agent_id,
            "11": agent_id,
        }

    def info_extensions(self, params: Mapping[str, str]) -> Answer:
        devices = self.device_states()
        records = [self.extension_record(i, n, devices[n]) for i, n in enumerate(devices)]
        # The plain form really does list the SIP password.
        columns = ("ex_number", "ex_name", "ex_tech", "st_state", "st_peername", "password")
        plain_rows = ["|".join(str(r[c]) for c in columns) for r in records]
        plain = "\n".join(["Number|Name|Tech|State|Username|Password", *plain_rows])
        keys = self.quirks.extensions_keys
        shaped: list[Any] = records
        if keys == "both":
            shaped = fetch_both(records, positional=True)
        elif keys == "positional":
            shaped = [list(r.values()) for r in records]
        if self.quirks.extensions_shape == "object":
            return Answer.data(
                {r["ex_id"]: row for r, row in zip(records, shaped, strict=True)}, plain
            )
        return Answer.data(shaped, plain)

    def extension_record(self, index: int, number: str, state: str) -> dict[str, Any]:
        ext = self.scenario.extensions[number]
        peer = self.peer_name(number)
        known: dict[str, Any] = {
            "ex_id": str(3272 + index),
            "ex_te_id": "41",
            "ex_number": number,
            "ex_name": ext.name,
            "ex_tech": "PJSIP",
            "password": self.passwords[number],
            "ex_webpassword": self.web_passwords[number],
            "ex_email": f"{number}@example.com",
            "ex_callerid": number,
            "ex_callerid_name": ext.name,
            "ex_context": f"{self.tenant}-internal",
            "ex_codecs": "alaw,ulaw,g722",
            "ex_qualify": "yes",
            "ex_ringtimeout": "30",
            "ex_disabled": "0",
        }
        record = {name: known.get(name, "") for name in EXTENSION_FIELDS}
        for n in range(EXTENSION_WIDTH - len(EXTENSION_FIELDS) - len(EXTENSION_STATE_FIELDS)):
            record[f"ex_opt_{n:03d}"] = ""
        record.update(
            st_extension=peer,
            st_state=state,
            st_timestamp=_stamp(self.lamp_since(peer, state)),
            st_peername=peer,
        )
        return record

    # -- history ----------------------------------------------------------------------------------
    def info_simplecdrs(self, params: Mapping[str, str]) -> Answer:
        """No rows: 0 bytes (A-49)."""
        if self.quirks.cdrs_empty:
            return EMPTY
        rows = [self.cdr_book.simple_row(f) for f in self.cdr_book.select(params)]
        if not rows:
            return EMPTY
        both = fetch_both(rows, self.quirks.duplicate_positional_keys)
        return Answer.data(both, pipe_rows(rows))

    def info_cdrs(self, params: Mapping[str, str]) -> Answer:
        """No rows: a lone "]" in JSON (A-50); CSV has its header line whatever."""
        if self.quirks.cdrs_empty:
            return EMPTY
        rows = [self.cdr_book.cdrs_row(f) for f in self.cdr_book.select(params)]
        table = csv_text(CDRS_FIELDS, rows)
        if not rows:
            return Answer("]", "", csv=table)
        both = fetch_both(rows, self.quirks.duplicate_positional_keys)
        return Answer(json.dumps(both, separators=(",", ":")), pipe_rows(rows), csv=table)

    def info_recording(self, params: Mapping[str, str]) -> Answer:
        """An answered call's audio by its unique id or originate id; 0 bytes for any other
        id (as CDR answers an unknown uniqueid, A-42); ``No id specified`` without one."""
        ident = params.get("id", "").strip()
        if not ident:
            return Answer(NO_ID, NO_ID, error=True, content_type=HTML_TYPE)
        facts = find(self.scenario, ident)
        if self.quirks.recording_empty or facts is None or not facts.recorded:
            return Answer("", "", content_type=HTML_TYPE)
        audio = wav_bytes(facts.billable, seed=facts.seq)
        return Answer("", "", binary=audio, content_type=self.quirks.recording_type)

    # -- VOICEMAIL ------------------------------------------------------------------------------
    def voicemail_request(self, params: Mapping[str, str]) -> Answer:
        action = params.get("action", "").lower()
        store = self.voicemail
        positional = self.quirks.duplicate_positional_keys
        if action == "list":
            rows = store.box_rows()
            return Answer.data(fetch_both(rows, positional), pipe_rows(rows)) if rows else EMPTY
        if action == "messages":
            mailbox = self.strip_tenant(params.get("mailbox", ""))
            if not mailbox:
                return Answer.text("No mailbox specified")
            rows = store.message_rows(mailbox)
            return Answer.data(fetch_both(rows, positional), pipe_rows(rows)) if rows else EMPTY
        msgid = params.get("msgid", "").strip()
        if action in ("message", "delete") and not msgid:
            return Answer.text("No msgid specified")
        if action == "message":
            message = store.messages.get(msgid)
            if message is None:
                return Answer("", "", content_type=HTML_TYPE)  # as an unknown recording
            return Answer("", "", binary=message.audio, content_type=WAV_TYPE)
        if action == "delete":
            done = store.delete(msgid)
            word, text = ("Success", "Message deleted") if done else ("Error", "No such message")
            if self.quirks.ack_style == "json":
                body = json.dumps({"Response": word, "Message": text})
                return Answer(body, body, error=not done)
            return Answer.text(f"{word}|{text}|", error=not done)
        return EMPTY

    # -- actions ----------------------------------------------------------------------------------
    def ack(self, key: str, ok: bool) -> Answer:
        message = self.quirks.ack_texts.get(key, DEFAULT_ACKS.get(key, "")) + self.echo
        word = "Success" if ok else "Error"
        style = self.quirks.ack_style
        if style == "empty":
            return Answer.text("", error=not ok)
        if style == "json":
            body = json.dumps({"Response": word, "Message": message})
            return Answer(body, body, error=not ok)
        return Answer.text(f"{word}|{message}|", error=not ok)

    def acted(self, key: str, done: bool, failure: str = "NO_CHANNEL") -> Answer:
        return self.ack(key if done else failure, done)

    def hangup(self, params: Mapping[str, str]) -> Answer:
        channel = params.get("channel", "")
        extension = self.strip_tenant(params.get("extension", ""))
        if channel:
            return self.acted("HANGUP", self.scenario.hangup_channel(channel))
        if extension:
            return self.acted("HANGUP", self.scenario.hangup_extension(extension))
        return Answer.text("No channel specified")

    def transfer(self, params: Mapping[str, str]) -> Answer:
        channel, dest = params.get("channel", ""), params.get("dest", "")
        if not channel or not dest:
            return Answer.text("No channel or destination specified")
        return self.acted("TRANSFER", self.scenario.transfer(channel, dest))

    def atxtransfer(self, params: Mapping[str, str]) -> Answer:
        channel, dest = params.get("channel", ""), params.get("dest", "")
        if not channel or not dest:
            return Answer.text("No channel or destination specified")
        consult = self.scenario.attended_transfer(channel, dest)
        return self.acted("ATXTRANSFER", consult is not None)

    def agent(self, params: Mapping[str, str]) -> Answer:
        action = params.get("action", "").lower()
        extension = self.strip_tenant(params.get("extension", ""))
        if not extension:
            return Answer.text("No extension specified")
        queue = params.get("queue", "") or None
        if action == "pause":
            reason = params.get("pausereason", "")
            return self.acted("PAUSE", self.scenario.pause(extension, queue, reason), "NO_AGENT")
        if action == "unpause":
            return self.acted("UNPAUSE", self.scenario.unpause(extension, queue), "NO_AGENT")
        return EMPTY  # LISTQUEUES and the unknown: 0 bytes, as observed

    def dial(self, params: Mapping[str, str]) -> Answer:
        source = params.get("source") or params.get("exten") or ""
        dest = params.get("dest") or params.get("phone") or ""
        account = params.get("account", "")
        account_ext = "" if account.upper() in ("", "SOURCE") else self.strip_tenant(account)
        if source.upper() == "ACCOUNT":
            source = account_ext
        known = self.scenario.extensions
        unknown_account = bool(account_ext) and account_ext not in known
        # Short numbers are extensions: one that does not exist cannot be rung.
        if not source or unknown_account or (len(source) <= 6 and source not in known):
            return self.dialled(False, "Extension does not exist.", f"{secrets.randbits(56):014x}")
        if not dest:
            return self.dialled(False, "No destination specified", "")
        answer_after = self.quirks.originate_answer_after
        call = self.scenario.originate(source, dest, answer_after=answer_after)
        # The real API only queues the originate: a busy or unreachable source still gets
        # "Success" and simply never rings.
        originate_id = call.originate_id if call else f"{secrets.randbits(56):014x}"
        return self.dialled(True, "Originate successfully queued", originate_id)

    def dialled(self, ok: bool, message: str, originate_id: str) -> Answer:
        message += self.echo
        word = "Success" if ok else "Error"
        body = json.dumps(
            {"Response": word, "Message": message, "ID": originate_id}, separators=(",", ":")
        )
        return Answer(body, _pipe([word, message, originate_id]), error=not ok)

    # -- the HTTP side ----------------------------------------------------------------------------
    def authorised(self, params: Mapping[str, str]) -> bool:
        tenant = params.get("tenant", "")
        key = params.get("key", "")
        return tenant.upper() == self.tenant.upper() and secrets.compare_digest(
            key.encode(), self.key.encode()
        )

    def refusal(self) -> Answer:
        text = TOO_BAD if self.quirks.auth_refusal == "key" else WRONG_TENANT
        return Answer.text(text + self.echo)

    def respond(self, params: Mapping[str, str], *, refused: bool) -> Response:
        fmt = (params.get("format") or "plain").lower()
        if refused or not self.authorised(params):
            answer = self.refusal()
        else:
            operation = self.operations.get(params.get("reqtype", "").upper())
            answer = operation(params) if operation is not None else EMPTY
        if answer.binary is not None:
            return media_response(answer.binary, answer.content_type, self.media)
        if fmt == "csv" and answer.csv is not None:
            return Response(answer.csv.encode(), media_type="text/csv; charset=UTF-8")
        if fmt not in ("json", "plain") and not answer.error:
            return Response(b"", media_type=HTML_TYPE)  # xml, csv…: 0 bytes
        if answer.content_type:
            text = answer.json_text if fmt == "json" else answer.plain
            return Response(text.encode(), media_type=answer.content_type)
        body = answer.json_text if fmt == "json" else answer.plain
        callback = params.get("callback", "")
        if fmt == "json" and not answer.error and JSONP_NAME.fullmatch(callback):
            body = f"{callback}({body})"  # JSONP; pbxtui never asks for it
        return Response(body.encode(), media_type=self.media_type(fmt, answer))

    def media_type(self, fmt: str, answer: Answer) -> str:
        """Follows ``format``, not the body (A-40, A-42, A-48), unless a quirk says otherwise."""
        if fmt != "json":
            return HTML_TYPE
        if answer.error:
            return JSON_TYPE if self.quirks.json_content_type_for_errors else HTML_TYPE
        return HTML_TYPE if self.quirks.json_as_html else JSON_TYPE


async def _params(request: Request) -> dict[str, str]:
    """Query parameters, plus form fields on a POST (without python-multipart)."""
    params = {k.lower(): v for k, v in request.query_params.items()}
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", "replace")
        params.update({k.lower(): v for k, v in parse_qsl(body, keep_blank_values=True)})
    return params


def build(
    name: str,
    *,
    spec: ScenarioSpec | None = None,
    faults: Faults | None = None,
    quirks: Quirks | None = None,
    tenant: str = "ACME",
    key: str | None = None,
    nodename: str = "pbx21",
    timezone: str | None = None,
) -> SimulatedPbx:
    """A simulated MiRTA tenant ``tenant`` on node ``nodename``, served at ``PATH``, writing
    its times in ``timezone`` (None: this machine's)."""
    faults = faults or Faults()
    quirks = quirks or Quirks()
    key = key or secrets.token_urlsafe(18)
    namer = asterisk_channel("PJSIP", suffix=f"-{tenant}", trunk=f"trunk-{tenant}")
    scenario = (spec or ScenarioSpec()).scenario(channel_namer=namer)
    clock = SimClock(timezone)
    sim = PbxCloudSim(scenario, quirks, tenant=tenant, key=key, nodename=nodename, clock=clock)

    async def endpoint(request: Request) -> Response:
        params = await _params(request)
        if quirks.echo_url:
            sim.echo = f" ({request.method} {request.url.path}?{request.url.query})"
        scenario.advance()
        sim.extras.settle()
        delay = quirks.channels_latency_without_nodename
        if delay and params.get("reqtype", "").upper() == "CHANNELS" and not params.get("nodename"):
            await anyio.sleep(delay)
        return sim.respond(params, refused=faults.auth_refused)

    app = Starlette(routes=[Route(PATH, endpoint, methods=["GET", "POST"])])
    return SimulatedPbx(
        name=name,
        kind="pbxcloud",
        scenario=scenario,
        faults=faults,
        app=FaultMiddleware(app, faults),
        path=PATH,
        credentials={"tenant": tenant, "key": key, "nodename": nodename}
        | ({"timezone": timezone} if timezone else {}),
        quirks=quirks,
        extra={
            "sim": sim,
            "passwords": sim.passwords,
            "web_passwords": sim.web_passwords,
            "media": sim.media,
            "voicemail": sim.voicemail,
        },
    )
