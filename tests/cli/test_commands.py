"""The headless commands, run as a user would, against simulators over loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pbxtui.cli import main
from tests.cli.conftest import ThreadedFleet


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def secrets_of(fleet: ThreadedFleet) -> list[str]:
    values = []
    for sim in fleet.sims.values():
        for key in ("key", "password", "pass"):
            if key in sim.credentials:
                values.append(str(sim.credentials[key]))
    assert values
    return values


def test_check_all_healthy(fleet: ThreadedFleet) -> None:
    code, out, err = run("--config", str(fleet.config_path), "check")
    assert code == 0, out + err
    for name in fleet.sims:
        assert name in out
    assert "hangup" in out
    for secret in secrets_of(fleet):
        assert secret not in out + err


def test_check_names_a_broken_pbx_and_exits_1(fleet: ThreadedFleet) -> None:
    fleet.call(lambda: fleet.sims["hq"].faults.update({"auth_refused": True}))
    code, out, err = run("--config", str(fleet.config_path), "check")
    assert code == 1
    line = next(line for line in out.splitlines() if line.startswith("hq "))
    assert "FAILED" in line and "mistaken the security api key" in line
    assert "1 of" in err and "hq" in err


def test_snapshot_json_is_normalized_for_every_vendor(fleet: ThreadedFleet) -> None:
    code, out, _ = run("--config", str(fleet.config_path), "snapshot", "--json")
    assert code == 0
    document = json.loads(out)
    names = [p["name"] for p in document["pbx"]]
    assert names == list(fleet.sims)
    hq = document["pbx"][0]
    assert hq["health"]["state"] == "ok" and hq["calls"]
    scenario = fleet.sims["hq"].scenario
    assert len(hq["calls"]) == len(scenario.calls)
    for pbx in document["pbx"]:
        for call in pbx.get("calls", []):
            assert call["pbx"] == pbx["name"]
            assert call["state"] in {"ringing", "queued", "dialing", "up", "held", "other"}
            assert {"id", "channel", "caller", "callee", "duration"} <= call.keys()
    for secret in secrets_of(fleet):
        assert secret not in out


def test_snapshot_single_pbx_and_unknown_pbx(fleet: ThreadedFleet) -> None:
    code, out, _ = run("--config", str(fleet.config_path), "snapshot", "--json", "--pbx", "hq")
    assert code == 0 and [p["name"] for p in json.loads(out)["pbx"]] == ["hq"]
    code, _, err = run("--config", str(fleet.config_path), "snapshot", "--pbx", "nope")
    assert code == 2 and "no PBX named 'nope'" in err


def test_hangup_yes_removes_the_call_and_audits(fleet: ThreadedFleet, tmp_path: Path) -> None:
    _, out, _ = run("--config", str(fleet.config_path), "snapshot", "--json", "--pbx", "hq")
    call = json.loads(out)["pbx"][0]["calls"][0]
    code, out, err = run("--config", str(fleet.config_path), "hangup", "hq", call["id"], "--yes")
    assert code == 0, out + err
    assert "ok" in out
    scenario = fleet.sims["hq"].scenario
    assert scenario.find_call(call["channel"]) is None
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audit[-1]["action"] == "hangup" and audit[-1]["result"] == "ok"
    assert audit[-1]["pbx"] == "hq"
    text = (tmp_path / "audit.jsonl").read_text()
    for secret in secrets_of(fleet):
        assert secret not in text


def test_hangup_unknown_call_exits_4(fleet: ThreadedFleet) -> None:
    code, _, err = run("--config", str(fleet.config_path), "hangup", "hq", "SIP/none-0", "--yes")
    assert code == 4 and "no call 'SIP/none-0' on hq" in err


def test_hangup_read_only_refused(fleet: ThreadedFleet, tmp_path: Path) -> None:
    _, out, _ = run("--config", str(fleet.config_path), "snapshot", "--json", "--pbx", "hq")
    call = json.loads(out)["pbx"][0]["calls"][0]
    code, _, err = run(
        "--config", str(fleet.config_path), "--read-only", "hangup", "hq", call["id"], "--yes"
    )
    assert code == 1 and "read-only" in err
    assert fleet.sims["hq"].scenario.find_call(call["channel"]) is not None
    audit = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert json.loads(audit[-1])["result"] == "read-only"


def test_check_with_simulators_gone_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "gone.toml"
    config.write_text(
        '[[pbx]]\nname = "hq"\nkind = "pbxcloud"\nurl = "http://127.0.0.1:9/pbx/proxyapi.php"\n'
        'tenant = "ACME"\nkey = "CANARY-gone-key"\ntimeout = 1.0\n'
    )
    code, out, err = run("--config", str(config), "check")
    assert code == 1
    assert "cannot connect" in out and "connection refused" in out
    assert "CANARY" not in out + err


def test_bad_config_exits_2_with_location(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[[pbx]]\nname = "hq"\nkind = "pbxcloud"\n')
    code, _, err = run("--config", str(config), "check")
    assert code == 2
    assert str(config) in err and 'field "url"' in err


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("pbxtui")
    result = subprocess.run(
        [str(exe), "--help"], capture_output=True, text=True, env=os.environ, timeout=30
    )
    assert result.returncode == 0 and "snapshot" in result.stdout


def snapshot_of(fleet: ThreadedFleet, pbx: str) -> dict[str, object]:
    _, out, _ = run("--config", str(fleet.config_path), "snapshot", "--json", "--pbx", pbx)
    document: dict[str, object] = json.loads(out)["pbx"][0]
    return document


def test_blind_transfer_moves_the_call(fleet: ThreadedFleet) -> None:
    calls = [c for c in snapshot_of(fleet, "hq")["calls"] if c["state"] == "up"]  # type: ignore[attr-defined]
    call = calls[0]
    code, out, err = run(
        "--config", str(fleet.config_path), "transfer", "hq", call["id"], "230", "--yes"
    )
    assert code == 0, out + err
    moved = fleet.sims["hq"].scenario.find_call(call["channel"])
    assert moved is not None and moved.extension == "230"


def test_pause_with_reason_then_unpause(fleet: ThreadedFleet) -> None:
    agents = snapshot_of(fleet, "hq")["agents"]
    agent = next(a for a in agents if a["state"] != "paused")  # type: ignore[attr-defined]
    config = str(fleet.config_path)
    code, out, err = run(
        "--config", config, "pause", "hq", agent["extension"], "--reason", "Lunch", "--yes"
    )
    assert code == 0, out + err
    now = [a for a in snapshot_of(fleet, "hq")["agents"] if a["extension"] == agent["extension"]]  # type: ignore[attr-defined]
    assert now and all(a["state"] == "paused" and a["pause_reason"] == "Lunch" for a in now)
    code, _, _ = run("--config", config, "unpause", "hq", agent["extension"], "--yes")
    assert code == 0
    now = [a for a in snapshot_of(fleet, "hq")["agents"] if a["extension"] == agent["extension"]]  # type: ignore[attr-defined]
    assert all(a["state"] != "paused" for a in now)


def test_unsupported_action_is_said_plainly(fleet: ThreadedFleet) -> None:
    code, _, err = run("--config", str(fleet.config_path), "pause", "branch", "101", "--yes")
    assert code == 1
    assert "not supported by branch's API" in err and "agent pause" in err
    code, _, err = run(
        "--config", str(fleet.config_path), "transfer", "istanbul", "x", "101", "--yes"
    )
    assert code == 1 and "blind transfer is not supported by istanbul's API (IEXPBX)" in err


def test_click2call_callback_ivr_and_directory(fleet: ThreadedFleet) -> None:
    config = str(fleet.config_path)
    scenario = fleet.sims["hq"].scenario
    idle = scenario.idle_extensions()[0]
    before = len(scenario.calls)
    code, out, err = run("--config", config, "call", "hq", idle, "0501234567", "--yes")
    assert code == 0, out + err
    assert any(c.extension == idle and c.originate_id for c in scenario.calls.values())
    assert len(scenario.calls) >= before
    code, out, _ = run(
        "--config", config, "callback", "istanbul", "0501111111", "0502222222", "--yes"
    )
    assert code == 0 and "ok" in out
    code, out, _ = run(
        "--config", config, "ivr", "istanbul", "0503333333", "--announce", "hi", "--yes"
    )
    assert code == 0
    code, out, _ = run("--config", config, "directory", "istanbul", "--json")
    entries = json.loads(out)
    assert code == 0 and entries and {"name", "number"} <= entries[0].keys()


def test_read_only_refuses_every_action_kind(fleet: ThreadedFleet, tmp_path: Path) -> None:
    config = str(fleet.config_path)
    for args in (
        ["pause", "hq", "201", "--yes"],
        ["call", "hq", "201", "0501234567", "--yes"],
        ["callback", "istanbul", "0501111111", "0502222222", "--yes"],
    ):
        code, _, err = run("--config", config, "--read-only", *args)
        assert code == 1 and "read-only" in err, args
    results = [
        json.loads(line)["result"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()
    ]
    assert results[-3:] == ["read-only"] * 3


def test_check_names_every_kind_refusing_credentials(fleet: ThreadedFleet) -> None:
    def refuse_all() -> None:
        for sim in fleet.sims.values():
            sim.faults.update({"auth_refused": True})

    fleet.call(refuse_all)
    code, out, err = run("--config", str(fleet.config_path), "check")
    assert code == 1
    lines = {line.split()[0]: line for line in out.splitlines() if "FAILED" in line}
    assert set(lines) == set(fleet.sims), "every PBX is named"
    for name, sim in fleet.sims.items():
        assert "auth refused" in lines[name], (sim.kind, lines[name])
    assert "mistaken the security api key" in lines["hq"]
    assert f"{len(fleet.sims)} of {len(fleet.sims)} PBX failed" in err
