"""Every pane tells the same truth, and fits 80x24: numbers whole, channels told apart,
normalized state words everywhere (the vendor's only in the detail view), lamps and ticks
told apart by glyph, longest first selecting the longest, forms and details on screen."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from rich.style import Style
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, SelectionList

from pbxtui.model import (
    AgentState,
    BlfLamp,
    Call,
    CallState,
    Direction,
    Extension,
    LineState,
    PbxState,
    Record,
    Resource,
)
from pbxtui.ui.app import PbxApp
from pbxtui.ui.cells import plain
from pbxtui.ui.modals.click2call import Click2CallModal
from pbxtui.ui.modals.details import DetailModal, details_of
from pbxtui.ui.modals.picker import PbxPicker
from pbxtui.ui.palette import Palette
from pbxtui.ui.views import CallsSpec, ExtensionsSpec, ViewContext, call_state_style, peer_word
from pbxtui.ui.widgets.blf import LAMP_GLYPHS, BlfBoard
from pbxtui.ui.widgets.live_table import LiveTable
from pbxtui.ui.widgets.panes import BlfPane
from tests.ui.fakes import NOW, StaticEngine, ago, fixed_states, fleet_config, frozen_clock
from tests.ui.helpers import run, table, wait_for

TRUNK_CALLS = ("SIP/trunk-sip-Trunk110-000020a1", "SIP/trunk-sip-Trunk110-000020b7")


def with_records(state: PbxState, resource: Resource, records: list[Record]) -> PbxState:
    resources = dict(state.resources)
    resources[resource] = replace(resources[resource], records=tuple(records))
    return replace(state, resources=resources)


def trunk_call(channel: str, caller: str, seconds: int) -> Call:
    return Call(
        pbx="istanbul",
        id=f"17419444{seconds}.7",
        channel=channel,
        caller=caller,
        callee="101",
        state=CallState.UP,
        state_raw="Up",
        duration=seconds,
        direction=Direction.INBOUND,
        observed_at=ago(1),
    )


def fleet(**kw: Any) -> dict[str, PbxState]:
    """The fixed fleet, with two iexpbx trunk calls whose channels differ only at the end."""
    states = fixed_states(fleet_config())
    istanbul = states["istanbul"]
    calls = [
        *istanbul.calls(),
        trunk_call(TRUNK_CALLS[0], "905321234567", 61),
        trunk_call(TRUNK_CALLS[1], "+905337654321", 62),
    ]
    states["istanbul"] = with_records(istanbul, Resource.CALLS, list(calls))
    return states


def make(states: dict[str, PbxState] | None = None, *, mask: bool = False) -> PbxApp:
    config = fleet_config()
    engine = StaticEngine(config, states=states if states is not None else fleet())
    app = PbxApp(config, engine=engine, clock=frozen_clock, arm_seconds=0, mask_numbers=mask)
    app.animation_level = "none"
    return app


def shown_line(t: LiveTable, key: str) -> str:
    """Row ``key`` as the terminal shows it (rendered, cut to its columns)."""
    return t.render_line(t.get_row_index(key) + 1).text  # line 0 is the header


def visible(app: PbxApp, widget: Widget) -> bool:
    """``widget`` is on screen, on top, uncovered and not scrolled away."""
    region = widget.region
    if not region.area:
        return False
    found, _ = app.screen.get_widget_at(*region.center)
    return found is widget or widget in found.ancestors


# -- 1. widths by priority -----------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
async def test_numbers_whole_and_trunk_channels_apart(size: tuple[int, int]) -> None:
    app = make()
    async with run(app, size) as pilot:
        calls = table(app, "calls")
        await wait_for(pilot, lambda: calls.row_count == 8 and calls.fitted)
        lines = {key: shown_line(calls, key) for key in calls.keys}
        for key in calls.keys:
            caller, callee = calls.row_plain(key)[3:5]
            assert caller in lines[key] and callee in lines[key], lines[key]
            assert calls.row_plain(key)[1] in lines[key]  # the PBX name, whole
        one, two = (lines[f"istanbul\x1f17419444{s}.7"] for s in (61, 62))
        assert "020a1" in one and "020b7" in two
        assert calls.virtual_size.width <= calls.scrollable_content_region.width, "no h-scroll"
        if size[0] >= 160:
            assert TRUNK_CALLS[0] in one and TRUNK_CALLS[1] in two


@pytest.mark.parametrize("pane", ["2", "4", "5"], ids=["extensions", "peers", "queues"])
async def test_every_table_fits_80_columns(pane: str) -> None:
    app = make()
    async with run(app, (80, 24)) as pilot:
        await pilot.press(pane)
        tables = list(app.console_screen.active_pane.query(LiveTable))
        await wait_for(pilot, lambda: all(t.fitted and t.row_count for t in tables))
        for t in tables:
            assert t.virtual_size.width <= t.scrollable_content_region.width, t.id
            for key in t.keys:
                assert t.row_plain(key)[1] in shown_line(t, key)  # PBX names whole


# -- 4. longest first on the agents table -------------------------------------------------
async def test_longest_selects_the_longest_paused_agent() -> None:
    app = make()
    async with run(app, (120, 36)) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 8)
        await pilot.press("5")
        await wait_for(pilot, lambda: table(app, "queues").has_focus)
        await pilot.press("tab")
        agents = table(app, "agents")
        await wait_for(pilot, lambda: agents.has_focus and agents.row_count == 5)
        await pilot.press("L")
        await wait_for(pilot, lambda: agents.sort_column == "paused")
        assert agents.current_key == "hq\x1f202\x1f630", "Avi, paused 31 min, selected"
        assert agents.keys[:2] == ["hq\x1f202\x1f630", "hq\x1f220\x1f631"]
        await pilot.press("S")  # the other way round: still the paused ones first
        await wait_for(pilot, lambda: not agents.sort_reverse)
        assert agents.keys[:2] == ["hq\x1f220\x1f631", "hq\x1f202\x1f630"]


# -- 5. normalized state words -----------------------------------------------------------
def test_tables_show_normalized_words_and_filter_on_the_vendors() -> None:
    states = fixed_states(fleet_config())
    hq = states["hq"]
    queued = Call(
        pbx="hq",
        id="q1",
        channel="PJSIP/trunk-ACME-0000f300",
        caller="0501112233",
        state=CallState.QUEUED,
        state_raw="Waiting",
        queue="630",
        observed_at=NOW,
    )
    odd = queued.model_copy(update={"id": "o1", "state": CallState.OTHER, "state_raw": "Hold?"})
    states["hq"] = with_records(hq, Resource.CALLS, [queued, odd])
    unmonitored = Extension(
        pbx="hq", id="230", number="230", state=LineState.UNKNOWN, state_raw="Unmonitored"
    )
    states["hq"] = with_records(states["hq"], Resource.EXTENSIONS, [unmonitored])
    ctx = ViewContext(now=NOW, pbxs={"hq": states["hq"]})
    rows, _ = CallsSpec().build(ctx)
    assert plain(rows["hq\x1fq1"][5]) == "queued" and plain(rows["hq\x1fo1"][5]) == "other"
    assert set(CallsSpec().build(ctx, "waiting")[0]) == {"hq\x1fq1"}  # the vendor's word
    ext_rows, _ = ExtensionsSpec().build(ctx)
    assert plain(ext_rows["hq\x1f230"][4]) == "unknown"
    assert set(ExtensionsSpec().build(ctx, "unmonitored")[0]) == {"hq\x1f230"}
    assert [peer_word(r) for r in (True, False, None)] == ["registered", "UNREGISTERED", "unknown"]


def test_queued_looks_unlike_ringing() -> None:
    palette = Palette(
        warn=Style(color="yellow"), info=Style(color="blue"), accent=Style(color="magenta")
    )
    styles = {s: call_state_style(s, palette) for s in CallState}
    assert styles[CallState.QUEUED] != styles[CallState.RINGING]
    assert styles[CallState.QUEUED] != styles[CallState.DIALING]


async def test_blf_detail_says_the_normalized_word() -> None:
    states = fleet()
    lamp = BlfLamp(
        pbx="hq",
        id="201",
        label="201",
        state=LineState.UNKNOWN,
        state_raw="Unmonitored",
        extension="201",
    )
    states["hq"] = with_records(states["hq"], Resource.BLF, [lamp])
    app = make(states)
    async with run(app, (80, 24)) as pilot:
        await pilot.press("3")
        pane = app.console_screen.panes["blf"]
        assert isinstance(pane, BlfPane)
        await wait_for(pilot, lambda: "unknown" in pane.detail.plain)
        assert "Unmonitored" not in pane.detail.plain


# -- 3. lamps and ticks by glyph ---------------------------------------------------------
def test_every_lamp_state_has_its_own_glyph() -> None:
    assert len(set(LAMP_GLYPHS.values())) == len(LineState)


async def test_blf_board_shows_glyphs_and_a_legend() -> None:
    app = make()
    async with run(app, (80, 24)) as pilot:
        await pilot.press("3")
        board = app.console_screen.query_one(BlfBoard)
        pane = app.console_screen.panes["blf"]
        assert isinstance(pane, BlfPane)
        await wait_for(pilot, lambda: len(board.lamps) > 0)
        text = "\n".join(board.plain_lines())
        idle, busy, ringing = (
            LAMP_GLYPHS[s] for s in (LineState.IDLE, LineState.BUSY, LineState.RINGING)
        )
        assert f"{idle} 202" in text and f"{busy} 208" in text and f"{ringing} 201" in text
        legend = pane.legend.plain
        for state, glyph in LAMP_GLYPHS.items():
            assert f"{glyph} {state.value}" in legend
        assert visible(app, pane.legend)


async def test_picker_ticks_differ_by_glyph() -> None:
    app = make()
    async with run(app, (80, 24)) as pilot:
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PbxPicker))
        await pilot.press("space")  # unticks hq, the first
        options = app.screen.query_one(SelectionList)
        await wait_for(pilot, lambda: "hq" not in options.selected)
        unticked, ticked = (options.render_line(y).text for y in (0, 1))
        assert unticked.split()[0] != ticked.split()[0], (unticked, ticked)


# -- 2. the click2call form at 80x24 -----------------------------------------------------
@pytest.mark.parametrize("row", ["home", "end"], ids=["pbxcloud", "dialup-with-schedule"])
async def test_click2call_buttons_on_screen_at_80x24(row: str) -> None:
    app = make()
    async with run(app, (80, 24)) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 8)
        await pilot.press(row, "c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        await pilot.pause()
        for button in app.screen.query(Button):
            assert visible(app, button), button.id


# -- 6. the detail view ------------------------------------------------------------------
def _text(details: Any) -> str:
    return "\n".join(
        f"{heading}\n" + "\n".join(f"{k}: {v}" for k, v in rows)
        for heading, rows in details.sections
    )


def test_details_name_every_field_the_vendors_words_and_the_links() -> None:
    states = fixed_states(fleet_config())
    call = next(c for c in states["hq"].calls() if c.caller == "0501234567")
    text = _text(details_of(call, states["hq"], mask=False))
    assert "state: up" in text and "vendor's word: Up" in text
    assert "other leg's channel: PJSIP/208-ACME-0000f1e9" in text
    assert "extension 208 (on this call)" in text and "name: Noa" in text
    masked = _text(details_of(call, states["hq"], mask=True))
    assert "0501234567" not in masked and "050*****67" in masked
    ayse = states["istanbul"].calls()[0]
    masked_id = details_of(ayse, states["istanbul"], mask=True)
    assert "1741944400.12" in masked_id.title, "a unique id is no phone number"
    assert "905321234567" not in _text(masked_id)
    agent = next(a for a in states["hq"].agents() if a.state is AgentState.PAUSED)
    agent_text = _text(details_of(agent, states["hq"], mask=False))
    assert "queue Sales" in agent_text and f"extension {agent.extension}" in agent_text


async def test_detail_view_fits_scrolls_and_closes() -> None:
    app = make(mask=True)
    async with run(app, (80, 24)) as pilot:
        calls = table(app, "calls")
        await wait_for(pilot, lambda: calls.row_count == 8)
        calls.move_cursor(row=calls.get_row_index("hq\x1fPJSIP/trunk-ACME-0000f1e8"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailModal))
        modal = app.screen
        body = modal.query_one("#details-body", VerticalScroll)
        await wait_for(pilot, lambda: body.max_scroll_y > 0)
        dialog = modal.query_one(".dialog")
        assert app.screen.region.contains_region(dialog.region)
        assert "0501234567" not in _text(modal.details)
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: body.scroll_y > 0)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.console_screen)
