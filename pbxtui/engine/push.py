"""What one PBX pushed, turned into live calls, Events lines and history.

A polled PBX's polls stay the truth; what it pushes fills the gap until the next poll and
says what a poll cannot: a GlobalEx incoming alert names the other party of a ringing
extension (its status API never does); an IEXPBX call start shows the call before the next
poll, and its hang-up removes it at once. A push-only PBX (While1 Voice) has no poll at all:
its calls are the ones its events describe. Rows are merged by the same key a poll gives
them, so a call pushed and then polled is one row, never two.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pbxtui.model import (
    Call,
    CallState,
    Change,
    ChangeKind,
    Direction,
    format_duration,
    labelled,
    utcnow,
)
from pbxtui.model.push import EndStatus, PushEvent, PushKind

MAX_REMEMBERED = 2_000
"""Dedupe keys, ringing alerts and pushed calls kept at the most (a sender cannot bloat us)."""
MAX_HISTORY = 1_000
PUSHED_CALL_TTL = timedelta(seconds=30)
"""A call only pushed (never polled) is dropped after this: its end may never be pushed."""
Namer = Callable[[Call], Call]
RINGING_TTL = timedelta(minutes=2)
"""A push-only PBX's ringing caller (a caller-data request) not answered by then is gone."""
LIVE_TTL = timedelta(hours=12)
"""A push-only PBX's answered call whose end never came is dropped after this."""


def _bounded_put(store: OrderedDict[str, object], key: str, value: object) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > MAX_REMEMBERED:
        store.popitem(last=False)


@dataclass
class _Pushed:
    call: Call
    at: datetime


