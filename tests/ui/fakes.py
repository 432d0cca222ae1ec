"""A static engine and a fixed fleet: deterministic state for Pilot and snapshot tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from pbxtui.config import Config, parse_config
from pbxtui.drivers.dialup import DialupDriver
from pbxtui.drivers.iexpbx import IexPbxDriver
from pbxtui.drivers.pbxcloud import PbxCloudDriver
from pbxtui.engine.policy import ActionPolicy
from pbxtui.model import (
    Action,
    ActionOutcome,
    ActionRequest,
    ActionResult,
    ActionStatus,
    Agent,
    AgentState,
    AttendedTransfer,
    BlfLamp,
    Call,
    CallState,
    CancelTransfer,
    Capabilities,
    Change,
    ChangeKind,
    CompleteTransfer,
    Consultation,
    Direction,
    DirectoryEntry,
    EngineUpdate,
    Extension,
    FetchDirectory,
    HealthState,
    LampKind,
    LineState,
    PbxHealth,
    PbxState,
    Peer,
    Queue,
    Record,
    Resource,
    ResourceState,
    SourceHealth,
)
from tests.conftest import toml_config

DIRECTORY = (
    ("Reception", "100"),
    ("Acme Supplies", "02124445566"),
    ("Dr. Yilmaz", "05321234567"),
)

NOW = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def frozen_clock() -> datetime:
    return NOW


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


CAPS = {driver.kind: driver.capabilities for driver in (PbxCloudDriver, IexPbxDriver, DialupDriver)}
"""What each vendor's driver offers: the console under test knows what the real one would."""


def fleet_config(
    *,
    read_only: Iterable[str] = (),
    protected: Iterable[str] = (),
    settings: dict[str, object] | None = None,
    names: Iterable[str] = ("hq", "istanbul", "branch", "eu"),
) -> Config:
    kinds = {"hq": "pbxcloud", "istanbul": "iexpbx", "branch": "dialup", "eu": "pbxcloud"}
    entries = []
    for name in names:
        kind = kinds[name]
        entry: dict[str, object] = {"name": name, "kind": kind, "url": f"https://{name}.test/api"}
        if kind == "pbxcloud":
            entry |= {"tenant": "ACME", "key": "k-" + "x" * 8}
        elif kind == "iexpbx":
            entry |= {"username": "api", "password": "p-" + "x" * 8}
        else:
            entry |= {"user": "api", "pass": "s-" + "x" * 8, "org": "O1", "extensions": ["101-104"]}
        if name in set(read_only):
            entry["read_only"] = True
        if name in set(protected):
            entry["protected"] = True
        entries.append(entry)
    return parse_config(toml_config(entries, settings), source="<fixed>")


def _rs(records: Iterable[Record], *, error: str = "", fetched: bool = True) -> ResourceState:
    return ResourceState(
        records=tuple(records),
        fetched_at=ago(1) if fetched else None,
        error=error,
        error_kind="timeout" if error else "",
        latency_ms=23,
        failures=3 if error else 0,
        error_at=ago(0.5) if error else None,
    )


