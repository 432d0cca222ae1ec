"""The six panes. Each is a thin widget around one or two live tables (or the BLF board) fed
from ``views``; the console screen tells the visible pane to ``show`` new state, and to
``tick`` once a second (the visible durations move on; no row is rebuilt).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from pbxtui.model import BlfLamp, Call, Change, Record, Resource
from pbxtui.ui.format import format_duration, seconds_since
from pbxtui.ui.history_link import FinishedCall
from pbxtui.ui.recent_calls import RecentSpec
from pbxtui.ui.row_cache import Delta, haystack
from pbxtui.ui.views import (
    EVENT_COLUMNS,
    AgentsSpec,
    CallsSpec,
    EventEntry,
    ExtensionsSpec,
    PeersSpec,
    QueuesSpec,
    ViewContext,
    call_summary,
    event_row,
    matches,
    notices,
    pbx_width,
    queue_names,
    state_word,
)
from pbxtui.ui.widgets.blf import BlfBoard, LampGroup, legend
from pbxtui.ui.widgets.columns import Column
from pbxtui.ui.widgets.live_table import LiveTable, Row
from pbxtui.ui.widgets.text import TextLines

MAX_EVENTS = 1000


class Builder(Protocol):
    name: ClassVar[str]
    columns: ClassVar[tuple[Column, ...]]
    sort: ClassVar[str]
    reverse: ClassVar[bool]

    def refresh(self, ctx: ViewContext, needle: str = "") -> Delta: ...

    @property
    def shown_records(self) -> Mapping[str, Any]: ...


@dataclass
class Section:
    """One table of a pane: what builds it, the widget, its filter and the records shown."""

    builder: Builder
    table: LiveTable
    label: str
    needle: str = ""

    @property
    def records(self) -> Mapping[str, Any]:
        """Every record of the PBXs shown, filtered or not, by key."""
        return self.builder.shown_records

    @property
    def total(self) -> int:
        return len(self.builder.shown_records)


class Pane(Vertical):
    pane_id: ClassVar[str]
    title: ClassVar[str]
    resources: ClassVar[tuple[Resource, ...]] = ()

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.pane_id}", classes="pane")
        self.marks: set[str] = set()
        """Marked row keys of every table of the pane (the tables share this set)."""
        self.sections: list[Section] = []
        self._notices = TextLines(classes="notices")
        self._notices.display = False

    def section(self, builder: Builder, label: str, *, follow_top: bool = False) -> Section:
        table = LiveTable(
            builder.columns,
            sort_column=builder.sort,
            reverse=builder.reverse,
            follow_top=follow_top,
            marks=self.marks,
            id=f"table-{builder.name}",
        )
        return Section(builder, table, label)

    def compose(self) -> ComposeResult:
        yield self._notices
        yield from self.body()

    def body(self) -> ComposeResult:
        for section in self.sections:
            yield section.table

    # -- state -----------------------------------------------------------------------------
    def show(self, ctx: ViewContext) -> None:
        """Bring every table up to date with ``ctx``: only rows that changed are touched."""
        self.show_notices(notices(self.resources, ctx), ctx)
        width = pbx_width(ctx.pbxs)
        for section in self.sections:
            table = section.table
            table.now = ctx.now
            table.mark_style = ctx.palette.accent
            table.prefer("pbx", width)
            delta = section.builder.refresh(ctx, section.needle)
            table.update(delta.changed, delta.removed)
        if self.marks:
            records = [s.records for s in self.sections]
            self.marks.intersection_update(
                [k for k in self.marks if any(k in found for found in records)]
            )

    def tick(self, ctx: ViewContext) -> None:
        """Time alone moved on: repaint the visible lines that tick (durations). Rows scrolled
        out of view are drawn at the time they come into view, so a second costs the same
        with 50 rows or 10,000."""
        for section in self.sections:
            section.table.tick(ctx.now)

    def show_notices(self, lines: Sequence[tuple[str, str]], ctx: ViewContext) -> None:
        palette = ctx.palette
        styles = {"info": palette.muted, "warn": palette.warn, "alert": palette.alert}
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, (level_name, line) in enumerate(lines):
            if i:
                text.append("\n")
            text.append(line, styles.get(level_name))
        self._notices.update(text)
        self._notices.display = bool(lines)

    def notice_text(self) -> str:
        return self._notices.plain

    # -- selection -------------------------------------------------------------------------
    @property
    def active(self) -> Section | None:
        for section in self.sections:
            if section.table.has_focus:
                return section
        return self.sections[0] if self.sections else None

    def focus_main(self) -> None:
        section = self.active
        if section is not None:
            section.table.focus()

    def current(self) -> Record | None:
        section = self.active
        if section is None:
            return None
        key = section.table.current_key
        record = section.records.get(key) if key else None
        return record if isinstance(record, Record) else None

    def targets(self) -> list[Record]:
        """The marked records of the active table, or else the one under the cursor."""
        section = self.active
        if section is None:
            return []
        marked = [r for k, r in section.records.items() if k in self.marks]
        if marked:
            return [r for r in marked if isinstance(r, Record)]
        current = self.current()
        return [current] if current is not None else []

    def toggle_mark(self) -> bool:
        section = self.active
        key = section.table.current_key if section else None
        if section is None or key is None:
            return False
        if key in self.marks:
            self.marks.discard(key)
        else:
            self.marks.add(key)
        table = section.table
        table.refresh_key(key)
        if table.cursor_row + 1 < table.row_count:
            table.move_cursor(row=table.cursor_row + 1)
        return True

    def clear_marks(self) -> bool:
        had = bool(self.marks)
        self.marks.clear()
        if had:
            for section in self.sections:
                section.table.refresh()
        return had

    @property
    def needle(self) -> str:
        section = self.active
        return section.needle if section else ""

    def set_needle(self, needle: str, section_name: str | None = None) -> None:
        for section in self.sections:
            if (
                section_name is None and section is self.active
            ) or section.builder.name == section_name:
                section.needle = needle

    def status(self) -> str:
        """``showing 10000 of 10000 calls · sorted by Duration ▼ · 3 marked``."""
        section = self.active
        if section is None:
            return ""
        table = section.table
        parts = [f"showing {table.row_count} of {section.total} {section.label}"]
        spec = next((c for c in table.column_specs if c.key == table.sort_column), None)
        if spec is not None:
            parts.append(f"sorted by {spec.label.strip()} {'▼' if table.sort_reverse else '▲'}")
        if section.needle:
            parts.append(f"filter “{section.needle}”")
        records = section.records
        marked = sum(1 for key in self.marks if key in records)
        if marked:
            parts.append(f"{marked} marked")
        return " · ".join(parts)


class CallsPane(Pane):
    pane_id = "calls"
    title = "Calls"
    resources = (Resource.CALLS,)

    def __init__(self) -> None:
        super().__init__()
        self.recent_spec = RecentSpec()
        self.sections = [
            self.section(CallsSpec(), "calls"),
            self.section(self.recent_spec, "recently ended calls"),
        ]
        self.sections[1].table.display = False

    def show(self, ctx: ViewContext) -> None:
        super().show(ctx)
        recent = self.sections[1].table
        # Shown once a call has ended; Tab reaches it, Enter or H opens its history.
        recent.display = bool(self.recent_spec.shown_records)

    def finished_call(self) -> FinishedCall | None:
        """The recently ended call under the cursor, when the recent list has the focus."""
        section = self.sections[1]
        key = section.table.current_key
        if not section.table.has_focus or key is None:
            return None
        return self.recent_spec.shown_records.get(key)

    def sort_longest(self) -> None:
        self.sections[0].table.set_sort("duration", reverse=True)


class ExtensionsPane(Pane):
    pane_id = "extensions"
    title = "Extensions"
    resources = (Resource.EXTENSIONS,)

    def __init__(self) -> None:
        super().__init__()
        self.sections = [self.section(ExtensionsSpec(), "extensions")]


class PeersPane(Pane):
    pane_id = "peers"
    title = "Peers"
    resources = (Resource.PEERS,)

    def __init__(self) -> None:
        super().__init__()
        self.sections = [self.section(PeersSpec(), "peers")]


class QueuesPane(Pane):
    pane_id = "queues"
    title = "Queues"
    resources = (Resource.QUEUES, Resource.AGENTS)

    def __init__(self) -> None:
        super().__init__()
        self.agents_spec = AgentsSpec()
        self.sections = [
            self.section(QueuesSpec(), "queues"),
            self.section(self.agents_spec, "agents"),
        ]

    def show(self, ctx: ViewContext) -> None:
        self.agents_spec.queue_names = queue_names(ctx.pbxs.values())
        super().show(ctx)

    def focus_agents(self) -> None:
        self.sections[1].table.focus()


@dataclass(frozen=True, slots=True)
class _EventRow:
    entry: EventEntry
    row: Row
    haystack: str


@dataclass
class EventsSpec:
    """The event log's rows: built once per entry, filtered by PBX and text."""

    name: ClassVar[str] = "events"
    columns: ClassVar[tuple[Column, ...]] = EVENT_COLUMNS
    sort: ClassVar[str] = "time"
    reverse: ClassVar[bool] = True
    entries: deque[EventEntry] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    _seq: int = 0
    _built: dict[str, _EventRow] = field(default_factory=dict)
    _shown: dict[str, Row] = field(default_factory=dict)
    _records: dict[str, EventEntry] = field(default_factory=dict)
    _epoch: object = None

    def add(self, changes: Iterable[Change]) -> None:
        for change in changes:
            self._seq += 1
            self.entries.append(EventEntry(self._seq, change))

    @property
    def shown_records(self) -> Mapping[str, EventEntry]:
        return self._records

    def refresh(self, ctx: ViewContext, needle: str = "") -> Delta:
        if ctx.epoch != self._epoch:
            self._epoch, self._built = ctx.epoch, {}
        needle = needle.lower()
        visible = set(ctx.pbxs)
        built: dict[str, _EventRow] = {}
        rows: dict[str, Row] = {}
        records: dict[str, EventEntry] = {}
        for entry in self.entries:
            if entry.change.pbx not in visible:
                continue
            key = entry.key
            records[key] = entry
            found = self._built.get(key)
            if found is None:
                row = event_row(entry, ctx)
                found = _EventRow(entry, row, haystack(row, entry.change.kind.value))
            built[key] = found
            if not needle or needle in found.haystack:
                rows[key] = found.row
        before = self._shown
        delta = Delta(
            {k: r for k, r in rows.items() if before.get(k) is not r},
            [k for k in before if k not in rows],
        )
        self._built, self._shown, self._records = built, rows, records
        return delta


