"""The key bar at the bottom says the keys the console answers where the operator is, and a
click on one is that key (pbxtui.ui.widgets.key_bar)."""

from __future__ import annotations

from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.help import HelpModal
from pbxtui.ui.widgets.key_bar import KeyBar
from tests.ui.fakes import StaticEngine, fleet_config, frozen_clock
from tests.ui.helpers import run, wait_for


def shown(app: PbxApp) -> list[str]:
    bar = app.screen_stack[0].query_one(KeyBar)
    return [description for _, _, description, _ in bar.rows]


async def test_the_keys_shown_follow_the_pane_and_a_click_presses_one() -> None:
    config = fleet_config()
    app = PbxApp(config, engine=StaticEngine(config), clock=frozen_clock)
    async with run(app, (160, 45)) as pilot:
        await wait_for(pilot, lambda: "Hangup" in shown(app), what="the calls' keys")
        assert shown(app)[0] == "Help"
        await pilot.press("4")  # peers: nothing there to hang up
        await wait_for(pilot, lambda: "Hangup" not in shown(app), what="the peers' keys")
        bar = app.screen_stack[0].query_one(KeyBar)
        assert "palette" in bar.render().plain
        await pilot.click(KeyBar, offset=(0, 0))  # "? Help"
        await wait_for(pilot, lambda: isinstance(app.screen, HelpModal), what="help opened")
