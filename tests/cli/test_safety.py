""" "The CLI is safe for scripts": exit codes, masking, refusals that send nothing, options
in any place. Each test runs the real CLI against simulators over loopback HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pbxtui import cli
from pbxtui.masking import MASK_MIN_DIGITS, mask_number
from pbxtui.sim.iexpbx import DIRECTORY
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


# -- --mask-numbers: every output ------------------------------------------------------------


def sim_numbers(fleet: ThreadedFleet) -> set[str]:
    """Every phone number (7 digits or more) the simulators' calls and directory hold now."""

    def collect() -> set[str]:
        numbers = set()
        for sim in fleet.sims.values():
            for call in sim.scenario.calls.values():
                numbers.update({call.caller, call.callee} | {leg.party for leg in call.legs})
        return numbers

    found = fleet.call(collect) | {number for _, number in DIRECTORY}
    return {n for n in found if sum(ch.isdigit() for ch in n) >= MASK_MIN_DIGITS}


def leaked(text: str, numbers: set[str]) -> list[str]:
    return sorted(n for n in numbers if n in text)


def test_mask_numbers_snapshot_json_shows_no_full_number(fleet: ThreadedFleet) -> None:
    config = str(fleet.config_path)
    before = sim_numbers(fleet)
    _, plain, _ = run("--config", config, "snapshot", "--json")
    assert leaked(plain, before | sim_numbers(fleet)), "the check below could not fail"
    before = sim_numbers(fleet)
    code, out, err = run("--config", config, "--mask-numbers", "snapshot", "--json")
    assert code == 0, err
    assert leaked(out, before | sim_numbers(fleet)) == []
    document = json.loads(out)
    callers = [c["caller"] for p in document["pbx"] for c in p.get("calls", [])]
    assert any("*****" in caller for caller in callers)
    assert "201" in callers or any(len(c) < MASK_MIN_DIGITS for c in callers)  # extensions kept
    # Identifiers stay usable: a call id from the masked snapshot hangs that call up.
    call = next(c for c in document["pbx"][0]["calls"] if c["state"] == "up")
    assert "*" not in call["id"] + call["channel"] + call["observed_at"]
    code, out, err = run("--config", config, "--mask-numbers", "hangup", "hq", call["id"], "-y")
    assert code == 0, out + err


def test_mask_numbers_snapshot_text_shows_no_full_number(fleet: ThreadedFleet) -> None:
    before = sim_numbers(fleet)
    code, out, _ = run("--config", str(fleet.config_path), "--mask-numbers", "snapshot")
    assert code == 0 and "→" in out and "*****" in out
    assert leaked(out, before | sim_numbers(fleet)) == []


def test_mask_numbers_from_the_config_settings(fleet: ThreadedFleet, tmp_path: Path) -> None:
    config = tmp_path / "masked.toml"
    config.write_text("[settings]\nmask_numbers = true\n\n" + fleet.config_path.read_text())
    before = sim_numbers(fleet)
    code, out, _ = run("--config", str(config), "snapshot", "--json")
    assert code == 0 and leaked(out, before | sim_numbers(fleet)) == []


def test_mask_numbers_in_check(tmp_path: Path) -> None:
    config = tmp_path / "gone.toml"
    config.write_text(
        '[[pbx]]\nname = "hq"\nkind = "pbxcloud"\n'
        'url = "http://127.0.0.1:9/0501234567/proxyapi.php"\ntenant = "ACME"\nkey = "k-1"\n'
        "timeout = 1.0\n"
    )
    code, out, _ = run("--config", str(config), "check")
    assert code == 1 and "0501234567" in out
    code, out, _ = run("--config", str(config), "--mask-numbers", "check")
    assert code == 1 and "0501234567" not in out and "050*****67" in out


