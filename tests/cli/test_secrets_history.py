"""No canary in what the history commands print, for every secret the dialup family's history
needs: the API password, the ``org_token`` of cdr.php, and the CloudPlus panel's own user and
password (a session login, as a real CloudPlus client makes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.scenario import ScenarioSpec
from tests.canaries import canary, canary_sim, leaks
from tests.cli.conftest import ThreadedFleet
from tests.cli.test_secrets_cli import Outputs


@pytest.fixture
def fleet_sims() -> Callable[[], list[SimulatedPbx]]:
    def build() -> list[SimulatedPbx]:
        spec = ScenarioSpec(seed=5, queues=(), flows=())
        cloudplus = canary_sim(
            "dialup",
            "cp",
            spec=spec,
            brand="cloudplus",
            panel_user=canary("cp-user"),
            panel_pass=canary("cp-panel"),
        )
        # Without an org_token in its config, CloudPlus history is read from the panel.
        del cloudplus.credentials["org_token"]
        return [canary_sim("dialup", "gx", spec=spec, org_token=canary("gx-org")), cloudplus]

    return build


def test_no_history_secret_in_any_output(fleet: ThreadedFleet, tmp_path: Path) -> None:
    credentials = {name: sim.credentials for name, sim in fleet.sims.items()}
    assert credentials["cp"]["panel_pass"] == canary("cp-panel"), "the canaries are in use"
    assert "org_token" not in credentials["cp"]
    out = Outputs(fleet.config_path)
    for pbx in ("gx", "cp"):
        for form in ("--json", "--csv"):
            code, text = out.run("history", pbx, "--since", "2h", form)
            assert code == 0 and len(text.splitlines()) > 2, text  # rows were read
    assert out.run("check")[0] == 0

    # Refused: gx's org token and cp's panel password are wrong canaries now.
    refused = fleet.write_config(
        tmp_path / "refused.toml",
        gx={"org_token": canary("gx-wrong")},
        cp={"panel_pass": canary("cp-wrong")},
    )
    out.config = refused
    for pbx in ("gx", "cp"):
        code, text = out.run("history", pbx, "--since", "2h", "--json")
        assert code == 1 and pbx in text, text
    assert not leaks(out.seen)
