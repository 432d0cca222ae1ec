"""Live-table figures: the keyed-diff update against a clear-and-rebuild, at 1k and 10k rows.

Run by hand: ``.venv/bin/python benchmarks/bench_table.py``. Prints figures; asserts nothing.
Each round changes 5 % of the rows' durations, ends 1 % and adds 1 % (a busy PBX between two
polls), then the table is brought up to date and repainted.
"""

from __future__ import annotations

import random
import statistics
import time

from textual.app import App, ComposeResult

from pbxtui.ui.cells import Cell, cell, num_cell
from pbxtui.ui.widgets.keyed_table import Column, KeyedTable

COLUMNS = (
    Column("pbx", "PBX", 10),
    Column("channel", "Channel", 26),
    Column("caller", "Caller", 14),
    Column("callee", "Callee", 14),
    Column("state", "State", 8),
    Column("duration", "Duration", 9),
)
ROUNDS = 5


def row(i: int, duration: int) -> list[Cell]:
    return [
        cell(f"pbx{i % 4}"),
        cell(f"PJSIP/{200 + i % 800}-ACME-{i:08x}"),
        cell(f"05{i:08d}"),
        cell(str(200 + i % 800)),
        cell("up"),
        num_cell(duration, f"{duration // 60}:{duration % 60:02d}"),
    ]


class Bench(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(COLUMNS, sort_column="duration", reverse=True, id="t")


def next_round(rows: dict[str, int], rng: random.Random, serial: list[int]) -> None:
    keys = list(rows)
    for key in rng.sample(keys, len(keys) // 20):
        rows[key] += rng.randint(1, 5)
    for key in rng.sample(keys, max(1, len(keys) // 100)):
        del rows[key]
    for _ in range(max(1, len(keys) // 100)):
        serial[0] += 1
        rows[f"k{serial[0]}"] = 0


async def measure(size: int) -> None:
    rng = random.Random(size)
    rows = {f"k{i}": rng.randint(0, 3600) for i in range(size)}
    serial = [size]
    app = Bench()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(KeyedTable)
        started = time.perf_counter()
        table.apply({k: row(int(k[1:]), d) for k, d in rows.items()})
        await pilot.pause()
        first = time.perf_counter() - started
        diff, rebuild = [], []
        for _ in range(ROUNDS):
            next_round(rows, rng, serial)
            snapshot = {k: row(int(k[1:]), d) for k, d in rows.items()}
            started = time.perf_counter()
            table.apply(snapshot)
            await pilot.pause()
            diff.append(time.perf_counter() - started)
        for _ in range(ROUNDS):
            started = time.perf_counter()
            table.clear()
            table.add_rows([[*row(int(k[1:]), d)] for k, d in rows.items()])
            await pilot.pause()
            rebuild.append(time.perf_counter() - started)
    print(
        f"{size:>6} rows: first fill {first * 1000:7.0f} ms | keyed diff round median "
        f"{statistics.median(diff) * 1000:6.0f} ms | clear + add_rows median "
        f"{statistics.median(rebuild) * 1000:6.0f} ms (and the cursor is lost)"
    )


async def main() -> None:
    for size in (1_000, 10_000):
        await measure(size)


if __name__ == "__main__":
    import asyncio

    asyncio.run(main())
