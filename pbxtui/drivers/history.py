"""What every vendor's history reader shares: status words, local times, day windows, paging.

A history read asks the PBX for one local day at a time, newest day first, exactly as the
observed clients ask (whole dates, the end exclusive): whether a PBX honours the time of day
in its ``start``/``end`` parameters or only the date, the rows of one day come back either
way. Each day's rows are then filtered here with the query's exact bounds and filters
(``HistoryQuery.matches``), so a filter means the same on every vendor however loosely the
PBX applies its own, and a row two windows both return (an end that is inclusive) is kept once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, ClassVar

from pbxtui.drivers.http import asking
from pbxtui.drivers.reading import Fields, Layout, Layouts, Unreadable
from pbxtui.model.history import CdrRecord, HistoryPage, HistoryQuery, newest_first
from pbxtui.model.push import EndStatus
from pbxtui.model.records import Direction

PURPOSE = "history"  # what history requests are asked as (the budget's POLL priority)

# Every vendor's disposition words (Asterisk's, IEXPBX's typos, GlobalEx's spellings), folded
# to letters only, upper case.
STATUS_WORDS: dict[str, EndStatus] = {
    "ANSWERED": EndStatus.ANSWERED,
    "ANSWER": EndStatus.ANSWERED,
    "ANSER": EndStatus.ANSWERED,  # IEXPBX's hang-up webhook, sic
    "UP": EndStatus.ANSWERED,
    "NOANSWER": EndStatus.NO_ANSWER,
    "NOANSWERED": EndStatus.NO_ANSWER,
    "UNANSWERED": EndStatus.NO_ANSWER,
    "MISSED": EndStatus.NO_ANSWER,
    "TIMEOUT": EndStatus.NO_ANSWER,
    "BUSY": EndStatus.BUSY,
    "FAILED": EndStatus.FAILED,
    "FAIL": EndStatus.FAILED,
    "ERROR": EndStatus.FAILED,
    "CHANUNAVAIL": EndStatus.FAILED,
    "CONGESTION": EndStatus.CONGESTION,
    "CANCEL": EndStatus.CANCELLED,
    "CANCELLED": EndStatus.CANCELLED,
    "CANCELED": EndStatus.CANCELLED,
    "ABANDONED": EndStatus.ABANDONED,
    "ABANDONE": EndStatus.ABANDONED,  # GlobalEx, sic
    "ABANDON": EndStatus.ABANDONED,
}
NOT_LETTERS = re.compile(r"[^A-Z]")

DIRECTION_WORDS: dict[str, Direction] = {
    "IN": Direction.INBOUND,
    "INBOUND": Direction.INBOUND,
    "INCOMING": Direction.INBOUND,
    "OUT": Direction.OUTBOUND,
    "OUTBOUND": Direction.OUTBOUND,
    "OUTGOING": Direction.OUTBOUND,
    "OUTCOMING": Direction.OUTBOUND,  # IEXPBX, sic
    "LOCAL": Direction.INTERNAL,
    "INTERNAL": Direction.INTERNAL,
    "INTERN": Direction.INTERNAL,
}
EXTENSION_RE = re.compile(r"[0-9]{2,5}")


def end_status(raw: str) -> EndStatus:
    """A vendor's disposition (``NO ANSWER``, ``ANSER``, ``Abandone``…) → the history word."""
    return STATUS_WORDS.get(NOT_LETTERS.sub("", raw.upper()), EndStatus.UNKNOWN)


def direction_word(raw: str) -> Direction:
    return DIRECTION_WORDS.get(NOT_LETTERS.sub("", raw.upper()), Direction.UNKNOWN)


def direction_of(caller: str, callee: str) -> Direction:
    """From the parties alone: an extension-length number (2 to 5 digits) is internal."""
    inside_from = bool(EXTENSION_RE.fullmatch(caller))
    inside_to = bool(EXTENSION_RE.fullmatch(callee))
    if inside_from and inside_to:
        return Direction.INTERNAL
    if inside_from:
        return Direction.OUTBOUND
    if inside_to:
        return Direction.INBOUND
    return Direction.UNKNOWN


