"""The live table on its own: rows come, go and change by key; the cursor stays on its
row (and on its screen line); missing values sort last; cells are cut their column's way;
only what changed on screen is repainted; durations tick without the rows changing; keys,
clicks and marks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rich.style import Style
from textual.app import App, ComposeResult
from textual.geometry import Region

from pbxtui.ui.cells import Cell, cell, num_cell, since_cell
from pbxtui.ui.format import Cut
from pbxtui.ui.widgets.columns import Column, Keep
from pbxtui.ui.widgets.live_table import MARK, LiveTable

COLUMNS = (Column("name", "Name", 10), Column("n", "N", 6))


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS, sort_column="n")


def rows(numbers: list[int]) -> dict[str, list[Cell]]:
    return {f"k{n}": [cell(f"row {n}"), num_cell(n, str(n))] for n in numbers}


async def test_many_rows_leave_at_once() -> None:
    app = One()
    async with app.run_test() as pilot:
        table = app.query_one(LiveTable)
        table.apply(rows(list(range(50))))
        table.move_cursor(row=30)
        await pilot.pause()
        assert table.current_key == "k30"
        keep = [n for n in range(50) if n % 3 == 0] + [100, 101]
        result = table.apply(rows(keep))
        await pilot.pause()
        assert result.removed == 50 - len([n for n in range(50) if n % 3 == 0])
        assert table.keys == [f"k{n}" for n in sorted(keep)]
        assert table.row_count == len(keep)
        assert table.current_key == "k30", "the cursor stays on its row"
        assert table.row_plain("k48") == ("row 48", "48")
        assert table.row_plain("k3")[1] == "3"
        # the next change still lands on the right rows
        table.apply(rows([n for n in keep if n != 30]))
        await pilot.pause()
        assert "k30" not in table.keys and table.row_count == len(keep) - 1


class Sparse(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS, sort_column="n", reverse=True)


async def test_rows_without_a_value_sort_last_both_ways() -> None:
    """Longest first (L) must select the longest, not a row that has no value at all."""
    app = Sparse()
    async with app.run_test() as pilot:
        table = app.query_one(LiveTable)
        data = {
            "none1": [cell("not paused"), num_cell(None, "")],
            "short": [cell("paused 5 min"), num_cell(300, "5:00")],
            "none2": [cell("not paused either"), num_cell(None, "")],
            "long": [cell("paused 31 min"), num_cell(1900, "31:40")],
        }
        table.apply(data)
        await pilot.pause()
        assert table.keys[:2] == ["long", "short"]
        table.set_sort("n", reverse=False)
        await pilot.pause()
        assert table.keys[:2] == ["short", "long"]
        assert set(table.keys[2:]) == {"none1", "none2"}


async def test_cells_are_cut_their_columns_way_at_the_width_they_get() -> None:
    """A channel keeps its tail, and the table never holds a cell wider than its column."""
    columns = (
        Column("channel", "Channel", 30, 10, cut=Cut.CHANNEL),
        Column("n", "N", 6, keep=Keep.DATA),
    )

    class Narrow(App[None]):
        def compose(self) -> ComposeResult:
            yield LiveTable(columns, sort_column="n")

    app = Narrow()
    async with app.run_test(size=(20, 6)) as pilot:
        table = app.query_one(LiveTable)
        table.apply(
            {
                "a": [cell("SIP/trunk-sip-Trunk110-000020a1"), num_cell(1, "1")],
                "b": [cell("SIP/trunk-sip-Trunk110-000020b7"), num_cell(2, "2")],
            }
        )
        await pilot.pause()
        assert table.fitted
        lines = [table.render_line(y).text for y in range(3)]
        assert lines[1].split() == ["trunk…0020a1", "1"]
        assert lines[2].split() == ["trunk…0020b7", "2"]
        assert all(len(line) <= 20 for line in lines)


class Tall(App[None]):
    """A table of 10,000 rows in a 12-line window (11 rows under the header)."""

    def __init__(self, **table: object) -> None:
        super().__init__()
        self.table_options = table

    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS, sort_column="n", **self.table_options)  # type: ignore[arg-type]


async def test_ten_thousand_rows_page_and_jump_like_sixty() -> None:
    app = Tall()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.apply(rows(list(range(10_000))))
        table.focus()
        await pilot.pause()
        assert table.visible_keys() == [f"k{n}" for n in range(11)]
        await pilot.press("pagedown")
        assert table.current_key == "k10" and table.visible_keys()[0] == "k10"
        await pilot.press("G")
        assert table.current_key == "k9999" and table.visible_keys()[-1] == "k9999"
        await pilot.press("pageup", "up")  # a page is the window less one line: 10 rows
        assert table.current_key == "k9988"
        assert "k9988" in table.visible_keys()
        await pilot.press("g")
        assert table.current_key == "k0" and table.visible_keys()[0] == "k0"
        await pilot.press("end", "home", "down")
        assert table.current_key == "k1"


async def test_the_cursor_keeps_its_screen_line_as_rows_arrive_above_it() -> None:
    app = Tall()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.apply(rows(list(range(0, 2000, 2))))
        table.move_cursor(row=500)  # row "k1000"
        await pilot.pause()
        line = table.cursor_row - int(table.scroll_y)
        table.apply(rows([*range(0, 2000, 2), *range(1, 1000, 2)]))  # 500 new rows above it
        await pilot.pause()
        assert table.current_key == "k1000"
        assert table.cursor_row == 1000
        assert table.cursor_row - int(table.scroll_y) == line


async def test_follow_top_keeps_a_cursor_on_the_first_row_there() -> None:
    app = Tall(follow_top=True, reverse=True)
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.apply(rows(list(range(20))))
        await pilot.pause()
        assert table.current_key == "k19"
        table.apply(rows(list(range(25))))
        await pilot.pause()
        assert table.current_key == "k24", "a log, newest first: the newest is selected"
        table.move_cursor(row=3)
        table.apply(rows(list(range(30))))
        assert table.current_key == "k21", "elsewhere the cursor stays on its row"


def spy_refreshes(table: LiveTable) -> list[tuple[Region, ...]]:
    """Every refresh the table asks for, with its regions (none: the whole widget)."""
    calls: list[tuple[Region, ...]] = []
    original = table.refresh

    def refresh(*regions: Region, **kwargs: bool) -> LiveTable:
        calls.append(regions)
        return original(*regions, **kwargs)

    table.refresh = refresh  # type: ignore[method-assign]
    return calls


async def test_only_what_changed_on_screen_is_repainted() -> None:
    app = Tall()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(LiveTable)
        data = rows(list(range(1000)))
        table.apply(data)
        await pilot.pause()
        calls = spy_refreshes(table)
        data["k500"] = [cell("renamed"), num_cell(500, "500")]  # off screen
        result = table.apply(data)
        assert result.updated == 1 and calls == []
        data["k3"] = [cell("renamed"), num_cell(3, "3")]  # on screen, 4th line under the header
        table.apply(data)
        assert calls == [(Region(0, 4, table.size.width, 1),)]


async def test_durations_tick_as_they_are_painted_and_rows_stay_equal() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    columns = (Column("name", "Name", 10), Column("d", "Duration", 8))

    def ticking() -> dict[str, list[Cell]]:
        return {
            f"k{i}": [cell(f"call {i}"), since_cell(start - timedelta(seconds=i * 60))]
            for i in range(3)
        }

    class Calls(App[None]):
        def compose(self) -> ComposeResult:
            yield LiveTable(columns, sort_column="d", reverse=True)

    app = Calls()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(LiveTable)
        table.now = start
        table.apply(ticking())
        await pilot.pause()
        assert table.keys == ["k2", "k1", "k0"], "longest first"
        assert table.row_plain("k2") == ("call 2", "2:00")
        calls = spy_refreshes(table)
        later = start + timedelta(seconds=75)
        assert not table.apply(ticking()).changed, "the same calls later: the same rows"
        table.tick(later)
        assert table.row_plain("k2") == ("call 2", "3:15")
        # The three lines at once, and of them only the column that ticks (after a gap of
        # one, the name's 10 and a gap: x 12, its 8 cells wide).
        assert calls == [(Region(12, 1, 8, 3),)]
        await pilot.pause()
        assert table.render_line(1).text.rstrip().endswith("3:15")
        assert table.keys == ["k2", "k1", "k0"]


async def test_a_header_click_sorts_and_a_click_on_the_selected_row_selects_it() -> None:
    app = Tall()
    messages: list[object] = []
    async with app.run_test(size=(40, 12), message_hook=messages.append) as pilot:
        table = app.query_one(LiveTable)
        table.apply(rows([3, 1, 2]))
        await pilot.pause()
        await pilot.click(LiveTable, offset=(2, 0))  # the "Name" header
        assert table.sort_column == "name" and not table.sort_reverse
        assert any(isinstance(m, LiveTable.Sorted) and m.column == "name" for m in messages)
        await pilot.click(LiveTable, offset=(2, 0))
        assert table.sort_reverse, "the same header again: the other way"
        assert table.keys == ["k3", "k2", "k1"]
        await pilot.click(LiveTable, offset=(2, 2))
        assert table.current_key == "k2"
        assert not any(isinstance(m, LiveTable.Selected) for m in messages)
        await pilot.click(LiveTable, offset=(2, 2))
        assert any(isinstance(m, LiveTable.Selected) and m.key == "k2" for m in messages)


async def test_marks_are_drawn_from_the_shared_set() -> None:
    columns = (Column("mark", " ", 1, sortable=False), *COLUMNS)
    marks: set[str] = set()

    class Marked(App[None]):
        def compose(self) -> ComposeResult:
            yield LiveTable(columns, sort_column="n", marks=marks)

    app = Marked()
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(LiveTable)
        table.mark_style = Style(bold=True)
        table.apply({k: [cell(" "), *cells] for k, cells in rows([1, 2]).items()})
        await pilot.pause()
        marks.add("k2")
        table.refresh_key("k2")
        assert table.row_plain("k2")[0] == MARK and table.row_plain("k1")[0] == " "
        assert table.row_styles("k2")[0] == Style(bold=True)
        assert table.render_line(2).text.startswith(f" {MARK}")


async def test_a_table_as_tall_as_its_rows_grows_and_shrinks_with_them() -> None:
    """The queues table is ``height: auto``: rows coming and going change its size."""

    class Auto(App[None]):
        CSS = "LiveTable { height: auto; }"

        def compose(self) -> ComposeResult:
            yield LiveTable(COLUMNS, sort_column="n")

    app = Auto()
    async with app.run_test(size=(40, 20)) as pilot:
        table = app.query_one(LiveTable)
        table.apply(rows([1, 2]))
        await pilot.pause()
        two = table.size.height
        table.apply(rows([1, 2, 3, 4, 5]))
        await pilot.pause()
        assert table.size.height == two + 3
        table.apply(rows([1]))
        await pilot.pause()
        assert table.size.height == two - 1
