"""The console against real simulators over loopback: calls, health, hang up."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from pbxtui import paths
from pbxtui.config import Config, parse_config
from pbxtui.launch import console_app
from pbxtui.model import Call, Consultation, HealthState
from pbxtui.sim import SimulatedPbx, available_kinds, build_simulator
from pbxtui.sim.faults import Faults
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.sim.server import serve
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.confirm import ConfirmModal
from pbxtui.ui.modals.consult import ConsultModal
from pbxtui.ui.modals.destination import DestinationModal
from pbxtui.ui.modals.pause import PauseModal
from pbxtui.ui.widgets.text import TextLines
from tests.conftest import served, toml_config
from tests.ui.helpers import health_text, notices, rows, run, table, wait_for

SIZE = (160, 45)


def still(seed: int = 7, **kw: object) -> ScenarioSpec:
    """A scenario where nothing happens by itself: only the stuck call is up."""
    return ScenarioSpec(seed=seed, live=False, warmup_seconds=0, **kw)  # type: ignore[arg-type]


async def test_live_calls_and_health() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=ScenarioSpec(seed=3, calls_per_minute=8))
    async with served(sim, poll_interval=0.3) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await wait_for(pilot, lambda: table(app, "calls").row_count > 2, what="calls")
            await wait_for(pilot, lambda: "hq pbxcloud ok" in health_text(app), what="health ok")
            shown = rows(app, "calls")
            assert {r[1] for r in shown} == {"hq"}
            callers = {c.caller for c in sim.scenario.calls.values()}
            assert {r[3] for r in shown} & callers
            # durations tick from observed_at without any new poll being needed
            assert any(r[6].strip().count(":") == 2 for r in shown)  # the stuck call, > 2 h


async def test_hangup_confirm_and_cancel() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still())
    async with served(sim, poll_interval=0.3) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await wait_for(pilot, lambda: table(app, "calls").row_count == 1, what="one call")
            (stuck,) = sim.scenario.calls.values()
            # cancel leaves it
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
            text = " ".join(app.screen.confirmation.targets)
            assert "hq" in text and stuck.caller in text and "2:0" in text
            await pilot.press("n")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmModal))
            assert len(sim.scenario.calls) == 1
            # confirm hangs up, and the row goes at the next poll
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await wait_for(pilot, lambda: not sim.scenario.calls, what="call gone from the PBX")
            await wait_for(pilot, lambda: table(app, "calls").row_count == 0, what="row gone")
            # The outcome comes back from the engine's thread on its own: the next poll's
            # update may reach the screen first.
            await wait_for(
                pilot,
                lambda: any("hang up" in n.title for n in notices(app)),
                what="the hang-up's result",
            )


async def test_one_pbx_down_the_other_keeps_updating() -> None:
    good = build_simulator("pbxcloud", "hq", spec=ScenarioSpec(seed=4))
    bad = build_simulator("pbxcloud", "eu", spec=ScenarioSpec(seed=5), faults=Faults(hang=True))
    async with serve({"hq": good.app, "eu": bad.app}) as ports:
        # Only the hanging PBX gets the short timeout: a busy test machine must not make
        # the healthy one time out too.
        entries = [
            good.config_entry(ports["hq"], poll_interval=0.3, timeout=5.0),
            bad.config_entry(ports["eu"], poll_interval=0.3, timeout=0.5),
        ]
        config = parse_config(toml_config(entries), source="<test>")
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await wait_for(
                pilot,
                lambda: "eu pbxcloud DOWN" in health_text(app),
                what="eu down",
            )
            strip = health_text(app)
            assert "hq pbxcloud ok" in strip
            assert "timeout" in strip or "no answer" in strip
            states = app.console_screen.states
            assert states["eu"].health.state is HealthState.DOWN
            assert states["hq"].health.state is HealthState.OK
            first = states["hq"].health.last_ok
            assert first is not None

            def hq_moved_on() -> bool:
                last_ok = app.console_screen.states["hq"].health.last_ok
                return last_ok is not None and last_ok > first

            await wait_for(pilot, hq_moved_on, what="hq keeps polling")
            said = app.console_screen.panes["calls"].notice_text()
            assert "eu: live calls failing" in said


async def test_merged_console_of_every_vendor() -> None:
    kinds = available_kinds()
    specs = {
        "pbxcloud": ScenarioSpec(seed=11, calls_per_minute=8),
        "iexpbx": ScenarioSpec(seed=22, first_extension=100, calls_per_minute=8),
        "dialup": ScenarioSpec(
            seed=33, extensions=6, first_extension=101, queues=(), flows=(), calls_per_minute=8
        ),
    }
    sims = [build_simulator(kind, f"pbx-{kind}", spec=specs[kind]) for kind in kinds]
    async with served(*sims, poll_interval=0.3) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await wait_for(
                pilot,
                lambda: all(f"pbx-{k} {k} ok" in health_text(app) for k in kinds),
                timeout=15,
                what="every PBX ok",
            )
            await wait_for(
                pilot,
                lambda: {r[1] for r in rows(app, "calls")} >= {f"pbx-{k}" for k in kinds},
                timeout=15,
                what="calls from every PBX",
            )
            if "dialup" in kinds:
                await pilot.press("5")
                await pilot.pause()
                said = app.console_screen.panes["queues"].notice_text()
                assert "pbx-dialup: this API has no queues" in said


def pending(app: PbxApp) -> list[Consultation]:
    return app.console_screen.attended_flow.pending()


async def _start_consult(pilot: Pilot[None], app: PbxApp, sim: SimulatedPbx) -> Call:
    await wait_for(pilot, lambda: table(app, "calls").row_count == 1, what="the stuck call")
    (call,) = app.console_screen.states["hq"].calls()
    await pilot.press("T")
    await wait_for(pilot, lambda: isinstance(app.screen, DestinationModal))
    app.screen.query_one("#destination", Input).value = "205"
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal), what="confirmation")
    await pilot.press("y")
    await wait_for(pilot, lambda: pending(app), what="consultation started")
    await wait_for(pilot, lambda: table(app, "calls").row_count == 2, what="consult call shown")
    await pilot.press("T")
    await wait_for(pilot, lambda: isinstance(app.screen, ConsultModal))
    return call


async def test_attended_transfer_complete() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(seed=9))
    async with served(sim, poll_interval=0.3) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            call = await _start_consult(pilot, app, sim)
            await pilot.press("c")
            await wait_for(pilot, lambda: not pending(app), what="completed")
            (joined,) = sim.scenario.calls.values()
            assert joined.caller == call.caller and joined.callee == "205"


async def test_attended_transfer_cancel() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(seed=9))
    async with served(sim, poll_interval=0.3) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            call = await _start_consult(pilot, app, sim)
            await pilot.press("x")
            await wait_for(pilot, lambda: not pending(app), what="cancelled")
            (back,) = sim.scenario.calls.values()
            assert back.caller == call.caller and back.callee == call.extension
            assert back.phase.value == "up"


async def test_pause_and_unpause_an_agent_on_the_simulator() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(seed=2))
    async with served(sim, poll_interval=0.3) as config:
        app = console_app(config, arm_seconds=0)
        async with run(app, SIZE) as pilot:
            await pilot.press("5")
            await wait_for(pilot, lambda: table(app, "agents").row_count > 0, what="agents")
            agents = app.console_screen.panes["queues"].sections[1]
            agents.table.focus()
            agents.table.move_cursor(row=0)
            await pilot.pause()
            target = app.console_screen.panes["queues"].current()
            assert target is not None
            await pilot.press("P")
            await wait_for(pilot, lambda: isinstance(app.screen, PauseModal))
            await pilot.press("enter")  # the first configured reason: Break
            sim_agent = next(
                a for a in sim.scenario.agents if a.extension == getattr(target, "extension", "")
            )
            await wait_for(pilot, lambda: sim_agent.paused, what="paused on the PBX")
            assert sim_agent.pause_reason == "Break"
            await wait_for(pilot, lambda: "paused" in table(app, "agents").row_plain(target.key)[4])
            await pilot.press("U")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await wait_for(pilot, lambda: not sim_agent.paused, what="unpaused on the PBX")


async def test_a_console_started_later_offers_to_finish_a_pending_transfer() -> None:
    """The caller must never be left on hold because the console that started the consult
    was closed: the next console shows it, and T completes it."""
    sim = build_simulator("pbxcloud", "hq", spec=still(seed=9))
    async with served(sim, poll_interval=0.3) as config:
        first = console_app(config, arm_seconds=0)
        async with run(first, SIZE) as pilot:
            call = await _start_consult(pilot, first, sim)
            await pilot.press("escape")  # "later" — and then the operator quits
        book = paths.consultations_path()
        assert book.exists()
        await _reopen_and_see(config, call, finish=False)  # remembered in the book
        book.unlink()
        await _reopen_and_see(config, call, finish=True)  # seen on the PBX alone
        (joined,) = sim.scenario.calls.values()
        assert joined.caller == call.caller and joined.callee == "205"


async def _reopen_and_see(config: Config, call: Call, *, finish: bool) -> None:
    later = console_app(config, arm_seconds=0)
    async with run(later, SIZE) as pilot:
        status = later.console_screen.query_one("#status", TextLines)
        await wait_for(
            pilot, lambda: "attended transfer on hq" in status.plain, what="pending shown"
        )
        (pending_one,) = pending(later)
        assert pending_one.held.channel == call.channel
        if finish:
            await pilot.press("T")
            await wait_for(pilot, lambda: isinstance(later.screen, ConsultModal))
            await pilot.press("c")
            await wait_for(pilot, lambda: not pending(later), what="completed")