# -- local times ----------------------------------------------------------------------------------
def aware(naive: datetime, zone: tzinfo | None) -> datetime:
    """A PBX's local time made aware: in its zone, or (None) in this machine's, whose rules
    (summer time included) the C library applies."""
    if zone is not None:
        return naive.replace(tzinfo=zone)
    return naive.astimezone()


def local(moment: datetime, zone: tzinfo | None) -> datetime:
    """An aware time as the PBX writes it: naive, in its zone (None: this machine's)."""
    return moment.astimezone(zone).replace(tzinfo=None)


def parse_local(text: str, formats: tuple[str, ...], zone: tzinfo | None) -> datetime | None:
    """The first of ``formats`` that reads ``text``, made aware in ``zone``; None if none does
    (or the text is MySQL's zero date)."""
    text = text.strip()
    if not text or text.startswith(("0000", "00.00")) or len(text) > 40:
        return None
    for fmt in formats:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        try:
            return aware(moment, zone)
        except (OverflowError, OSError, ValueError):
            return None
    return None


# -- windows --------------------------------------------------------------------------------------
def day_windows(
    since: datetime, until: datetime, zone: tzinfo | None
) -> Iterator[tuple[date, datetime, datetime]]:
    """The PBX's local days that ``[since, until)`` touches, newest first: (the day, and the
    part of the range within it)."""
    day = local(until - timedelta(microseconds=1), zone).date()
    first = local(since, zone).date()
    while day >= first:
        start = aware(datetime.combine(day, time()), zone)
        end = aware(datetime.combine(day + timedelta(days=1), time()), zone)
        yield day, max(start, since), min(end, until)
        day -= timedelta(days=1)


DayReader = Callable[[date], Awaitable[list[CdrRecord]]]


async def paged(
    pbx: str,
    query: HistoryQuery,
    zone: tzinfo | None,
    read_day: DayReader,
    *,
    source: str,
) -> AsyncIterator[HistoryPage]:
    """One page per local day, newest first: each day's rows read by ``read_day``, filtered by
    the query, each record once, at most ``query.limit`` in all (no day is asked past it).
    A DriverError from ``read_day`` ends the read (the pages before it stand)."""
    since, until = query.bounds()
    total = (until - since).total_seconds()
    seen: set[str] = set()
    left = query.limit
    for day, start, end in day_windows(since, until, zone):
        with asking(PURPOSE):
            rows = await read_day(day)
        fresh = []
        for record in newest_first(rows):
            if record.key in seen or not query.matches(record, until):
                continue
            seen.add(record.key)
            fresh.append(record)
        if left is not None:
            fresh = fresh[:left]
            left -= len(fresh)
        done = (until - start).total_seconds() / total if total > 0 else 1.0
        yield HistoryPage(
            pbx=pbx,
            records=tuple(fresh),
            window=(start, end),
            progress=min(1.0, max(0.0, done)),
            source=source,
        )
        if left == 0:
            return


class CdrRows:
    """A vendor's CDR rows read into records, each row by the layout of its own shape (one
    answer may mix them). A row that cannot be placed in time is left out; an answer with
    rows of which none reads is not an answer."""

    FIELDS: ClassVar[Fields]
    UNREADABLE: ClassVar[str] = "no call in the answer has a readable start time"

    def read(self, rows: Sequence[Mapping[str, Any]]) -> list[CdrRecord]:
        layouts = Layouts(self.FIELDS)
        records = []
        for position, row in enumerate(rows):
            record = self.record(row, layouts.of(row), f"call {position + 1}")
            if record is not None:
                records.append(record)
        if rows and not records:
            raise Unreadable(self.UNREADABLE)
        return records

    def record(self, row: Mapping[str, Any], layout: Layout, where: str) -> CdrRecord | None:
        raise NotImplementedError


def parties(caller: str, callee: str, direction: str) -> tuple[str, str, Direction]:
    """Caller, callee and the direction: the vendor's word for it, else told by the numbers."""
    said = direction_word(direction)
    return caller, callee, said if said is not Direction.UNKNOWN else direction_of(caller, callee)
