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


# -- protected PBXs and attended transfers, end to end -----------------------------------------


def pinned_call(fleet: ThreadedFleet, pbx: str, config: str) -> dict[str, str]:
    """A call that is up between an outside caller and an extension, as `snapshot` shows it,
    kept from ending on its own in the simulator for the rest of the test."""
    _, out, _ = run("--config", config, "snapshot", "--json", "--pbx", pbx)
    scenario = fleet.sims[pbx].scenario
    for call in json.loads(out)["pbx"][0]["calls"]:
        if call["state"] != "up" or not call["extension"] or len(call["caller"]) < 7:
            continue

        def pin(channel: str = call["channel"]) -> bool:
            sim_call = scenario.find_call(channel)
            if sim_call is None:
                return False
            sim_call.ends_at = float("inf")
            return True

        if fleet.call(pin):
            return dict(call)
    raise AssertionError(f"no call up with an outside caller on {pbx}")


def test_protected_pbx_hangup_with_yes_needs_confirm_pbx(
    fleet: ThreadedFleet, tmp_path: Path
) -> None:
    config = str(fleet.write_config(tmp_path / "protected.toml", hq={"protected": True}))
    call = pinned_call(fleet, "hq", config)
    hangups = lambda: fleet.logs["hq"].count(reqtype="HANGUP")  # noqa: E731
    scenario = fleet.sims["hq"].scenario

    code, _, err = run("--config", config, "hangup", "hq", call["id"], "--yes")
    assert code == 1
    assert "hq is protected" in err and "pass --confirm-pbx hq" in err
    code, _, err = run("--config", config, "hangup", "hq", call["id"], "-y", "--confirm-pbx", "eu")
    assert code == 1 and "pass --confirm-pbx hq" in err
    assert hangups() == 0
    assert fleet.call(lambda: scenario.find_call(call["channel"])) is not None

    code, out, err = run(
        "--config", config, "hangup", "hq", call["id"], "-y", "--confirm-pbx", "hq"
    )
    assert code == 0, out + err
    assert hangups() == 1
    assert fleet.call(lambda: scenario.find_call(call["channel"]) is None)
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [a["result"] for a in audit] == ["not-confirmed", "not-confirmed", "intent", "ok"]


