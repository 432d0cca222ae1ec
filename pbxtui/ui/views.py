"""What each live table shows: columns, one row per record, and the per-PBX notices.

Everything here is a pure function of engine state (``PbxState``) and a ``ViewContext``; the
widgets only hand the rows to a ``LiveTable``. The console never sees a vendor payload.

Rows are built once per record *version* (``TableSpec.version``: what the row depends on)
and kept in a ``RowCache``: a poll that changed a tenth of the calls rebuilds a tenth of the
rows. Nothing in a row depends on the time: durations are ticking cells drawn from a start
that stays put (``CallIndex``), so an unchanged call's row compares equal.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.style import Style

from pbxtui.config import Thresholds
from pbxtui.model import (
    Agent,
    AgentState,
    Call,
    CallState,
    Change,
    Direction,
    Extension,
    PbxState,
    Peer,
    Queue,
    Record,
    Resource,
)
from pbxtui.ui.call_index import CallIndex, PbxCalls
from pbxtui.ui.cells import (
    PLAIN,
    Cell,
    Levels,
    cell,
    fixed_cell,
    num_cell,
    restyle,
    since_cell,
)
from pbxtui.ui.cells import levels as make_levels
from pbxtui.ui.format import (
    Cut,
    Level,
    format_age,
    format_duration,
    format_latency,
    level,
    mask_number,
    mask_text,
    named_parties,
    one_line,
)
from pbxtui.ui.palette import Palette
from pbxtui.ui.row_cache import Delta, RowCache
from pbxtui.ui.widgets.columns import Column, Keep
from pbxtui.ui.widgets.live_table import MARK_COLUMN_KEY, Row

R = TypeVar("R", bound=Record)
T = TypeVar("T")

RESOURCE_NOUNS: dict[Resource, str] = {
    Resource.CALLS: "live calls",
    Resource.EXTENSIONS: "extension list",
    Resource.PEERS: "peer (trunk) status",
    Resource.BLF: "BLF lamps",
    Resource.QUEUES: "queues",
    Resource.AGENTS: "queue agents",
}


@dataclass(frozen=True)
class ViewContext:
    """Everything a row needs besides its record."""

    now: datetime
    pbxs: Mapping[str, PbxState]
    """The PBXs shown, in config order."""
    palette: Palette = field(default_factory=Palette)
    thresholds: Thresholds = field(default_factory=Thresholds)
    mask: bool = False
    calls: CallIndex = field(default_factory=CallIndex, compare=False, repr=False)
    """Calls by id and their steady starts; the console shares one between its contexts."""
    _order: dict[str, int] = field(default_factory=dict, compare=False, repr=False)
    _last: list[Any] = field(default_factory=list, compare=False, repr=False)
    """The last PBX whose calls were looked up, and its calls (rows come PBX by PBX)."""

    def number(self, value: str) -> str:
        return mask_number(value) if self.mask else value

    def text(self, value: str) -> str:
        return mask_text(value) if self.mask else value

    def order(self, pbx: str) -> int:
        """Position of ``pbx`` in the config (PBX columns sort that way)."""
        if not self._order:
            self._order.update((name, i) for i, name in enumerate(self.pbxs))
        return self._order.get(pbx, len(self.pbxs))

    @property
    def epoch(self) -> tuple[object, ...]:
        """What every row depends on besides its record: a change rebuilds every row."""
        return (self.palette, self.thresholds, self.mask, tuple(self.pbxs), self.now.tzinfo)

    def _pbx_calls(self, pbx: str) -> PbxCalls | None:
        last = self._last
        if last and last[0] == pbx:
            found: PbxCalls | None = last[1]
            return found
        state = self.pbxs.get(pbx)
        found = self.calls.of(state) if state is not None else None
        last[:] = [pbx, found]
        return found

    def calls_by_id(self, pbx: str) -> dict[str, Call]:
        """The calls of ``pbx`` by id (worked out once per calls poll)."""
        found = self._pbx_calls(pbx)
        return found.by_id if found is not None else {}

    def start(self, call: Call) -> datetime:
        """When ``call`` started, steady across polls (``CallIndex``)."""
        found = self._pbx_calls(call.pbx)
        start = found.starts.get(call.id) if found is not None else None
        return start if start is not None else call.implied_start()


NO_MARK = cell(" ")
"""The mark column's cell in a row: the table draws the marks itself."""


