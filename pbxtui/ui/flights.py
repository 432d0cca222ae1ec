"""Actions in flight: what, where, and for how long, for the status line (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from pbxtui.model import (
    ActionRequest,
    Callback,
    FetchDirectory,
    IvrCallRequest,
    PlaceCall,
    ScheduleCall,
)


def phase(request: ActionRequest) -> str:
    """What the action is waiting for, in the operator's words."""
    match request:
        case PlaceCall(dial=dial):
            return f"waiting for {dial.destination if dial.reverse else dial.source} to answer"
        case ScheduleCall():
            return "scheduling"
        case Callback(number1=number1):
            return f"waiting for {number1} to answer"
        case IvrCallRequest(ivr=ivr):
            return f"waiting for {ivr.number} to answer"
        case FetchDirectory():
            return "fetching"
    return "waiting for the PBX"


@dataclass(frozen=True)
class InFlight:
    request: ActionRequest
    started: float
    """``time.monotonic()`` when it was sent."""

    def describe(self, now: float) -> str:
        """``click2call branch 101 → 0501234567 · waiting for 101 to answer · 7s``."""
        request = self.request
        seconds = max(0, int(now - self.started))
        target = "" if isinstance(request, FetchDirectory) else f" {request.describe_target()}"
        return f"{request.label} {request.pbx}{target} · {phase(request)} · {seconds}s"
