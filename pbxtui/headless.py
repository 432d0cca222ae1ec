"""The headless commands' work, on the same engine as the console (no Textual here)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import anyio
from pydantic_core import to_json

from pbxtui import paths
from pbxtui.config import Config
from pbxtui.engine import AuditLog, ConsultationBook, Engine
from pbxtui.masking import mask_known, mask_text, mask_tree, numbers_in
from pbxtui.model import (
    ACTION_LABELS,
    Action,
    ActionOutcome,
    ActionRequest,
    Agent,
    AttendedTransfer,
    BlindTransfer,
    Call,
    CancelTransfer,
    CompleteTransfer,
    Hangup,
    PauseAgent,
    PbxState,
    Resource,
    UnpauseAgent,
)
from pbxtui.model.port import Source

SNAPSHOT_SCHEMA_VERSION = 1
MAX_ECHOED = 40

# Exit codes shared by every headless command (documented in the README).
EXIT_OK = 0
EXIT_FAILED = 1  # a PBX failed its check, or the action failed or was refused
EXIT_USAGE = 2  # bad config or arguments
EXIT_NOT_FOUND = 4  # the call or agent named is not on that PBX now


IDENTIFIERS = frozenset(
    {
        "id",
        "channel",
        "unique_id",
        "bridged_channel",
        "bridged_unique_id",
        "call_id",
        "queue_id",
        "pbx",
        "kind",
        "generated_at",
        "observed_at",
        "started_at",
        "since",
        "paused_since",
        "last_ok",
    }
)
"""Fields a command takes back (``hangup PBX ID``) or timestamps: masked only where they hold
a phone number found in another field, so ``--mask-numbers`` output stays usable."""


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
    tls_verified: bool = True
    figures: tuple[str, ...] = ()
    """The tenant's own counts and credit, where the API gives them."""

    @property
    def lacks(self) -> tuple[str, ...]:
        return tuple(a.value for a in Action if a.value not in self.actions)


def engine_for_actions(
    config: Config, *, read_only: bool = False, sources: Sequence[Source] = ()
) -> Engine:
    """An engine that audits and remembers pending attended transfers where the console does;
    ``sources`` feed it beside its pollers once it runs (the console's webhook receiver)."""
    return Engine(
        config,
        read_only=read_only,
        audit=AuditLog(paths.audit_log_path()),
        consultations=ConsultationBook(paths.consultations_path()),
        sources=sources,
    )


async def check(config: Config, *, read_only: bool = False) -> list[CheckLine]:
    """Probe each PBX, then poll every resource of those that answered once: a PBX whose
    probe reads fine may still answer its listings wrongly (numbers for lists, nulls), and
    the console would show it degraded; ``check`` then fails it, naming the resource."""
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
                    tls_verified=config.get(name).verify_tls,
                )
            )
        polled: dict[str, PbxState] = {}
        figures: dict[str, tuple[str, ...]] = {}
        async with anyio.create_task_group() as group:
            for line in lines:
                if line.ok:
                    group.start_soon(_poll_into, engine, line.pbx, polled)
                    group.start_soon(_figures_into, engine, line.pbx, figures)
        return [
            replace(_with_polls(line, polled.get(line.pbx)), figures=figures.get(line.pbx, ()))
            for line in lines
        ]


async def _figures_into(engine: Engine, pbx: str, found: dict[str, tuple[str, ...]]) -> None:
    if engine.driver(pbx).figures_seconds > 0:
        figures = await engine.tenant_figures(pbx)
        if figures is not None:
            found[pbx] = tuple(figures.lines())


async def _poll_into(engine: Engine, pbx: str, polled: dict[str, PbxState]) -> None:
    polled.update(await engine.poll_once(pbx=pbx))


def _with_polls(line: CheckLine, state: PbxState | None) -> CheckLine:
    """``line`` failed by the first resource that could not be read, if any."""
    if state is None:
        return line
    for resource in Resource:
        current = state.resources.get(resource)
        if current is not None and current.failing:
            reason = f"{resource.value}: {current.error_kind}: {current.error}"
            return replace(line, ok=False, reason=reason)
    return line


