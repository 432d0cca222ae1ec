"""The History screen through Pilot: the history read over real HTTP from every vendor's
simulator, a failing PBX beside working ones, the filter under a burst of keys, sorting,
details, the CSV export, a recording through the media port, and 100,000 calls."""

from __future__ import annotations

import asyncio
import csv
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot

from pbxtui.config import Config
from pbxtui.launch import console_app
from pbxtui.model.history import CSV_COLUMNS, CdrRecord, EndStatus, HistoryPage, HistoryQuery
from pbxtui.model.media import Downloaded, MediaError, ProgressListener
from pbxtui.model.records import Direction
from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.fleet import running_fleet
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.details import DetailModal
from pbxtui.ui.modals.save_as import SaveAsModal
from pbxtui.ui.screens.history import HistoryScreen
from tests.drivers.history_calls import OUTSIDE, Scripted, still, three_calls
from tests.ui.fakes import NOW, StaticEngine, fixed_states, fleet_config, frozen_clock
from tests.ui.helpers import burst, command, fill, notifications, run, wait_for

SIZE = (140, 40)
ZONE = "Asia/Jerusalem"
KINDS = ("pbxcloud", "iexpbx", "dialup")


def make(kind: str, name: str) -> SimulatedPbx:
    return build_simulator(kind, name, spec=still(first_extension=201), timezone=ZONE)


@asynccontextmanager
async def fleet(*sims: SimulatedPbx) -> AsyncIterator[Config]:
    async with running_fleet(list(sims), poll_interval=0.5) as (config, _, _):
        yield config


def history(app: PbxApp) -> HistoryScreen:
    screen = app.screen
    assert isinstance(screen, HistoryScreen), type(screen).__name__
    return screen


def shown(screen: HistoryScreen) -> list[tuple[str, ...]]:
    return [screen.table.row_plain(key) for key in screen.table.keys]


def progress_text(screen: HistoryScreen) -> str:
    return screen.query_one("#history-progress").plain  # type: ignore[attr-defined, no-any-return]


async def open_history(pilot: Pilot[None], app: PbxApp) -> HistoryScreen:
    await wait_for(pilot, lambda: app.session.engine is not None, what="the engine open")
    await pilot.press("H")
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), what="History")
    screen = history(app)
    await wait_for(pilot, lambda: not screen.reading, what="every PBX read")
    return screen


async def test_h_lists_the_finished_calls_of_every_vendor_kind() -> None:
    sims = [make(kind, f"{kind[:3]}") for kind in KINDS]
    calls: dict[str, dict[str, Scripted]] = {sim.name: three_calls(sim.scenario) for sim in sims}
    async with fleet(*sims) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            screen = await open_history(pilot, app)
            rows = shown(screen)
            for sim in sims:
                mine = [r for r in rows if r[0] == sim.name]
                assert len(mine) == 3, (sim.name, rows)
                expected = {(c.call.caller, c.call.callee) for c in calls[sim.name].values()}
                assert {(r[3], r[4]) for r in mine} == expected
                statuses = {r[5] for r in mine}
                assert statuses == {"answered", "no answer"}, statuses
            assert "9 of 9 calls" in screen.query_one("#history-status").plain  # type: ignore[attr-defined]
            for sim in sims:
                assert f"{sim.name}: 3 calls" in progress_text(screen)
            # newest first by default
            starts = [screen.rows.record(k).start for k in screen.table.keys]  # type: ignore[union-attr]
            assert starts == sorted(starts, reverse=True)
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is app.console_screen, what="back")


async def test_a_failing_pbx_says_why_while_the_others_list() -> None:
    good, bad = make("pbxcloud", "hq"), make("iexpbx", "ist")
    three_calls(good.scenario)
    three_calls(bad.scenario)
    async with fleet(good, bad) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await wait_for(pilot, lambda: app.session.engine is not None)
            bad.faults.update({"http_500": True})
            screen = await open_history(pilot, app)
            assert {r[0] for r in shown(screen)} == {"hq"}
            assert len(shown(screen)) == 3
            text = progress_text(screen)
            assert "hq: 3 calls" in text
            assert "ist: stopped after 0 rows" in text and "500" in text, text