class EventsPane(Pane):
    pane_id = "events"
    title = "Events"

    def __init__(self) -> None:
        super().__init__()
        self.spec = EventsSpec()
        self.sections = [self.section(self.spec, "events", follow_top=True)]

    def add(self, changes: Iterable[Change]) -> None:
        self.spec.add(changes)


class BlfPane(Pane):
    pane_id = "blf"
    title = "BLF"
    resources = (Resource.BLF,)

    def __init__(self) -> None:
        super().__init__()
        self.board = BlfBoard(id="blf-board")
        self.legend = TextLines(id="blf-legend")
        self.detail = TextLines(id="blf-detail")
        self.needle_text = ""
        self._ctx: ViewContext | None = None

    def body(self) -> ComposeResult:
        yield self.legend
        yield self.board
        yield self.detail

    def show(self, ctx: ViewContext) -> None:
        self._ctx = ctx
        self.show_notices(notices(self.resources, ctx), ctx)
        groups: list[LampGroup] = []
        for name, state in ctx.pbxs.items():
            lamps = tuple(
                lamp
                for lamp in state.lamps()
                if matches(
                    (),
                    self.needle_text,
                    f"{lamp.label} {lamp.extension} {lamp.state.value} {lamp.state_raw}",
                )
            )
            if lamps:
                stale = state.resource(Resource.BLF).stale
                title = f"{name} ({state.kind}){' — stale' if stale else ''}"
                names = tuple((e.number, e.name) for e in state.extensions() if e.name)
                groups.append(LampGroup(name, title, lamps, stale, names))
        self.legend.update(legend(ctx.palette))
        self.board.show(groups, ctx.palette)
        self.describe(self.board.selected)

    def tick(self, ctx: ViewContext) -> None:
        self._ctx = ctx
        self.describe(self.board.selected)

    def on_blf_board_selected(self, message: BlfBoard.Selected) -> None:
        self.describe(message.lamp)

    def lamp_call(self, lamp: BlfLamp | None) -> Call | None:
        """The call the engine joined to the lamp (``call_id``)."""
        ctx = self._ctx
        if lamp is None or ctx is None or not lamp.call_id:
            return None
        return ctx.calls_by_id(lamp.pbx).get(lamp.call_id)

    def describe(self, lamp: BlfLamp | None) -> None:
        ctx = self._ctx
        if lamp is None or ctx is None:
            self.detail.update("")
            return
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(f"{lamp.pbx} ", ctx.palette.bold)
        number = lamp.extension or lamp.id
        label = lamp.label if lamp.label != number else ""
        text.append(f"{number} {label}".rstrip() + "  ")
        text.append(state_word(lamp.state, lamp.state_raw), ctx.palette.line_state(lamp.state))
        since = seconds_since(lamp.since, ctx.now)
        if since is not None:
            text.append(f" for {format_duration(since)}", ctx.palette.muted)
        call = self.lamp_call(lamp)
        if call is not None:
            text.append(f"  call {call_summary(call, ctx)}  {call.channel}")
        self.detail.update(text)

    # BLF has no table: filtering, the current record and targets go through the board.
    @property
    def needle(self) -> str:
        return self.needle_text

    def set_needle(self, needle: str, section_name: str | None = None) -> None:
        self.needle_text = needle

    def focus_main(self) -> None:
        self.board.focus()

    def current(self) -> Record | None:
        return self.board.selected

    def targets(self) -> list[Record]:
        lamp = self.board.selected
        return [lamp] if lamp is not None else []

    def toggle_mark(self) -> bool:
        return False

    def status(self) -> str:
        count = len(self.board.lamps)
        parts = [f"{count} lamps"]
        if self.needle_text:
            parts.append(f"filter “{self.needle_text}”")
        return " · ".join(parts)


PANES: tuple[type[Pane], ...] = (
    CallsPane,
    ExtensionsPane,
    BlfPane,
    PeersPane,
    QueuesPane,
    EventsPane,
)
