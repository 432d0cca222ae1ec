"""The History screen at 100,000 calls: how soon the first rows show, how long the whole read
takes, how long the event loop is ever held while rows arrive, and what a page down, a sort,
a filter and a CSV export cost once they are all there.

    .venv/bin/python -m benchmarks.bench_history [--calls 100000] [--page 1000]

The history comes from a source that has every record ready (no HTTP): what is measured is
the screen, not a PBX.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App

from pbxtui.heap import freeze_long_lived
from pbxtui.model.history import CdrRecord, EndStatus, HistoryPage, HistoryQuery
from pbxtui.model.records import Direction
from pbxtui.ui.app import css_path
from pbxtui.ui.history_export import write_csv
from pbxtui.ui.screens.history import HistoryRequest, HistoryScreen

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PBXS = ("hq", "istanbul", "branch", "eu")


def generated(pbx: str, count: int) -> list[CdrRecord]:
    statuses = list(EndStatus)
    return [
        CdrRecord.model_construct(
            pbx=pbx,
            id=f"{pbx}-{i}",
            start=NOW - timedelta(seconds=20 * i + 1),
            direction=Direction.INBOUND if i % 2 else Direction.OUTBOUND,
            caller=f"05{i:08d}",
            callee=str(200 + i % 50),
            status=statuses[i % len(statuses)],
            status_raw=statuses[i % len(statuses)].value.upper(),
            duration=i % 900,
            billable=max(0, i % 900 - 10),
            recording=f"rec-{i}" if i % 3 == 0 else "",
        )
        for i in range(count)
    ]


class ReadySource:
    def __init__(self, records: dict[str, list[CdrRecord]], page: int) -> None:
        self.records, self.page = records, page

    def history_source(self, pbx: str) -> str:
        return "ready"

    async def history(self, pbx: str, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        rows = self.records[pbx]
        for start in range(0, len(rows), self.page):
            chunk = tuple(rows[start : start + self.page])
            window = (chunk[-1].start, chunk[0].start + timedelta(seconds=1))
            done = (start + len(chunk)) / len(rows)
            yield HistoryPage(pbx=pbx, records=chunk, window=window, progress=done)
            await asyncio.sleep(0)


class Host(App[None]):
    CSS_PATH = css_path()


async def lag_probe(lags: list[float], stop: asyncio.Event) -> None:
    """How late a 5 ms sleep wakes: the event loop held by something else."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append(time.perf_counter() - started - 0.005)


async def until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` every millisecond: the moment it holds is the figure measured."""
    while not condition():  # noqa: ASYNC110 - a widget's state has no event to wait on
        await asyncio.sleep(0.001)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


async def main(calls: int, page: int) -> None:
    started = time.perf_counter()
    per = calls // len(PBXS)
    records = {pbx: generated(pbx, per) for pbx in PBXS}
    gc.collect()
    print(f"{calls:,} records generated in {time.perf_counter() - started:.1f} s")
    query = HistoryQuery(since=NOW - timedelta(days=30), until=NOW)
    screen = HistoryScreen(
        HistoryRequest(PBXS, query), ReadySource(records, page), None, zone=UTC, clock=lambda: NOW
    )
    app = Host()
    async with app.run_test(size=(160, 45)) as pilot:
        freeze_long_lived()  # as the console does on a real terminal
        lags: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(lag_probe(lags, stop))
        opened = time.perf_counter()
        await app.push_screen(screen)
        await until(lambda: screen.table.row_count > 0)
        first = time.perf_counter() - opened
        await until(lambda: not screen.reading)
        read = time.perf_counter() - opened
        stop.set()
        await probe
        pages: list[float] = []
        for _ in range(50):
            t = time.perf_counter()
            await pilot.press("pagedown")
            pages.append(time.perf_counter() - t)
        t = time.perf_counter()
        screen.action_cycle_sort()
        await pilot.pause()
        sort = time.perf_counter() - t
        t = time.perf_counter()
        screen.set_needle("0500012")
        await pilot.pause()
        filtered = time.perf_counter() - t
        t = time.perf_counter()
        screen.set_needle("")
        await pilot.pause()
        unfiltered = time.perf_counter() - t
        shown = screen.shown_records()
        with tempfile.TemporaryDirectory() as folder:
            t = time.perf_counter()
            size = write_csv(Path(folder) / "h.csv", shown, UTC)
            export = time.perf_counter() - t
    lags.sort()
    print(
        f"History screen, {screen.table.row_count:,} calls over {len(PBXS)} PBXs, pages of {page:,}"
    )
    print(f"  first rows shown after             {ms(first)}")
    print(f"  every page read and shown after    {read:.2f} s")
    print(f"  event loop held while loading, p50 {ms(statistics.median(lags))}")
    print(f"                                 p99 {ms(lags[int(len(lags) * 0.99)])}")
    print(f"                                 max {ms(lags[-1])}")
    print(f"  page down at {calls:,} rows, median {ms(statistics.median(pages))}")
    print(f"  sort by another column             {ms(sort)}")
    print(f"  filter to 1 in 100 rows            {ms(filtered)}")
    print(f"  clear the filter                   {ms(unfiltered)}")
    print(f"  CSV export of every row            {export:.2f} s, {size / 1048576:.1f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.page))
