"""The headless commands' work, on the same engine as the console (no Textual here)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pbxtui import paths
from pbxtui.config import Config
from pbxtui.drivers.base import Action, Resource
from pbxtui.engine import ActionOutcome, ActionRequest, AuditLog, Engine, PbxState
from pbxtui.model import Agent, Call

SNAPSHOT_SCHEMA_VERSION = 1

# Exit codes shared by every headless command (documented in the README).
EXIT_OK = 0
EXIT_FAILED = 1  # a PBX failed its check, or the action failed or was refused
EXIT_USAGE = 2  # bad config or arguments
EXIT_NOT_FOUND = 4  # the call or agent named is not on that PBX now


@dataclass(frozen=True)
class CheckLine:
    pbx: str
    kind: str
    ok: bool
    reason: str
    latency_ms: int | None
    resources: tuple[str, ...]
    actions: tuple[str, ...]
    read_only: bool

    @property
    def lacks(self) -> tuple[str, ...]:
        return tuple(a.value for a in Action if a.value not in self.actions)


async def check(config: Config, *, read_only: bool = False) -> list[CheckLine]:
    async with Engine(config, read_only=read_only) as engine:
        lines = []
        for name in engine.pbx_names:
            ok, reason, latency = await engine.probe(name)
            caps = engine.capabilities(name)
            lines.append(
                CheckLine(
                    pbx=name,
                    kind=config.get(name).kind,
                    ok=ok,
                    reason=reason,
                    latency_ms=latency,
                    resources=tuple(sorted(caps.resources)),
                    actions=tuple(sorted(caps.actions)),
                    read_only=engine.is_read_only(name),
                )
            )
        return lines


def format_check(lines: Iterable[CheckLine]) -> str:
    rows = []
    for line in lines:
        state = "ok" if line.ok else "FAILED"
        latency = f"{line.latency_ms} ms" if line.latency_ms is not None else "-"
        rows.append(
            f"{line.pbx:<14} {line.kind:<9} {state:<7} {latency:>8}  "
            + (line.reason if not line.ok else "reachable, credentials accepted")
            + (" [read-only]" if line.read_only else "")
        )
        rows.append(f"{'':<14} {'':<9} polls:   {', '.join(line.resources) or '-'}")
        rows.append(f"{'':<14} {'':<9} actions: {', '.join(line.actions) or '-'}")
        if line.lacks:
            rows.append(f"{'':<14} {'':<9} not offered by this API: {', '.join(line.lacks)}")
    return "\n".join(rows)


def snapshot_document(states: dict[str, PbxState]) -> dict[str, Any]:
    """The ``snapshot --json`` document: normalized, the same field names for every vendor."""
    pbxs = []
    for state in states.values():
        entry: dict[str, Any] = {
            "name": state.name,
            "kind": state.kind,
            "health": state.health.model_dump(mode="json"),
            "capabilities": {
                "resources": sorted(state.capabilities.resources),
                "actions": sorted(state.capabilities.actions),
            },
            "errors": {},
        }
        for resource in Resource:
            if resource not in state.capabilities.resources:
                continue
            resource_state = state.resources.get(resource)
            records = resource_state.records if resource_state else ()
            entry[resource.value] = [r.model_dump(mode="json") for r in records]
            if resource_state and resource_state.error:
                entry["errors"][resource.value] = resource_state.error
        pbxs.append(entry)
    return {
        "schema": SNAPSHOT_SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).isoformat(),
        "pbx": pbxs,
    }


async def snapshot(config: Config, *, pbx: str | None = None) -> dict[str, Any]:
    async with Engine(config) as engine:
        states = await engine.poll_once(pbx=pbx)
        return snapshot_document(states)


def snapshot_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def format_snapshot(document: dict[str, Any]) -> str:
    lines = []
    for pbx in document["pbx"]:
        health = pbx["health"]
        lines.append(f"{pbx['name']} ({pbx['kind']}): {health['state']} {health['last_error']}")
        for resource in Resource:
            if resource.value in pbx:
                error = pbx["errors"].get(resource.value, "")
                count = len(pbx[resource.value])
                lines.append(
                    f"  {resource.value:<11} {count:>4}" + (f"  ! {error}" if error else "")
                )
        for call in pbx.get("calls", []):
            lines.append(
                f"    call {call['id']}  {call['caller']} → {call['callee']}  {call['state']}"
                f"  {call['duration']}s"
            )
    return "\n".join(lines)


def find_call(state: PbxState, ident: str) -> Call | None:
    """A call by its id, channel, unique id, or bridged channel."""
    for call in state.calls():
        if ident in (call.id, call.channel, call.unique_id, call.bridged_id):
            return call
    return None


def find_agent(state: PbxState, ident: str, queue: str = "") -> list[Agent]:
    return [
        agent
        for agent in state.agents()
        if ident in (agent.id, agent.extension) and (not queue or agent.queue_id == queue)
    ]


ConfirmFn = Callable[[str], bool]
Builder = Callable[[PbxState], "list[ActionRequest] | str"]


async def act(
    config: Config,
    pbx: str,
    build: Builder,
    *,
    confirm: ConfirmFn | None,
    read_only: bool = False,
    needs: Iterable[Resource] = (),
) -> tuple[int, str, list[ActionOutcome]]:
    """Poll what the actions need, build them, confirm once, perform each in turn.

    Returns (exit code, text for the operator, outcomes).
    """
    config.get(pbx)  # a clear ConfigError for an unknown name
    async with Engine(
        config, read_only=read_only, audit=AuditLog(paths.audit_log_path())
    ) as engine:
        needs = list(needs)
        state = (await engine.poll_once(pbx=pbx, resources=needs))[pbx] if needs else None
        requests = build(state if state is not None else engine.state()[pbx])
        if isinstance(requests, str):
            return EXIT_NOT_FOUND, requests, []
        if confirm is not None and not confirm("\n".join(describe(r) for r in requests)):
            return EXIT_FAILED, "cancelled: nothing was sent", []
        outcomes = [await engine.perform(request) for request in requests]
    code = EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED
    return code, "\n".join(outcome_text(o) for o in outcomes), outcomes


def describe(request: ActionRequest) -> str:
    return f"{request.label} on {request.pbx}: {request.describe_target()}"


def outcome_text(outcome: ActionOutcome) -> str:
    head = "ok" if outcome.ok else outcome.status
    return f"{outcome.request.label} on {outcome.request.pbx}: {head}" + (
        f": {outcome.message}" if outcome.message else ""
    )


def _calls_unreadable(state: PbxState, resource: Resource) -> str:
    current = state.resources.get(resource)
    return (
        f" ({resource.value} could not be read: {current.error})"
        if current and current.error
        else ""
    )


def call_request(action: Action, call_id: str, destination: str = "") -> Builder:
    """Hang up or transfer the call ``call_id`` (its id, channel or unique id)."""

    def build(state: PbxState) -> list[ActionRequest] | str:
        if not state.capabilities.supports(action):
            return [ActionRequest(action=action, pbx=state.name)]  # the engine says why not
        call = find_call(state, call_id)
        if call is None:
            why = _calls_unreadable(state, Resource.CALLS)
            return f"no call {call_id!r} on {state.name} now{why}"
        return [ActionRequest(action=action, pbx=state.name, call=call, destination=destination)]

    return build


def hangup_request(call_id: str) -> Builder:
    return call_request(Action.HANGUP, call_id)


def agent_requests(action: Action, agent_id: str, queue: str = "", reason: str = "") -> Builder:
    """Pause or unpause an agent: in one queue, or in every queue it belongs to."""

    def build(state: PbxState) -> list[ActionRequest] | str:
        if not state.capabilities.supports(action):
            return [ActionRequest(action=action, pbx=state.name)]  # the engine says why not
        agents = find_agent(state, agent_id, queue)
        if not agents:
            where = f" in queue {queue}" if queue else ""
            why = _calls_unreadable(state, Resource.AGENTS)
            return f"no agent {agent_id!r}{where} on {state.name} now{why}"
        return [
            ActionRequest(action=action, pbx=state.name, agent=agent, reason=reason)
            for agent in agents
        ]

    return build


def fixed_request(request: ActionRequest) -> Builder:
    """An action that needs nothing polled first (click2call, callback, IVR call)."""

    def build(_: PbxState) -> list[ActionRequest]:
        return [request]

    return build
