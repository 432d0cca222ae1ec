"""A canary secret per vendor never reaches the screen, the app log or the audit log.

Each simulator takes a canary credential; one PBX answers garbage and one refuses the
credentials, so errors (whose raw form would carry the URL with its query string) are on
screen while an action is taken and audited.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pbxtui import cli
from pbxtui.engine import AuditLog, Engine
from pbxtui.model import HealthState
from pbxtui.sim import build_simulator
from pbxtui.sim.faults import Faults
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.confirm import ConfirmModal
from tests.conftest import served
from tests.ui.helpers import table, wait_for

CANARIES = {
    "hq": "CANARY-pbxcloud-key-7f3a",
    "ist": "CANARY-iexpbx-pass-19c2",
    "branch": "CANARY-dialup-pass-55d0",
}


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    logger = logging.getLogger("pbxtui")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield tmp_path  # type: ignore[misc]
    for handler in logger.handlers:
        handler.close()
    logger.handlers[:], logger.level, logger.propagate = saved


async def test_canaries_never_shown_logged_or_audited(state_dir: Path) -> None:
    spec = ScenarioSpec(seed=9, live=False, warmup_seconds=0)
    sims = [
        build_simulator("pbxcloud", "hq", spec=spec, key=CANARIES["hq"]),
        build_simulator(
            "iexpbx", "ist", spec=spec, password=CANARIES["ist"], faults=Faults(garbage=True)
        ),
        build_simulator(
            "dialup",
            "branch",
            spec=ScenarioSpec(seed=9, live=False, warmup_seconds=0, queues=(), flows=()),
            password=CANARIES["branch"],
            faults=Faults(auth_refused=True),
        ),
    ]
    for sim in sims:
        secret = sim.credentials.get("key") or sim.credentials.get("password")
        secret = secret or sim.credentials.get("pass")
        assert secret == CANARIES[sim.name], "the canary is the credential in use"

    cli._setup_logging(to_file=True)  # the console's own logging set-up
    audit_path = state_dir / "audit.jsonl"
    async with served(*sims, poll_interval=0.3, timeout=1.0) as config:
        engine = Engine(config, audit=AuditLog(audit_path))
        app = PbxApp(config, engine=engine, arm_seconds=0)
        async with engine, app.run_test(size=(160, 45)) as pilot:
            app.run_worker(engine.run(), exit_on_error=False)
            await wait_for(pilot, lambda: table(app, "calls").row_count >= 1, what="calls")
            states = engine.state
            await wait_for(
                pilot,
                lambda: (
                    states()["ist"].health.state is not HealthState.STARTING
                    and states()["branch"].health.state is not HealthState.STARTING
                ),
                what="both broken PBXs judged",
            )
            await pilot.press("h")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
            await pilot.press("y")
            await wait_for(pilot, lambda: audit_path.exists(), what="audit written")
            await pilot.pause(0.5)
            screens = [app.export_screenshot()]
            for key in "23456":
                await pilot.press(key)
                await pilot.pause(0.2)
                screens.append(app.export_screenshot())
            health = {name: s.health for name, s in states().items()}

    assert health["ist"].last_error and health["branch"].last_error
    log_text = (state_dir / "pbxtui" / "pbxtui.log").read_text()
    audit_text = audit_path.read_text()
    assert '"action": "hangup"' in audit_text
    for canary in CANARIES.values():
        for where, text in [("log", log_text), ("audit", audit_text)] + [
            (f"screen {i}", svg) for i, svg in enumerate(screens)
        ]:
            assert canary not in text, f"{canary} leaked into the {where}"
