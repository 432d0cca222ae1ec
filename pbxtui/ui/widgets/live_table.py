"""The live table every pane uses: it paints only the rows on screen.

A Line-API widget (``ScrollView`` + ``render_line``): the rows live in a dict by key and an
incrementally sorted key index (``SortedKeys``); a frame draws the ~40 lines on screen from
them, whatever the number of rows. ``apply`` (a whole snapshot) and ``update`` (changed and
removed rows) compare rows by identity first, so a row the pane reused from its cache costs
nothing; a new or changed row moves one entry of the index, never re-sorts the table; only
the lines on screen that show something different are repainted. Ticking cells (durations)
are drawn from ``now`` as they are painted, so the one-second tick repaints the visible lines
that tick and touches no row.

The cursor stays on its row key across updates (on the first row for ``follow_top``, a log
newest first), and on the same screen line when it can, so rows arriving elsewhere do not make
the one under the cursor jump. Columns have fixed widths fitted to the terminal
(``fit_widths``): nothing measures content on the refresh path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from operator import itemgetter
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from pbxtui.ui.cells import (
    GAP,
    PLAIN,
    RIGHT,
    SINCE,
    SORT,
    STYLE,
    Cell,
    cell,
    shown,
    style_id,
    style_of,
    ticks,
)
from pbxtui.ui.format import Cut, fit_text
from pbxtui.ui.widgets.columns import Column, fit_widths
from pbxtui.ui.widgets.sorted_keys import SortedKeys, SortKey

Row = tuple[Cell, ...]

MARK = "●"
_NO_MARK = cell(" ")
_SINCE_OF = itemgetter(SINCE)
"""A cell's ticking start: a row ticks if any of its cells has one."""
MARK_COLUMN_KEY = "mark"
"""A column with this key shows the table's marks (the rows' own cell there is ignored)."""


