""" "The CLI is safe for scripts": exit codes, masking, refusals that send nothing, options
in any place. Each test runs the real CLI against simulators over loopback HTTP."""

from __future__ import annotations

import json

from tests.cli.conftest import ThreadedFleet
from tests.cli.test_commands import run


def test_snapshot_exits_1_when_a_pbx_fails_with_each_error_on_stderr(
    fleet: ThreadedFleet,
) -> None:
    fleet.call(lambda: fleet.sims["eu"].faults.update({"http_500": True}))
    code, out, err = run("--config", str(fleet.config_path), "snapshot", "--json")
    assert code == 1
    document = json.loads(out)  # still complete on stdout
    assert [p["name"] for p in document["pbx"]] == list(fleet.sims)
    by_name = {p["name"]: p for p in document["pbx"]}
    assert by_name["hq"]["calls"] and not by_name["hq"]["errors"]
    failed = by_name["eu"]["errors"]
    assert set(failed) == set(by_name["eu"]["capabilities"]["resources"])
    lines = err.strip().splitlines()
    assert len(lines) == len(failed), err
    for resource, error in failed.items():
        assert f"pbxtui: eu {resource}: {error}" in lines
        assert "HTTP 500" in error


def test_snapshot_text_exits_1_too_and_0_when_every_pbx_answers(fleet: ThreadedFleet) -> None:
    code, _, err = run("--config", str(fleet.config_path), "snapshot")
    assert code == 0 and err == ""
    fleet.call(lambda: fleet.sims["hq"].faults.update({"auth_refused": True}))
    code, out, err = run("--config", str(fleet.config_path), "snapshot", "--pbx", "hq")
    assert code == 1
    assert out.startswith("hq (pbxcloud): down")
    assert err and all(line.startswith("pbxtui: hq ") for line in err.strip().splitlines())
    assert "mistaken the security api key" in err
