"""Actions in flight: what, where, and for how long, for the status line (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from pbxtui.drivers.base import Action
from pbxtui.engine.actions import ActionRequest


def phase(request: ActionRequest) -> str:
    """What the action is waiting for, in the operator's words."""
    action = request.action
    if action is Action.CLICK2CALL and request.click2call is not None:
        c2c = request.click2call
        first = c2c.destination if c2c.reverse else c2c.source
        return f"waiting for {first} to answer"
    if action is Action.SCHEDULED_CALL:
        return "scheduling"
    if action is Action.CALLBACK:
        return f"waiting for {request.number1} to answer"
    if action is Action.CALL_IVR and request.ivr is not None:
        return f"waiting for {request.ivr.number} to answer"
    if action is Action.PHONEBOOK:
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
        target = "" if request.action is Action.PHONEBOOK else f" {request.describe_target()}"
        return f"{request.label} {request.pbx}{target} · {phase(request)} · {seconds}s"