def hq_records() -> dict[Resource, list[Record]]:
    observed = ago(1)
    calls = [
        Call(
            pbx="hq",
            id="PJSIP/trunk-ACME-0000f1e8",
            channel="PJSIP/trunk-ACME-0000f1e8",
            caller="0501234567",
            callee="208",
            state=CallState.UP,
            state_raw="Up",
            duration=406,
            queue="631",
            direction=Direction.INBOUND,
            extension="208",
            bridged_channel="PJSIP/208-ACME-0000f1e9",
            observed_at=observed,
        ),
        Call(
            pbx="hq",
            id="PJSIP/trunk-ACME-0000f255",
            channel="PJSIP/trunk-ACME-0000f255",
            caller="0959103856",
            callee="216",
            state=CallState.UP,
            state_raw="Up",
            duration=7620,
            direction=Direction.INBOUND,
            extension="216",
            bridged_channel="PJSIP/216-ACME-0000f256",
            observed_at=observed,
        ),
        Call(
            pbx="hq",
            id="PJSIP/218-ACME-0000f23d",
            channel="PJSIP/218-ACME-0000f23d",
            caller="218",
            callee="0520535046",
            state=CallState.UP,
            state_raw="Up",
            duration=2405,
            direction=Direction.OUTBOUND,
            extension="218",
            observed_at=observed,
        ),
        Call(
            pbx="hq",
            id="PJSIP/trunk-ACME-0000f253",
            channel="PJSIP/trunk-ACME-0000f253",
            caller="0306217702",
            callee="201",
            state=CallState.RINGING,
            state_raw="Ring/Ringing",
            duration=4,
            queue="630",
            direction=Direction.INBOUND,
            extension="201",
            observed_at=observed,
        ),
    ]
    names = {"201": "Dana", "202": "Avi", "208": "Noa", "216": "Omer", "218": "Maya", "220": "Gil"}
    extensions = [
        Extension(
            pbx="hq",
            id=n,
            number=n,
            name=name,
            state=LineState.BUSY
            if n in ("208", "216", "218")
            else LineState.RINGING
            if n == "201"
            else LineState.IDLE,
            registered=n != "220",
            latency_ms=None if n == "220" else 12 + int(n) % 40,
            call_id={"208": calls[0].id, "216": calls[1].id, "218": calls[2].id}.get(n, ""),
        )
        for n, name in names.items()
    ]
    ringing = {"201": calls[3].id}
    lamps: list[Record] = [
        BlfLamp(
            pbx="hq",
            id=e.number,
            label=e.number,
            state=e.state,
            extension=e.number,
            since=ago(64),
            call_id=e.call_id or ringing.get(e.number, ""),
        )
        for e in extensions
    ] + [BlfLamp(pbx="hq", id="*51", label="Night mode", kind=LampKind.FLOW, state=LineState.IDLE)]
    peers = [
        Peer(
            pbx="hq",
            id="trunk",
            name="trunk",
            host="192.0.2.1",
            status_raw="OK (14 ms)",
            registered=True,
            latency_ms=14,
            description="Carrier A",
        ),
        Peer(
            pbx="hq",
            id="220",
            name="220",
            host="(Unspecified)",
            status_raw="UNKNOWN",
            registered=False,
            description="Gil",
        ),
    ]
    queues = [
        Queue(
            pbx="hq",
            id="630",
            name="Sales",
            waiting=4,
            longest_wait=95,
            agents_available=0,
            agents_busy=3,
            agents_paused=1,
            agents_total=4,
            service_level=71.0,
            answered=18,
            abandoned=2,
        ),
        Queue(
            pbx="hq",
            id="631",
            name="Support",
            waiting=0,
            longest_wait=None,
            agents_available=2,
            agents_busy=1,
            agents_paused=0,
            agents_total=3,
            service_level=92.0,
            answered=25,
            abandoned=0,
        ),
    ]
    agents = [
        Agent(
            pbx="hq", id="201", extension="201", queue_id="630", name="Dana", state=AgentState.BUSY
        ),
        Agent(
            pbx="hq",
            id="202",
            extension="202",
            queue_id="630",
            name="Avi",
            state=AgentState.PAUSED,
            pause_reason="Lunch",
            paused_since=ago(1900),
        ),
        Agent(
            pbx="hq",
            id="208",
            extension="208",
            queue_id="631",
            name="Noa",
            state=AgentState.AVAILABLE,
        ),
        Agent(
            pbx="hq",
            id="220",
            extension="220",
            queue_id="631",
            name="Gil",
            state=AgentState.PAUSED,
            pause_reason="Break",
            paused_since=ago(300),
        ),
    ]
    return {
        Resource.CALLS: calls,
        Resource.EXTENSIONS: extensions,
        Resource.BLF: lamps,
        Resource.PEERS: peers,
        Resource.QUEUES: queues,
        Resource.AGENTS: agents,
    }