@dataclass(frozen=True)
class ApplyResult:
    added: int = 0
    removed: int = 0
    updated: int = 0
    """Rows whose cells changed."""
    moved: int = 0
    """Rows whose place in the order changed (added and removed ones included)."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.updated)


class TableMessage(Message):
    """What a ``LiveTable`` says: the table it came from is its ``control``."""

    def __init__(self, table: LiveTable) -> None:
        self.table = table
        super().__init__()

    @property
    def control(self) -> LiveTable:
        return self.table


class LiveTable(ScrollView, can_focus=True):
    """Rows by key, sorted by one column, painted line by line; see the module docstring."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "first_row", "First row", show=False),
        Binding("end,G", "last_row", "Last row", show=False),
        Binding("left", "scroll_left", "Scroll left", show=False),
        Binding("right", "scroll_right", "Scroll right", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"live-table--header", "live-table--cursor"}

    DEFAULT_CSS = """
    LiveTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .live-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .live-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .live-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .live-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .live-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class Highlighted(TableMessage):
        """The cursor is on another row (or the table emptied: ``key`` None)."""

        def __init__(self, table: LiveTable, key: str | None) -> None:
            self.key = key
            super().__init__(table)

    class Selected(TableMessage):
        """The row under the cursor was clicked."""

        def __init__(self, table: LiveTable, key: str) -> None:
            self.key = key
            super().__init__(table)

    class Sorted(TableMessage):
        """A header was clicked and the table sorted by it."""

        def __init__(self, table: LiveTable, column: str) -> None:
            self.column = column
            super().__init__(table)

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        sort_column: str,
        reverse: bool = False,
        follow_top: bool = False,
        marks: set[str] | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``follow_top``: a cursor on the first row stays on the first row as rows arrive
        (a log, newest first); otherwise the cursor stays on its row key. ``marks``: the set
        of marked keys, shared with whoever marks rows (the mark column shows it)."""
        super().__init__(id=id, classes=classes)
        self.column_specs: tuple[Column, ...] = tuple(columns)
        self._index = {c.key: i for i, c in enumerate(self.column_specs)}
        if sort_column not in self._index:
            raise ValueError(f"unknown sort column {sort_column!r}")
        self._mark_index = self._index.get(MARK_COLUMN_KEY)
        self._cuts = [c.cut for c in self.column_specs]
        self._preferred: dict[str, int] = {}
        self._available = 0
        """The width the columns were last fitted to (0: not sized yet)."""
        self._widths = [c.width for c in self.column_specs]
        self.sort_column = sort_column
        self._order = SortedKeys()
        self._order.reverse = reverse
        self.follow_top = follow_top
        self.marks: set[str] = marks if marks is not None else set()
        self._mark_style = 0
        self.now: datetime = datetime.now(UTC)
        """The moment ticking cells are drawn at (the pane sets it)."""
        self._rows: dict[str, Row] = {}
        self._second: tuple[int, int] = (-1, -1)
        """(sort column, the column that breaks its ties)."""
        self._ticking: set[str] = set()
        self._cursor = 0
        self._cursor_key: str | None = None
        self._header: Strip | None = None
        self._styles: tuple[Style, Style, Style] | None = None

    # -- reading ---------------------------------------------------------------------------
    @property
    def mark_style(self) -> Style | None:
        return style_of(self._mark_style)

    @mark_style.setter
    def mark_style(self, style: Style | None) -> None:
        self._mark_style = style_id(style)

    @property
    def sort_reverse(self) -> bool:
        return self._order.reverse

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def keys(self) -> list[str]:
        """Row keys in display order."""
        return self._order.keys()

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor, or None when the table is empty."""
        return self._cursor_key

    def get_row_index(self, key: str) -> int:
        position = self._order.position(key)
        if position is None:
            raise KeyError(key)
        return position

    def row(self, key: str) -> Row:
        """The cells of row ``key`` as given (ticking cells not drawn)."""
        return self._rows[key]

    def row_styles(self, key: str) -> tuple[Style | None, ...]:
        """The style each cell of row ``key`` is painted in now."""
        return tuple(style_of(style) for _text, style in self._shown_cells(key, self._rows[key]))

    def row_plain(self, key: str) -> tuple[str, ...]:
        """What row ``key`` shows, as plain strings."""
        return tuple(text for text, _style in self._shown_cells(key, self._rows[key]))

    def visible_keys(self) -> list[str]:
        """Keys of the rows on screen now."""
        return self._order.window(self._top, self._data_height)

    @property
    def _top(self) -> int:
        return int(self.scroll_y)

    @property
    def _data_height(self) -> int:
        """Rows shown below the header."""
        return max(1, self.scrollable_content_region.height - 1)

    # -- writing ---------------------------------------------------------------------------
    def apply(self, rows: Mapping[str, Sequence[Cell]]) -> ApplyResult:
        """Make the table show ``rows`` (key → cells), changing only what differs."""
        current = self._rows
        removed = [key for key in current if key not in rows]
        changed: dict[str, Row] = {}
        for key, cells in rows.items():
            old = current.get(key)
            if old is cells:
                continue
            new = cells if isinstance(cells, tuple) else tuple(cells)
            if old != new:
                changed[key] = new
        return self.update(changed, removed)

    def update(self, changed: Mapping[str, Row], removed: Iterable[str] = ()) -> ApplyResult:
        """Add or replace the ``changed`` rows and drop the ``removed`` ones."""
        rows = self._rows
        gone = [key for key in removed if key in rows]
        if not changed and not gone:
            return ApplyResult()
        before = self._window()
        top, cursor, cursor_key = self._top, self._cursor, self._cursor_key
        follow = self.follow_top and cursor == 0
        for key in gone:
            del rows[key]
            self._ticking.discard(key)
        added = 0
        sort_keys: dict[str, SortKey] = {}
        index = self._index[self.sort_column]
        for key, row in changed.items():
            if key not in rows:
                added += 1
            rows[key] = row
            if any(map(_SINCE_OF, row)):
                self._ticking.add(key)
            else:
                self._ticking.discard(key)
            sort_keys[key] = self._sort_key_of(key, row, index)
        moved = self._order.update(sort_keys, gone)
        self._resize_virtual()
        if follow or cursor_key is None:
            position = 0
        else:
            found = self._order.position(cursor_key)
            position = found if found is not None else cursor
        anchor = cursor - top if 0 <= cursor - top < self._data_height else None
        self._place(position, anchor=0 if follow else anchor)
        self._refresh_changed(before)
        return ApplyResult(added, len(gone), len(changed) - added, moved)

    def clear(self) -> None:
        self.update({}, list(self._rows))

    def refresh_key(self, key: str) -> None:
        """Repaint row ``key`` if it is on screen (its mark changed)."""
        position = self._order.position(key)
        if position is not None:
            self._refresh_position(position)

    def tick(self, now: datetime) -> None:
        """Time moved on: repaint the visible lines whose cells tick."""
        self.now = now
        if not self._ticking:
            return
        positions: list[int] = []
        columns: set[int] = set()
        for offset, key in enumerate(self.visible_keys()):
            if key in self._ticking:
                positions.append(self._top + offset)
                columns.update(i for i, c in enumerate(self._rows[key]) if ticks(c))
        self._refresh_positions(positions, self._columns_span(columns))

    def _columns_span(self, columns: set[int]) -> tuple[int, int] | None:
        """(x, width) on screen of the columns from the first of ``columns`` to the last:
        only what ticks is painted again (and written to the terminal), not whole lines."""
        if not columns:
            return None
        starts = [GAP]
        for width in self._widths:
            starts.append(starts[-1] + width + GAP)
        left, right = starts[min(columns)], starts[max(columns)] + self._widths[max(columns)]
        scroll_x = int(self.scroll_x)
        return left - scroll_x, right - left

    # -- the cursor ------------------------------------------------------------------------
    def move_cursor(self, *, row: int, animate: bool = False, scroll: bool = True) -> None:
        self._place(row, scroll=scroll)

    def action_move(self, delta: int) -> None:
        self._place(self._cursor + delta)

    def action_page(self, direction: int) -> None:
        step = max(1, self._data_height - 1)
        target = self._cursor + direction * step
        # The page turns with the cursor: the same screen line, the next rows.
        anchor = self._cursor - self._top
        self._place(target, anchor=anchor if 0 <= anchor < self._data_height else None)

    def action_first_row(self) -> None:
        self._place(0)

    def action_last_row(self) -> None:
        self._place(self.row_count - 1)

    def _place(self, position: int, *, anchor: int | None = None, scroll: bool = True) -> None:
        """Put the cursor on ``position`` (clamped); with ``anchor``, on that screen line
        when the rows allow, else just in view."""
        count = self.row_count
        old = self._cursor
        self._cursor = position = max(0, min(position, count - 1)) if count else 0
        key = self._order.key_at(position) if count else None
        if scroll:
            if anchor is not None:
                self._scroll_to_top(position - anchor)
            else:
                self._scroll_into_view(position)
        if old != position:
            self._refresh_position(old)
            self._refresh_position(position)
        if key != self._cursor_key:
            self._cursor_key = key
            self.post_message(self.Highlighted(self, key))

    def _scroll_into_view(self, position: int) -> None:
        top, height = self._top, self._data_height
        if position < top:
            self._scroll_to_top(position)
        elif position >= top + height:
            self._scroll_to_top(position - height + 1)

    def _scroll_to_top(self, top: int) -> None:
        top = max(0, min(top, self.max_scroll_y))
        if top != self._top:
            # Forced: right after rows arrive the scrollbar may not be laid out yet.
            self.scroll_to(y=top, animate=False, force=True, immediate=True)

    # -- sorting ---------------------------------------------------------------------------
    def set_sort(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column``; the same column again flips the order unless told."""
        if column not in self._index:
            return
        if reverse is None:
            reverse = not self.sort_reverse if column == self.sort_column else False
        if column != self.sort_column:
            self.sort_column = column
            index = self._index[column]
            self._order.rebuild({k: self._sort_key_of(k, r, index) for k, r in self._rows.items()})
        self._order.reverse = reverse
        self._header = None
        key = self._cursor_key
        found = self._order.position(key) if key is not None else None
        self._place(found if found is not None else 0)
        self.refresh()

    def _sort_key_of(self, key: str, row: Row, index: int) -> SortKey:
        """The sort column's key, then the first other column's (the PBX, or the channel
        when sorting by PBX): rows alike in the sort column keep a readable order; the row
        key breaks the last ties. Two parts only: a longer key made every comparison of
        the incremental index (and every re-sort) walk further."""
        return (row[index][SORT], row[self._secondary(index)][SORT])

    def _secondary(self, index: int) -> int:
        if self._second[0] != index:
            others = [i for i in range(len(self._widths)) if i not in (index, self._mark_index)]
            self._second = (index, others[0] if others else index)
        return self._second[1]

    def cycle_sort(self) -> None:
        """Sort by the next sortable column (the order resets to ascending)."""
        sortable = [c.key for c in self.column_specs if c.sortable]
        position = sortable.index(self.sort_column) if self.sort_column in sortable else -1
        self.set_sort(sortable[(position + 1) % len(sortable)], reverse=False)

    # -- widths ----------------------------------------------------------------------------
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
        """Fit the columns to ``available`` cells (0: not sized yet, preferred widths)."""
        self._available = available
        specs = [
            replace(c, width=self._preferred[c.key]) if c.key in self._preferred else c
            for c in self.column_specs
        ]
        widths = fit_widths(specs, available) if available else [c.width for c in specs]
        if widths == self._widths:
            return False
        self._widths = widths
        self._header = None
        self._resize_virtual()
        self.refresh()
        return True

    def on_resize(self) -> None:
        self.fit(self.scrollable_content_region.width)
        self._header = None
        self._scroll_into_view(self._cursor)

    def _resize_virtual(self) -> None:
        size = Size(sum(self._widths) + GAP * len(self._widths), self.row_count + 1)
        old = self.virtual_size
        if size == old:
            return
        height = self.styles.height
        if size.width != old.width or not self.container_size or (height and height.is_auto):
            self.virtual_size = size  # the table's own size follows: a layout
            return
        # Rows came or went: the widget's own size does not depend on them, so no layout of
        # the screen (a layout of the console costs tens of ms): the scrollbars are updated
        # as a layout would (a scrollbar appearing or going asks for a layout itself). A
        # Textual internal, pinned below 9 in pyproject.toml for that reason; the UI tests
        # add and remove rows on every poll, so a change there shows at once.
        self.set_reactive(LiveTable.virtual_size, size)
        self._scroll_update(size)

    # -- painting --------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._header = None

    def on_focus(self) -> None:
        self._styles = None
        self._refresh_position(self._cursor)

    def on_blur(self) -> None:
        self._styles = None
        self._refresh_position(self._cursor)

    def _line_styles(self) -> tuple[Style, Style, Style]:
        """(row, cursor row, header) base styles, worked out once per style change: the
        widget's own style costs a walk up the DOM each time it is asked for."""
        if self._styles is None:
            base = self.rich_style
            self._styles = (
                base,
                base + self.get_component_rich_style("live-table--cursor"),
                base + self.get_component_rich_style("live-table--header"),
            )
        return self._styles

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        scroll_x = int(self.scroll_x)
        base, cursor_style, _ = self._line_styles()
        if y == 0:
            strip, style = self._header_strip(), base
        else:
            position = self._top + y - 1
            if position >= self.row_count:
                return Strip.blank(width, base)
            key = self._order.key_at(position)
            # The cursor's bar spans the whole width, not only the columns.
            style = cursor_style if position == self._cursor else base
            strip = self._row_strip(key, self._rows[key], style)
        if scroll_x == 0 and strip.cell_length == width:
            return strip
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    def _header_strip(self) -> Strip:
        width = max(self.scrollable_content_region.width, self.virtual_size.width)
        if self._header is None or self._header.cell_length != width:
            style = self._line_styles()[2]
            text = ""
            for column, room in zip(self.column_specs, self._widths, strict=True):
                arrow = ""
                if column.key == self.sort_column and column.sortable:
                    arrow = "▼" if self.sort_reverse else "▲"
                # The arrow is kept when the label is cut: it is the only sign of the order.
                label = fit_text(fit_text(column.label, max(1, room - len(arrow))) + arrow, room)
                text += " " * GAP + label + " " * (room - cell_len(label))
            text += " " * max(0, width - cell_len(text))
            self._header = Strip([Segment(text, style)], width)
        return self._header

    def _shown_cells(self, key: str, row: Row) -> list[tuple[str, int]]:
        """(text, style) of each cell as painted now, the marks drawn in."""
        if key in self._ticking:
            now = self.now
            cells = [shown(c, now) for c in row]
        else:
            cells = [(c[PLAIN], c[STYLE]) for c in row]
        if self._mark_index is not None:
            cells[self._mark_index] = (MARK, self._mark_style) if key in self.marks else (" ", 0)
        return cells

    def _row_strip(self, key: str, row: Row, base: Style) -> Strip:
        """One line: every cell cut to its column, padded, on ``base``, as wide as the
        widget (one strip made, no restyling pass)."""
        segments: list[Segment] = []
        append = segments.append
        plain = ""  # unstyled text is gathered into one segment
        cells = self._shown_cells(key, row)
        for (text, style), width, cut, source in zip(
            cells, self._widths, self._cuts, row, strict=True
        ):
            right = source[RIGHT]
            # The common case first: an ASCII text that fits, measured once.
            if cut is not Cut.END or len(text) > width or not text.isascii():
                text = fit_text(text, width, cut)
            pad = " " * (width - cell_len(text))
            if not style:
                plain += " " * GAP + (pad + text if right else text + pad)
                continue
            plain += " " * GAP + (pad if right else "")
            append(Segment(plain, base))
            append(Segment(text, base + style_of(style)))
            plain = "" if right else pad
        total = sum(self._widths) + GAP * len(self._widths)
        room = max(total, self.scrollable_content_region.width)
        plain += " " * (room - total)
        if plain:
            append(Segment(plain, base))
        return Strip(segments, room)

    def _window(self) -> list[tuple[str, Row]]:
        """What the lines on screen show now (to repaint only those that change)."""
        return [(key, self._rows[key]) for key in self.visible_keys()]

    def _refresh_changed(self, before: list[tuple[str, Row]]) -> None:
        after = self._window()
        if len(after) != len(before):
            self._refresh_positions(range(self._top, self._top + max(len(after), len(before))))
            return
        top = self._top
        self._refresh_positions(
            top + offset
            for offset, ((old_key, old_row), (new_key, new_row)) in enumerate(
                zip(before, after, strict=True)
            )
            if old_key != new_key or old_row is not new_row
        )

    def _refresh_position(self, position: int) -> None:
        self._refresh_positions((position,))

    def _refresh_positions(
        self, positions: Iterable[int], span: tuple[int, int] | None = None
    ) -> None:
        """Repaint the lines showing these positions, one region per run of lines (each
        ``refresh`` call clears the widget's caches: one call per run, not per line); only
        ``span`` of them (x, width) when given."""
        top, height = self._top, self._data_height
        x, width = span if span is not None else (0, self.size.width)
        lines = sorted({p - top + 1 for p in positions if 0 <= p - top < height})
        start = previous = None
        for line in [*lines, None]:
            if line is not None and previous is not None and line == previous + 1:
                previous = line
                continue
            if start is not None and previous is not None:
                self.refresh(Region(x, start, width, previous - start + 1))
            start = previous = line

    # -- the mouse -------------------------------------------------------------------------
    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x + int(self.scroll_x))
            if column is not None and column.sortable:
                self.set_sort(column.key)
                self.post_message(self.Sorted(self, column.key))
            return
        position = self._top + offset.y - 1
        if position >= self.row_count:
            return
        if position == self._cursor and self._cursor_key is not None:
            self.post_message(self.Selected(self, self._cursor_key))
        else:
            self._place(position)

    def _column_at(self, x: int) -> Column | None:
        left = 0
        for column, width in zip(self.column_specs, self._widths, strict=True):
            left += width + GAP
            if x < left:
                return column
        return None
