"""Actions through the console against a static engine: confirmation, refusal, marks, modals."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from textual.widgets import Input

from pbxtui.engine import Engine
from pbxtui.model import (
    AttendedTransfer,
    BlindTransfer,
    Hangup,
    PauseAgent,
    PlaceCall,
    Resource,
    ResourceState,
    UnpauseAgent,
)
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.click2call import Click2CallModal
from pbxtui.ui.modals.confirm import ConfirmModal
from pbxtui.ui.modals.consult import ConsultModal
from pbxtui.ui.modals.destination import DestinationModal
from pbxtui.ui.modals.help import HelpModal, show_help
from pbxtui.ui.modals.pause import PauseModal
from pbxtui.ui.modals.picker import PbxPicker
from pbxtui.ui.widgets.live_table import LiveTable
from pbxtui.ui.widgets.text import TextLines
from tests.ui.fakes import StaticEngine, fixed_states, fleet_config, frozen_clock, pbx_state
from tests.ui.helpers import (
    burst,
    command,
    fill,
    health_text,
    notices,
    notifications,
    rows,
    run,
    table,
    wait_for,
)

SIZE = (120, 36)


def make(**kw: Any) -> tuple[PbxApp, StaticEngine]:
    read_only = kw.pop("global_read_only", False)
    mask = kw.pop("mask_numbers", False)
    config = fleet_config(**kw)
    engine = StaticEngine(config, read_only=read_only)
    app = PbxApp(
        config,
        read_only=read_only,
        mask_numbers=mask,
        engine=engine,
        clock=frozen_clock,
        arm_seconds=0,
    )
    app.animation_level = "none"
    return app, engine


async def select_row(pilot: Any, app: PbxApp, name: str, match: str) -> None:
    """Put the cursor on the first row of table ``name`` containing ``match``."""
    t = table(app, name)
    await wait_for(pilot, lambda: t.row_count > 0)
    for index, key in enumerate(t.keys):
        if any(match in cell for cell in t.row_plain(key)):
            t.move_cursor(row=index)
            await pilot.pause()
            return
    raise AssertionError(f"no row with {match!r} in {name}")


async def test_hangup_acts_on_the_snapshot_confirmed() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        (target,) = modal.confirmation.targets
        assert "hq" in target and "PJSIP/trunk-ACME-0000f1e8" in target and "6:47" in target
        # the table changes under the modal: nothing repaints, the action keeps its snapshot
        states = fixed_states(engine.config)
        engine.push(pbx_state("hq", "pbxcloud", {}))
        await pilot.pause()
        assert any("0501234567" in r for r in rows(app, "calls"))
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
        (request,) = engine.performed
        assert isinstance(request, Hangup) and request.call.caller == "0501234567"
        # after the modal closed, the newest state is applied
        await wait_for(pilot, lambda: not any("0501234567" in r for r in rows(app, "calls")))
        assert states  # (kept for clarity: the fixed states are rebuilt on demand)


async def test_cancel_sends_nothing() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        for key in ("n", "escape"):
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press(key)
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmModal))
        await pilot.pause()
        assert engine.performed == []


async def test_failure_is_notified_with_the_vendors_reason() -> None:
    app, engine = make()
    engine.failures["hangup"] = "No such channel"
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        await pilot.press("h", "y")
        await wait_for(pilot, lambda: any("No such channel" in n for n in notifications(app)))
        assert any(n.severity == "error" for n in notices(app))
        await pilot.press("6")
        await wait_for(
            pilot, lambda: any("No such channel" in " ".join(r) for r in rows(app, "events"))
        )


async def test_second_h_while_in_flight_does_not_send_twice() -> None:
    app, engine = make()
    engine.gate = asyncio.Event()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        await pilot.press("h", "y")
        await wait_for(pilot, lambda: len(engine.performed) == 1)
        await pilot.press("h")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert any("in flight" in n for n in notifications(app))
        engine.gate.set()
        await pilot.pause()
        assert len(engine.performed) == 1


async def test_read_only_refuses_without_a_modal() -> None:
    app, engine = make(global_read_only=True)
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        assert "READ-ONLY" in health_text(app)
        await pilot.press("h")
        await wait_for(pilot, lambda: any("read-only" in n for n in notifications(app)))
        assert not isinstance(app.screen, ConfirmModal)
        assert [r.kind for r in engine.attempts] == ["hangup"]  # the engine refused it
        assert engine.performed == []


async def test_per_pbx_read_only_badge_and_refusal() -> None:
    app, _engine = make(read_only=["hq"])
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        assert "hq pbxcloud ok RO" in health_text(app)
        await pilot.press("h")
        await wait_for(pilot, lambda: any("read-only" in n for n in notifications(app)))
        await select_row(pilot, app, "calls", "905321234567")  # istanbul: not read-only
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))


async def test_unsupported_action_says_so() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "905321234567")  # istanbul (iexpbx): no transfer
        await pilot.press("t")
        await wait_for(
            pilot, lambda: any("not supported by istanbul's API" in n for n in notifications(app))
        )
        assert not isinstance(app.screen, DestinationModal)


async def test_protected_pbx_needs_its_name_typed() -> None:
    app, engine = make(protected=["hq"])
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")  # goes into the input: no confirmation by a single key
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and engine.performed == []
        app.screen.query_one("#typed", Input).value = ""
        await pilot.press("h", "q", "enter")
        await wait_for(pilot, lambda: engine.performed)
        assert engine.performed[0].pbx == "hq"


async def test_marks_one_confirmation_for_all() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        await pilot.press("space")  # marks and moves down
        await select_row(pilot, app, "calls", "905321234567")
        await pilot.press("space")
        assert "2 marked" in app.console_screen.query_one("#status", TextLines).plain
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert isinstance(app.screen, ConfirmModal)
        assert len(app.screen.confirmation.targets) == 2
        await pilot.press("y")
        await wait_for(pilot, lambda: len(engine.performed) == 2)
        assert {r.pbx for r in engine.performed} == {"hq", "istanbul"}
        await pilot.press("escape")  # clears the marks
        assert not app.console_screen.panes["calls"].marks


async def test_blind_transfer_validates_and_sends() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, DestinationModal))
        await pilot.press("x", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DestinationModal)  # not a number: refused in the modal
        app.screen.query_one("#destination", Input).value = ""
        await pilot.press("2", "0")
        await pilot.pause()
        assert app.screen.query_one("#choices").option_count >= 1  # type-ahead over extensions
        await pilot.press("2", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert isinstance(app.screen, ConfirmModal)
        assert "to 202" in app.screen.confirmation.title  # names the destination
        assert engine.performed == []  # choosing is not sending
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
        (request,) = engine.performed
        assert isinstance(request, BlindTransfer) and request.destination == "202"
        # and Esc cancels
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, DestinationModal))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestinationModal))
        assert len(engine.performed) == 1


async def test_pause_with_reason_and_unpause() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("5")
        await pilot.pause()
        await pilot.press("tab")
        await select_row(pilot, app, "agents", "208 Noa")
        app.console_screen.panes["queues"].sections[1].table.focus()
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, PauseModal))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PauseModal))
        assert engine.performed == []
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, PauseModal))
        await pilot.press("down", "enter")  # the second configured reason: Lunch
        await wait_for(pilot, lambda: engine.performed)
        pause = engine.performed[-1]
        assert isinstance(pause, PauseAgent) and pause.reason == "Lunch"
        assert pause.agent.extension == "208"
        # free text
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, PauseModal))
        app.screen.query_one("#reason", Input).focus()
        await fill(pilot, app, "#reason", "Coaching")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(engine.performed) == 2)
        last = engine.performed[-1]
        assert isinstance(last, PauseAgent) and last.reason == "Coaching"
        # unpause is confirmed too, naming the agent
        await select_row(pilot, app, "agents", "202 Avi")
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(engine.performed) == 3)
        assert isinstance(engine.performed[-1], UnpauseAgent)


async def test_click2call_prefilled_from_the_extension() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("2")
        await select_row(pilot, app, "extensions", "Avi")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        assert app.screen.query_one("#source", Input).value == "202"
        await fill(pilot, app, "#destination", "0501112233")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
        (request,) = engine.performed
        assert isinstance(request, PlaceCall)
        assert (request.dial.source, request.dial.destination) == ("202", "0501112233")
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, Click2CallModal))
        assert len(engine.performed) == 1


async def test_filter_and_escape() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        await pilot.press("slash", *"0501")
        # typing shows at once; the rows follow once the typing pauses (debounced)
        assert app.console_screen.query_one("#prompt", Input).value == "0501"
        await wait_for(pilot, lambda: table(app, "calls").row_count == 1, what="filtered")
        assert [r[3] for r in rows(app, "calls")] == ["0501234567"]
        await pilot.press("enter")  # keeps the filter, back to the table
        await pilot.pause()
        assert table(app, "calls").has_focus and table(app, "calls").row_count == 1
        await pilot.press("escape")
        await pilot.pause()
        assert table(app, "calls").row_count == 6
        await pilot.press("slash")
        await fill(pilot, app, "#prompt", "ringing")
        await wait_for(pilot, lambda: table(app, "calls").row_count == 1, what="ringing only")
        await pilot.press("escape")  # Esc in the prompt clears too
        await pilot.pause()
        assert table(app, "calls").row_count == 6


async def test_enter_applies_the_filter_typed_however_fast() -> None:
    """A filter typed and submitted in one burst is applied when the prompt closes: the
    rows the next key acts on are the ones the operator asked for."""
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        await burst(pilot, app, "slash", *"0501", "enter")
        # The burst is handled through the prompt's own queue: wait for the filter to be set,
        # then its rows must already be the filtered ones (no debounce once Enter closed it).
        await wait_for(pilot, lambda: app.console_screen.active_pane.needle == "0501")
        assert table(app, "calls").row_count == 1
        assert "filter “0501”" in app.console_screen.active_pane.status()


async def test_command_mode() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        await command(pilot, app, "calls hq")
        assert {r[1] for r in rows(app, "calls")} == {"hq"}
        await command(pilot, app, "agents paused")
        await wait_for(pilot, lambda: table(app, "agents").row_count == 2)
        assert {r[3] for r in rows(app, "agents")} == {"202 Avi", "220 Gil"}
        await command(pilot, app, "pbx all")
        assert app.console_screen.shown_pbxs == ("hq", "istanbul", "branch", "eu")
        await command(pilot, app, "frobnicate")
        await wait_for(pilot, lambda: any("unknown command" in n for n in notifications(app)))


async def test_pbx_picker_and_help() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PbxPicker))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, PbxPicker))
        await pilot.press("p")
        await wait_for(pilot, lambda: isinstance(app.screen, PbxPicker))
        await pilot.press("space")  # unticks the first (hq)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "hq" not in app.console_screen.shown_pbxs)
        assert "hq" not in {r[1] for r in rows(app, "calls")}
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpModal))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpModal))


async def test_help_opened_again_is_the_one_composed_before_while_it_says_the_same() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        await pilot.press("question_mark", "escape", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpModal))
        first = app.screen
        assert "hang up" in dict(first.bindings_list)["h"].lower()
        await pilot.press("escape", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpModal))
        assert app.screen is first
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpModal))
        show_help(app, [("x", "another help")])  # other rows: composed anew
        await wait_for(pilot, lambda: isinstance(app.screen, HelpModal))
        assert app.screen is not first
        assert dict(app.screen.bindings_list) == {"x": "another help"}


async def test_sort_longest_and_refresh() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        await pilot.press("down", "down")
        await pilot.press("L")
        await pilot.pause()
        calls = table(app, "calls")
        assert rows(app, "calls")[0][6].strip() == "2:07:01"
        assert calls.current_key == calls.keys[0], "the longest call is selected"
        await pilot.press("G")
        assert calls.cursor_row == calls.row_count - 1
        await pilot.press("g")
        assert calls.cursor_row == 0
        await pilot.press("r")
        assert engine.refreshed


async def test_masked_numbers() -> None:
    app, _engine = make(mask_numbers=True)
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        callers = {r[3] for r in rows(app, "calls")}
        assert "050*****67" in callers and "0501234567" not in callers
        assert "218" in callers  # extensions are not personal data


async def test_blf_lamp_shows_its_call() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("3")
        await pilot.pause()
        pane = app.console_screen.panes["blf"]
        board = pane.board
        board.select_key("hq\x1f208")
        await pilot.pause()
        detail = pane.detail.plain
        assert "208" in detail and "0501234567" in detail


async def test_command_palette_lists_actions() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        names = [name for name, _, _ in app.console_screen.palette_commands()]
        assert {
            "Hang up",
            "Blind transfer",
            "Attended transfer",
            "Pause agent",
            "Click2call",
        } <= set(names)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Hang")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), timeout=5)


async def test_live_table_keeps_cursor_on_its_row() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0959103856")
        t: LiveTable = table(app, "calls")
        key = t.current_key
        states = fixed_states(engine.config)
        hq = states["hq"]
        calls = list(hq.calls())
        # a new call sorts before the selected one; one call ends
        new = calls[0].model_copy(update={"id": "PJSIP/aaa-0001", "channel": "PJSIP/aaa-0001"})
        records = (new, *calls[1:])
        resources = dict(hq.resources)
        resources[Resource.CALLS] = ResourceState(
            records=records, fetched_at=hq.resources[Resource.CALLS].fetched_at
        )
        engine.push(replace(hq, resources=resources))
        await wait_for(pilot, lambda: any("PJSIP/aaa-0001" in r[2] for r in rows(app, "calls")))
        assert t.current_key == key


async def test_hangup_from_the_extensions_pane_names_the_call() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("2")
        await select_row(pilot, app, "extensions", "Noa")
        assert "0501234567 → 208" in table(app, "extensions").row_plain("hq\x1f208")[7]
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert "0501234567" in app.screen.confirmation.targets[0]
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
        (request,) = engine.performed
        assert isinstance(request, Hangup) and request.call.id == "PJSIP/trunk-ACME-0000f1e8"


async def test_attended_transfer_cancel_and_later() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await select_row(pilot, app, "calls", "0501234567")
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, DestinationModal))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DestinationModal))
        assert engine.performed == []
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, DestinationModal))
        app.screen.query_one("#destination", Input).value = "202"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.console_screen.attended_flow.pending())
        assert isinstance(engine.performed[0], AttendedTransfer)
        status = app.console_screen.query_one("#status", TextLines)
        await wait_for(pilot, lambda: "attended transfer on hq" in status.plain)
        await pilot.press("T")
        await wait_for(pilot, lambda: isinstance(app.screen, ConsultModal))
        await pilot.press("escape")  # decide later: nothing sent, the consultation goes on
        await wait_for(pilot, lambda: not isinstance(app.screen, ConsultModal))
        assert len(engine.performed) == 1 and app.console_screen.attended_flow.pending()


async def test_pane_keys_are_scoped() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("4", "h", "P")  # peers: neither hang up nor pause applies
        await pilot.pause()
        assert app.screen is app.console_screen and engine.performed == []
        await command(pilot, app, "sort latency desc")
        t = table(app, "peers")
        assert (t.sort_column, t.sort_reverse) == ("latency", True)
        await command(pilot, app, "theme nord")
        await wait_for(pilot, lambda: app.theme == "nord")


async def test_an_engine_that_cannot_start_is_a_notification() -> None:
    class Broken(Engine):
        async def __aenter__(self) -> Any:
            raise RuntimeError("secret-token-in-a-message")

    config = fleet_config()
    app = PbxApp(config, live_engine=Broken(config), clock=frozen_clock)
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: any("Engine stopped" in n for n in notifications(app)))
        assert not any("secret-token" in n for n in notifications(app))
        await pilot.press("h")  # no engine: says so, does not crash
        await wait_for(pilot, lambda: any("restart pbxtui" in n for n in notifications(app)))


async def test_a_reason_typed_on_the_list_is_the_reason_sent() -> None:
    """A tester typed "Fire drill" in the pause dialog and "Break" was sent."""
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("5", "tab")
        await select_row(pilot, app, "agents", "208 Noa")
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, PauseModal))
        assert app.screen.query_one("#reasons").has_focus  # the list has focus...
        await pilot.press(*"Fire drill")  # ...and the operator types anyway
        await pilot.press("enter")
        await wait_for(pilot, lambda: engine.performed)
        (pause,) = engine.performed
        assert isinstance(pause, PauseAgent) and pause.reason == "Fire drill"


async def test_the_footer_and_keys_follow_the_selected_rows_pbx() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        screen = app.console_screen
        await select_row(pilot, app, "calls", "0501234567")  # hq: transfers offered
        assert screen.check_action("transfer", ()) is True
        await select_row(pilot, app, "calls", "905321234567")  # istanbul: no transfer
        assert screen.check_action("transfer", ()) is None  # dimmed in the footer
        assert "not supported by istanbul's API" in screen.why_not("transfer")
        assert screen.check_action("pause", ()) is False  # not this pane's action
        names = {name: help_text for name, help_text, _ in screen.palette_commands()}
        assert "not supported by istanbul's API" in names["Blind transfer"]
        await pilot.press("P")  # on the Calls pane: says why nothing happens
        await wait_for(pilot, lambda: any("works on queue agents" in n for n in notifications(app)))
        await pilot.press("t")  # dimmed, yet the key still says why (and it is audited)
        await wait_for(
            pilot, lambda: any("not supported by istanbul's API" in n for n in notifications(app))
        )
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpModal))
        assert isinstance(app.screen, HelpModal)
        help_rows = dict(app.screen.bindings_list)
        assert "hq, eu; not istanbul, branch" in help_rows["t"]


async def test_a_command_from_another_pane_lands_in_its_pane() -> None:
    app, _engine = make()
    async with run(app, SIZE) as pilot:
        await wait_for(pilot, lambda: table(app, "calls").row_count == 6)
        await command(pilot, app, "agents paused")  # typed on the Calls pane
        screen = app.console_screen
        await wait_for(pilot, lambda: table(app, "agents").has_focus, what="agents focused")
        assert screen.active_pane.pane_id == "queues"
        await command(pilot, app, "ext")
        await wait_for(pilot, lambda: table(app, "extensions").has_focus, what="extensions")
        assert screen.active_pane.pane_id == "extensions"
