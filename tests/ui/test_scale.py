"""The console over 10,000 calls does what it does over 60, and says how many rows it holds;
its frame is up before any PBX has answered."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import TracebackType
from typing import Self

import pytest
from textual.widgets import Input

from benchmarks.scenario_pane import bench_config
from pbxtui.model import Call, CallState, Direction, Resource, ResourceState
from pbxtui.ui.app import PbxApp
from pbxtui.ui.repaint_pacing import RENDER_SLICE
from tests.ui.fakes import (
    NOW,
    StaticEngine,
    fixed_states,
    fleet_config,
    frozen_clock,
    pbx_state,
)
from tests.ui.helpers import health_text, run, table, wait_for

ROWS = 10_000


def many_calls(pbx: str, count: int) -> tuple[Call, ...]:
    return tuple(
        Call(
            pbx=pbx,
            id=f"PJSIP/trunk-ACME-{i:08x}",
            channel=f"PJSIP/trunk-ACME-{i:08x}",
            caller=f"05{i:08d}",
            callee=str(200 + i % 50),
            state=CallState.UP if i % 7 else CallState.RINGING,
            duration=(i * 7919) % 3600,
            direction=Direction.INBOUND,
            observed_at=NOW,
        )
        for i in range(count)
    )


def big_app() -> PbxApp:
    config = fleet_config(names=("hq", "istanbul"))
    states = fixed_states(config)
    for name, share in (("hq", ROWS // 2), ("istanbul", ROWS - ROWS // 2)):
        state = states[name]
        resources = dict(state.resources)
        resources[Resource.CALLS] = ResourceState(many_calls(name, share), fetched_at=NOW)
        states[name] = replace(state, resources=resources)
    engine = StaticEngine(config, states=states)
    return PbxApp(config, engine=engine, clock=frozen_clock, arm_seconds=0)


def status(app: PbxApp) -> str:
    return app.console_screen.active_pane.status()


async def test_ten_thousand_calls_sort_filter_mark_and_say_how_many() -> None:
    app = big_app()
    async with run(app, (120, 36)) as pilot:
        calls = table(app, "calls")
        await wait_for(pilot, lambda: calls.row_count == ROWS, what="every call shown")
        assert status(app).startswith(f"showing {ROWS} of {ROWS} calls · sorted by PBX ▲")
        await pilot.press("L")
        assert calls.cursor_row == 0  # the longest call selected: 3599 s, the longest made
        assert calls.row_plain(str(calls.current_key))[6] == "59:59"
        assert "sorted by Duration ▼" in status(app)
        await pilot.press("G")
        assert calls.cursor_row == ROWS - 1 and calls.current_key in calls.visible_keys()
        await pilot.press("g", "space", "space")
        assert "2 marked" in status(app)
        await pilot.press("escape")
        assert "marked" not in status(app)
        await pilot.press("slash", *"0500004321")  # call 4321 of each PBX
        prompt = app.console_screen.query_one("#prompt", Input)
        assert prompt.value == "0500004321", "what is typed shows at once"
        await wait_for(pilot, lambda: calls.row_count == 2, what="the filter applied")
        assert status(app).startswith(f"showing 2 of {ROWS} calls")
        await pilot.press("escape")
        assert calls.row_count == ROWS


class NeverAnswers(StaticEngine):
    """An engine that never opens: its PBXs never answer."""

    def __init__(self) -> None:
        super().__init__(fleet_config())

    async def __aenter__(self) -> Self:
        await asyncio.Event().wait()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    async def run(self) -> None:
        await asyncio.Event().wait()


async def test_the_frame_is_up_before_any_pbx_answers() -> None:
    engine = NeverAnswers()
    app = PbxApp(engine.config, live_engine=engine, clock=frozen_clock)
    async with run(app) as pilot:
        await wait_for(pilot, lambda: "waiting for the first answer" in health_text(app))
        calls = table(app, "calls")
        await wait_for(pilot, lambda: calls.fitted, what="the calls table laid out")
        assert "PBX" in calls.render_line(0).text and "Duration" in calls.render_line(0).text
        notice = app.console_screen.panes["calls"].notice_text()
        assert "hq: waiting for the first live calls…" in notice
        assert app.session.engine is None


async def test_a_fleet_answering_at_once_is_painted_a_few_pbxs_at_a_time_and_all_of_it_shows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Twelve PBXs whose polls land together: the repaint is cut in slices of RENDER_SLICE
    # PBXs, so a key pressed meanwhile waits for one slice, not for all twelve.
    config = bench_config(12)
    names = [p.name for p in config.pbx]
    engine = StaticEngine(config, states={n: pbx_state(n, "pbxcloud", {}) for n in names})
    app = PbxApp(config, engine=engine, clock=frozen_clock)
    shown: list[int] = []
    async with run(app) as pilot:
        screen = app.console_screen
        calls = table(app, "calls")
        await wait_for(pilot, lambda: "noc12" in health_text(app), what="the console")
        render = screen.render_all

        def counting() -> None:
            render()
            shown.append(len(calls.keys))

        monkeypatch.setattr(screen, "render_all", counting)
        for name in names:
            one = Call(pbx=name, id=f"SIP/{name}-1", channel=f"SIP/{name}-1", observed_at=NOW)
            engine.push(pbx_state(name, "pbxcloud", {Resource.CALLS: [one]}))
        await wait_for(pilot, lambda: len(calls.keys) == 12, what="every PBX's call")
    step = RENDER_SLICE
    assert shown[: 12 // step] == list(range(step, 13, step))
