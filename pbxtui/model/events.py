"""What the engine tells its subscribers: readable changes, and the state after each result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pbxtui.model.state import PbxState
from pbxtui.model.vocabulary import Resource


class ChangeKind(StrEnum):
    CALL_STARTED = "call_started"
    CALL_ANSWERED = "call_answered"
    CALL_ENDED = "call_ended"
    AGENT_PAUSED = "agent_paused"
    AGENT_UNPAUSED = "agent_unpaused"
    AGENT_STATE = "agent_state"
    PEER_DROPPED = "peer_dropped"
    PEER_REGISTERED = "peer_registered"
    CALL_MISSED = "call_missed"
    PBX_DOWN = "pbx_down"
    PBX_UP = "pbx_up"
    ACTION = "action"


@dataclass(frozen=True)
class Change:
    at: datetime
    pbx: str
    kind: ChangeKind
    text: str
    """One readable line, e.g. "hq: call 0501234567 → 201 answered"."""
    key: str = ""
    """The ``Record.key`` this is about, when it is about one."""
    ok: bool = True
    """For an action: whether it succeeded (a refusal or failure is not ok)."""
    source: str = "poll"
    """Where it was learnt: "poll", "push" (a webhook) or "action"."""


@dataclass(frozen=True)
class EngineUpdate:
    """Sent to subscribers after every poll result (``resource`` None for an action)."""

    pbx: str
    resource: Resource | None
    state: PbxState
    changes: tuple[Change, ...] = ()
    seq: int = 0
    """The store's number for this update: one sequence for the whole engine."""
