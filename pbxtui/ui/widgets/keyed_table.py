"""The one keyed-diff table every live pane uses.

Rows are keyed by ``Record.key``. ``apply`` changes only what differs from what is shown:
``update_cell`` for changed cells, ``add_row`` for new keys, ``remove_row`` for gone keys. The
cursor stays on its row key, rows are re-sorted only when something changed, and columns have
fixed widths (nothing measures content on the refresh path). A full ``clear()`` + ``add_rows``
would cost over a second at 10k rows and would reset the cursor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any, ClassVar

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, RowDoesNotExist

from pbxtui.ui.cells import GAP, Cell, with_cut
from pbxtui.ui.format import Cut, fit_text

Row = tuple[Cell, ...]


class Keep(IntEnum):
    """Which columns keep their width longest on a narrow terminal: the lowest give up room
    first, each down to its ``min_width``, before the next ones give any."""

    TEXT = 0
    """Names, descriptions, reasons, free text."""
    DETAIL = 1
    """Channels, hosts, queue and agent labels: worth keeping, readable when cut."""
    PBX = 2
    """The PBX's name."""
    DATA = 3
    """Numbers, states, durations, figures: what the operator acts on, cut last."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    """The preferred width, used when the terminal is wide enough."""
    min_width: int = 0
    """How narrow it may get on a small terminal (0: never narrower than ``width``)."""
    sortable: bool = True
    keep: Keep = Keep.TEXT
    """When it gives up room (see ``Keep``)."""
    cut: Cut = Cut.END
    """Where its texts lose cells when they do not fit."""
    max_width: int = 0
    """How wide it may grow on a wide terminal when the others have what they prefer (0: not
    wider than ``width``): a long channel shows whole at 160 columns."""

    @property
    def narrowest(self) -> int:
        return min(self.width, self.min_width) if self.min_width else self.width


def fit_widths(columns: Sequence[Column], available: int, gap: int = GAP) -> list[int]:
    """Column widths that fit ``available`` cells when they can, shrinking flexible columns.

    Spare room goes to the columns with a ``max_width``. Short of room, columns give it up
    by ``keep``, lowest first; within one level each gives up room in
    proportion to how much it may shrink. None goes below its ``min_width``: when even the
    minimums do not fit, the table scrolls sideways.
    """
    widths = [c.width for c in columns]
    excess = sum(widths) - (available - gap * len(columns))
    if excess < 0:
        _grow(widths, columns, -excess)
        return widths
    for level in sorted({c.keep for c in columns}):
        if excess <= 0:
            break
        members = [i for i, c in enumerate(columns) if c.keep == level]
        excess -= _shrink(widths, columns, members, excess)
    return widths


def _grow(widths: list[int], columns: Sequence[Column], spare: int) -> None:
    """Give ``spare`` cells to the columns that may grow, in column order."""
    for i, column in enumerate(columns):
        room = min(spare, max(0, column.max_width - widths[i]))
        widths[i] += room
        spare -= room


def _shrink(widths: list[int], columns: Sequence[Column], members: list[int], excess: int) -> int:
    """Take up to ``excess`` cells from the ``members`` columns; returns how many were taken."""
    slack = {i: widths[i] - columns[i].narrowest for i in members}
    total = sum(slack.values())
    if total <= 0:
        return 0
    if excess >= total:
        for i in members:
            widths[i] = columns[i].narrowest
        return total
    taken = 0
    for i in members:
        share = excess * slack[i] // total
        widths[i] -= share
        taken += share
    # Integer division leaves a few cells over: take them from the most flexible columns.
    while taken < excess:
        i = max(members, key=lambda j: (widths[j] - columns[j].narrowest, -j))
        widths[i] -= 1
        taken += 1
    return taken


@dataclass(frozen=True)
class ApplyResult:
    added: int = 0
    removed: int = 0
    updated: int = 0
    """Cells updated in place."""
    sorted: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.updated)


class KeyedTable(DataTable[Cell]):
    """A DataTable fed whole snapshots and changed by difference."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,g", "first_row", "First row", show=False),
        Binding("end,G", "last_row", "Last row", show=False),
    ]

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        sort_column: str,
        reverse: bool = False,
        follow_top: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``follow_top``: a cursor on the first row stays on the first row as rows arrive
        (a log, newest first); otherwise the cursor stays on its row key."""
        super().__init__(
            id=id,
            classes=classes,
            cursor_type="row",
            cursor_foreground_priority="renderable",
            cell_padding=0,  # each Cell leaves its own GAP: one blank between columns
        )
        self.column_specs: tuple[Column, ...] = tuple(columns)
        self._cut_columns = [(i, c.cut) for i, c in enumerate(columns) if c.cut is not Cut.END]
        self._preferred: dict[str, int] = {}
        self._available = 0
        """The width the columns were last fitted to (0: not sized yet)."""
        self._index = {c.key: i for i, c in enumerate(self.column_specs)}
        if sort_column not in self._index:
            raise ValueError(f"unknown sort column {sort_column!r}")
        self.sort_column = sort_column
        self.sort_reverse = reverse
        self.follow_top = follow_top
        self._rows: dict[str, Row] = {}
        self._widths = [c.width for c in self.column_specs]

    def on_mount(self) -> None:
        self._ensure_columns()

    # -- reading ---------------------------------------------------------------------------
    @property
    def keys(self) -> list[str]:
        """Row keys in display order."""
        return [
            str(self.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value)
            for i in range(self.row_count)
        ]

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        row = min(max(self.cursor_row, 0), self.row_count - 1)
        value = self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return None if value is None else str(value)

    def row_plain(self, key: str) -> tuple[str, ...]:
        """What row ``key`` shows, as plain strings (for tests and filtering)."""
        return tuple(c.plain for c in self._rows[key])

    def shown(self) -> dict[str, Row]:
        return dict(self._rows)

    # -- writing ---------------------------------------------------------------------------
    def apply(self, rows: Mapping[str, Sequence[Cell]], *, resort: bool = True) -> ApplyResult:
        """Make the table show ``rows`` (key → cells), changing only what differs.

        ``resort=False`` (the one-second tick of durations) never re-sorts: only the values
        in place change, so rows do not jump while an operator reads them.
        """
        self._ensure_columns()
        keep_index = self.cursor_row
        keep = None if self.follow_top and keep_index == 0 else self.current_key
        added = updated = 0
        sort_index = self._index[self.sort_column]
        sort_changed = False
        gone = [k for k in self._rows if k not in rows]
        self._remove_rows(gone)
        for key in gone:
            del self._rows[key]
        removed = len(gone)
        for key, cells in rows.items():
            new = tuple(cells)
            old = self._rows.get(key)
            if old is None:
                self.add_row(*self._present(new), key=key, height=1)
                self._rows[key] = new
                added += 1
                continue
            if old == new:
                continue
            for index, (before, after) in enumerate(zip(old, new, strict=True)):
                if before != after:
                    self.update_cell(key, self.column_specs[index].key, self._cut(index, after))
                    updated += 1
                    if index == sort_index and before.sort != after.sort:
                        sort_changed = True
            self._rows[key] = new
        did_sort = False
        if (added or removed or (sort_changed and resort)) and self.row_count > 1:
            self._sort()
            did_sort = True
        if added or removed or did_sort:
            self._restore_cursor(keep, keep_index)
        return ApplyResult(added, removed, updated, did_sort)

    def _remove_rows(self, keys: Sequence[str]) -> None:
        """``remove_row`` for many rows at once.

        DataTable.remove_row re-indexes every remaining row and re-derives the row order on
        each call: 100 calls at 10k rows took seconds. This does the same bookkeeping once.
        It uses DataTable internals (textual is pinned below 9 for that reason); the UI tests
        remove rows on every poll, so a change there shows at once.
        """
        if len(keys) < 3:
            for key in keys:
                self.remove_row(key)
            return
        doomed = set(keys)
        self._require_update_dimensions = True
        self.check_idle()
        locations = self._row_locations
        survivors = sorted(
            (locations.get(key), key) for key in locations if key.value not in doomed
        )
        self._row_locations = TwoWayDict({key: i for i, (_, key) in enumerate(survivors)})
        for row_key in [k for k in self.rows if k.value in doomed]:
            for column_key in self._data.get(row_key, {}):
                self._updated_cells.discard(CellKey(row_key, column_key))
            del self.rows[row_key]
            del self._data[row_key]
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    def action_first_row(self) -> None:
        self.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.move_cursor(row=max(0, self.row_count - 1))

    def visible_keys(self) -> list[str]:
        """Keys of the rows on screen now (rows are one line high)."""
        if self.row_count == 0:
            return []
        top = max(0, int(self.scroll_y))
        bottom = min(self.row_count, top + max(1, self.size.height) + 1)
        return [
            str(self.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value)
            for i in range(top, bottom)
        ]

    def patch(self, updates: Mapping[str, Mapping[str, Cell]]) -> int:
        """Replace some cells of some rows (no sort, no cursor move); returns cells changed."""
        changed = 0
        for key, cells in updates.items():
            row = self._rows.get(key)
            if row is None:
                continue
            new = list(row)
            for column, value in cells.items():
                index = self._index.get(column)
                if index is None or new[index] == value:
                    continue
                new[index] = value
                self.update_cell(key, column, self._cut(index, value))
                changed += 1
            self._rows[key] = tuple(new)
        return changed

    def set_sort(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column``; the same column again flips the order unless told."""
        if column not in self._index:
            return
        self._ensure_columns()
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else False
        keep = self.current_key
        old = self.column_specs[self._index[self.sort_column]]
        self.sort_column, self.sort_reverse = column, reverse
        for spec in (old, self.column_specs[self._index[column]]):
            header = self.columns[self.column_keys[self._index[spec.key]]]
            header.label = self._label(spec)
        self._sort()
        self._restore_cursor(keep, self.cursor_row)
        self.refresh()

    def cycle_sort(self) -> None:
        """Sort by the next sortable column (the order resets to ascending)."""
        sortable = [c.key for c in self.column_specs if c.sortable]
        position = sortable.index(self.sort_column) if self.sort_column in sortable else -1
        self.set_sort(sortable[(position + 1) % len(sortable)], reverse=False)

    def prefer(self, column: str, width: int) -> None:
        """Make ``column`` prefer ``width`` cells (the PBX column: the longest name shown)."""
        if column not in self._index or self._preferred.get(column) == width:
            return
        self._preferred[column] = width
        self.fit(self._available)

    @property
    def fitted(self) -> bool:
        """The columns are fitted to the width the table has now (nothing left to re-fit)."""
        return self._available == self.scrollable_content_region.width

    def fit(self, available: int) -> bool:
        """Fit the columns to ``available`` cells (0: not sized yet, preferred widths);
        rebuilds only when a width changes."""
        self._available = available
        specs = self._specs()
        widths = fit_widths(specs, available) if available else [c.width for c in specs]
        if widths == self._widths:
            return False
        self._widths = widths
        if not self.columns:
            return True
        keep, keep_index = self.current_key, self.cursor_row
        self.clear(columns=True)
        self._add_columns()
        for key, row in self._rows.items():
            self.add_row(*self._present(row), key=key, height=1)
        if self.row_count > 1:
            self._sort()
        self._restore_cursor(keep, keep_index)
        return True

    def on_resize(self) -> None:
        self.fit(self.scrollable_content_region.width)

    # -- internals -------------------------------------------------------------------------
    def _ensure_columns(self) -> None:
        if not self.columns:
            self._add_columns()

    def _specs(self) -> list[Column]:
        """The columns with the preferred widths set by ``prefer``."""
        return [
            replace(c, width=self._preferred[c.key]) if c.key in self._preferred else c
            for c in self.column_specs
        ]

    def _add_columns(self) -> None:
        for column, width in zip(self.column_specs, self._widths, strict=True):
            self.add_column(self._label(column), width=width + GAP, key=column.key)

    def _cut(self, index: int, value: Cell) -> Cell:
        return with_cut(value, self.column_specs[index].cut)

    def _present(self, row: Row) -> Row:
        """The row as the table holds it: each cell cut its column's way (``_rows`` keeps the
        cells as built, so a diff compares like with like)."""
        if not self._cut_columns:
            return row
        cells = list(row)
        for index, cut in self._cut_columns:
            cells[index] = with_cut(cells[index], cut)
        return tuple(cells)

    @property
    def column_keys(self) -> list[Any]:
        return list(self.columns)

    def _label(self, column: Column) -> Text:
        width = self._widths[self._index[column.key]]
        arrow = ""
        if column.key == self.sort_column and column.sortable:
            arrow = "▼" if self.sort_reverse else "▲"
        # The arrow is kept when the label is cut: it is the only sign of the sort order.
        label = fit_text(column.label, max(1, width - len(arrow))) + arrow
        return Text(" " * GAP + label, no_wrap=True, overflow="ellipsis")

    def _sort(self) -> None:
        index = self._index[self.sort_column]

        def key(values: tuple[Cell, ...]) -> tuple[Any, ...]:
            return (values[index].sort, tuple(v.sort for v in values))

        def reversed_key(values: tuple[Cell, ...]) -> tuple[Any, ...]:
            # A row without a value (sort (1, ...)) goes last in this order too: longest
            # first (L) must select the longest paused agent, not one that is not paused.
            primary = values[index].sort
            return (1 - primary[0], primary, tuple(v.sort for v in values))

        self.sort(key=reversed_key if self.sort_reverse else key, reverse=self.sort_reverse)

    def _restore_cursor(self, key: str | None, fallback: int) -> None:
        if self.row_count == 0:
            return
        if key is not None:
            try:
                row = self.get_row_index(key)
            except RowDoesNotExist:
                row = min(fallback, self.row_count - 1)
        else:
            row = 0
        if row != self.cursor_row:
            self.move_cursor(row=row, animate=False)
