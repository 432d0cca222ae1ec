"""The vendor extras in the console (Pilot, static engine with the real policy): each key on
its pane, confirmations naming the target, ALL typed to confirm every peer, queued keys never
confirming, the CloudPlus caller-id warning, the health detail with the tenant's figures."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, Select, Static

from pbxtui.model import (
    CampaignControl,
    HealthState,
    PbxHealth,
    QueueCallback,
    QueueReset,
    RebootPeer,
    SetFlow,
    UnregisterPeer,
)
from pbxtui.model.figures import TenantFigures
from pbxtui.ui.app import PbxApp
from pbxtui.ui.commands import CommandError, parse_command
from pbxtui.ui.modals.click2call import Click2CallModal
from pbxtui.ui.modals.confirm import ConfirmModal
from pbxtui.ui.modals.health_detail import HealthModal, health_lines
from pbxtui.ui.modals.vendor_extras import CampaignModal, QueueCallbackModal, TypedConfirmModal
from pbxtui.ui.widgets.blf import BlfBoard
from tests.ui.fakes import NOW, StaticEngine, ago, fleet_config, frozen_clock
from tests.ui.helpers import burst, command, fill, notifications, run, table, wait_for

SIZE = (160, 45)


def make(arm_seconds: float = 0, config: Any = None, **kw: Any) -> tuple[PbxApp, StaticEngine]:
    config = config or fleet_config(**kw)
    engine = StaticEngine(config)
    app = PbxApp(config, engine=engine, clock=frozen_clock, arm_seconds=arm_seconds)
    app.animation_level = "none"
    return app, engine


def confirmation_text(app: PbxApp) -> str:
    assert isinstance(app.screen, ConfirmModal)
    return "\n".join(app.screen.confirmation.targets)


async def confirmed(pilot: Any, app: PbxApp) -> None:
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="confirmation")
    await pilot.press("y")


async def on_the_flow_lamp(pilot: Any, app: PbxApp) -> None:
    await pilot.press("3")
    board = app.console_screen.query_one(BlfBoard)
    await wait_for(pilot, lambda: any(lamp.id == "*51" for lamp in board.lamps), what="lamps")
    board.select_key("hq\x1f*51")
    await pilot.pause()


# -- f: a flow lamp of the BLF board -------------------------------------------------------------
async def test_f_toggles_the_selected_flow_lamp_once_confirmed() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await on_the_flow_lamp(pilot, app)
        await pilot.press("f")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert confirmation_text(app) == "hq: flow *51 (Night mode) → state INUSE"
        assert engine.attempts == []
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
    assert engine.performed == [SetFlow(pbx="hq", flow="*51", name="Night mode", state="INUSE")]


async def test_f_on_an_extension_lamp_or_another_pane_says_why() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("f")  # on the Calls pane
        await pilot.pause()
        assert any(
            "f (flow state) works on flow lamps: the BLF board (3)" in n for n in notifications(app)
        )
        await pilot.press("3")
        board = app.console_screen.query_one(BlfBoard)
        await wait_for(pilot, lambda: board.lamps, what="lamps")
        board.select_key("hq\x1f201")
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        assert any("f sets flows, not extensions" in n for n in notifications(app))
    assert engine.attempts == []


async def test_flow_command_sets_a_state() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await command(pilot, app, "flow hq *51 unavailable")
        await confirmed(pilot, app)
        await wait_for(pilot, lambda: engine.performed)
    assert engine.performed == [
        SetFlow(pbx="hq", flow="*51", name="Night mode", state="UNAVAILABLE")
    ]


# -- Z: queue statistics reset -------------------------------------------------------------------
async def test_z_resets_the_selected_queue_naming_it() -> None:
    app, engine = make(names=("hq",))
    async with run(app, SIZE) as pilot:
        await pilot.press("5")
        await wait_for(pilot, lambda: table(app, "queues").row_count == 2, what="queues")
        await pilot.press("Z")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert confirmation_text(app) == "hq: queue 630 (Sales): answered 18, abandoned 2"
        assert "cannot be undone" in app.screen.confirmation.note  # type: ignore[attr-defined]
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
    (request,) = engine.performed
    assert isinstance(request, QueueReset) and request.queue.id == "630"


async def test_z_on_a_protected_pbx_needs_its_name_typed() -> None:
    app, engine = make(names=("hq",), protected=("hq",))
    async with run(app, SIZE) as pilot:
        await pilot.press("5")
        await wait_for(pilot, lambda: table(app, "queues").row_count == 2, what="queues")
        await pilot.press("Z")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("y")
        await pilot.pause()
        assert engine.attempts == []  # y alone does not do it
        await fill(pilot, app, "#typed", "hq")
        await pilot.press("enter")
        await wait_for(pilot, lambda: engine.performed)
    assert engine.performed[0].confirmed_pbx == "hq"


# -- B / X: peers, one or every one --------------------------------------------------------------
async def test_b_reboots_the_selected_peer_and_a_queued_y_never_confirms() -> None:
    app, engine = make(names=("hq",))
    async with run(app, SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: table(app, "peers").row_count == 2, what="peers")
        await burst(pilot, app, "B", "y", "enter")  # typed before the dialog was there
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.pause()
        assert engine.attempts == []
        assert confirmation_text(app).startswith("hq: peer ")
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
    (request,) = engine.performed
    assert isinstance(request, RebootPeer) and request.peer is not None


async def test_every_peer_needs_all_typed() -> None:
    app, engine = make(names=("hq",))
    async with run(app, SIZE) as pilot:
        await command(pilot, app, "unregister hq all")
        await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmModal))
        await fill(pilot, app, "#typed", "all")
        await pilot.press("enter")
        await pilot.pause()
        assert "type exactly: ALL or hq" in str(app.screen.query_one("#error", Static).render())
        assert engine.attempts == []
        await fill(pilot, app, "#typed", "ALL")
        await pilot.press("enter")
        await wait_for(pilot, lambda: engine.performed)
    assert engine.performed == [UnregisterPeer(pbx="hq", typed="ALL")]


async def test_all_typed_in_a_burst_before_the_dialog_armed_confirms_nothing() -> None:
    app, engine = make(arm_seconds=3600, names=("hq",))
    async with run(app, SIZE) as pilot:
        await command(pilot, app, "reboot hq all")
        await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmModal))
        await burst(pilot, app, "A", "L", "L", "enter")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one("#typed", Input).value == "ALL"  # typing works at once
        assert isinstance(app.screen, TypedConfirmModal) and engine.attempts == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.console_screen)
    assert engine.attempts == []


async def test_a_protected_pbx_takes_only_its_name_for_every_peer() -> None:
    app, engine = make(names=("hq",), protected=("hq",))
    async with run(app, SIZE) as pilot:
        await command(pilot, app, "reboot hq all")
        await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmModal))
        await fill(pilot, app, "#typed", "ALL")
        await pilot.press("enter")
        await pilot.pause()
        assert engine.attempts == []
        await fill(pilot, app, "#typed", "hq")
        await pilot.press("enter")
        await wait_for(pilot, lambda: engine.performed)
    assert engine.performed == [RebootPeer(pbx="hq", typed="hq", confirmed_pbx="hq")]


async def test_x_where_the_api_has_none_is_refused_by_the_engine_not_sent() -> None:
    app, engine = make(names=("istanbul",))
    async with run(app, SIZE) as pilot:
        await pilot.press("4")
        await wait_for(pilot, lambda: table(app, "peers").row_count > 0, what="peers")
        await pilot.press("X")
        await pilot.pause()
        await wait_for(pilot, lambda: engine.attempts, what="the refusal")
    (request,) = engine.attempts
    assert isinstance(request, UnregisterPeer) and engine.performed == []  # refused, audited


# -- C: campaigns; k: queue callback --------------------------------------------------------------
async def test_c_controls_a_campaign_by_its_id() -> None:
    app, engine = make()
    async with run(app, SIZE) as pilot:
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, CampaignModal))
        app.screen.query_one("#verb", Select).value = "pause"
        await fill(pilot, app, "#campaign", "12")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        assert confirmation_text(app) == "pause campaign 12"
        await pilot.press("y")
        await wait_for(pilot, lambda: engine.performed)
    assert engine.performed == [CampaignControl(pbx="hq", campaign="12", verb="pause")]


async def test_c_where_no_pbx_shown_has_campaigns_says_so() -> None:
    app, engine = make(names=("istanbul", "branch"))
    async with run(app, SIZE) as pilot:
        await pilot.press("C")
        await pilot.pause()
        text = "\n".join(notifications(app))
        assert "campaign control is not supported by istanbul's API" in text
        assert not isinstance(app.screen, CampaignModal)
    assert engine.performed == []


async def test_k_puts_a_number_on_a_queue_callback_list() -> None:
    app, engine = make(names=("branch",))
    async with run(app, SIZE) as pilot:
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, QueueCallbackModal))
        await fill(pilot, app, "#number", "0501234567")
        await fill(pilot, app, "#queue", "300")
        await pilot.press("enter")
        await confirmed(pilot, app)
        await wait_for(pilot, lambda: engine.performed)
    assert engine.performed == [QueueCallback(pbx="branch", number="0501234567", queue="300")]


# -- the CloudPlus caller id -------------------------------------------------------------------
@pytest.mark.parametrize("brand", ["globalex", "cloudplus"])
async def test_click2call_warns_that_a_caller_id_is_not_recorded_on_cloudplus(brand: str) -> None:
    base = fleet_config(names=("branch",))
    branded = base.pbx[0].model_copy(update={"brand": brand})
    app, _ = make(config=base.model_copy(update={"pbx": (branded,)}))
    warned = brand == "cloudplus"
    async with run(app, SIZE) as pilot:
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, Click2CallModal))
        note = app.screen.query_one("#caller-id-note", Static)
        assert not note.display  # nothing typed yet
        await fill(pilot, app, "#caller_id", "021234567")
        assert note.display is warned
        await fill(pilot, app, "#source", "101")
        await fill(pilot, app, "#destination", "0501234567")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
        said = "does not record a call with a caller id"
        assert (said in str(note.render())) is warned
        assert (said in app.screen.confirmation.note) is warned  # type: ignore[attr-defined]


# -- the health detail ---------------------------------------------------------------------------
def test_health_lines_show_the_figures_as_last_read() -> None:
    figures = TenantFigures(
        pbx="hq",
        peers={"pbx21": 13, "pbx22": 12},
        peers_total=25,
        channels={"pbx21": 4},
        channels_total=4,
        balance="42.10",
        read_at=ago(90),
    )
    health = PbxHealth(
        pbx="hq", kind="pbxcloud", state=HealthState.OK, latency_ms=23, figures=figures
    )
    lines = health_lines(health, NOW)
    assert lines[2:] == [
        "tenant figures (read 90 s ago):",
        "  peers 25 (pbx21 13, pbx22 12)",
        "  channels 4 (pbx21 4)",
        "  balance 42.10",
    ]
    bare = health_lines(PbxHealth(pbx="istanbul", kind="iexpbx"), NOW)
    assert "the other vendors' APIs have none" in bare[-1]


async def test_health_command_opens_the_detail() -> None:
    app, _ = make()
    async with run(app, SIZE) as pilot:
        await command(pilot, app, "health hq")
        await wait_for(pilot, lambda: isinstance(app.screen, HealthModal))
        text = str(app.screen.query_one("#health-lines", Static).render())
        assert "state: ok" in text and "tenant figures" in text


def test_the_extras_commands_parse() -> None:
    names = ["hq", "branch"]
    command_ = parse_command("reboot hq all", names)
    assert (command_.kind, command_.arg, command_.pbxs, command_.needle) == (
        "extra",
        "reboot",
        ("hq",),
        "all",
    )
    for bad, said in (("reboot all", "name the PBX first"), ("flow hq", "needs a flow number")):
        try:
            parse_command(bad, names)
        except CommandError as exc:
            assert said in str(exc)
        else:
            raise AssertionError(f"{bad!r} parsed")
