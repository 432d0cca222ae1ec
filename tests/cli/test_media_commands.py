"""``pbxtui recording`` and ``pbxtui voicemail`` as a user runs them, against the demo's
simulators over loopback: the recording that `history` names written whole, voicemail
listed, fetched and deleted (confirmed, audited, protected PBXs asking for their name),
refusals where the API has none, no progress bar when standard error is not a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import ThreadedFleet
from tests.cli.test_commands import run, secrets_of


def recorded(fleet: ThreadedFleet, pbx: str) -> dict[str, str]:
    """A recorded call of the demo's history, as `history --json` gives it."""
    code, out, err = run(
        "--config", str(fleet.config_path), "history", pbx, "--since", "1h", "--json"
    )
    assert code == 0, err
    records = [r for r in json.loads(out)["records"] if r["recording"]]
    assert records, f"no recorded call on {pbx} yet"
    return dict(records[0])


@pytest.mark.parametrize("pbx", ["hq", "istanbul", "branch"])
def test_recording_writes_the_audio_history_names(
    fleet: ThreadedFleet, pbx: str, tmp_path: Path
) -> None:
    record = recorded(fleet, pbx)
    target = tmp_path / "call.audio"
    code, out, err = run(
        "--config", str(fleet.config_path), "recording", pbx, record["recording"], "-o", str(target)
    )
    assert code == 0, err
    assert out.startswith(f"wrote {target} (") and "audio/" in out
    assert err == ""  # not a terminal: no progress bar
    data = target.read_bytes()
    assert data[:4] == b"RIFF" if pbx != "istanbul" else data[0] >> 4 == 0xD
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())
    for secret in secrets_of(fleet):
        assert secret not in out + err


def test_recording_failures_exit_1_with_the_reason_and_leave_no_file(
    fleet: ThreadedFleet, tmp_path: Path
) -> None:
    config = str(fleet.config_path)
    target = tmp_path / "x.wav"
    code, out, err = run("--config", config, "recording", "hq", "nope-1.2", "-o", str(target))
    assert code == 1 and out == ""
    assert err.startswith("pbxtui: hq: ") and "no recording" in err
    assert not target.exists()
    code, _, err = run("--config", config, "recording", "nowhere", "1", "-o", str(target))
    assert code == 2 and "nowhere" in err
    code, _, err = run("--config", config, "recording", "hq", "1")
    assert code == 2 and "-o FILE" in err
    code, _, err = run("--config", config, "recording", "hq", "1", "-o", str(tmp_path / "no/x"))
    assert code == 2 and "does not exist" in err
    assert not any(p.name.endswith(".part") for p in tmp_path.rglob("*"))


def test_voicemail_lists_boxes_and_messages_and_gets_one(
    fleet: ThreadedFleet, tmp_path: Path
) -> None:
    config = str(fleet.config_path)
    store = fleet.sims["hq"].extra["voicemail"]
    code, out, err = run("--config", config, "voicemail", "hq")
    assert code == 0, err
    assert out.splitlines()[0].split() == ["MAILBOX", "NEW", "OLD", "NAME"]
    assert [line.split()[0] for line in out.splitlines()[1:]] == store.boxes
    box = store.boxes[0]
    code, out, err = run("--config", config, "voicemail", "hq", "--mailbox", box, "--json")
    assert code == 0, err
    messages = json.loads(out)["messages"]
    assert {m["mailbox"] for m in messages} == {box} and len(messages) == 2
    first = messages[0]["id"]
    target = tmp_path / "vm.wav"
    code, out, err = run("--config", config, "voicemail", "hq", "--get", first, "-o", str(target))
    assert code == 0, err
    assert target.read_bytes() == fleet.call(lambda: store.messages[first].audio)


def test_voicemail_delete_is_confirmed_audited_and_protected(
    fleet: ThreadedFleet, tmp_path: Path
) -> None:
    store = fleet.sims["hq"].extra["voicemail"]
    message = fleet.call(lambda: next(iter(store.messages)))
    config = str(fleet.config_path)
    code, _, err = run("--config", config, "voicemail", "hq", "--delete", message)
    assert code == 1 and "refusing to act without --yes" in err
    assert fleet.call(lambda: message in store.messages)
    protected = str(fleet.write_config(tmp_path / "protected.toml", hq={"protected": True}))
    code, _, err = run("--config", protected, "voicemail", "hq", "--delete", message, "--yes")
    assert code == 1 and "hq is protected" in err
    assert fleet.call(lambda: message in store.messages)
    code, out, err = run(
        "--config", protected, "voicemail", "hq", "--delete", message, "-y", "--confirm-pbx", "hq"
    )
    assert code == 0, out + err
    assert fleet.call(lambda: message not in store.messages)
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    deletes = [a for a in audit if a["action"] == "voicemail_delete"]
    assert [a["result"] for a in deletes] == ["not-confirmed", "intent", "ok"]
    assert deletes[-1]["target"] == f"message {message}"
    code, out, err = run("--config", config, "voicemail", "hq", "--delete", message, "-y")
    assert code == 1 and "No such message" in out + err


@pytest.mark.parametrize("pbx", ["istanbul", "branch"])
def test_voicemail_is_refused_plainly_where_the_api_has_none(
    fleet: ThreadedFleet, pbx: str, tmp_path: Path
) -> None:
    config = str(fleet.config_path)
    code, _, err = run("--config", config, "voicemail", pbx)
    assert code == 1 and f"voicemail is not supported by {pbx}'s API" in err
    code, _, err = run("--config", config, "voicemail", pbx, "--delete", "1", "-y")
    assert code == 1 and "delete voicemail message is not supported by" in err
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [a["result"] for a in audit] == ["unsupported"]


def test_voicemail_options_that_do_not_go_together_are_usage_errors(
    fleet: ThreadedFleet, tmp_path: Path
) -> None:
    config = str(fleet.config_path)
    for args, said in (
        (["--get", "1"], "-o FILE"),
        (["--get", "1", "--delete", "1", "-o", str(tmp_path / "x")], "one of --get and --delete"),
        (["-o", str(tmp_path / "x")], "only to --get"),
    ):
        code, _, err = run("--config", config, "voicemail", "hq", *args)
        assert code == 2 and said in err, err
