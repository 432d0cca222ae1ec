"""What the headless commands write stays readable: one timestamp form in JSON, and an
identifier quoted back in a message cut when it is long."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from click.testing import CliRunner

from pbxtui.cli import main
from pbxtui.headless import json_time, snapshot_document
from pbxtui.model import BlfLamp, Capabilities, LampKind, PbxHealth, PbxState, Resource
from pbxtui.model.state import ResourceState
from tests.cli.conftest import ThreadedFleet

UTC_FORM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
TIME_KEYS = {"generated_at", "observed_at", "started_at", "since", "paused_since", "last_ok"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def times_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in TIME_KEYS and isinstance(v, str)]
        return found + [t for v in value.values() for t in times_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in times_in(v)]
    return []


def test_snapshot_json_writes_every_timestamp_in_one_form(fleet: ThreadedFleet) -> None:
    code, out, err = run("--config", str(fleet.config_path), "snapshot", "--json")
    assert code == 0, err
    times = times_in(json.loads(out))
    assert len(times) > 10
    assert [t for t in times if not UTC_FORM.match(t)] == []


def test_a_vendor_offset_is_written_in_utc() -> None:
    istanbul = timezone(timedelta(hours=3))
    lamp = BlfLamp(
        pbx="hq",
        id="201",
        label="201",
        kind=LampKind.EXTENSION,
        since=datetime(2026, 1, 2, 13, 0, tzinfo=istanbul),
    )
    state = PbxState(
        name="hq",
        kind="pbxcloud",
        capabilities=Capabilities(resources=frozenset({Resource.BLF}), actions=frozenset()),
        health=PbxHealth(pbx="hq", kind="pbxcloud", last_ok=datetime(2026, 1, 2, tzinfo=UTC)),
        resources={Resource.BLF: ResourceState(records=(lamp,))},
    )
    document = snapshot_document({"hq": state})
    assert document["pbx"][0]["blf"][0]["since"] == "2026-01-02T10:00:00Z"
    assert document["pbx"][0]["health"]["last_ok"] == "2026-01-02T00:00:00Z"
    assert json_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_a_long_call_id_is_cut_in_the_message(fleet: ThreadedFleet) -> None:
    pasted = "SIP/" + "x" * 10_000
    code, _, err = run("--config", str(fleet.config_path), "hangup", "hq", pasted, "--yes")
    assert code == 4
    assert "(10004 characters)" in err
    assert len(err) < 400