async def test_history_command_names_a_pbx_a_number_and_a_time() -> None:
    hq, ist = make("pbxcloud", "hq"), make("iexpbx", "ist")
    three_calls(hq.scenario)
    three_calls(ist.scenario)
    async with fleet(hq, ist) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await wait_for(pilot, lambda: app.session.engine is not None)
            await command(pilot, app, f"history ist {OUTSIDE} 2h")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
            screen = history(app)
            await wait_for(pilot, lambda: not screen.reading)
            rows = shown(screen)
            assert [(r[0], r[3]) for r in rows] == [("ist", OUTSIDE)]
            assert screen.request.query.number == OUTSIDE
            since = screen.request.query.since
            assert timedelta(hours=1.9) < datetime.now(UTC) - since < timedelta(hours=2.1)
            await pilot.press("q")
            await wait_for(pilot, lambda: app.screen is app.console_screen)
            await command(pilot, app, "history nowhere-such 12x")
            await wait_for(pilot, lambda: any("nowhere-such" in n for n in notifications(app)))
            assert app.screen is app.console_screen


async def test_filter_sort_details_and_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where the dialog suggests saving
    sim = make("pbxcloud", "hq")
    calls = three_calls(sim.scenario)
    async with fleet(sim) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            screen = await open_history(pilot, app)
            # a burst: every key after / goes to the prompt, none runs a binding (e, R, q)
            await burst(pilot, app, "slash", *"no aneRq")
            await wait_for(pilot, lambda: screen.needle == "no aneRq".strip())
            assert isinstance(app.screen, HistoryScreen) and not screen.table.row_count
            await pilot.press("escape")  # closes the prompt and clears the filter
            await wait_for(pilot, lambda: screen.table.row_count == 3)
            await burst(pilot, app, "slash", *"no answer", "enter")
            await wait_for(pilot, lambda: screen.table.row_count == 1)
            assert shown(screen)[0][5] == "no answer"
            assert app.focused is screen.table
            await pilot.press("escape")  # clears the filter
            await wait_for(pilot, lambda: screen.table.row_count == 3)
            # sort: the next column (Start → Dir), then reverse
            await pilot.press("s")
            assert screen.table.sort_column == "direction"
            await pilot.press("S")
            assert screen.table.sort_reverse
            directions = [r[2] for r in shown(screen)]
            assert directions == sorted(directions, reverse=True)
            # details: every field, the vendor's own status word
            inbound = calls["inbound"]
            key = next(k for k in screen.table.keys if screen.rows.record(k).caller == OUTSIDE)  # type: ignore[union-attr]
            screen.table.move_cursor(row=screen.table.get_row_index(key))
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, DetailModal))
            details = app.screen.details  # type: ignore[attr-defined]
            fields = dict(details.sections[0][1])
            assert fields["status"] == "answered (the PBX said 'ANSWERED')"
            assert fields["unique id"] == inbound.unique_id
            assert fields["caller"] == OUTSIDE
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
            # an Enter typed with the e, handled once the dialog is up: it saves nothing
            early = events.Key("enter", "\r")
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveAsModal))
            await pilot.pause()
            app.post_message(early)
            await pilot.pause()
            assert isinstance(app.screen, SaveAsModal) and os.listdir(tmp_path) == []
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
            # export: asks for the path, writes the shown rows in the CLI's columns
            target = tmp_path / "calls.csv"
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveAsModal))
            await fill(pilot, app, "#path", str(target))
            await pilot.press("enter")
            await wait_for(pilot, lambda: target.exists(), what="the CSV written")
            await wait_for(pilot, lambda: any("saved to" in n for n in notifications(app)))
            with target.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
                written = list(reader)
            assert [r["caller"] for r in written] == [r[3] for r in shown(screen)]
            assert {r["status"] for r in written} == {"answered", "no_answer"}
            assert os.listdir(tmp_path) == ["calls.csv"]  # no temporary file left
            # the same path again is refused before anything is written
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveAsModal))
            await fill(pilot, app, "#path", str(target))
            await pilot.press("enter")
            error = app.screen.query_one("#error")
            await wait_for(pilot, lambda: "exists" in str(error.render()))  # type: ignore[attr-defined]
            await pilot.press("escape")


class FakeMedia:
    """Writes a few chunks, telling progress; waits half-way until the test lets it go."""

    def __init__(self, supported: str = "INFO recording") -> None:
        self.supported = supported
        self.asked: list[tuple[str, str, Path]] = []
        self.halfway = asyncio.Event()
        self.go_on = asyncio.Event()
        self.fail = ""

    def recording_support(self, pbx: str) -> str:
        return self.supported

    async def download_recording(
        self,
        pbx: str,
        recording: str,
        destination: Path,
        on_progress: ProgressListener | None = None,
    ) -> Downloaded:
        from pbxtui.model.media import DownloadProgress

        self.asked.append((pbx, recording, destination))
        if self.fail:
            raise MediaError(self.fail)
        chunk = b"RIFF" + bytes(4092)
        if on_progress is not None:
            on_progress(DownloadProgress(received=len(chunk), total=2 * len(chunk)))
        self.halfway.set()
        await self.go_on.wait()
        await asyncio.to_thread(destination.write_bytes, chunk * 2)
        if on_progress is not None:
            on_progress(DownloadProgress(received=2 * len(chunk), total=2 * len(chunk)))
        return Downloaded(path=destination, size=2 * len(chunk), content_type="audio/wav")


