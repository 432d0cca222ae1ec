"""The keyed-diff table on its own: bulk removal keeps order, data and the cursor's row."""

from __future__ import annotations

from textual.app import App, ComposeResult

from pbxtui.ui.cells import cell, num_cell
from pbxtui.ui.widgets.keyed_table import Column, KeyedTable

COLUMNS = (Column("name", "Name", 10), Column("n", "N", 6))


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, sort_column="n")


def rows(numbers: list[int]) -> dict[str, list[object]]:
    return {f"k{n}": [cell(f"row {n}"), num_cell(n, str(n))] for n in numbers}


async def test_many_rows_leave_at_once() -> None:
    app = One()
    async with app.run_test() as pilot:
        table = app.query_one(KeyedTable)
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
        assert table.get_row("k3")[1].plain == "3"  # type: ignore[union-attr]
        # the next change still lands on the right rows
        table.apply(rows([n for n in keep if n != 30]))  # type: ignore[arg-type]
        await pilot.pause()
        assert "k30" not in table.keys and table.row_count == len(keep) - 1
