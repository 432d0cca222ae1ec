"""History rows (pure: no Textual here): the columns of the History screen, one row of cells
per call record, and the records kept by key with the filter over them.

A row is built once per record (a history does not change under the operator's eyes), with
its lower-cased text beside it, so filtering 100,000 calls is one substring test per row and
never builds a cell again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo

from rich.style import Style

from pbxtui.model.history import CdrRecord, EndStatus
from pbxtui.ui.cells import Cell, style_id
from pbxtui.ui.format import Cut, format_duration, mask_text, one_line
from pbxtui.ui.palette import Palette
from pbxtui.ui.row_cache import haystack
from pbxtui.ui.widgets.columns import Column, Keep
from pbxtui.ui.widgets.live_table import Row

COLUMNS: tuple[Column, ...] = (
    Column("pbx", "PBX", 8, min_width=3, keep=Keep.PBX, cut=Cut.MIDDLE),
    Column("start", "Start", 14, keep=Keep.DATA),
    Column("direction", "Dir", 3, keep=Keep.DATA),
    Column("caller", "Caller", 14, min_width=9, keep=Keep.DATA, cut=Cut.START, max_width=24),
    Column("callee", "Callee", 14, min_width=9, keep=Keep.DATA, cut=Cut.START, max_width=24),
    Column("status", "Status", 9, keep=Keep.DATA),
    Column("duration", "Dur", 7, min_width=5, keep=Keep.DATA),
    Column("billable", "Talk", 7, min_width=5, keep=Keep.DETAIL),
    Column("queue", "Queue", 8, min_width=4, keep=Keep.TEXT, max_width=16),
    Column("answered_by", "Answered", 10, min_width=4, keep=Keep.TEXT, max_width=20),
    Column("recording", "Rec", 3, keep=Keep.DETAIL),
)
SORT = "start"

DIRECTION_WORD = {"inbound": "in", "outbound": "out", "internal": "int", "unknown": "?"}
STATUS_WORD = {
    EndStatus.ANSWERED: "answered",
    EndStatus.NO_ANSWER: "no answer",
    EndStatus.BUSY: "busy",
    EndStatus.CANCELLED: "cancelled",
    EndStatus.CONGESTION: "congested",
    EndStatus.FAILED: "failed",
    EndStatus.ABANDONED: "abandoned",
    EndStatus.UNKNOWN: "?",
}
RECORDED = "●"


def status_word(record: CdrRecord) -> str:
    return STATUS_WORD.get(record.status, record.status.value)


def _status_style(status: EndStatus, palette: Palette) -> Style | None:
    if status is EndStatus.ANSWERED:
        return palette.ok
    if status in (EndStatus.FAILED, EndStatus.CONGESTION):
        return palette.alert
    if status is EndStatus.UNKNOWN:
        return palette.muted
    return palette.warn


_EMPTY: Cell = ("", 0, (1, ""), False, None, None)
_NO_SECONDS: Cell = ("", 0, (1, 0), True, None, None)


def _text(value: str, style: int = 0) -> Cell:
    """``cells.cell`` without its checks, for the fields of a validated record: 100,000
    rows are built in one read, and each check was a tenth of a row's cost."""
    if not value:
        return _EMPTY
    if not value.isprintable():
        value = one_line(value)
    return (value, style, (0, value.lower()), False, None, None)


def _seconds(value: int | None) -> Cell:
    if value is None:
        return _NO_SECONDS
    return (format_duration(value), 0, (0, value), True, None, None)


def status_styles(palette: Palette) -> dict[EndStatus, int]:
    """Each status's style, named once per palette (hashing a palette costs a row's time)."""
    return {status: style_id(_status_style(status, palette)) for status in EndStatus}


def history_row(
    record: CdrRecord, zone: tzinfo | None, statuses: Mapping[EndStatus, int], *, mask: bool
) -> Row:
    """The cells of one call; ``zone``: the time zone the start is shown in; ``statuses``:
    ``status_styles`` of the palette."""
    number = _masked if mask else _text
    start = record.start.astimezone(zone)
    status = statuses.get(record.status, 0)
    return (
        _text(record.pbx),
        (start.strftime("%m-%d %H:%M:%S"), 0, (0, start.timestamp(), record.id), False, None, None),
        _text(DIRECTION_WORD.get(record.direction.value, "?")),
        number(record.caller),
        number(record.callee),
        _text(STATUS_WORD.get(record.status, record.status.value), status),
        _seconds(record.duration),
        _seconds(record.billable),
        _text(record.queue),
        number(record.answered_by),
        _REC if record.recording else _EMPTY,
    )


def _masked(value: str, style: int = 0) -> Cell:
    return _text(mask_text(one_line(value)), style)


_REC: Cell = (RECORDED, 0, (0, RECORDED), False, None, None)


@dataclass(frozen=True, slots=True)
class Built:
    record: CdrRecord
    row: Row
    text: str
    """The row's text and the vendor's words, lower-cased: what ``/`` searches."""


@dataclass
class HistoryRows:
    """Every record read so far, by row key, with its row; and which ones the filter shows."""

    zone: tzinfo | None
    palette: Palette
    mask: bool = False
    built: dict[str, Built] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.statuses = status_styles(self.palette)

    def restyle(self, palette: Palette) -> None:
        """Rows to come are built in ``palette`` (those built so far stay as they are)."""
        self.palette, self.statuses = palette, status_styles(palette)

    def add(self, records: Iterable[CdrRecord]) -> dict[str, Built]:
        """Keep ``records`` (a record read again replaces the old one); returns the new."""
        new: dict[str, Built] = {}
        for record in records:
            row = history_row(record, self.zone, self.statuses, mask=self.mask)
            words = f"{record.status_raw} {record.status.value} {record.caller_name} {record.did}"
            new[record.key] = Built(record, row, haystack(row, words))
        self.built.update(new)
        return new

    def record(self, key: str) -> CdrRecord | None:
        found = self.built.get(key)
        return found.record if found is not None else None

    def __len__(self) -> int:
        return len(self.built)

    @staticmethod
    def matching(built: Mapping[str, Built], needle: str) -> dict[str, Row]:
        """The rows of ``built`` that contain ``needle`` (case-insensitive; "" shows all)."""
        needle = needle.strip().lower()
        if not needle:
            return {key: b.row for key, b in built.items()}
        return {key: b.row for key, b in built.items() if needle in b.text}
