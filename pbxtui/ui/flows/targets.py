"""What the operator has selected, as the records an action acts on.

A call is reached from its own row, or from an extension or a lamp through the call the
engine joined to it (``call_id``): the console never matches numbers itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pbxtui.model import ACTION_LABELS, Action, Agent, BlfLamp, Call, Extension, PbxState, Record
from pbxtui.ui.flows.host import FlowHost
from pbxtui.ui.format import MASK_MIN_DIGITS

CALL_PANES = ("calls", "extensions", "blf")


def call_of(record: Record, states: Mapping[str, PbxState]) -> Call | None:
    if isinstance(record, Call):
        return record
    call_id = record.call_id if isinstance(record, Extension | BlfLamp) else ""
    state = states.get(record.pbx)
    if not call_id or state is None:
        return None
    return next((c for c in state.calls() if c.id == call_id), None)


def calls_of(records: Iterable[Record], states: Mapping[str, PbxState]) -> list[Call]:
    calls: dict[str, Call] = {}
    for record in records:
        call = call_of(record, states)
        if call is not None:
            calls.setdefault(call.key, call)
    return list(calls.values())


def selected_calls(host: FlowHost) -> list[Call]:
    """The marked calls, or the one under the cursor (said when there is none)."""
    pane = host.active_pane
    if pane.pane_id not in CALL_PANES:
        host.notify(
            "call actions work on the Calls, Extensions and BLF panes (1, 2, 3)",
            severity="warning",
        )
        return []
    calls = calls_of(pane.targets(), host.states)
    if not calls:
        what = "call" if pane.pane_id == "calls" else "extension or lamp on a call"
        host.notify(f"select a {what} first", severity="warning")
    return calls


def one_call(host: FlowHost, action: Action) -> Call | None:
    calls = selected_calls(host)
    if len(calls) > 1:
        host.notify(
            f"{ACTION_LABELS[action]} works on one call at a time: unmark the others (Esc)",
            severity="warning",
        )
        return None
    return calls[0] if calls else None


def selected_agents(host: FlowHost) -> list[Agent]:
    pane = host.active_pane
    agents = [r for r in pane.targets() if isinstance(r, Agent)]
    if not agents:
        hint = " (Tab moves to the agents table)" if pane.pane_id == "queues" else " (pane 5)"
        host.notify(f"select an agent in the agents table first{hint}", severity="warning")
    return agents


@dataclass(frozen=True)
class Prefill:
    """What a dialling form starts with, taken from the selected row."""

    pbx: str = ""
    internal: str = ""
    """The extension on the row (the source of a click2call)."""
    external: str = ""
    """The outside number on the row (the destination), never in privacy mode."""


def prefill(record: Record | None, *, mask: bool) -> Prefill:
    if record is None:
        return Prefill()
    internal, external = "", ""
    if isinstance(record, Call):
        internal = record.extension
        for number in (record.caller, record.callee):
            if number and number != record.extension:
                external = number
                break
    elif isinstance(record, Extension):
        internal = record.number
    elif isinstance(record, BlfLamp | Agent):
        internal = record.extension
    if mask and sum(ch.isdigit() for ch in external) >= MASK_MIN_DIGITS:
        external = ""  # privacy mode: a caller's number is never shown in full
    return Prefill(record.pbx, internal, external)