def levels(ctx: ViewContext, warn: float, alert: float) -> Levels:
    return _levels(ctx.palette, warn, alert)


def _levels(palette: Palette, warn: float, alert: float) -> Levels:
    return _PER_PALETTE.get(
        palette,
        ("levels", warn, alert),
        lambda: make_levels(warn, alert, palette.level(Level.WARN), palette.level(Level.ALERT)),
    )


class _PaletteMemo:
    """Values worked out once per palette, found by the palette's identity: hashing a
    palette hashes every style in it, which cost more than the rows it styled."""

    def __init__(self) -> None:
        self._palette: Palette | None = None
        self._values: dict[object, Any] = {}

    def get(self, palette: Palette, key: object, make: Callable[[], T]) -> T:
        if palette is not self._palette:
            self._palette, self._values = palette, {}
        found = self._values.get(key)
        if found is None:
            found = self._values[key] = make()
        return found


_PER_PALETTE = _PaletteMemo()


def matches(row: Row, needle: str, keywords: str = "") -> bool:
    """Case-insensitive text match over every column as shown (and hidden keywords)."""
    if not needle:
        return True
    haystack = " ".join(c[PLAIN] for c in row) + " " + keywords
    return needle.lower() in haystack.lower()


class TableSpec(ABC, Generic[R]):
    """One live table: which resource, which columns, how a record becomes a row."""

    name: ClassVar[str]
    resource: ClassVar[Resource]
    columns: ClassVar[tuple[Column, ...]]
    sort: ClassVar[str]
    reverse: ClassVar[bool] = False
    record_type: ClassVar[type[Record]]
    by_record: ClassVar[bool] = False
    """The row follows from the record object alone (see ``RowCache``)."""

    @property
    def depends(self) -> tuple[Resource, ...]:
        """The resources a PBX's rows are built from: a PBX none of which changed is skipped."""
        return (self.resource,)

    def __init__(self) -> None:
        self.cache = RowCache()

    def records(self, state: PbxState) -> Sequence[R]:
        found = [r for r in state.records(self.resource) if isinstance(r, self.record_type)]
        return found  # type: ignore[return-value]

    @abstractmethod
    def cells(self, record: R, ctx: ViewContext) -> list[Cell]:
        """The row's cells after the mark column."""

    def version(self, record: R, ctx: ViewContext, *, stale: bool) -> object:
        """What the row shows depends on: an equal version is the same row."""
        return (record, stale)

    def keys(self, state: PbxState, records: Sequence[R]) -> list[str]:
        return [r.key for r in records]

    def versions(
        self, state: PbxState, records: Sequence[R], ctx: ViewContext, *, stale: bool
    ) -> list[object]:
        """``version`` of each record (one PBX's, all at once: a table spec may do it faster)."""
        return [self.version(r, ctx, stale=stale) for r in records]

    def row(self, record: R, ctx: ViewContext, *, stale: bool) -> Row:
        cells = self.cells(record, ctx)
        if stale:
            cells = [restyle(c, ctx.palette.stale) for c in cells]
        return (NO_MARK, *cells)

    def keywords(self, record: R) -> str:
        """Words a filter matches besides what the row shows (normalized states)."""
        return ""

    def refresh(self, ctx: ViewContext, needle: str = "") -> Delta:
        """What the table must change to show ``ctx`` filtered by ``needle``."""
        return self.cache.refresh(self, ctx, needle)

    @property
    def shown_records(self) -> Mapping[str, R]:
        """Every record of the PBXs shown at the last refresh, filtered or not."""
        return self.cache.records

    def build(self, ctx: ViewContext, needle: str = "") -> tuple[dict[str, Row], dict[str, R]]:
        """Rows to show (filtered by ``needle``) and the records of every row, from scratch."""
        cache = RowCache()
        cache.refresh(self, ctx, needle)
        return cache.rows(), dict(cache.records)