def test_protected_pbx_at_a_terminal_asks_for_the_name(
    fleet: ThreadedFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_stdin_is_terminal", lambda: True)
    config = str(fleet.write_config(tmp_path / "protected.toml", hq={"protected": True}))
    call = pinned_call(fleet, "hq", config)
    args = ["--config", config, "hangup", "hq", call["id"]]
    result = CliRunner().invoke(cli.main, args, input="hqx\n")
    assert result.exit_code == 1 and "type its name to confirm" in result.stdout
    assert "cancelled: nothing was sent" in result.stderr
    assert fleet.logs["hq"].count(reqtype="HANGUP") == 0
    result = CliRunner().invoke(cli.main, args, input="hq\n")
    assert result.exit_code == 0, result.output
    assert fleet.logs["hq"].count(reqtype="HANGUP") == 1


def start_attended(fleet: ThreadedFleet, state_home: Path) -> tuple[dict[str, str], str, int]:
    """An attended transfer of a pinned hq call to an idle extension, through the CLI:
    (the call, the destination, the simulator's id of the held call)."""
    config = str(fleet.config_path)
    call = pinned_call(fleet, "hq", config)
    scenario = fleet.sims["hq"].scenario
    destination = next(e for e in fleet.call(scenario.idle_extensions) if e != call["extension"])
    code, out, err = run(
        "--config", config, "transfer", "hq", call["id"], destination, "--attended", "-y"
    )
    assert code == 0, out + err
    assert f"{call['extension']} is consulting {destination}" in out
    assert f"pbxtui transfer hq {call['id']} --complete (or --cancel)" in out
    assert call["id"] in (state_home / "consultations.json").read_text()

    def held() -> tuple[int, str, bool]:
        sim_call = scenario.find_call(call["channel"])
        assert sim_call is not None
        consulting = any(c.consult_of == sim_call.id for c in scenario.calls.values())
        return sim_call.id, sim_call.transferer, consulting

    held_id, transferer, consulting = fleet.call(held)
    assert transferer == call["extension"] and consulting
    return call, destination, held_id


def test_attended_transfer_then_complete(fleet: ThreadedFleet, state_home: Path) -> None:
    call, destination, held_id = start_attended(fleet, state_home)
    code, out, err = run(
        "--config", str(fleet.config_path), "transfer", "hq", call["id"], "--complete", "-y"
    )
    assert code == 0, out + err
    assert out.startswith("complete attended transfer on hq: ok")
    scenario = fleet.sims["hq"].scenario

    def after() -> tuple[str, str, bool]:
        joined = scenario.calls[held_id]
        consulting = any(c.consult_of == held_id for c in scenario.calls.values())
        return joined.callee, joined.transferer, consulting

    assert fleet.call(after) == (destination, "", False)  # the caller now talks to DEST
    assert call["id"] not in (state_home / "consultations.json").read_text()
    code, _, err = run(
        "--config", str(fleet.config_path), "transfer", "hq", call["id"], "--complete", "-y"
    )
    assert code == 4 and f"no attended transfer of {call['id']!r} pending on hq" in err


def test_attended_transfer_then_cancel(fleet: ThreadedFleet, state_home: Path) -> None:
    call, _, held_id = start_attended(fleet, state_home)
    code, out, err = run(
        "--config", str(fleet.config_path), "transfer", "hq", call["id"], "--cancel", "-y"
    )
    assert code == 0, out + err
    assert out.startswith("cancel attended transfer on hq: ok")
    scenario = fleet.sims["hq"].scenario

    def after() -> tuple[str, str, bool]:
        back = scenario.calls[held_id]
        consulting = any(c.consult_of == held_id for c in scenario.calls.values())
        return back.callee, back.transferer, consulting

    assert fleet.call(after) == (call["callee"], "", False)  # back with the transferer
    assert call["id"] not in (state_home / "consultations.json").read_text()


# -- global options after the command ----------------------------------------------------------


def test_global_options_after_the_command(fleet: ThreadedFleet, tmp_path: Path) -> None:
    config = str(fleet.config_path)
    code, out, _ = run("snapshot", "--json", "--read-only", "--config", config)
    assert code == 0 and [p["name"] for p in json.loads(out)["pbx"]] == list(fleet.sims)

    call = pinned_call(fleet, "hq", config)
    code, _, err = run("hangup", "hq", call["id"], "--config", config, "--yes", "--read-only")
    assert code == 1 and "hq is read-only" in err
    assert fleet.logs["hq"].count(reqtype="HANGUP") == 0

    before = sim_numbers(fleet)
    code, out, _ = run("snapshot", "--json", "--mask-numbers", "--config", config)
    assert code == 0 and leaked(out, before | sim_numbers(fleet)) == []

    code, out, err = run("hangup", "hq", call["id"], "--config", config, "--yes")
    assert code == 0, out + err
    assert fleet.logs["hq"].count(reqtype="HANGUP") == 1
    for args in (["check"], ["directory", "istanbul"]):
        code, out, err = run(*args, "--config", config, "--mask-numbers")
        assert code == 0, (args, out + err)


def test_global_options_before_and_after_combine(fleet: ThreadedFleet) -> None:
    config = str(fleet.config_path)
    code, _, err = run("--config", config, "pause", "hq", "201", "--read-only", "-y")
    assert code == 1 and "hq is read-only" in err
    code, _, err = run("--read-only", "pause", "hq", "201", "--config", config, "-y")
    assert code == 1 and "hq is read-only" in err
    code, _, err = run("--config", config, "check", "--config", config)
    assert code == 0, err


def test_two_different_configs_are_refused(fleet: ThreadedFleet, tmp_path: Path) -> None:
    other = fleet.write_config(tmp_path / "other.toml")
    code, _, err = run("--config", str(fleet.config_path), "hangup", "hq", "x", "-y",
                       "--config", str(other))  # fmt: skip
    assert code == 2
    assert f"--config given twice ({fleet.config_path}, {other})" in err
    assert requests_seen(fleet) == 0
