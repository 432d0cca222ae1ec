"""The calls a simulated PBX has ended, as the facts every vendor's CDR renders.

Each simulator's history comes from the one scenario's ended calls (``Scenario.ended``), so a
call seen ending in the live views is the call its history lists, on every vendor: the same
parties, times and outcome, each written in the vendor's own words and in the PBX's local
time zone (``SimClock``).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo

from pbxtui.sim.scenario import EndedCall, Scenario


@dataclass(frozen=True)
class CdrFacts:
    """One ended call, vendor-neutral."""

    seq: int  # the scenario's call number: a stable row id
    unique_id: str  # the first leg's (Asterisk's linkedid)
    originate_id: str
    start: float
    answered: float | None
    end: float
    direction: str  # inbound | outbound | internal
    caller: str
    caller_name: str
    callee: str  # as dialled: a number, an extension or a queue
    answered_by: str  # the extension (or number) that answered; "" if nobody did
    queue: str
    outcome: str  # answered | no_answer | abandoned

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def billable(self) -> float:
        return max(0.0, self.end - self.answered) if self.answered is not None else 0.0

    @property
    def recorded(self) -> bool:
        """Answered calls are recorded (the simulators serve audio for them)."""
        return self.answered is not None

    def ids(self) -> tuple[str, ...]:
        """What a recording may be asked by: the unique id, or an originate's id."""
        return tuple(i for i in (self.unique_id, self.originate_id) if i)


def facts_of(ended: EndedCall) -> CdrFacts:
    call = ended.call
    if call.originate_id:
        # The scenario keeps a click2call reversed (its source as callee): the CDR names the
        # source as the caller, who dialled the destination.
        caller, callee = call.callee, call.caller
    else:
        caller, callee = call.caller, call.callee
    if call.answered is None:
        answered_by = ""
    elif call.direction == "outbound" or call.originate_id:
        answered_by = callee
    else:
        answered_by = call.extension or callee
    if call.answered is not None:
        outcome = "answered"
    elif call.queue:
        outcome = "abandoned"
    else:
        outcome = "no_answer"
    return CdrFacts(
        seq=call.id,
        unique_id=call.linked_id,
        originate_id=call.originate_id,
        start=call.started,
        answered=call.answered,
        end=ended.ended,
        direction=call.direction,
        caller=caller,
        caller_name=call.caller_name,
        callee=callee,
        answered_by=answered_by,
        queue=call.queue,
        outcome=outcome,
    )


def ended_calls(scenario: Scenario) -> Iterator[CdrFacts]:
    """Every ended call the scenario keeps, newest first."""
    for ended in reversed(scenario.ended):
        yield facts_of(ended)


def find(scenario: Scenario, ident: str) -> CdrFacts | None:
    """An ended call by its unique id or originate id."""
    if not ident:
        return None
    return next((f for f in ended_calls(scenario) if ident in f.ids()), None)


class SimClock:
    """A simulated PBX's local time: how it writes times and reads the ones it is given."""

    def __init__(self, timezone: str | None = None) -> None:
        self.name = timezone
        self.zone: tzinfo | None = zoneinfo.ZoneInfo(timezone) if timezone else None

    def local(self, moment: float) -> datetime:
        """A scenario time as the PBX's wall clock shows it (naive)."""
        return datetime.fromtimestamp(moment, self.zone).replace(tzinfo=None)

    def epoch(self, wall: datetime) -> float:
        """A naive wall-clock time of the PBX (a request's date) as a scenario time."""
        if self.zone is not None:
            return wall.replace(tzinfo=self.zone).timestamp()
        return wall.timestamp()  # naive: this machine's local time