MARK_COLUMN = Column(MARK_COLUMN_KEY, " ", 1, sortable=False)
PBX_COLUMN = Column("pbx", "PBX", 10, 4, keep=Keep.PBX, cut=Cut.MIDDLE)
"""Its preferred width is set to the longest PBX name shown (``LiveTable.prefer``)."""
PBX_MAX_WIDTH = 16


def pbx_width(names: Iterable[str]) -> int:
    """The PBX column's preferred width: the longest name, room for the header and its arrow."""
    longest = max((cell_len(n) for n in names), default=0)
    return max(len("PBX▲"), min(PBX_MAX_WIDTH, longest))


def state_word(state: StrEnum, raw: str = "") -> str:
    """The normalized state: the same words for every vendor, on every pane. The vendor's own
    word (``raw``) is shown only in the detail view (Enter); the filter matches both."""
    return state.value


def _pbx(record: Record, ctx: ViewContext) -> Cell:
    """The PBX's name, sorting in config order (not alphabetically)."""
    return cell(record.pbx, sort=(ctx.order(record.pbx), record.pbx))


def _direction(direction: Direction) -> str:
    return {
        Direction.INBOUND: "in",
        Direction.OUTBOUND: "out",
        Direction.INTERNAL: "int",
        Direction.UNKNOWN: "",
    }[direction]


def call_state_style(state: CallState, palette: Palette) -> Style | None:
    return _call_state_styles(palette)[state]


def _call_state_styles(palette: Palette) -> dict[CallState, Style]:
    return _PER_PALETTE.get(palette, "call states", lambda: _state_styles(palette))


def _state_styles(palette: Palette) -> dict[CallState, Style]:
    # A queued caller waits for the queue, not for a phone: told apart from ringing by colour
    # and by weight (bold alone still shows on a monochrome terminal).
    return {
        CallState.UP: palette.ok,
        CallState.RINGING: palette.warn + palette.bold,
        CallState.QUEUED: palette.info + palette.bold,
        CallState.DIALING: palette.warn,
        CallState.HELD: palette.accent,
        CallState.OTHER: palette.muted,
    }


class CallsSpec(TableSpec[Call]):
    name = "calls"
    resource = Resource.CALLS
    record_type = Call
    columns: ClassVar[tuple[Column, ...]] = (
        MARK_COLUMN,
        PBX_COLUMN,
        # Names beside the numbers: on a narrow terminal the parties give up the names' room
        # with the channel, down to a whole 12-digit number and a channel tail that tells
        # trunk calls apart; the PBX and the figures keep theirs.
        Column("channel", "Channel", 30, 10, keep=Keep.DETAIL, cut=Cut.CHANNEL, max_width=44),
        Column("caller", "Caller", 24, 12, keep=Keep.DETAIL, max_width=34),
        Column("callee", "Callee", 18, 12, keep=Keep.DETAIL, max_width=28),
        Column("state", "State", 7),
        Column("duration", "Duration", 9, 7, keep=Keep.DATA),
        Column("queue", "Queue", 8, 5),
        Column("direction", "Dir", 3),
    )
    sort = "pbx"
    # A row shows its call and the call's start, which stays the same while the call is the
    # same object (``CallIndex``); names arrive as a new call.
    by_record = True

    def keywords(self, record: Call) -> str:
        return f"{record.state_raw} {record.direction.value} {record.caller_name}"

    def version(self, record: Call, ctx: ViewContext, *, stale: bool) -> object:
        return (id(record), ctx.start(record), stale)

    def keys(self, state: PbxState, records: Sequence[Call]) -> list[str]:
        prefix = f"{state.name}\x1f"
        return [prefix + c.id for c in records]

    def versions(
        self, state: PbxState, records: Sequence[Call], ctx: ViewContext, *, stale: bool
    ) -> list[object]:
        # ``version`` for every call of one PBX, in one comprehension: 10,000 calls a poll
        # round are looked at here, most of them unchanged.
        # The call's identity: the engine hands back an unchanged call as the same object
        # from poll to poll (``Call.observed_again``), so an unchanged row's version is equal,
        # compared in C, at any scale; with its steady start, which its duration is drawn
        # from. The id, not the call: a tuple of numbers and a time is one the garbage
        # collector stops tracking (10,000 fewer objects each full collection walks), and
        # the table keeps every record it shows (``RowCache.records``), so no other call
        # can take that id while the version is compared with it.
        starts = ctx.calls.of(state).starts
        return [(id(c), starts[c.id], stale) for c in records]

    def cells(self, record: Call, ctx: ViewContext) -> list[Cell]:
        caller, callee = named_parties(record, mask=ctx.mask)
        limits = ctx.thresholds
        return [
            _pbx(record, ctx),
            cell(record.channel),
            cell(caller),
            cell(callee),
            cell(
                state_word(record.state, record.state_raw),
                call_state_style(record.state, ctx.palette),
            ),
            since_cell(
                ctx.start(record),
                levels=levels(ctx, limits.long_call_warn, limits.long_call_alert),
            ),
            cell(record.queue),
            cell(_direction(record.direction)),
        ]