def test_mask_numbers_in_confirmations_and_results(
    fleet: ThreadedFleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    config = str(fleet.config_path)
    args = ("--config", config, "--mask-numbers", "call", "hq", "201", "0501234567")
    result = CliRunner().invoke(cli.main, list(args), input="n\n")
    assert result.exit_code == 1
    assert "click2call on hq: 201 → 050*****67" in result.stdout
    assert "0501234567" not in result.stdout + result.stderr
    assert "cancelled: nothing was sent" in result.stderr
    assert fleet.logs["hq"].count(reqtype="DIAL") == 0

    # A hangup's confirmation names the caller: masked.
    document = json.loads(run("--config", config, "snapshot", "--json", "--pbx", "hq")[1])
    call = next(c for c in document["pbx"][0]["calls"] if len(c["caller"]) >= MASK_MIN_DIGITS)
    args = ("--config", config, "--mask-numbers", "hangup", "hq", call["id"])
    result = CliRunner().invoke(cli.main, list(args), input="n\n")
    assert result.exit_code == 1 and call["channel"] in result.stdout
    assert mask_number(call["caller"]) in result.stdout
    assert call["caller"] not in result.stdout + result.stderr

    # Results and refusals quoting a number.
    code, _, err = run(
        "--config", config, "--mask-numbers", "call", "hq", "201", "0501234567x", "-y"
    )
    assert code == 1 and "050*****67x" in err and "0501234567" not in err
    code, out, err = run(
        "--config",
        config,
        "--mask-numbers",
        "transfer",
        "hq",
        call["id"],
        "0509876543",
        "--attended",
        "-y",
    )
    assert "0509876543" not in out + err


def test_mask_numbers_in_directory(fleet: ThreadedFleet) -> None:
    config = str(fleet.config_path)
    code, out, _ = run("--config", config, "--mask-numbers", "directory", "istanbul")
    assert code == 0 and "908*******59" in out and "John Lash" in out
    assert leaked(out, {number for _, number in DIRECTORY}) == []
    assert "\n100 " in out  # extensions are not masked
    code, out, _ = run("--config", config, "--mask-numbers", "directory", "istanbul", "--json")
    entries = json.loads(out)
    assert (
        code == 0 and {"name": "John Lash", "number": "908*******59"}.items() <= entries[0].items()
    )
    assert leaked(out, {number for _, number in DIRECTORY}) == []


# -- call --at ---------------------------------------------------------------------------------


def requests_seen(fleet: ThreadedFleet) -> int:
    return sum(log.count() for log in fleet.logs.values())


def test_call_at_a_past_time_is_refused_before_any_pbx_is_asked(fleet: ThreadedFleet) -> None:
    config = str(fleet.config_path)
    code, _, err = run(
        "--config", config, "call", "branch", "101", "0501234567", "--at", "2020-01-01 10:00", "-y"
    )
    assert code == 2
    assert "--at 2020-01-01 10:00 is in the past" in err and "give a time to come" in err
    assert requests_seen(fleet) == 0


def test_scheduling_options_without_at_are_refused(fleet: ThreadedFleet) -> None:
    config = str(fleet.config_path)
    for option in (["--max-retry", "2"], ["--retry-time", "60"], ["--ident", "acme"]):
        code, _, err = run("--config", config, "call", "branch", "101", "0501234567", *option, "-y")
        assert code == 2, option
        assert f"{option[0]} applies only to a scheduled call: add --at" in err
    assert requests_seen(fleet) == 0


def test_call_at_a_time_to_come_is_scheduled(fleet: ThreadedFleet) -> None:
    at = (datetime.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    code, out, err = run(
        "--config", str(fleet.config_path), "call", "branch", "101", "0501234567",
        "--at", f"{at:%Y-%m-%d %H:%M}", "--max-retry", "2", "--retry-time", "60",
        "--ident", "acme", "-y",
    )  # fmt: skip
    assert code == 0, out + err
    (scheduled,) = fleet.sims["branch"].extra["sim"].scheduled
    assert scheduled["Date"] == f"{at:%Y%m%d%H%M}"
    assert (scheduled["Maxretry"], scheduled["Retrytime"], scheduled["ident"]) == (
        "2",
        "60",
        "acme",
    )


# -- options a vendor ignores ------------------------------------------------------------------


def test_click2call_options_a_vendor_ignores_are_refused_and_nothing_is_sent(
    fleet: ThreadedFleet, tmp_path: Path
) -> None:
    config = str(fleet.config_path)
    code, _, err = run("--config", config, "call", "hq", "201", "0501234567", "--reverse", "-y")
    assert code == 1
    assert "hq's API ignores reverse on click2call: leave it out" in err
    code, _, err = run(
        "--config", config, "call", "istanbul", "101", "0501234567",
        "--caller-id", "0501112222", "--timeout", "30", "-y",
    )  # fmt: skip
    assert code == 1
    assert "istanbul's API ignores caller id, timeout on click2call: leave it out" in err
    assert requests_seen(fleet) == 0
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(a["pbx"], a["result"]) for a in audit] == [
        ("hq", "unsupported"),
        ("istanbul", "unsupported"),
    ]
    # The options the API honours go through.
    code, out, err = run(
        "--config", config, "call", "hq", "201", "0501234567",
        "--caller-id", "0501112222", "--timeout", "30", "-y",
    )  # fmt: skip
    assert code == 0, out + err
    assert fleet.logs["hq"].count(reqtype="DIAL") == 1