def format_check(lines: Iterable[CheckLine], *, mask: bool = False) -> str:
    rows = []
    for line in lines:
        state = "ok" if line.ok else "FAILED"
        latency = f"{line.latency_ms} ms" if line.latency_ms is not None else "-"
        reason = mask_text(line.reason) if mask else line.reason
        rows.append(
            f"{line.pbx:<14} {line.kind:<9} {state:<7} {latency:>8}  "
            + (reason if not line.ok else "reachable, credentials accepted")
            + (" [read-only]" if line.read_only else "")
            + ("" if line.tls_verified else " [TLS verification OFF]")
        )
        if not line.tls_verified:
            rows.append(
                f"{'':<14} {'':<9} TLS verification OFF (verify_tls = false): anyone on the "
                "path can pose as this PBX and read its credentials"
            )
        rows.append(f"{'':<14} {'':<9} polls:   {', '.join(line.resources) or '-'}")
        rows.append(f"{'':<14} {'':<9} actions: {', '.join(line.actions) or '-'}")
        for figure in line.figures:
            rows.append(f"{'':<14} {'':<9} tenant:  {figure}")
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
            "health": _utc_times(state.health.model_dump(mode="json")),
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
            entry[resource.value] = [_named(_utc_times(r.model_dump(mode="json"))) for r in records]
            if resource_state and resource_state.error:
                entry["errors"][resource.value] = resource_state.error
        pbxs.append(entry)
    return {
        "schema": SNAPSHOT_SCHEMA_VERSION,
        "generated_at": json_time(datetime.now(UTC)),
        "pbx": pbxs,
    }


TIME_FIELDS = frozenset({"observed_at", "started_at", "since", "paused_since", "last_ok"})


def json_time(moment: datetime) -> str:
    """Every timestamp in JSON output in one form: UTC, ISO 8601, with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


NAME_FIELDS = ("caller_name", "callee_name", "backend_link")
"""A call's names: ``null`` when no source knows them (one reading for "not known")."""


def _named(record: dict[str, Any]) -> dict[str, Any]:
    for key in NAME_FIELDS:
        if key in record and not record[key]:
            record[key] = None
    return record


def _utc_times(record: dict[str, Any]) -> dict[str, Any]:
    """A dumped record with its timestamps in ``json_time``'s form (pydantic keeps a
    vendor's own offset, and writes UTC as ``Z`` where ``isoformat`` writes ``+00:00``)."""
    for key in TIME_FIELDS & record.keys():
        value = record[key]
        if isinstance(value, str):
            record[key] = json_time(datetime.fromisoformat(value))
    return record


async def snapshot(config: Config, *, pbx: str | None = None) -> dict[str, Any]:
    async with Engine(config) as engine:
        states = await engine.poll_once(pbx=pbx)
        # With [contacts] or [lookup], the callers are named before the document is written:
        # the directories read and the CRM's answers waited for, within a bound.
        states = await engine.named_states(states, timeout=names_wait(config))
        return snapshot_document(states)


def names_wait(config: Config) -> float:
    """How long ``snapshot`` waits for names: a CRM's timeout and a PBX's, with a margin."""
    lookup = config.lookup.timeout if config.lookup is not None else 0.0
    return lookup + max(p.timeout for p in config.pbx) + 1.0


def mask_document(document: Any) -> Any:
    """``--mask-numbers``: every phone number in a snapshot or directory document masked,
    identifiers and timestamps kept as they are (see ``IDENTIFIERS``)."""
    return mask_tree(document, keep=IDENTIFIERS)


def snapshot_json(document: dict[str, Any]) -> str:
    return pretty_json(document)


