"""The health strip: a PBX's state, error and flags as soon as they change; its latency and
data age, which move on with every poll, once a second (the console's tick)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textual.app import App, ComposeResult

from pbxtui.model import HealthState, PbxState
from pbxtui.ui.palette import Palette
from pbxtui.ui.widgets.health import HealthStrip
from tests.ui.fakes import NOW, pbx_state


class StripApp(App[None]):
    def compose(self) -> ComposeResult:
        yield HealthStrip()


def with_health(pbx: PbxState, **changes: object) -> PbxState:
    return replace(pbx, health=pbx.health.model_copy(update=changes))


async def test_a_repaint_shows_a_change_of_state_at_once_and_the_moving_figures_at_the_tick() -> (
    None
):
    hq = with_health(pbx_state("hq", "pbxcloud", {}), latency_ms=23, last_ok=NOW)
    eu = with_health(pbx_state("eu", "pbxcloud", {}), latency_ms=40, last_ok=NOW)
    palette = Palette()
    app = StripApp()
    async with app.run_test(size=(120, 5)) as pilot:
        strip = app.query_one(HealthStrip)
        strip.show({"hq": hq, "eu": eu}, NOW, palette)
        await pilot.pause()
        assert "hq pbxcloud ok 23 ms 0s" in strip.plain()
        # A poll answered a little slower, between two ticks: the strip waits for the tick.
        later = NOW + timedelta(seconds=0.4)
        hq = with_health(hq, latency_ms=31, last_ok=later)
        strip.show({"hq": hq, "eu": eu}, later, palette, moving=False)
        await pilot.pause()
        assert "hq pbxcloud ok 23 ms" in strip.plain()
        # eu goes down: said at once, with hq's newer figures beside it.
        eu = with_health(eu, state=HealthState.DOWN, last_error="HTTP 500 (polling calls)")
        strip.show({"hq": hq, "eu": eu}, later, palette, moving=False)
        await pilot.pause()
        assert "eu pbxcloud DOWN HTTP 500 (polling calls)" in strip.plain()
        assert "hq pbxcloud ok 31 ms" in strip.plain()
        # The tick shows the figures however little else changed.
        tick = NOW + timedelta(seconds=1)
        hq = with_health(hq, latency_ms=19, last_ok=tick)
        strip.show({"hq": hq, "eu": eu}, tick, palette)
        await pilot.pause()
        assert "hq pbxcloud ok 19 ms 0s" in strip.plain()
        # What is painted is what the strip says (the lines drawn through the Line API).
        assert strip.render_line(0).text.startswith("● hq pbxcloud ok 19 ms 0s   ● eu")
