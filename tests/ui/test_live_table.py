"""The keyed-diff table on its own: bulk removal keeps order, data and the cursor's row;
missing values sort last; cells are cut their column's way."""

from __future__ import annotations

from textual.app import App, ComposeResult

from pbxtui.ui.cells import cell, num_cell
from pbxtui.ui.format import Cut
from pbxtui.ui.widgets.columns import Column, Keep
from pbxtui.ui.widgets.live_table import LiveTable

COLUMNS = (Column("name", "Name", 10), Column("n", "N", 6))


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS, sort_column="n")


def rows(numbers: list[int]) -> dict[str, list[object]]:
    return {f"k{n}": [cell(f"row {n}"), num_cell(n, str(n))] for n in numbers}


async def test_many_rows_leave_at_once() -> None:
    app = One()
    async with app.run_test() as pilot:
        table = app.query_one(LiveTable)
        table.apply(rows(list(range(50))))  # type: ignore[arg-type]
        table.move_cursor(row=30)
        await pilot.pause()
        assert table.current_key == "k30"
        keep = [n for n in range(50) if n % 3 == 0] + [100, 101]
        result = table.apply(rows(keep))  # type: ignore[arg-type]
        await pilot.pause()
        assert result.removed == 50 - len([n for n in range(50) if n % 3 == 0])
        assert table.keys == [f"k{n}" for n in sorted(keep)]
        assert table.row_count == len(keep)
        assert table.current_key == "k30", "the cursor stays on its row"
        assert table.row_plain("k48") == ("row 48", "48")
        assert table.row_plain("k3")[1] == "3"
        # the next change still lands on the right rows
        table.apply(rows([n for n in keep if n != 30]))  # type: ignore[arg-type]
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
        table.apply(data)  # type: ignore[arg-type]
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
                "a": [cell("SIP/trunk-sip-Trunk110-000020a1"), num_cell(1, "1")],  # type: ignore[list-item]
                "b": [cell("SIP/trunk-sip-Trunk110-000020b7"), num_cell(2, "2")],  # type: ignore[list-item]
            }
        )
        await pilot.pause()
        assert table.fitted
        lines = [table.render_line(y).text for y in range(3)]
        assert lines[1].split() == ["trunk…0020a1", "1"]
        assert lines[2].split() == ["trunk…0020b7", "2"]
        assert all(len(line) <= 20 for line in lines)
