"""From a call the console saw end to its row in the history (pure: no Textual here).

A finished call is found in the history by its id when the PBX's CDR uses the same one (an
Asterisk unique id, a vendor's call id), else by its caller and callee starting within
``SAME_CALL_SECONDS`` of each other: the console knows a call's start only as well as its
polls saw it, and a pushed call's start is its end less its duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pbxtui.model import Call
from pbxtui.model.history import CdrRecord, HistoryQuery, digits

SAME_CALL_SECONDS = 60
MARGIN = timedelta(minutes=10)
"""The history asked for around a finished call: its start less this, to now."""


@dataclass(frozen=True)
class FinishedCall:
    """A call that ended while the console watched (the Calls pane's recent list)."""

    call: Call
    ended_at: datetime

    @property
    def pbx(self) -> str:
        return self.call.pbx

    @property
    def key(self) -> str:
        return f"{self.call.key}\x1f{self.ended_at.timestamp()}"

    @property
    def started(self) -> datetime:
        return self.call.implied_start()

    @property
    def lasted(self) -> int:
        return self.call.duration_now(self.ended_at)

    def query(self, now: datetime) -> HistoryQuery:
        return HistoryQuery(since=min(self.started, now) - MARGIN, until=now)

    def ids(self) -> frozenset[str]:
        call = self.call
        return frozenset(i for i in (call.id, call.unique_id, call.bridged_unique_id) if i)

    def matches(self, record: CdrRecord) -> bool:
        if record.pbx != self.pbx:
            return False
        ids = self.ids()
        if record.id in ids or (record.unique_id and record.unique_id in ids):
            return True
        caller, callee = digits(self.call.caller), digits(self.call.callee)
        if not caller or caller != digits(record.caller):
            return False
        if callee and callee not in (digits(record.callee), digits(record.answered_by)):
            return False
        return abs((record.start - self.started).total_seconds()) <= SAME_CALL_SECONDS