@dataclass
class PushTracker:
    pbx: str
    push_only: bool = False
    ringing_ttl: timedelta = RINGING_TTL
    last_event_at: datetime | None = None
    events: int = 0
    duplicates: int = 0
    history: deque[PushEvent] = field(default_factory=lambda: deque(maxlen=MAX_HISTORY))
    _seen: OrderedDict[str, object] = field(default_factory=OrderedDict)
    _ringing: OrderedDict[str, object] = field(default_factory=OrderedDict)
    """extension → the incoming alert naming its caller (dialup)."""
    _pushed: OrderedDict[str, object] = field(default_factory=OrderedDict)
    """call id → a call known only from a push."""
    _ended: OrderedDict[str, object] = field(default_factory=OrderedDict)
    """call id → when a push said it ended (a poll may still show it for a moment)."""
    _namer: Namer | None = None

    # -- events in ---------------------------------------------------------------------------
    def apply(self, event: PushEvent, *, named: Namer | None = None) -> list[Change]:
        """Take ``event`` in; the Events-pane lines it makes ([] for a duplicate), its
        parties named by ``named`` where it knows them."""
        self._namer = named
        if event.kind is PushKind.CALL_ENDED and event.dedupe_key in self._seen:
            self.duplicates += 1
            return []
        _bounded_put(self._seen, event.dedupe_key, True)
        self.events += 1
        self.last_event_at = event.received_at
        handler = {
            PushKind.CALL_RINGING: self._ringing_call,
            PushKind.CALL_STARTED: self._started,
            PushKind.CALL_ANSWERED: self._answered,
            PushKind.CALL_ENDED: self._ended_call,
            PushKind.CALL_MISSED: self._missed,
        }[event.kind]
        return handler(event)

    def _parties(self, event: PushEvent) -> str:
        """``0501234567 (Dana Cohen) → 201 (Noa)``: ``event.parties`` with the names known."""
        if self._namer is None:
            return event.parties
        party = Call(
            pbx=self.pbx,
            id=event.call_id or "push",
            channel="",
            caller=event.caller,
            callee=event.callee or event.extension,
        )
        named = self._namer(party)
        caller = labelled(event.caller, named.caller_name) or "?"
        callee = labelled(event.callee or event.extension, named.callee_name) or "?"
        return f"{caller} → {callee}"

    def _change(self, event: PushEvent, kind: ChangeKind, text: str, key: str = "") -> Change:
        return Change(
            at=event.received_at,
            pbx=self.pbx,
            kind=kind,
            text=f"{self.pbx}: {text}",
            key=key or (f"{self.pbx}\x1f{event.call_id}" if event.call_id else ""),
            source="push",
        )

    def _ringing_call(self, event: PushEvent) -> list[Change]:
        if event.extension:
            _bounded_put(self._ringing, event.extension, event)
        if self.push_only:
            call = Call(
                pbx=self.pbx,
                id=event.call_id or f"ring:{event.caller}>{event.callee}",
                channel=event.call_id or "",
                caller=event.caller,
                callee=event.callee or event.extension,
                state=CallState.RINGING,
                state_raw=event.route,
                direction=Direction.INBOUND,
                extension=event.extension,
                observed_at=event.received_at,
            )
            _bounded_put(self._pushed, call.id, _Pushed(call, event.received_at))
        text = f"call {self._parties(event)} ringing"
        if event.extension:
            text += f" at {event.extension}"
        return [self._change(event, ChangeKind.CALL_STARTED, text + " (pushed)")]

    def _started(self, event: PushEvent) -> list[Change]:
        if event.call_id:
            call = Call(
                pbx=self.pbx,
                id=event.call_id,
                channel=event.call_id,
                caller=event.caller,
                callee=event.callee,
                state=CallState.RINGING,
                state_raw=event.route,
                direction=event.direction,
                extension=event.extension,
                observed_at=event.received_at,
            )
            _bounded_put(self._pushed, call.id, _Pushed(call, event.received_at))
        return [
            self._change(
                event, ChangeKind.CALL_STARTED, f"call {self._parties(event)} started (pushed)"
            )
        ]

    def _answered(self, event: PushEvent) -> list[Change]:
        # The caller-data request rang as "ring:<number>>…": the answer replaces it.
        for key in [k for k in self._pushed if k.startswith(f"ring:{event.caller}>")]:
            del self._pushed[key]
        call = Call(
            pbx=self.pbx,
            id=event.call_id or f"{event.caller}>{event.agent}",
            channel=event.call_id or "",
            caller=event.caller,
            callee=event.agent or event.callee,
            state=CallState.UP,
            state_raw=event.route,
            queue=event.queue,
            direction=event.direction,
            extension=event.agent or event.extension,
            unique_id=event.call_id,
            observed_at=event.received_at,
        )
        _bounded_put(self._pushed, call.id, _Pushed(call, event.received_at))
        who = f" by {event.agent}" if event.agent else ""
        return [
            self._change(
                event, ChangeKind.CALL_ANSWERED, f"call {self._parties(event)} answered{who}"
            )
        ]

    def _ended_call(self, event: PushEvent) -> list[Change]:
        self.history.append(event)
        if event.call_id:
            self._pushed.pop(event.call_id, None)
            _bounded_put(self._ended, event.call_id, event.received_at)
        if event.extension:
            self._ringing.pop(event.extension, None)
        status = event.status.value.replace("_", " ") if event.status else event.status_raw
        details = [status] if status else []
        if event.duration is not None:
            details.append(format_duration(event.duration))
        if event.queue_name or event.queue:
            details.append(f"queue {event.queue_name or event.queue}")
        if event.recording:
            details.append("recorded")
        said = f" ({', '.join(details)})" if details else ""
        text = f"call {self._parties(event)} ended{said}"
        return [self._change(event, ChangeKind.CALL_ENDED, text)]

    def _missed(self, event: PushEvent) -> list[Change]:
        self.history.append(event)
        for key in [k for k in self._pushed if k.startswith(f"ring:{event.caller}>")]:
            del self._pushed[key]
        details = []
        if event.hold_time is not None:
            details.append(f"waited {format_duration(event.hold_time)}")
        if event.reason:
            details.append(event.reason)
        said = f" ({', '.join(details)})" if details else ""
        text = f"call {self._parties(event)} missed{said}"
        return [self._change(event, ChangeKind.CALL_MISSED, text)]

    # -- calls out ---------------------------------------------------------------------------
    def expire(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        for key, value in list(self._pushed.items()):
            assert isinstance(value, _Pushed)
            ttl = self._ttl(value.call)
            if now - value.at > ttl:
                del self._pushed[key]
        for key, value in list(self._ringing.items()):
            assert isinstance(value, PushEvent)
            if now - value.received_at > self.ringing_ttl:
                del self._ringing[key]
        for key, value in list(self._ended.items()):
            assert isinstance(value, datetime)
            if now - value > PUSHED_CALL_TTL:
                del self._ended[key]

    def _ttl(self, call: Call) -> timedelta:
        if not self.push_only:
            return PUSHED_CALL_TTL
        return self.ringing_ttl if call.state is CallState.RINGING else LIVE_TTL

    def calls(self) -> tuple[Call, ...]:
        """A push-only PBX's live calls, as its events describe them."""
        self.expire()
        return tuple(v.call for v in self._pushed.values() if isinstance(v, _Pushed))

    def overlay(self, polled: Sequence[Call]) -> tuple[Call, ...]:
        """A polled PBX's calls with what it pushed since: calls pushed but not polled yet
        added, calls whose hang-up was pushed removed, ringing extensions given their caller.
        A call the poll has seen is no longer carried by the push (the poll is the truth)."""
        self.expire()
        seen = {c.id for c in polled}
        for key in [k for k in self._pushed if k in seen]:
            del self._pushed[key]
        merged = [self._named(c) for c in polled if c.id not in self._ended]
        merged += [
            v.call
            for k, v in self._pushed.items()
            if isinstance(v, _Pushed) and k not in self._ended
        ]
        return tuple(merged)

    def _named(self, call: Call) -> Call:
        """A ringing extension's call given the caller and call id its incoming alert named."""
        alert = self._ringing.get(call.extension) if call.extension else None
        if not isinstance(alert, PushEvent):
            return call
        update: dict[str, object] = {}
        if alert.caller and call.caller in ("", call.extension):
            update["caller"] = alert.caller
            update["callee"] = call.extension
            update["direction"] = Direction.INBOUND
        if alert.call_id and not call.unique_id:
            update["unique_id"] = alert.call_id
        return call.model_copy(update=update) if update else call

    def ended_status(self, call_id: str) -> EndStatus | None:
        for event in reversed(self.history):
            if event.call_id == call_id:
                return event.status
        return None
