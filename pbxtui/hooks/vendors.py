"""Each vendor's webhook parameters read into a ``PushEvent``: one reader per route.

The parameter names are the vendors' own, misspellings included: GlobalEx's template writes
``taqrget`` and its table ``ivruniqeid``, ``callerextention`` and ``queuid``; IEXPBX's
hang-up template lacks the ``=`` of ``callstatus{status}`` (so ``callstatusANSER`` arrives
as a key); While1 Voice's caller-data request and "Send Events" are documented in
while1voice-caller-data.txt and the vendor notes (§4).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from pbxtui import redact
from pbxtui.hooks import words
from pbxtui.model.push import EndStatus, PushEvent, PushKind, bounded_raw
from pbxtui.model.records import Direction

Params = dict[str, str]


class Unreadable(Exception):
    """Parameters that name no call at all, or an event this receiver does not know."""


def _get(params: Params, *names: str) -> str:
    """The first of ``names`` given a value. A template placeholder the PBX left unfilled
    (``{callid}``) is no value."""
    for name in names:
        value = params.get(name, "")
        if value and not re.fullmatch(r"\{[^{}]*\}|\$\{[^{}]*\}|%[A-Za-z_]+%", value):
            return value
    return ""


def _raw(params: Params) -> dict[str, str]:
    """The vendor's parameters for the detail view: never a credential, however named or
    wherever it turns up."""
    kept = {k: redact.scrub(v) for k, v in params.items() if k not in redact.SECRET_PARAMS}
    return bounded_raw(kept)


def _event(pbx: str, route: str, kind: PushKind, params: Params, **fields: object) -> PushEvent:
    return PushEvent.model_validate(
        {"pbx": pbx, "route": route, "kind": kind, "raw": _raw(params), **fields}
    )


# -- GlobalEx (the dialup.php family) ----------------------------------------------------------


def globalex_incoming(pbx: str, params: Params) -> PushEvent:
    """``?callid={callid}&ext={extention_num}&caller={caller_num}&target={taqrget}``"""
    call_id = _get(params, "callid", "call_id", "uniqueid")
    extension = _get(params, "ext", "extension", "extention", "extention_num")
    caller = _get(params, "caller", "caller_num")
    if not (call_id or extension or caller):
        raise Unreadable("an incoming-call alert without callid, ext or caller")
    return _event(
        pbx,
        "incoming",
        PushKind.CALL_RINGING,
        params,
        call_id=call_id,
        extension=extension,
        caller=caller,
        callee=_get(params, "target", "taqrget"),
        direction=Direction.INBOUND,
    )


def globalex_end_call(pbx: str, params: Params) -> PushEvent:
    """``?caller&target&time&duration&ivruniqueid&type&status&targetextension&callerextension
    &did&queueid&queuename&record&dialtime&domain&domain_name`` (and the table's spellings)."""
    call_id = _get(params, "ivruniqueid", "ivruniqeid", "uniqueid")
    caller = _get(params, "caller")
    callee = _get(params, "target", "taqrget")
    if not (call_id or caller or callee):
        raise Unreadable("an end-call event without ivruniqueid, caller or target")
    way = words.direction(_get(params, "type"))
    caller_ext = _get(params, "callerextension", "callerextention")
    target_ext = _get(params, "targetextension", "targetextention")
    status = _get(params, "status")
    return _event(
        pbx,
        "end_call",
        PushKind.CALL_ENDED,
        params,
        call_id=call_id,
        caller=caller,
        callee=callee,
        extension=(caller_ext or target_ext)
        if way is Direction.OUTBOUND
        else (target_ext or caller_ext),
        did=_get(params, "did"),
        queue=_get(params, "queueid", "queuid"),
        queue_name=_get(params, "queuename"),
        direction=way,
        status=words.end_status(status),
        status_raw=status,
        duration=words.seconds(_get(params, "duration")),
        billable=words.seconds(_get(params, "dialtime")),
        recording=_get(params, "record"),
    )


# -- IEXPBX ------------------------------------------------------------------------------------


def iexpbx_call_start(pbx: str, params: Params) -> PushEvent:
    """``?caller={src}&called={dst}&chan={chanid}``"""
    chan = _get(params, "chan")
    caller = _get(params, "caller")
    called = _get(params, "called")
    if not (chan or caller or called):
        raise Unreadable("a call-start without chan, caller or called")
    return _event(
        pbx, "call_start", PushKind.CALL_STARTED, params, call_id=chan, caller=caller, callee=called
    )


def _hangup_status(params: Params) -> str:
    """``callstatus=ANSER``, or the documented template's ``callstatusANSER`` (no ``=``)."""
    status = _get(params, "callstatus")
    if status:
        return status
    for key in params:
        if key.startswith("callstatus") and len(key) > len("callstatus"):
            return key[len("callstatus") :].lstrip("=").upper()
    return ""


def iexpbx_hangup(pbx: str, params: Params) -> PushEvent:
    """``?chan={chanid}&callstatus{status}&callduration={duration}``"""
    chan = _get(params, "chan")
    if not chan:
        raise Unreadable("a hang-up without chan (the only link to its call)")
    status = _hangup_status(params)
    return _event(
        pbx,
        "hangup",
        PushKind.CALL_ENDED,
        params,
        call_id=chan,
        status=words.end_status(status),
        status_raw=status,
        duration=words.seconds(_get(params, "callduration", "duration")),
    )


# -- While1 Voice ------------------------------------------------------------------------------


def while1_caller_data(pbx: str, params: Params) -> PushEvent:
    """``?telephone=0700000000&dnid=0210000000&token=…``: a caller is ringing."""
    telephone = _get(params, "telephone")
    if not telephone:
        raise Unreadable("a caller-data request without telephone")
    dnid = _get(params, "dnid")
    return _event(
        pbx,
        "caller_data",
        PushKind.CALL_RINGING,
        params,
        caller=telephone,
        callee=dnid,
        did=dnid,
        direction=Direction.INBOUND,
    )


WHILE1_ANSWERS = ("queue_answer", "dial_answer", "call_forward_answer")
WHILE1_ENDS = ("queue_answer_end", "outgoing_end")
WHILE1_EVENTS = (*WHILE1_ANSWERS, *WHILE1_ENDS, "missed_calls")


def _missed_status(reason: str) -> EndStatus | None:
    if not reason:
        return None
    if "hangup" in reason.lower():
        return EndStatus.ABANDONED  # queue_hangup: the caller gave up waiting
    if "timeout" in reason.lower():
        return EndStatus.NO_ANSWER
    return EndStatus.UNKNOWN


def while1_event(pbx: str, params: Params) -> PushEvent:
    """``?event=…&direction&project_id&agent&remote_number&telephone&dnid&dnid_identifier
    &contact_id&queue&uniqueid`` (missed calls add queue_hold_time, fail_reason and
    explain_reason)."""
    name = _get(params, "event").lower()
    if name not in WHILE1_EVENTS:
        shown = redact.scrub(name[:40]) or "none"
        raise Unreadable(f"unknown event {shown!r} (known: {', '.join(WHILE1_EVENTS)})")
    way = words.direction(_get(params, "direction"))
    if way is Direction.UNKNOWN:
        way = Direction.OUTBOUND if name == "outgoing_end" else Direction.INBOUND
    remote = _get(params, "remote_number", "telephone")
    dnid = _get(params, "dnid")
    # dnid is the number called, or the outgoing number of an outbound call
    caller, callee = (dnid, remote) if way is Direction.OUTBOUND else (remote, dnid)
    fields: dict[str, object] = {
        "call_id": _get(params, "uniqueid"),
        "caller": caller,
        "callee": callee,
        "agent": _get(params, "agent"),
        "queue": _get(params, "queue"),
        "did": dnid,
        "direction": way,
    }
    if name in WHILE1_ANSWERS:
        kind = PushKind.CALL_ANSWERED
    elif name in WHILE1_ENDS:
        kind = PushKind.CALL_ENDED
        if name == "queue_answer_end":
            fields["status"] = EndStatus.ANSWERED
    else:
        kind = PushKind.CALL_MISSED
        reason = _get(params, "fail_reason")
        explain = _get(params, "explain_reason")
        fields |= {
            "hold_time": words.seconds(_get(params, "queue_hold_time")),
            "status": _missed_status(reason),
            "status_raw": reason,
            "reason": f"{reason}: {explain}" if reason and explain else reason or explain,
        }
    if not (fields["call_id"] or caller or callee):
        raise Unreadable(f"a {name} event without uniqueid, remote_number or dnid")
    return _event(pbx, "events", kind, params, **fields)


@dataclass(frozen=True)
class Route:
    kind: str
    """The PBX kind that sends it (``/hook/{pbx}/{route}`` is 404 for any other)."""
    read: Callable[[str, Params], PushEvent]
    dedupe_on: tuple[str, ...] = ()
    """The parameter a retry repeats; without one, a retry is the same parameters again."""


ROUTES: dict[str, Route] = {
    "incoming": Route("dialup", globalex_incoming),
    "end_call": Route("dialup", globalex_end_call, ("ivruniqueid", "ivruniqeid")),
    "call_start": Route("iexpbx", iexpbx_call_start),
    "hangup": Route("iexpbx", iexpbx_hangup, ("chan",)),
    "caller_data": Route("while1", while1_caller_data),
    "events": Route("while1", while1_event),
}