def call_summary(call: Call | None, ctx: ViewContext) -> str:
    """``0501234567 Dana Cohen → 201 2:13`` (the current call of an extension or a lamp)."""
    if call is None:
        return ""
    caller, callee = named_parties(call, mask=ctx.mask)
    seconds = max(0, int((ctx.now - ctx.start(call)).total_seconds()))
    return f"{caller} → {callee} {format_duration(seconds)}"


def _registered(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "—"}[value]


class ExtensionsSpec(TableSpec[Extension]):
    name = "extensions"
    resource = Resource.EXTENSIONS
    record_type = Extension
    columns: ClassVar[tuple[Column, ...]] = (
        MARK_COLUMN,
        PBX_COLUMN,
        Column("number", "Ext", 6, 4, keep=Keep.DATA),
        Column("name", "Name", 18, 6),
        Column("state", "State", 11, 7, keep=Keep.DATA),
        Column("registered", "Reg", 3),
        Column("latency", "Latency", 7, 6, keep=Keep.DATA),
        Column("call", "Current call", 28, 16, keep=Keep.DATA),
    )
    sort = "pbx"

    def keywords(self, record: Extension) -> str:
        return record.state_raw + (" unregistered" if record.registered is False else "")

    @property
    def depends(self) -> tuple[Resource, ...]:
        return (Resource.EXTENSIONS, Resource.CALLS)

    def _call(self, record: Extension, ctx: ViewContext) -> Call | None:
        return ctx.calls_by_id(record.pbx).get(record.call_id) if record.call_id else None

    def version(self, record: Extension, ctx: ViewContext, *, stale: bool) -> object:
        call = self._call(record, ctx)
        linked = None if call is None else (call, ctx.start(call))
        return (record, stale, linked)

    def _current(self, record: Extension, ctx: ViewContext) -> Cell:
        call = self._call(record, ctx)
        if call is None:
            return cell(f"call {record.call_id}" if record.call_id else "")
        caller, callee = named_parties(call, mask=ctx.mask, own=record.number)
        prefix = one_line(f"{caller} → {callee} ")
        return since_cell(ctx.start(call), prefix=prefix, right=False, sort=(0, prefix.lower()))

    def cells(self, record: Extension, ctx: ViewContext) -> list[Cell]:
        palette = ctx.palette
        registered_style = palette.alert if record.registered is False else None
        number_sort = (len(record.number), record.number)
        return [
            _pbx(record, ctx),
            cell(record.number, sort=number_sort),
            cell(record.name),
            cell(state_word(record.state, record.state_raw), palette.line_state(record.state)),
            cell(_registered(record.registered), registered_style),
            num_cell(record.latency_ms, format_latency(record.latency_ms)),
            self._current(record, ctx),
        ]


def peer_word(registered: bool | None) -> str:
    """A peer's normalized state (its vendor's status text is in the detail view); an
    unregistered peer is written in capitals, to stand out without colour."""
    return {True: "registered", False: "UNREGISTERED", None: "unknown"}[registered]