def pretty_json(document: Any) -> str:
    """Indented JSON, every character as it is (what ``json.dumps(indent=2,
    ensure_ascii=False)`` writes, byte for byte): by pydantic's encoder, five times as fast,
    as a 10,000-call snapshot is 7 MB of it."""
    return to_json(document, indent=2).decode()


def snapshot_errors(document: dict[str, Any]) -> list[str]:
    """One line per resource that could not be read: ``eu calls: HTTP 500 …``."""
    return [
        one_line(f"{pbx['name']} {resource}: {error}")
        for pbx in document["pbx"]
        for resource, error in pbx["errors"].items()
    ]


def one_line(text: str) -> str:
    """Line breaks and control characters become spaces: one error, one line."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


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


def echo(ident: str) -> str:
    """An identifier as quoted back in a message: cut when long (a pasted 10 kB "id" must
    not fill the terminal or the audit log)."""
    if len(ident) <= MAX_ECHOED:
        return repr(ident)
    return f"{ident[:MAX_ECHOED]!r}… ({len(ident)} characters)"


def find_call(state: PbxState, ident: str) -> Call | None:
    """A call by its id, channel, unique id, or the channel of its other leg."""
    for call in state.calls():
        if ident in (call.id, call.channel, call.unique_id, call.bridged_channel):
            return call
    return None


def find_agent(state: PbxState, ident: str, queue: str = "") -> list[Agent]:
    return [
        agent
        for agent in state.agents()
        if ident in (agent.id, agent.extension) and (not queue or agent.queue_id == queue)
    ]


class Confirmer(Protocol):
    def __call__(self, description: str, *, type_name: str) -> str | None:
        """Ask the operator; None when they decline. ``type_name``: a protected PBX whose
        name must be typed; the text typed is returned ("" when nothing had to be typed)."""
        ...


Builder = Callable[[PbxState, Engine], "list[ActionRequest] | str"]
"""Makes the requests from the state just polled, or says what was not found."""


async def act(
    config: Config,
    pbx: str,
    action: Action,
    build: Builder,
    *,
    confirm: Confirmer | None,
    read_only: bool = False,
    needs: Iterable[Resource] = (),
    confirmed_pbx: str = "",
    target: str = "",
    mask: bool = False,
) -> tuple[int, str, list[ActionOutcome]]:
    """Refuse early what the policy refuses for any target; poll what the actions need,
    build them, confirm once, perform each in turn.

    Returns (exit code, text for the operator, outcomes); with ``mask``, the phone numbers in
    the confirmation and the text are masked (the requests sent are not).
    """
    config.get(pbx)  # a clear ConfigError for an unknown name
    async with engine_for_actions(config, read_only=read_only) as engine:
        reason = engine.refuse_action(action, pbx, target)
        if reason:
            return EXIT_FAILED, f"{ACTION_LABELS[action]} on {pbx}: refused: {reason}", []
        needs = list(needs)
        state = (await engine.poll_once(pbx=pbx, resources=needs))[pbx] if needs else None
        requests = build(state if state is not None else engine.state()[pbx], engine)
        if isinstance(requests, str):
            return EXIT_NOT_FOUND, requests, []
        typed = confirmed_pbx
        if confirm is not None:
            must_type = (
                pbx
                if not typed and engine.is_protected(pbx) and any(r.destructive for r in requests)
                else ""
            )
            description = "\n".join(describe(r, mask=mask) for r in requests)
            answer = confirm(description, type_name=must_type)
            if answer is None:
                return EXIT_FAILED, "cancelled: nothing was sent", []
            typed = typed or answer
        if typed:
            requests = [r.model_copy(update={"confirmed_pbx": typed}) for r in requests]
        outcomes = [await engine.perform(request) for request in requests]
    code = EXIT_OK if all(o.ok for o in outcomes) else EXIT_FAILED
    return code, "\n".join(outcome_text(o, mask=mask) for o in outcomes), outcomes


def request_numbers(request: ActionRequest) -> set[str]:
    """The phone numbers a request carries (callers, callees, destinations), to mask."""
    return numbers_in(request.model_dump(mode="json"), keep=IDENTIFIERS)


def describe(request: ActionRequest, *, mask: bool = False) -> str:
    text = f"{request.label} on {request.pbx}: {request.describe_target()}"
    return mask_known(text, request_numbers(request)) if mask else text


def outcome_text(outcome: ActionOutcome, *, mask: bool = False) -> str:
    head = "ok" if outcome.ok else outcome.status
    message = mask_text(outcome.message) if mask else outcome.message
    text = f"{outcome.request.label} on {outcome.request.pbx}: {head}" + (
        f": {message}" if message else ""
    )
    if outcome.status == "not-confirmed":
        text += f" (pass --confirm-pbx {outcome.request.pbx})"
    if outcome.consultation is not None:
        c = outcome.consultation
        text += (
            f"\n{c.transferer or 'the extension'} is consulting {c.destination}; then: "
            f"pbxtui transfer {c.pbx} {c.held.id} --complete (or --cancel)"
        )
    return mask_known(text, request_numbers(outcome.request)) if mask else text


def _unreadable(state: PbxState, resource: Resource) -> str:
    current = state.resources.get(resource)
    return (
        f" ({resource.value} could not be read: {current.error})"
        if current and current.error
        else ""
    )


def hangup_request(call_id: str) -> Builder:
    def build(state: PbxState, engine: Engine) -> list[ActionRequest] | str:
        call = find_call(state, call_id)
        if call is None:
            return (
                f"no call {echo(call_id)} on {state.name} now{_unreadable(state, Resource.CALLS)}"
            )
        return [Hangup(pbx=state.name, call=call)]

    return build


def transfer_request(call_id: str, destination: str, *, attended: bool) -> Builder:
    """Blind (or attended) transfer of the call ``call_id`` (its id, channel or unique id)."""

    def build(state: PbxState, engine: Engine) -> list[ActionRequest] | str:
        call = find_call(state, call_id)
        if call is None:
            return (
                f"no call {echo(call_id)} on {state.name} now{_unreadable(state, Resource.CALLS)}"
            )
        kind = AttendedTransfer if attended else BlindTransfer
        return [kind(pbx=state.name, call=call, destination=destination)]

    return build


def consultation_request(ident: str, *, complete: bool) -> Builder:
    """Complete or cancel the pending attended transfer of the held call (or transferer)."""

    def build(state: PbxState, engine: Engine) -> list[ActionRequest] | str:
        consultation = engine.find_consultation(state.name, ident)
        if consultation is None:
            pending = ", ".join(
                f"{c.held.id} ({c.transferer} → {c.destination})" for c in state.consultations
            )
            known = f" (pending: {pending})" if pending else " (none is pending)"
            return f"no attended transfer of {echo(ident)} pending on {state.name}{known}"
        kind = CompleteTransfer if complete else CancelTransfer
        return [kind(pbx=state.name, consultation=consultation)]

    return build


def agent_requests(action: Action, agent_id: str, queue: str = "", reason: str = "") -> Builder:
    """Pause or unpause an agent: in one queue, or in every queue it belongs to."""

    def build(state: PbxState, engine: Engine) -> list[ActionRequest] | str:
        agents = find_agent(state, agent_id, queue)
        if not agents:
            where = f" in queue {queue}" if queue else ""
            why = _unreadable(state, Resource.AGENTS)
            return f"no agent {echo(agent_id)}{where} on {state.name} now{why}"
        if action is Action.PAUSE:
            return [PauseAgent(pbx=state.name, agent=a, reason=reason) for a in agents]
        return [UnpauseAgent(pbx=state.name, agent=a) for a in agents]

    return build


def fixed_request(request: ActionRequest) -> Builder:
    """An action that needs nothing polled first (click2call, callback, IVR call)."""

    def build(state: PbxState, engine: Engine) -> list[ActionRequest]:
        return [request]

    return build
