"""Tracking an attended transfer between its two steps (pure).

``engine.perform(ATTENDED_TRANSFER)`` starts a consultation: the transferer's extension calls
the destination while the other party holds. The second step is two hangups done through the
engine like any other: *complete* hangs up the transferer's leg of the held call (the switch
then joins the held party and the consulted one), *cancel* hangs up the consultation call.
This module finds those two calls among the PBX's live calls.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pbxtui.model import Call, CallState


@dataclass(frozen=True)
class Consultation:
    pbx: str
    original: Call
    """The call as the operator confirmed it (the one put on hold)."""
    destination: str
    transferer: str
    """The extension doing the consulting."""
    before: frozenset[str]
    """Keys of the PBX's calls when the consultation started (the new ones are the consult)."""
    started: datetime

    @property
    def key(self) -> str:
        return self.original.key


def transferer_of(call: Call) -> str:
    """The internal party of ``call``: its extension, else a number in its channel name."""
    if call.extension:
        return call.extension
    match = re.search(r"/(\d{2,6})[-@]", call.channel)
    return match.group(1) if match else ""


def _involves(call: Call, number: str) -> bool:
    if not number:
        return False
    if number in (call.extension, call.caller, call.callee):
        return True
    return _mentions(call.channel, number)


def consult_calls(consultation: Consultation, calls: Sequence[Call]) -> list[Call]:
    """The calls of the consultation: new since it started, between transferer and destination."""
    found = [
        c
        for c in calls
        if c.pbx == consultation.pbx
        and c.key not in consultation.before
        and c.key != consultation.original.key
        and (_involves(c, consultation.destination) or _involves(c, consultation.transferer))
    ]
    return found


def _mentions(channel: str, number: str) -> bool:
    return bool(number) and re.search(rf"/{re.escape(number)}[-@]", channel) is not None


def transferer_leg(consultation: Consultation, calls: Sequence[Call]) -> Call | None:
    """The transferer's leg of the held call: hanging it up completes the transfer.

    When the held call's record names the other party's channel first, the returned Call is
    the same call aimed at the transferer's channel (``bridged_id``), so a driver hanging up
    ``call.id`` drops exactly that leg.
    """
    consult = {c.key for c in consult_calls(consultation, calls)}
    held = [c for c in calls if c.pbx == consultation.pbx and c.key not in consult]
    transferer = consultation.transferer
    candidates = [c for c in held if c.key == consultation.original.key] or [
        c
        for c in held
        if c.state is CallState.HELD
        and (_mentions(c.channel, transferer) or _mentions(c.bridged_id, transferer))
    ]
    if not candidates:
        return None
    call = candidates[0]
    if not _mentions(call.channel, transferer) and _mentions(call.bridged_id, transferer):
        leg = call.bridged_id
        return call.model_copy(update={"id": leg, "channel": leg, "bridged_id": call.channel})
    return call


def consultation_leg(consultation: Consultation, calls: Sequence[Call]) -> Call | None:
    """The consultation call to hang up to cancel (the destination's side when known)."""
    found = consult_calls(consultation, calls)
    if not found:
        return None
    towards = [c for c in found if _involves(c, consultation.destination)]
    return (towards or found)[0]
