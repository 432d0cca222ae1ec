"""No canary secret, raw or encoded, in anything a headless command prints or writes.

Each simulator's credential is a canary full of the characters encoders change, and each
echoes the request URL (the credential percent-encoded as httpx sent it) into its texts:
acknowledgements while healthy, refusals once the credentials are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from pbxtui.cli import main
from pbxtui.sim import SimulatedPbx
from pbxtui.sim.scenario import ScenarioSpec
from tests.canaries import canary_sim, leaks
from tests.cli.conftest import ThreadedFleet


@pytest.fixture
def fleet_sims() -> Callable[[], list[SimulatedPbx]]:
    def build() -> list[SimulatedPbx]:
        spec = ScenarioSpec(seed=5, live=False, warmup_seconds=0)
        return [
            canary_sim("pbxcloud", "hq", spec=spec),
            canary_sim("iexpbx", "ist", spec=spec),
            canary_sim(
                "dialup",
                "branch",
                spec=ScenarioSpec(seed=5, live=False, warmup_seconds=0, queues=(), flows=()),
                first_leg_delay=0.0,
            ),
        ]

    return build


class Outputs:
    """Every command run, with what it printed."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.seen: dict[str, str] = {}

    def run(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            main, ["--config", str(self.config), *args], catch_exceptions=False
        )
        self.seen[f"`{' '.join(args)}` stdout"] = result.stdout
        self.seen[f"`{' '.join(args)}` stderr"] = result.stderr
        return result.exit_code, result.stdout + result.stderr


def a_call(out: Outputs, pbx: str) -> str:
    _, text = out.run("snapshot", "--json", "--pbx", pbx)
    document = json.loads(text[: text.rindex("}") + 1])
    return str(document["pbx"][0]["calls"][0]["id"])


def test_no_canary_in_what_commands_print_or_write(fleet: ThreadedFleet, tmp_path: Path) -> None:
    out = Outputs(fleet.config_path)
    assert out.run("check")[0] == 0
    assert out.run("snapshot")[0] == 0
    for pbx in ("hq", "ist", "branch"):
        code, text = out.run("hangup", pbx, a_call(out, pbx), "--yes")
        assert code == 0, text
    code, text = out.run("call", "hq", "201", "0501234567", "--yes")
    assert code == 0 and "(GET /pbx/proxyapi.php?" in text  # the vendor echoed the URL
    assert out.run("directory", "ist", "--json")[0] == 0

    for sim in fleet.sims.values():
        fleet.call(lambda sim=sim: sim.faults.update({"auth_refused": True}))  # type: ignore[misc]
    code, text = out.run("check")
    assert code == 1 and "(GET /api/old/get?" in text and "(GET /pbx/proxyapi.php?" in text
    assert out.run("snapshot", "--json")[0] == 1
    assert out.run("snapshot")[0] == 1
    code, text = out.run("callback", "ist", "0501234567", "0502345678", "--yes")
    assert code == 1 and "(GET /api/old/get?" in text
    assert out.run("directory", "ist")[0] == 1

    audit = (tmp_path / "audit.jsonl").read_text()
    assert '"result": "intent"' in audit and "(GET /api/old/get?" in audit
    assert not leaks({**out.seen, "audit log": audit})
