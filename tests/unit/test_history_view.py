"""The History screen's pure parts: the progress line, the :history grammar, the CSV file,
and a finished call found in the history."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pbxtui.model import Call
from pbxtui.model.history import CSV_COLUMNS, CdrRecord, EndStatus, HistoryPage
from pbxtui.ui.commands import CommandError, parse_command
from pbxtui.ui.history_export import ExportError, write_csv
from pbxtui.ui.history_link import FinishedCall
from pbxtui.ui.history_load import PbxProgress

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def record(i: int, **fields: object) -> CdrRecord:
    values: dict[str, object] = {
        "pbx": "hq",
        "id": f"c{i}",
        "start": NOW - timedelta(hours=i),
        "caller": "0501234567",
        "callee": "201",
        "status": EndStatus.ANSWERED,
        "duration": 60,
    }
    values.update(fields)
    return CdrRecord(**values)  # type: ignore[arg-type]


def test_progress_says_rows_and_the_day_being_read() -> None:
    since = NOW - timedelta(days=7)
    progress = PbxProgress("hq")
    assert progress.line(since, NOW) == ("info", "reading hq… 0 rows, day 1 of 7")
    window = (NOW - timedelta(days=2, hours=3), NOW - timedelta(days=1))
    progress.took(HistoryPage(pbx="hq", records=(record(1),) * 1200, window=window, progress=0.3))
    assert progress.line(since, NOW) == ("info", "reading hq… 1,200 rows, day 3 of 7")
    progress.done = True
    progress.source = "SIMPLECDRS"
    assert progress.line(since, NOW) == ("info", "hq: 1,200 calls from SIMPLECDRS")
    progress.took(HistoryPage(pbx="hq", error="no answer within 5 s"))
    assert progress.line(since, NOW) == (
        "alert",
        "hq: stopped after 1,200 rows — no answer within 5 s",
    )


def test_progress_within_a_day_is_a_share() -> None:
    progress = PbxProgress("hq")
    progress.took(HistoryPage(pbx="hq", records=(record(1),), progress=0.45))
    assert progress.line(NOW - timedelta(hours=6), NOW)[1] == "reading hq… 1 rows, 45%"


def test_history_command_words() -> None:
    names = ["hq", "eu"]
    command = parse_command("history eu 0501234567 2d", names, NOW)
    assert command.kind == "history" and command.pbxs == ("eu",)
    assert command.needle == "0501234567" and command.since == NOW - timedelta(days=2)
    bare = parse_command("history", names, NOW)
    assert bare.pbxs is None and bare.needle == "" and bare.since is None
    assert parse_command("cdr all +972501234567", names, NOW).pbxs == ("hq", "eu")
    with pytest.raises(CommandError, match="not a time"):
        parse_command("history hq soon", names, NOW)
    with pytest.raises(CommandError, match="neither"):
        parse_command("history 1d 2d", names, NOW)


def test_csv_has_the_cli_header_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    size = write_csv(path, [record(1), record(2, caller="0529876543")], UTC)
    assert size == path.stat().st_size
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["caller"] for r in rows] == ["0501234567", "0529876543"]
    assert set(rows[0]) == set(CSV_COLUMNS)
    with pytest.raises(ExportError, match="exists"):
        write_csv(path, [record(3)], UTC)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3
    with pytest.raises(ExportError, match="no such directory"):
        write_csv(tmp_path / "nowhere" / "x.csv", [record(3)], UTC)


def test_masked_csv_hides_numbers_keeps_ids(tmp_path: Path) -> None:
    path = tmp_path / "masked.csv"
    write_csv(path, [record(1, unique_id="1741944400.12")], UTC, mask=True)
    with path.open(newline="", encoding="utf-8") as handle:
        (row,) = csv.DictReader(handle)
    assert row["caller"] != "0501234567" and "*" in row["caller"]
    assert row["unique_id"] == "1741944400.12" and row["id"] == "c1"


def test_a_finished_call_is_found_by_id_or_by_parties_and_start() -> None:
    call = Call(
        pbx="hq",
        id="SIP/201-0001",
        channel="SIP/201-0001",
        caller="0501234567",
        callee="201",
        duration=300,
        unique_id="1741944400.12",
        observed_at=NOW,
    )
    finished = FinishedCall(call, NOW + timedelta(seconds=2))
    started = NOW - timedelta(seconds=300)
    assert finished.matches(record(0, unique_id="1741944400.12", caller="x1"))
    assert finished.matches(record(0, start=started + timedelta(seconds=20)))
    assert not finished.matches(record(0, start=started + timedelta(minutes=5)))
    assert not finished.matches(record(0, start=started, callee="202"))
    assert not finished.matches(record(0, start=started, pbx="eu"))
    query = finished.query(NOW)
    assert query.since < started and query.until == NOW