class PeersSpec(TableSpec[Peer]):
    name = "peers"
    resource = Resource.PEERS
    record_type = Peer
    columns: ClassVar[tuple[Column, ...]] = (
        MARK_COLUMN,
        PBX_COLUMN,
        Column("name", "Peer", 16, 8, keep=Keep.DETAIL),
        Column("host", "Host", 18, 9, keep=Keep.DETAIL),
        Column("status", "Status", 12),
        Column("latency", "Latency", 7, 6, keep=Keep.DATA),
        Column("description", "Description", 24, 6),
    )
    sort = "pbx"

    def keywords(self, record: Peer) -> str:
        return record.status_raw

    def cells(self, record: Peer, ctx: ViewContext) -> list[Cell]:
        palette = ctx.palette
        down = record.registered is False
        style = palette.alert + palette.bold if down else None
        status_style = style or (palette.ok if record.registered else palette.muted)
        return [
            _pbx(record, ctx),
            cell(record.name, style),
            cell(record.host),
            cell(peer_word(record.registered), status_style),
            num_cell(record.latency_ms, format_latency(record.latency_ms)),
            cell(record.description),
        ]


def _count(value: int | None) -> Cell:
    return num_cell(value, "—" if value is None else str(value))


class QueuesSpec(TableSpec[Queue]):
    name = "queues"
    resource = Resource.QUEUES
    record_type = Queue
    columns: ClassVar[tuple[Column, ...]] = (
        MARK_COLUMN,
        PBX_COLUMN,
        Column("queue", "Queue", 18, 8, keep=Keep.DETAIL),
        Column("waiting", "Wait", 4),
        Column("longest", "Longest", 7, 5, keep=Keep.DATA),
        Column("available", "Avail", 5, 4, keep=Keep.DATA),
        Column("busy", "Busy", 4),
        Column("paused", "Pause", 5, 4, keep=Keep.DATA),
        Column("sl", "SL %", 4),
        Column("answered", "Ans", 4),
        Column("abandoned", "Aband", 5, 4, keep=Keep.DATA),
    )
    sort = "pbx"

    def cells(self, record: Queue, ctx: ViewContext) -> list[Cell]:
        palette, limits = ctx.palette, ctx.thresholds
        waiting_style = palette.level(
            level(record.waiting, limits.queue_waiting_warn, limits.queue_waiting_alert)
        )
        longest = record.longest_wait
        longest_style = palette.level(
            level(longest, limits.longest_wait_warn, limits.longest_wait_alert)
        )
        label = (
            f"{record.name} ({record.id})"
            if record.name and record.name != record.id
            else record.id
        )
        available = record.agents_available
        available_style = palette.alert if available == 0 and record.waiting else None
        sl = record.service_level
        return [
            _pbx(record, ctx),
            cell(label),
            num_cell(record.waiting, str(record.waiting), waiting_style),
            num_cell(
                longest,
                ("—" if longest is None else format_duration(longest)),
                longest_style,
            ),
            num_cell(
                available,
                "—" if available is None else str(available),
                available_style,
            ),
            _count(record.agents_busy),
            _count(record.agents_paused),
            num_cell(sl, "—" if sl is None else f"{sl:.0f}"),
            _count(record.answered),
            _count(record.abandoned),
        ]


class AgentsSpec(TableSpec[Agent]):
    name = "agents"
    resource = Resource.AGENTS
    record_type = Agent
    columns: ClassVar[tuple[Column, ...]] = (
        MARK_COLUMN,
        PBX_COLUMN,
        Column("queue", "Queue", 12, 5),
        Column("agent", "Agent", 22, 8, keep=Keep.DETAIL),
        Column("state", "State", 11, 7, keep=Keep.DATA),
        Column("paused", "Paused", 8, 7, keep=Keep.DATA),
        Column("reason", "Reason", 20, 6),
    )
    sort = "pbx"

    def __init__(self, queue_names: Mapping[tuple[str, str], str] | None = None) -> None:
        super().__init__()
        self.queue_names = dict(queue_names or {})

    def keywords(self, record: Agent) -> str:
        return f"{record.state_raw} {record.id} {record.queue_id}"

    @property
    def depends(self) -> tuple[Resource, ...]:
        return (Resource.AGENTS, Resource.QUEUES)

    def version(self, record: Agent, ctx: ViewContext, *, stale: bool) -> object:
        return (record, stale, self.queue_names.get((record.pbx, record.queue_id)))

    def _paused(self, record: Agent, ctx: ViewContext) -> Cell:
        limits = ctx.thresholds
        if record.state is not AgentState.PAUSED:
            return fixed_cell("", (1, 0), right=True)
        if record.paused_since is None:
            # A paused agent whose API gives no start sorts as paused for 0 s: after the
            # other paused agents longest first, but never among those not paused.
            return fixed_cell("yes", (0, float("-inf")), right=True)
        return since_cell(
            record.paused_since, levels=levels(ctx, limits.paused_warn, limits.paused_alert)
        )

    def cells(self, record: Agent, ctx: ViewContext) -> list[Cell]:
        palette = ctx.palette
        paused = record.state is AgentState.PAUSED
        queue = self.queue_names.get((record.pbx, record.queue_id), record.queue_id)
        name = f"{record.extension} {record.name}".strip() if record.name else record.extension
        return [
            _pbx(record, ctx),
            cell(queue),
            cell(name or record.id, sort=(len(record.extension), record.extension, record.name)),
            cell(state_word(record.state, record.state_raw), palette.agent_state(record.state)),
            self._paused(record, ctx),
            cell(record.pause_reason if paused else ""),
        ]