async def test_r_downloads_the_recording_with_progress(tmp_path: Path) -> None:
    sim = make("pbxcloud", "hq")
    calls = three_calls(sim.scenario)
    media = FakeMedia()
    async with fleet(sim) as config:
        app = console_app(config, arm_seconds=0, media=media)
        async with run(app, SIZE) as pilot:
            screen = await open_history(pilot, app)
            missed = next(
                k
                for k in screen.table.keys
                if screen.rows.record(k).status is EndStatus.NO_ANSWER  # type: ignore[union-attr]
            )
            screen.table.move_cursor(row=screen.table.get_row_index(missed))
            await pilot.press("R")
            await wait_for(pilot, lambda: any("no recording" in n for n in notifications(app)))
            assert not media.asked and app.screen is screen
            inbound = next(
                k
                for k in screen.table.keys
                if screen.rows.record(k).caller == OUTSIDE  # type: ignore[union-attr]
            )
            screen.table.move_cursor(row=screen.table.get_row_index(inbound))
            record = screen.current()
            assert record is not None and record.unique_id == calls["inbound"].unique_id
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveAsModal))
            target = tmp_path / "call.wav"
            await fill(pilot, app, "#path", str(target))
            await pilot.press("enter")
            await wait_for(pilot, media.halfway.is_set, what="the download under way")
            bar = screen.query_one("#download")
            await wait_for(pilot, lambda: bar.percentage == 0.5, what="half-way shown")  # type: ignore[attr-defined]
            assert screen.query_one("#download-bar").display
            await pilot.press("R")  # one download at a time
            await wait_for(pilot, lambda: any("downloading" in n for n in notifications(app)))
            media.go_on.set()
            await wait_for(pilot, lambda: any("saved to" in n for n in notifications(app)))
            assert media.asked == [("hq", record.recording, target)]
            assert target.read_bytes().startswith(b"RIFF")
            assert bar.percentage == 1.0  # type: ignore[attr-defined]
            # a PBX that offers none is refused plainly, nothing asked
            media.supported = ""
            await pilot.press("R")
            await wait_for(
                pilot, lambda: any("offers no recordings" in n for n in notifications(app))
            )
            assert len(media.asked) == 1


async def test_a_media_error_is_said(tmp_path: Path) -> None:
    sim = make("pbxcloud", "hq")
    three_calls(sim.scenario)
    media = FakeMedia()
    media.fail = "the PBX answered text/html, not audio"
    async with fleet(sim) as config:
        app = console_app(config, arm_seconds=0, media=media)
        async with run(app, SIZE) as pilot:
            screen = await open_history(pilot, app)
            key = next(k for k in screen.table.keys if screen.rows.record(k).recording)  # type: ignore[union-attr]
            screen.table.move_cursor(row=screen.table.get_row_index(key))
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveAsModal))
            await fill(pilot, app, "#path", str(tmp_path / "x.wav"))
            await pilot.press("enter")
            await wait_for(pilot, lambda: any("not audio" in n for n in notifications(app)))
            assert not (tmp_path / "x.wav").exists()


# -- 100,000 calls through a fake HistorySource ------------------------------------------------
T0 = NOW - timedelta(days=20)