def other_records(pbx: str) -> dict[Resource, list[Record]]:
    observed = ago(1)
    if pbx == "istanbul":
        return {
            Resource.CALLS: [
                Call(
                    pbx=pbx,
                    id="1741944400.12",
                    channel="SIP/101-00000012",
                    caller="101",
                    callee="905321234567",
                    state=CallState.UP,
                    state_raw="Up",
                    duration=95,
                    direction=Direction.OUTBOUND,
                    extension="101",
                    observed_at=observed,
                ),
            ],
            Resource.EXTENSIONS: [
                Extension(
                    pbx=pbx,
                    id="101",
                    number="101",
                    name="Ayşe",
                    state=LineState.BUSY,
                    registered=True,
                    latency_ms=31,
                    call_id="1741944400.12",
                ),
            ],
            Resource.BLF: [
                BlfLamp(
                    pbx=pbx,
                    id="101",
                    label="Ayşe",
                    state=LineState.BUSY,
                    extension="101",
                    call_id="1741944400.12",
                )
            ],
            Resource.PEERS: [
                Peer(
                    pbx=pbx,
                    id="101",
                    name="101",
                    host="198.51.100.7",
                    status_raw="OK",
                    registered=True,
                    latency_ms=31,
                )
            ],
            Resource.QUEUES: [
                Queue(
                    pbx=pbx,
                    id="640",
                    name="Destek",
                    waiting=1,
                    longest_wait=12,
                    agents_available=1,
                    agents_busy=0,
                    agents_paused=0,
                )
            ],
            Resource.AGENTS: [
                Agent(
                    pbx=pbx,
                    id="101",
                    extension="101",
                    queue_id="640",
                    name="Ayşe",
                    state=AgentState.AVAILABLE,
                )
            ],
        }
    if pbx == "branch":
        return {
            Resource.CALLS: [
                Call(
                    pbx=pbx,
                    id="101",
                    channel="101",
                    caller="101",
                    callee="0777123456",
                    state=CallState.DIALING,
                    state_raw="dialing",
                    duration=3,
                    direction=Direction.OUTBOUND,
                    extension="101",
                    observed_at=observed,
                ),
            ],
            Resource.EXTENSIONS: [
                Extension(
                    pbx=pbx,
                    id=n,
                    number=n,
                    state=LineState.BUSY if n == "101" else LineState.IDLE,
                    call_id="101" if n == "101" else "",
                )
                for n in ("101", "102", "103", "104")
            ],
            Resource.BLF: [
                BlfLamp(
                    pbx=pbx,
                    id=n,
                    label=n,
                    state=LineState.BUSY if n == "101" else LineState.IDLE,
                    extension=n,
                    call_id="101" if n == "101" else "",
                )
                for n in ("101", "102", "103", "104")
            ],
        }
    return {}


def pbx_state(
    name: str,
    kind: str,
    records: dict[Resource, list[Record]],
    *,
    health: HealthState = HealthState.OK,
    error: str = "",
    read_only: bool = False,
    protected: bool = False,
) -> PbxState:
    caps = CAPS[kind]
    resources = {
        r: _rs(records.get(r, []), error=error, fetched=not error)
        for r in Resource
        if r in caps.resources
    }
    last_error = f"calls: {error}" if error else ""
    return PbxState(
        name=name,
        kind=kind,
        capabilities=caps,
        health=PbxHealth(
            pbx=name,
            kind=kind,
            state=health,
            latency_ms=None if error else 23,
            last_error=last_error,
            last_ok=None if error else ago(1),
            consecutive_failures=3 if error else 0,
            read_only=read_only,
            protected=protected,
        ),
        resources=resources,
    )


def fixed_states(config: Config, *, global_read_only: bool = False) -> dict[str, PbxState]:
    states: dict[str, PbxState] = {}
    for pbx in config.pbx:
        ro = global_read_only or pbx.read_only
        if pbx.name == "eu":
            states["eu"] = pbx_state(
                "eu",
                "pbxcloud",
                {},
                health=HealthState.DOWN,
                error="no answer within 2.5 s (polling calls)",
                read_only=ro,
                protected=pbx.protected,
            )
            continue
        records = hq_records() if pbx.name == "hq" else other_records(pbx.name)
        states[pbx.name] = pbx_state(
            pbx.name, pbx.kind, records, read_only=ro, protected=pbx.protected
        )
    return states