def queue_names(pbxs: Iterable[PbxState]) -> dict[tuple[str, str], str]:
    """(pbx, queue id) → queue name, for the agents table."""
    return {(q.pbx, q.id): q.name or q.id for state in pbxs for q in state.queues()}


# -- events ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventEntry:
    seq: int
    change: Change

    @property
    def key(self) -> str:
        return f"{self.seq:012d}"


EVENT_COLUMNS = (
    MARK_COLUMN,
    Column("time", "Time", 8),
    PBX_COLUMN,
    Column("kind", "Event", 15, 6, keep=Keep.DETAIL),
    Column("text", "What happened", 90, 20),
)


def event_row(entry: EventEntry, ctx: ViewContext) -> Row:
    change = entry.change
    palette = ctx.palette
    kind = change.kind.value
    style: Style | None = None
    if kind in ("pbx_down", "peer_dropped"):
        style = palette.alert
    elif kind in ("pbx_up", "peer_registered"):
        style = palette.ok
    elif kind == "action":
        failed = "→ ok" not in change.text
        style = palette.alert if failed else palette.accent
    elif kind in ("agent_paused",):
        style = palette.warn
    at = change.at.astimezone(ctx.now.tzinfo) if ctx.now.tzinfo else change.at
    text = change.text.removeprefix(f"{change.pbx}: ")
    return (
        NO_MARK,
        cell(at.strftime("%H:%M:%S"), palette.muted, sort=entry.seq),
        cell(change.pbx, sort=(ctx.order(change.pbx), change.pbx)),
        cell(kind.replace("_", " "), style),
        cell(ctx.text(one_line(text)), style if kind in ("pbx_down", "action") else None),
    )


# -- notices ---------------------------------------------------------------------------------
def notices(resources: Sequence[Resource], ctx: ViewContext) -> list[tuple[str, str]]:
    """Per-PBX lines for a pane: (level, text), level one of "info", "warn", "alert".

    A PBX whose API lacks the resource says so; a failing poll says why and how old the rows
    shown are; a PBX not answered yet says it is waiting. Never a silently empty pane.
    """
    lines: list[tuple[str, str]] = []
    for name, state in ctx.pbxs.items():
        missing = [r for r in resources if r not in state.capabilities.resources]
        if missing and len(missing) == len(resources):
            what = " or ".join(RESOURCE_NOUNS[r] for r in missing)
            lines.append(("info", f"{name}: this API has no {what}"))
            continue
        for resource in resources:
            if resource in missing:
                continue
            rstate = state.resource(resource)
            noun = RESOURCE_NOUNS[resource]
            if rstate.failing:
                age = state.age(resource, ctx.now)
                shown = (
                    f"showing data from {format_age(age)} ago" if age is not None else "no data yet"
                )
                text = f"{name}: {noun} failing ({shown}): {one_line(rstate.error)}"
                lines.append(("alert" if rstate.fetched_at is None else "warn", text))
            elif rstate.pending:
                lines.append(("info", f"{name}: waiting for the first {noun}…"))
    return lines
