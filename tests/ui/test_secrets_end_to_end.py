"""No canary secret, raw or encoded, reaches any screen, modal, notification, the app log or
the audit log of the console.

Each simulator's credential is a canary full of the characters encoders change, and every
simulator echoes the request URL (with that credential, percent-encoded as httpx sent it) into
its texts: its acknowledgements while it is healthy, its refusals once its credentials are
refused. The console acts on each vendor, opens every pane and modal, then watches all three
refuse it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.screen import Screen

from pbxtui import cli
from pbxtui.engine import AuditLog, Engine
from pbxtui.model import HealthState
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.click2call import Click2CallModal
from pbxtui.ui.modals.confirm import ConfirmModal
from pbxtui.ui.modals.destination import DestinationModal
from pbxtui.ui.modals.details import DetailModal
from pbxtui.ui.modals.extras import CallbackModal, DirectoryModal, IvrModal
from pbxtui.ui.modals.help import HelpModal
from pbxtui.ui.modals.pause import PauseModal
from pbxtui.ui.modals.picker import PbxPicker
from tests.canaries import canary_sim, leaks
from tests.conftest import served
from tests.ui.helpers import command, notifications, run, table, wait_for


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    logger = logging.getLogger("pbxtui")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield tmp_path
    for handler in logger.handlers:
        handler.close()
    logger.handlers[:], logger.level, logger.propagate = saved


def screen_text(app: PbxApp) -> str:
    """The screen as plain text (an SVG splits and escapes what it draws)."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True)
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text()


class Screens:
    """Every screen seen, as SVG (``export_screenshot``) and as plain text."""

    def __init__(self, app: PbxApp, pilot: Pilot[None]) -> None:
        self.app, self.pilot = app, pilot
        self.seen: dict[str, str] = {}

    async def take(self, what: str) -> None:
        await self.pilot.pause()
        self.seen[f"{what} (svg)"] = self.app.export_screenshot()
        self.seen[f"{what} (text)"] = screen_text(self.app)

    async def modal(self, key: str, kind: type[Screen[object]], what: str) -> None:
        """Open a modal with ``key``, take it, close it."""
        await self.pilot.press(key)
        await wait_for(self.pilot, lambda: isinstance(self.app.screen, kind), what=what)
        await self.take(what)
        await self.pilot.press("escape")
        await wait_for(self.pilot, lambda: not isinstance(self.app.screen, kind), what=what)


async def test_no_canary_in_any_screen_modal_notification_or_log(state_dir: Path) -> None:
    spec = ScenarioSpec(seed=9, live=False, warmup_seconds=0)
    sims = [
        canary_sim("pbxcloud", "hq", spec=spec),
        canary_sim("iexpbx", "ist", spec=spec),
        canary_sim(
            "dialup",
            "branch",
            spec=ScenarioSpec(seed=9, live=False, warmup_seconds=0, queues=(), flows=()),
        ),
    ]
    cli._setup_logging(to_file=True)  # the console's own logging set-up
    audit_path = state_dir / "audit.jsonl"
    async with served(*sims, poll_interval=0.3, timeout=1.0) as config:
        engine = Engine(config, audit=AuditLog(audit_path))
        app = PbxApp(config, engine=engine, arm_seconds=0)
        async with engine, run(app, size=(160, 45)) as pilot:
            app.run_worker(engine.run(), exit_on_error=False)
            screens = Screens(app, pilot)
            calls = table(app, "calls")
            await wait_for(pilot, lambda: calls.row_count >= 3, what="calls")

            await command(pilot, app, "pbx hq")
            await wait_for(pilot, lambda: calls.row_count >= 1, what="a call on hq")
            await screens.modal("t", DestinationModal, "transfer destination on hq")
            await screens.modal("c", Click2CallModal, "click2call on hq")
            await pilot.press("5")
            await pilot.press("tab")
            await screens.modal("P", PauseModal, "pause reason on hq")
            await pilot.press("1")
            await command(pilot, app, "pbx ist")
            await wait_for(pilot, lambda: calls.row_count >= 1, what="a call on ist")
            await screens.modal("b", CallbackModal, "callback on ist")
            await screens.modal("i", IvrModal, "IVR call on ist")
            await screens.modal("D", DirectoryModal, "directory of ist")
            await command(pilot, app, "pbx all")
            await screens.modal("question_mark", HelpModal, "help")
            await screens.modal("p", PbxPicker, "PBX picker")

            for name in ("hq", "ist", "branch"):  # an action on each vendor, echoed back
                await command(pilot, app, f"pbx {name}")
                await wait_for(pilot, lambda: calls.row_count >= 1, what=f"a call on {name}")
                await screens.modal("enter", DetailModal, f"details of a call on {name}")
                await pilot.press("h")
                await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
                await screens.take(f"hang-up confirmation on {name}")
                await pilot.press("y")
                await wait_for(
                    pilot,
                    lambda n=name: any(  # type: ignore[misc]
                        e["pbx"] == n and e["result"] not in ("intent",)
                        for e in AuditLog(audit_path).read_entries()
                    ),
                    what=f"the hang-up on {name} audited",
                )
                await screens.take(f"after the hang-up on {name}")

            for sim in sims:  # now every vendor refuses the credentials, echoing them
                sim.faults.auth_refused = True
            await wait_for(
                pilot,
                lambda: all(s.health.state is HealthState.DOWN for s in engine.state().values()),
                what="every PBX down",
            )
            for key in "123456":
                await pilot.press(key)
                await screens.take(f"pane {key}, every PBX refusing")
            errors = {f"{n} health": s.health.last_error for n, s in engine.state().items()}
            shown = "\n".join(notifications(app))

    app_log = (state_dir / "pbxtui" / "pbxtui.log").read_text()
    audit_text = audit_path.read_text()
    # The leaks were there to be had: vendors echoed URLs into what the console showed.
    assert "(GET /pbx/proxyapi.php?" in errors["hq health"]
    assert "(GET /api/old/get?" in errors["ist health"]
    assert "(GET /pbx/proxyapi.php?" in audit_text and "(GET /api/old/get?" in audit_text
    assert '"action": "hangup"' in audit_text and '"action": "phonebook"' in audit_text
    outputs = {"app log": app_log, "audit log": audit_text, "notifications": shown}
    assert not leaks({**outputs, **errors, **screens.seen})