class StaticEngine:
    """Satisfies the model's ``EnginePort`` with fixed state and the engine's own policy;
    records what it is asked to send."""

    def __init__(
        self,
        config: Config,
        *,
        read_only: bool = False,
        states: dict[str, PbxState] | None = None,
    ) -> None:
        self.config = config
        self._states = (
            states if states is not None else fixed_states(config, global_read_only=read_only)
        )
        self.policy = ActionPolicy(
            config,
            self.capabilities,
            read_only=read_only,
            vendor=lambda name: "fake",
            clock=frozen_clock,
        )
        self.listeners: list[Callable[[EngineUpdate], None]] = []
        self.attempts: list[ActionRequest] = []
        """Everything perform() was asked, refused or not."""
        self.performed: list[ActionRequest] = []
        """What the policy let through: what a real engine would have sent."""
        self.refreshed: list[str | None] = []
        self.failures: dict[str, str] = {}
        """Request kind → the vendor's reason for failing it."""
        self.gate: asyncio.Event | None = None

    @property
    def pbx_names(self) -> list[str]:
        return [p.name for p in self.config.pbx]

    def capabilities(self, name: str) -> Capabilities:
        return self._states[name].capabilities

    def is_read_only(self, pbx: str) -> bool:
        return self.policy.is_read_only(pbx)

    def is_protected(self, pbx: str) -> bool:
        return self.policy.is_protected(pbx)

    def refusal(self, action: Action, pbx: str) -> str:
        refusal = self.policy.refusal(action, pbx)
        return refusal.reason if refusal is not None else ""

    def in_flight(self, request: ActionRequest) -> bool:
        return self.policy.in_flight(request)

    def state(self) -> dict[str, PbxState]:
        return dict(self._states)

    def subscribe(self, listener: Callable[[EngineUpdate], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def refresh(self, pbx: str | None = None) -> None:
        self.refreshed.append(pbx)

    def push(
        self,
        state: PbxState,
        changes: Iterable[Change] = (),
        resource: Resource | None = Resource.CALLS,
    ) -> None:
        self._states[state.name] = state
        for listener in list(self.listeners):
            listener(EngineUpdate(state.name, resource, state, tuple(changes)))

    async def perform(self, request: ActionRequest) -> ActionOutcome:
        self.attempts.append(request)
        refusal = self.policy.claim(request)
        if refusal is not None:
            outcome = ActionOutcome(request, refusal.status, refusal.reason)
        else:
            try:
                outcome = await self._send(request)
            finally:
                self.policy.release(request)
        change = Change(
            at=NOW,
            pbx=request.pbx,
            kind=ChangeKind.ACTION,
            text=outcome.text(),
            key=request.record_key,
            ok=outcome.ok,
        )
        state = self._states[request.pbx]
        for listener in list(self.listeners):
            listener(EngineUpdate(request.pbx, None, state, (change,)))
        return outcome

    async def _send(self, request: ActionRequest) -> ActionOutcome:
        self.performed.append(request)
        if self.gate is not None:
            await self.gate.wait()
        reason = self.failures.get(request.kind)
        if reason:
            return ActionOutcome(request, ActionStatus.FAILED, reason)
        if isinstance(request, FetchDirectory):
            entries = tuple(
                DirectoryEntry(pbx=request.pbx, name=name, number=number)
                for name, number in DIRECTORY
            )
            return ActionOutcome(
                request, ActionStatus.OK, f"{len(entries)} entries", entries=entries
            )
        consultation = None
        state = self._states[request.pbx]
        if isinstance(request, AttendedTransfer):
            # As the engine does: the consultation is pending until completed or cancelled.
            consultation = Consultation(
                pbx=request.pbx,
                held=request.call,
                transferer=request.call.extension,
                destination=request.destination,
            )
            self._states[request.pbx] = replace(
                state, consultations=(*state.consultations, consultation)
            )
        elif isinstance(request, CompleteTransfer | CancelTransfer):
            left = tuple(c for c in state.consultations if c.key != request.consultation.key)
            self._states[request.pbx] = replace(state, consultations=left)
        return ActionOutcome(
            request,
            ActionStatus.OK,
            "done",
            ActionResult(ok=True, message="done"),
            consultation=consultation,
        )


NAMED_CALLER = "0501234567"
NAMED_AS = "Rivka Mizrahi"
NAMED_LINK = "https://crm.example.com/contacts/4711"


def name_callers(states: dict[str, PbxState], *, lookup: SourceHealth | None = None) -> None:
    """hq's call from ``NAMED_CALLER`` named, as the engine names it (the caller from the
    CRM, the callee from its extension); every PBX's health carrying ``lookup``, as the
    engine carries the one lookup's health on each."""
    for name, state in list(states.items()):
        calls = state.resources.get(Resource.CALLS)
        resources = dict(state.resources)
        if calls is not None:
            records = tuple(
                r.model_copy(
                    update={
                        "caller_name": NAMED_AS,
                        "callee_name": "Noa",
                        "backend_link": NAMED_LINK,
                    }
                )
                if isinstance(r, Call) and r.caller == NAMED_CALLER
                else r
                for r in calls.records
            )
            resources[Resource.CALLS] = replace(calls, records=records)
        health = state.health.model_copy(update={"names": lookup})
        states[name] = replace(state, resources=resources, health=health)