def generated(pbx: str, count: int) -> list[CdrRecord]:
    statuses = list(EndStatus)
    # Valid by construction: built without validation, 100,000 of them would take seconds.
    return [
        CdrRecord.model_construct(
            pbx=pbx,
            id=f"{pbx}-{i}",
            start=T0 + timedelta(seconds=6 * i),
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


class BigHistory:
    """A history source with many calls, given a page at a time, newest first."""

    def __init__(self, records: dict[str, list[CdrRecord]], page: int = 5000) -> None:
        self.records = records
        self.page = page

    def history_source(self, pbx: str) -> str:
        return "generated" if pbx in self.records else ""

    async def history(self, pbx: str, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        rows = sorted(self.records[pbx], key=lambda r: r.start, reverse=True)
        for start in range(0, len(rows), self.page):
            chunk = tuple(rows[start : start + self.page])
            done = min(1.0, (start + len(chunk)) / len(rows))
            window = (chunk[-1].start, chunk[0].start + timedelta(seconds=1))
            yield HistoryPage(pbx=pbx, records=chunk, window=window, progress=done, source="gen")
            await asyncio.sleep(0)


def static_app(source: Any, **kw: Any) -> PbxApp:
    config = fleet_config()
    engine = StaticEngine(config, states=fixed_states(config))
    return PbxApp(config, engine=engine, clock=frozen_clock, arm_seconds=0, history=source, **kw)


async def test_100k_calls_open_scroll_and_filter() -> None:
    config = fleet_config()
    names = [p.name for p in config.pbx]
    per = 100_000 // len(names)
    records = {name: generated(name, per) for name in names}
    source = BigHistory(records)
    app = static_app(source)
    async with run(app, SIZE) as pilot:
        await command(pilot, app, "history all 30d")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        screen = history(app)
        await wait_for(pilot, lambda: not screen.reading, timeout=60, what="100k read")
        assert screen.table.row_count == per * len(names)
        first = screen.table.visible_keys()
        for _ in range(20):
            await pilot.press("pagedown")
        await pilot.press("G")
        await pilot.pause()
        assert screen.table.cursor_row == screen.table.row_count - 1
        assert screen.table.visible_keys() != first
        await pilot.press("g")
        await burst(pilot, app, "slash", *"0500012")
        await wait_for(pilot, lambda: screen.needle == "0500012")
        expected = sum("0500012" in r.caller for rows in records.values() for r in rows)
        assert 0 < screen.table.row_count == expected
        assert all("0500012" in r[3] for r in shown(screen))


async def test_a_call_seen_ending_links_to_its_history_row() -> None:
    """The Calls pane's recently ended calls: Enter on one opens History on that call."""
    sim = build_simulator(
        "pbxcloud", "hq", spec=still(first_extension=201, stuck_call_seconds=3600), timezone=ZONE
    )
    three_calls(sim.scenario)  # newer calls of the same history: the cursor must go to it
    async with fleet(sim) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            console = app.console_screen
            calls = console.panes["calls"]
            await wait_for(pilot, lambda: table_rows(app, "calls") == 1, what="the live call")
            assert not console.query_one("#table-recent").display
            (live,) = sim.scenario.calls.values()
            sim.scenario._end(live)
            await wait_for(pilot, lambda: table_rows(app, "recent") == 1, what="seen ending")
            recent = console.query_one("#table-recent")
            assert recent.display
            recent.focus()
            await pilot.pause()
            assert calls.current() is None  # a finished call is no target of any action
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
            screen = history(app)
            assert screen.request.pbxs == ("hq",)
            await wait_for(pilot, lambda: not screen.reading)
            record = screen.current()
            assert record is not None
            assert record.unique_id == live.linked_id, (record, live)
            assert screen.table.row_count == 4  # the others listed too, the cursor on it
            assert screen.table.cursor_row == 3  # the oldest
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is console)
            # H on it does the same
            await pilot.press("H")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
            again = history(app)
            await wait_for(pilot, lambda: not again.reading)
            found = again.current()
            assert found is not None and found.unique_id == live.linked_id


def table_rows(app: PbxApp, name: str) -> int:
    from tests.ui.helpers import table

    return table(app, name).row_count


async def test_r_downloads_a_real_recording_from_the_simulator(tmp_path: Path) -> None:
    """The engine's own media source over HTTP: the simulator's audio lands in the file."""
    sim = make("pbxcloud", "hq")
    three_calls(sim.scenario)
    async with fleet(sim) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            screen = await open_history(pilot, app)
            key = next(k for k in screen.table.keys if screen.rows.record(k).recording)  # type: ignore[union-attr]
            screen.table.move_cursor(row=screen.table.get_row_index(key))
            await pilot.press("R")
            await wait_for(pilot, lambda: isinstance(app.screen, SaveAsModal))
            target = tmp_path / "call.wav"
            await fill(pilot, app, "#path", str(target))
            await pilot.press("enter")
            await wait_for(
                pilot, lambda: any("saved to" in n for n in notifications(app)), timeout=20
            )
            data = await asyncio.to_thread(target.read_bytes)
            assert len(data) > 1000 and data[:4] == b"RIFF", data[:16]
            bar = screen.query_one("#download")
            assert bar.percentage == 1.0  # type: ignore[attr-defined]
            assert os.listdir(tmp_path) == ["call.wav"]  # no temporary file left
