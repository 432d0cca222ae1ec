"""`pbxtui --demo` keeps its audit log and state apart from the real ones."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner

from pbxtui import cli, paths
from pbxtui.config import Config, load_config
from pbxtui.engine import AuditLog, Engine
from pbxtui.model import Click2Call, PlaceCall
from tests.cli.conftest import ThreadedFleet


def test_a_demo_engine_audits_in_the_demo_directory_only(
    fleet: ThreadedFleet, state_home: Path, tmp_path: Path
) -> None:
    real = [tmp_path / "audit.jsonl", state_home / "audit.jsonl"]  # $PBXTUI_AUDIT_LOG, XDG
    config = load_config(fleet.config_path)
    idle = fleet.call(fleet.sims["hq"].scenario.idle_extensions)[0]
    request = PlaceCall(pbx="hq", dial=Click2Call(source=idle, destination="0501234567"))

    async def place_call() -> None:
        # Built as the console builds its own engine (pbxtui/ui/app.py).
        async with Engine(config, audit=AuditLog(paths.audit_log_path())) as engine:
            assert (await engine.perform(request)).ok

    with paths.use_demo_state() as demo:
        assert demo == state_home / "demo"
        anyio.run(place_call)
        assert paths.consultations_path() == demo / "consultations.json"
        assert paths.app_log_path() == demo / "pbxtui.log"
    entries = [json.loads(line) for line in (demo / "audit.jsonl").read_text().splitlines()]
    assert [(e["pbx"], e["action"], e["result"]) for e in entries] == [
        ("hq", "click2call", "intent"),
        ("hq", "click2call", "ok"),
    ]
    assert not any(path.exists() for path in real)
    assert paths.audit_log_path() == tmp_path / "audit.jsonl"  # back to the real one after


def test_pbxtui_demo_runs_the_console_on_demo_state(
    state_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBXTUI_AUDIT_LOG", str(tmp_path / "real-audit.jsonl"))
    demo = state_home / "demo"
    demo.mkdir(parents=True)
    (demo / "consultations.json").write_text('{"stale": "from an earlier demo"}')
    seen: dict[str, object] = {}

    async def console(config: Config, options: cli.Options, **wiring: object) -> None:
        seen["pbx"] = [p.name for p in config.pbx]
        seen["audit"] = paths.audit_log_path()
        seen["consultations"] = paths.consultations_path()
        handlers = logging.getLogger("pbxtui").handlers
        seen["log"] = [Path(h.baseFilename) for h in handlers if isinstance(h, logging.FileHandler)]

    monkeypatch.setattr(cli, "_console", console)
    result = CliRunner().invoke(cli.main, ["--demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen["pbx"] == ["hq", "istanbul", "branch", "eu", "bucharest"]
    assert seen["audit"] == demo / "audit.jsonl"
    assert seen["consultations"] == demo / "consultations.json"
    assert seen["log"] == [demo / "pbxtui.log"]
    assert not (demo / "consultations.json").exists()  # the simulators start afresh
    assert "demo" in result.stderr and str(demo / "audit.jsonl") in result.stderr
