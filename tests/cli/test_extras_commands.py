"""The extras' headless commands run as a user would, against the demo fleet over loopback:
each where its vendor offers it, refused naming the vendor elsewhere, ALL typed, audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pbxtui import cli, headless
from pbxtui.cli import main
from tests.cli.conftest import ThreadedFleet


def run(fleet: ThreadedFleet, *args: str, input: str | None = None) -> tuple[int, str, str]:
    argv = ["--config", str(fleet.config_path), *args]
    result = CliRunner().invoke(main, argv, input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def audit(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


def received(fleet: ThreadedFleet, name: str) -> list[tuple[str, str]]:
    return fleet.call(lambda: list(fleet.sims[name].scenario.received))


def test_flow_toggle_lights_the_lamp_and_back(fleet: ThreadedFleet) -> None:
    code, out, err = run(fleet, "flow", "hq", "*51", "--toggle", "--yes")
    assert code == 0, out + err
    assert "flow state on hq: ok" in out
    lit = fleet.call(lambda: fleet.sims["hq"].scenario.flows["*51"].state)
    code, out, _ = run(fleet, "flow", "hq", "*51", "--toggle", "--yes")
    back = fleet.call(lambda: fleet.sims["hq"].scenario.flows["*51"].state)
    assert code == 0 and {lit, back} == {"INUSE", "NOT_INUSE"}
    assert received(fleet, "hq").count(("set_flow", "*51")) == 2


def test_queue_reset_confirms_naming_the_queue(
    fleet: ThreadedFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    code, out, err = run(fleet, "queue-reset", "hq", "630", input="n\n")
    assert code == 1 and "queue statistics reset on hq: queue 630 (Sales): answered" in out
    assert "cancelled: nothing was sent" in err
    assert ("queue_reset", "630") not in received(fleet, "hq")
    code, out, _ = run(fleet, "queue-reset", "hq", "Sales", input="y\n")
    assert code == 0 and "Queue statistics reset" in out
    assert ("queue_reset", "630") in received(fleet, "hq")


def test_a_protected_pbx_needs_its_name_for_a_queue_reset(
    fleet: ThreadedFleet, tmp_path: Path
) -> None:
    config = fleet.write_config(tmp_path / "protected.toml", hq={"protected": True})
    argv = ["--config", str(config), "queue-reset", "hq", "630", "--yes"]
    result = CliRunner().invoke(main, argv, catch_exceptions=False)
    assert result.exit_code == 1 and "(pass --confirm-pbx hq)" in result.stderr
    result = CliRunner().invoke(main, [*argv, "--confirm-pbx", "hq"], catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr


def test_campaign_where_offered_and_refused_elsewhere(fleet: ThreadedFleet) -> None:
    code, out, err = run(fleet, "campaign", "hq", "12", "start", "--yes")
    assert code == 0, out + err
    code, out, err = run(fleet, "campaign", "hq", "14", "stop", "--yes")
    assert code == 1 and "only on-demand" in err
    code, _, err = run(fleet, "campaign", "branch", "12", "start", "--yes")
    assert code == 1
    assert (
        "campaign control is not supported by branch's API "
        "(GlobalEx / Voiptech / CloudPlus dialup.php)" in err
    )
    assert ("campaign", "12:start") in received(fleet, "hq")
    assert not [r for r in received(fleet, "branch") if r[0] == "campaign"]


def test_reboot_one_peer_by_its_number(fleet: ThreadedFleet, tmp_path: Path) -> None:
    code, out, err = run(fleet, "reboot", "hq", "201", "--yes")
    assert code == 0, out + err
    assert ("reboot", "201-ACME") in received(fleet, "hq")
    code, _, err = run(fleet, "unregister", "hq", "999", "--yes")
    assert code == headless.EXIT_NOT_FOUND and "no peer '999' on hq now" in err
    lines = [e for e in audit(tmp_path) if e["action"] == "peer_reboot"]
    assert [e["result"] for e in lines] == ["intent", "ok"]
    assert lines[0]["target"].startswith("peer 201-ACME")  # type: ignore[union-attr]


def test_every_peer_needs_all_typed_and_yes_alone_never_does_it(
    fleet: ThreadedFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(fleet, "unregister", "hq", "ALL", "--yes")
    assert code == 1 and "needs ALL (or the PBX's name, hq) typed to confirm" in err
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    code, _, err = run(fleet, "unregister", "hq", "ALL", input="all\n")
    assert code == 1 and "typed to confirm" in err
    assert ("unregister", "ALL") not in received(fleet, "hq")
    code, out, err = run(fleet, "unregister", "hq", "ALL", input="ALL\n")
    assert code == 0, out + err
    assert "type ALL or hq to confirm" in out
    code, out, err = run(fleet, "reboot", "hq", "ALL", "--confirm-all", "hq")
    assert code == 0, out + err
    assert [r for r in received(fleet, "hq") if r[1] == "ALL"] == [
        ("unregister", "ALL"),
        ("reboot", "ALL"),
    ]
    refused = [e for e in audit(tmp_path) if e["result"] == "refused"]
    assert len(refused) == 2 and all(e["params"] == {"peer": "ALL"} for e in refused)


def test_queue_callback_on_the_dialup_pbx_only(fleet: ThreadedFleet) -> None:
    code, out, err = run(fleet, "queue-callback", "branch", "0501234567", "300", "--yes")
    assert code == 0, out + err
    assert "0501234567 is on queue 300's callback list" in out
    entries = fleet.call(lambda: list(fleet.sims["branch"].extra["sim"].callbacks.entries))
    assert entries == [{"CBnum": "0501234567", "CBQdest": "300"}]
    code, _, err = run(fleet, "queue-callback", "hq", "0501234567", "630", "--yes")
    assert code == 1 and "queue callback is not supported by hq's API (MiRTA" in err


def test_check_shows_the_tenant_figures_where_the_api_gives_them(fleet: ThreadedFleet) -> None:
    code, out, err = run(fleet, "check")
    assert code == 0, out + err
    blocks: dict[str, list[str]] = {}
    for line in out.splitlines():
        if not line.startswith(" "):
            blocks[line.split()[0]] = []
        blocks[list(blocks)[-1]].append(line)

    def tenant(name: str) -> list[str]:
        return [line.split("tenant:", 1)[1].strip() for line in blocks[name] if "tenant:" in line]

    hq = tenant("hq")
    assert len(hq) == 3 and hq[2] == "balance 123.45" and hq[1].startswith("channels ")
    total, nodes = hq[0].removeprefix("peers ").split(" ", 1)
    counts = [int(part.split()[1]) for part in nodes.strip("()").split(", ")]
    assert int(total) == sum(counts) and len(counts) == 2
    assert tenant("istanbul") == tenant("branch") == []
