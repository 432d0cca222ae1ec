"""Call history: one normalized call detail record (CDR) whatever the vendor, and the query.

History is a *query*, not a poll and not an action: it is asked for a time range, read in
pages (newest first) from the PBX's CDR API or from what the PBX pushed at the end of each
call, and never shares the live poll loop. Every vendor's rows become ``CdrRecord``: the same
field names and the same status words (``EndStatus``, shared with pushed end-call events), the
vendor's own word kept beside them in ``status_raw``.

Times: vendors write local times without a zone; the drivers read them in the PBX's
configured ``timezone``, so ``start`` is always an aware datetime.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pbxtui.model.push import EndStatus
from pbxtui.model.records import Direction, Record, utcnow

__all__ = [
    "CSV_COLUMNS",
    "CdrRecord",
    "CdrSource",
    "EndStatus",
    "HistoryPage",
    "HistoryQuery",
    "HistorySource",
    "csv_row",
    "digits",
    "newest_first",
    "utc_text",
]

MAX_LIMIT = 1_000_000
MAX_RANGE = timedelta(days=366)  # a year of calls is the most any one query reads


class CdrSource(StrEnum):
    CDR = "cdr"
    """Read from the PBX's CDR API."""
    PUSH = "push"
    """Taken from an end-call event the PBX pushed (no CDR API, or not yet in it)."""


def digits(number: str) -> str:
    """The digits of a number, for comparing ``+972 50-123 4567`` with ``972501234567``."""
    return "".join(ch for ch in number if ch.isdigit())


class CdrRecord(Record):
    """One finished call, as every vendor's history reads."""

    unique_id: str = Field("", description="The PBX's unique id of the call, if it gives one")
    start: datetime = Field(description="When the call began (aware)")
    direction: Direction = Direction.UNKNOWN
    caller: str = ""
    caller_name: str = ""
    callee: str = ""
    status: EndStatus = EndStatus.UNKNOWN
    status_raw: str = Field("", description="The vendor's own word (ANSWERED, NO ANSWER, ANSER…)")
    duration: int | None = Field(None, ge=0, description="Seconds, overall (ringing included)")
    billable: int | None = Field(None, ge=0, description="Seconds talked, if the vendor says")
    queue: str = ""
    answered_by: str = Field("", description="Who answered (an extension, an agent, a number)")
    recorded: bool | None = Field(None, description="Whether it was recorded, if the API says")
    recording: str = Field(
        "", description="What fetches the recording from this PBX (opaque; empty: none known)"
    )
    did: str = ""
    source: CdrSource = CdrSource.CDR

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("start must be an aware datetime (read in the PBX's time zone)")
        return value

    @property
    def parties(self) -> tuple[str, ...]:
        return tuple(p for p in (self.caller, self.callee, self.answered_by) if p)

    @property
    def ended(self) -> datetime | None:
        return self.start + timedelta(seconds=self.duration) if self.duration is not None else None


CSV_COLUMNS = (
    "pbx",
    "start",
    "start_utc",
    "direction",
    "caller",
    "caller_name",
    "callee",
    "status",
    "status_raw",
    "duration",
    "billable",
    "queue",
    "answered_by",
    "recorded",
    "recording",
    "did",
    "id",
    "unique_id",
    "source",
)
"""The columns of a history CSV export, in order (the CLI's ``--csv`` and the console's):
``start`` in local time as a spreadsheet reads it, ``start_utc`` in ISO 8601."""


def csv_row(record: CdrRecord, zone: tzinfo | None = None) -> dict[str, str]:
    """One record as CSV cells (``zone``: the local time of ``start``; None: this machine's)."""
    values = record.model_dump(mode="json")
    cells = {key: _cell(values.get(key)) for key in CSV_COLUMNS}
    cells["start"] = record.start.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    cells["start_utc"] = utc_text(record.start)
    return cells


def utc_text(moment: datetime) -> str:
    """A time as every JSON and CSV output writes it: UTC, ISO 8601, with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class HistoryQuery(BaseModel):
    """What to read: a time range (``until`` None: now), optionally one number, some statuses,
    a shortest duration, and at most ``limit`` records (the newest)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: datetime
    until: datetime | None = None
    number: str = ""
    statuses: frozenset[EndStatus] = frozenset()
    min_duration: int | None = Field(None, ge=0)
    limit: int | None = Field(None, ge=1, le=MAX_LIMIT)

    @field_validator("since", "until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("give an aware datetime (with its time zone)")
        return value

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        value = value.strip()
        if value and not digits(value):
            raise ValueError(f"{value!r} has no digits: give a phone number or an extension")
        return value

    @model_validator(mode="after")
    def _range(self) -> HistoryQuery:
        until = self.until or utcnow()
        if until <= self.since:
            raise ValueError("the time range is empty: --since must be before --until")
        if until - self.since > MAX_RANGE:
            raise ValueError("the time range is longer than a year: ask for less at a time")
        return self

    def bounds(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """``[since, until)``, ``until`` resolved to now when open."""
        return self.since, self.until or now or utcnow()

    def matches(self, record: CdrRecord, until: datetime | None = None) -> bool:
        """Whether ``record`` is asked for. Every driver applies this to what its PBX sent,
        so the filters mean the same everywhere, however loosely a vendor applies its own."""
        since, end = self.since, until or self.until
        if record.start < since or (end is not None and record.start >= end):
            return False
        if self.statuses and record.status not in self.statuses:
            return False
        if self.min_duration is not None and (record.duration or 0) < self.min_duration:
            return False
        if self.number:
            wanted = digits(self.number)
            return any(wanted in digits(party) for party in record.parties)
        return True


class HistoryPage(BaseModel):
    """One step of a history read: the records of one time window (newest first), how far
    the read has got, and what went wrong (the read stops after a page with an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pbx: str
    records: tuple[CdrRecord, ...] = ()
    window: tuple[datetime, datetime] | None = None
    """The time range this page covers, ``[start, end)``."""
    progress: float = Field(1.0, ge=0.0, le=1.0)
    """Share of the query's time range read so far."""
    source: str = ""
    """Where the records came from, in words (``SIMPLECDRS``, ``cdr.php``, ``pushed calls``)."""
    error: str = ""
    """Why the read stopped early (safe to show); the records so far are still valid."""
    note: str = ""
    """Something the reader should know (``only the calls pushed since pbxtui started``)."""


def newest_first(records: Iterable[CdrRecord]) -> list[CdrRecord]:
    return sorted(records, key=lambda r: (r.start, r.id), reverse=True)


class HistorySource(Protocol):
    """What a History view needs: the engine (``pbxtui.engine.queries``) or a collector."""

    def history_source(self, pbx: str) -> str:
        """Where ``pbx``'s history comes from, in words; "" when it has none at all."""
        ...

    def history(self, pbx: str, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        """The records of ``query``, newest first, a page at a time; a page's ``error``
        says why the read stopped early."""
        ...
