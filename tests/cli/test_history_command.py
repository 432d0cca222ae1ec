"""``pbxtui history`` as a user runs it, against the demo's simulators over loopback."""

from __future__ import annotations

import csv
import io
import json
import time
import tomllib
from pathlib import Path

import pytest

from pbxtui.model.history import CSV_COLUMNS
from pbxtui.sim.fleet import toml_value
from tests.cli.conftest import ThreadedFleet
from tests.cli.test_commands import run, secrets_of

STATUSES = {"answered", "no_answer", "busy", "failed", "congestion", "cancelled", "abandoned"}


def ended_since(fleet: ThreadedFleet, pbx: str, seconds: float) -> set[str]:
    """The scenario's calls that began in the last ``seconds`` and have ended: by unique id."""
    scenario = fleet.sims[pbx].scenario

    def collect() -> set[str]:
        low = time.time() - seconds
        return {e.call.linked_id for e in scenario.ended if e.call.started >= low}

    return fleet.call(collect)


@pytest.mark.parametrize("pbx", ["hq", "istanbul", "branch", "eu"])
def test_history_json_lists_the_demo_s_finished_calls_normalized(
    fleet: ThreadedFleet, pbx: str
) -> None:
    before = ended_since(fleet, pbx, 14 * 60)
    code, out, err = run(
        "--config", str(fleet.config_path), "history", pbx, "--since", "15m", "--json"
    )
    assert code == 0, err
    document = json.loads(out)
    assert (document["schema"], document["pbx"], document["complete"]) == (1, pbx, True)
    assert document["count"] == len(document["records"]) >= len(before) > 0
    for record in document["records"]:
        assert list(record) == [c for c in CSV_COLUMNS if c != "start_utc"]
        assert record["start"].endswith("Z") and record["status"] in STATUSES
        assert record["direction"] in {"inbound", "outbound", "internal"}
        assert isinstance(record["duration"], int) and record["source"] == "cdr"
    starts = [r["start"] for r in document["records"]]
    assert starts == sorted(starts, reverse=True)
    if pbx != "istanbul":  # IEXPBX's rows carry their CDR id, not the unique id
        listed = {r["unique_id"] for r in document["records"]}
        assert before <= listed <= ended_since(fleet, pbx, 16 * 60)
    for secret in secrets_of(fleet):
        assert secret not in out + err


def test_history_csv_has_a_header_and_a_row_per_call(fleet: ThreadedFleet) -> None:
    code, out, _ = run(
        "--config", str(fleet.config_path), "history", "branch", "--since", "1h", "--csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(next(csv.reader(io.StringIO(out)))) == CSV_COLUMNS
    assert rows and all(row["pbx"] == "branch" for row in rows)
    assert all(len(row["start"]) == 19 and row["start_utc"].endswith("Z") for row in rows)


def test_history_limit_number_and_status(fleet: ThreadedFleet) -> None:
    path = str(fleet.config_path)
    _, out, _ = run("--config", path, "history", "hq", "--since", "1h", "--json")
    records = json.loads(out)["records"]
    number = next(r["caller"] for r in records if len(r["caller"]) >= 7)
    _, out, _ = run("--config", path, "history", "hq", "--since", "1h", "--json", "--limit", "2")
    assert [r["id"] for r in json.loads(out)["records"]] == [r["id"] for r in records[:2]]
    _, out, _ = run(
        "--config", path, "history", "hq", "--since", "1h", "--json", "--number", number
    )
    assert {r["caller"] for r in json.loads(out)["records"]} == {number}
    code, out, _ = run(
        "--config", path, "history", "hq", "--since", "1h", "--json", "--status", "answered"
    )
    assert code == 0 and {r["status"] for r in json.loads(out)["records"]} == {"answered"}


def test_history_masked_keeps_ids_and_masks_numbers(fleet: ThreadedFleet) -> None:
    path = str(fleet.config_path)
    _, plain, _ = run("--config", path, "history", "branch", "--since", "1h", "--json")
    _, masked, _ = run(
        "--config", path, "--mask-numbers", "history", "branch", "--since", "1h", "--json"
    )
    shown = {r["id"]: r for r in json.loads(masked)["records"]}
    outside = [r for r in json.loads(plain)["records"] if len(r["caller"]) >= 7]
    assert outside
    for record in outside:
        hidden = shown[record["id"]]  # ids are kept: a later command can take them back
        assert hidden["caller"] != record["caller"] and "*" in hidden["caller"]
        assert record["caller"] not in masked
        assert hidden["start"] == record["start"]
    _, text, _ = run("--config", path, "--mask-numbers", "history", "branch", "--since", "1h")
    assert not any(r["caller"] in text for r in outside)


def test_history_text_names_the_source_and_one_call_a_line(fleet: ThreadedFleet) -> None:
    code, out, _ = run("--config", str(fleet.config_path), "history", "istanbul", "--since", "1h")
    assert code == 0
    head, *lines = out.splitlines()
    assert head.startswith("istanbul (iexpbx): ") and "calls from cdr" in head
    assert lines and all("→" in line for line in lines)


def without(fleet: ThreadedFleet, path: Path, pbx: str, key: str) -> Path:
    data = tomllib.loads(fleet.config_path.read_text(encoding="utf-8"))
    out = []
    for entry in data["pbx"]:
        if entry["name"] == pbx:
            entry.pop(key)
        out += ["[[pbx]]", *(f"{k} = {toml_value(v)}" for k, v in entry.items()), ""]
    path.write_text("\n".join(out), encoding="utf-8")
    return path


def test_history_exit_codes(fleet: ThreadedFleet, tmp_path: Path) -> None:
    path = str(fleet.config_path)
    assert run("--config", path, "history", "nope")[0] == 2
    assert run("--config", path, "history", "hq", "--json", "--csv")[0] == 2
    assert run("--config", path, "history", "hq", "--since", "soon")[0] == 2
    code, _, err = run("--config", path, "history", "hq", "--since", "1h", "--until", "2h")
    assert code == 2 and "--since must be before --until" in err
    no_token = without(fleet, tmp_path / "no-token.toml", "branch", "org_token")
    code, out, err = run("--config", str(no_token), "history", "branch")
    assert code == 1 and "set org_token" in err
    fleet.call(lambda: fleet.sims["eu"].faults.update({"auth_refused": True}))
    code, out, err = run("--config", path, "history", "eu", "--json")
    document = json.loads(out)
    assert code == 1 and document["complete"] is False and document["records"] == []
    assert "mistaken the security api key" in err and "mistaken" in document["error"]
