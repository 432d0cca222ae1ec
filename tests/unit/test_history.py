"""The history model, its vocabulary, local days and times, and the config it needs (pure)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from pbxtui.config import ConfigError, parse_config
from pbxtui.drivers.history import (
    aware,
    day_windows,
    direction_of,
    direction_word,
    end_status,
    parse_local,
)
from pbxtui.headless_history import parse_when
from pbxtui.model.history import CSV_COLUMNS, CdrRecord, EndStatus, HistoryQuery, csv_row
from pbxtui.model.records import Direction
from pbxtui.redact import scrub
from tests.conftest import toml_config

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
JERUSALEM = zoneinfo.ZoneInfo("Asia/Jerusalem")


def record(**fields: object) -> CdrRecord:
    values: dict[str, object] = {"pbx": "hq", "id": "1", "start": T0, "caller": "0501234567"}
    values.update(fields)
    return CdrRecord(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("ANSWERED", EndStatus.ANSWERED),
        ("ANSWER", EndStatus.ANSWERED),
        ("ANSER", EndStatus.ANSWERED),  # IEXPBX's hang-up webhook
        ("NO ANSWER", EndStatus.NO_ANSWER),
        ("NOANSWER", EndStatus.NO_ANSWER),
        ("no_answer", EndStatus.NO_ANSWER),
        ("Busy", EndStatus.BUSY),
        ("FAILED", EndStatus.FAILED),
        ("CONGESTION", EndStatus.CONGESTION),
        ("CANCEL", EndStatus.CANCELLED),
        ("ABANDONE", EndStatus.ABANDONED),  # GlobalEx
        ("ABANDONED", EndStatus.ABANDONED),
        ("", EndStatus.UNKNOWN),
        ("weird", EndStatus.UNKNOWN),
    ],
)
def test_every_vendor_s_status_word_becomes_one_of_history_s(raw: str, status: EndStatus) -> None:
    assert end_status(raw) is status


def test_directions_from_words_and_from_the_parties() -> None:
    assert direction_word("outcoming") is Direction.OUTBOUND  # IEXPBX, sic
    assert direction_word("IN") is Direction.INBOUND
    assert direction_word("LOCAL") is Direction.INTERNAL
    assert direction_word("sideways") is Direction.UNKNOWN
    assert direction_of("201", "0501234567") is Direction.OUTBOUND
    assert direction_of("0501234567", "201") is Direction.INBOUND
    assert direction_of("201", "202") is Direction.INTERNAL
    assert direction_of("0501234567", "0529876543") is Direction.UNKNOWN


def test_local_times_are_read_in_the_pbx_s_zone() -> None:
    read = parse_local("23.11.2026 12:00:00", ("%d.%m.%Y %H:%M:%S",), JERUSALEM)
    assert read == T0  # 12:00 in Jerusalem is 10:00 UTC in November
    assert parse_local("0000-00-00 00:00:00", ("%Y-%m-%d %H:%M:%S",), JERUSALEM) is None
    assert parse_local("yesterday", ("%Y-%m-%d",), JERUSALEM) is None
    here = parse_local("2026-11-23 12:00:00", ("%Y-%m-%d %H:%M:%S",), None)
    assert here == datetime(2026, 11, 23, 12, 0).astimezone()  # this machine's own rules


def test_days_are_the_pbx_s_local_days_newest_first_across_a_clock_change() -> None:
    """Israel's summer time ended on 2026-10-25 at 02:00: that day lasted 25 hours."""
    since = aware(datetime(2026, 10, 24, 12, 0), JERUSALEM)
    until = aware(datetime(2026, 10, 26, 12, 0), JERUSALEM)
    windows = list(day_windows(since, until, JERUSALEM))
    assert [day.isoformat() for day, _, _ in windows] == ["2026-10-26", "2026-10-25", "2026-10-24"]
    assert [end.astimezone(UTC) - start.astimezone(UTC) for _, start, end in windows] == [
        timedelta(hours=12),
        timedelta(hours=25),
        timedelta(hours=12),
    ]
    assert windows[0][2] == until and windows[-1][1] == since
    midnight = aware(datetime(2026, 10, 26), JERUSALEM)
    assert [d.isoformat() for d, _, _ in day_windows(since, midnight, JERUSALEM)] == [
        "2026-10-25",
        "2026-10-24",
    ]


def test_a_query_needs_an_aware_range_that_is_not_empty() -> None:
    with pytest.raises(ValidationError, match="aware"):
        HistoryQuery(since=datetime(2026, 11, 23))
    with pytest.raises(ValidationError, match="empty"):
        HistoryQuery(since=T0, until=T0)
    with pytest.raises(ValidationError, match="longer than a year"):
        HistoryQuery(since=T0 - timedelta(days=400), until=T0)
    with pytest.raises(ValidationError, match="no digits"):
        HistoryQuery(since=T0, until=T0 + timedelta(hours=1), number="alice")
    with pytest.raises(ValidationError):
        HistoryQuery(since=T0, until=T0 + timedelta(hours=1), limit=0)


def test_a_query_matches_the_same_way_for_every_vendor() -> None:
    query = HistoryQuery(since=T0, until=T0 + timedelta(hours=1))
    assert query.matches(record())
    assert not query.matches(record(start=T0 + timedelta(hours=1)))  # until is exclusive
    assert not query.matches(record(start=T0 - timedelta(seconds=1)))
    by_number = query.model_copy(update={"number": "+972 50-123 4567"[5:]})
    assert by_number.matches(record()) and not by_number.matches(record(caller="0529876543"))
    agent = query.model_copy(update={"number": "205"})
    assert agent.matches(record(answered_by="205"))
    answered = query.model_copy(update={"statuses": frozenset({EndStatus.ANSWERED})})
    assert not answered.matches(record(status=EndStatus.BUSY))
    long = query.model_copy(update={"min_duration": 60})
    assert long.matches(record(duration=60)) and not long.matches(record(duration=59))
    assert not long.matches(record())  # unknown duration: not known to be long enough


def test_a_record_s_start_is_aware_and_its_csv_row_has_every_column() -> None:
    with pytest.raises(ValidationError, match="aware"):
        record(start=datetime(2026, 11, 23, 10, 0))
    row = csv_row(record(recorded=True, duration=5), JERUSALEM)
    assert tuple(row) == CSV_COLUMNS
    assert (row["start"], row["start_utc"]) == ("2026-11-23 12:00:00", "2026-11-23T10:00:00Z")
    assert (row["recorded"], row["duration"], row["billable"]) == ("yes", "5", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2h", T0 - timedelta(hours=2)),
        ("1d12h", T0 - timedelta(hours=36)),
        ("90m", T0 - timedelta(minutes=90)),
        ("1w", T0 - timedelta(days=7)),
        ("now", T0),
        ("2026-11-23T08:00Z", datetime(2026, 11, 23, 8, tzinfo=UTC)),
        ("2026-11-23 11:00+03:00", datetime(2026, 11, 23, 8, tzinfo=UTC)),
        ("2026-11-23 08:00", datetime(2026, 11, 23, 8).astimezone()),
        ("2026-11-23", datetime(2026, 11, 23).astimezone()),
    ],
)
def test_command_line_times(text: str, expected: datetime) -> None:
    assert parse_when(text, now=T0) == expected


def test_command_line_today_and_nonsense() -> None:
    today = parse_when("today", now=T0)
    assert today.hour == 0 and parse_when("yesterday", now=T0) == today - timedelta(days=1)
    with pytest.raises(ValueError, match="is not a time"):
        parse_when("soon", now=T0)


# -- config ------------------------------------------------------------------------------------
BASE = {"name": "hq", "kind": "pbxcloud", "url": "https://h/pbx/proxyapi.php", "tenant": "A"}
DIALUP = {
    "name": "branch",
    "kind": "dialup",
    "url": "https://voip.example.co.il/API/dialup.php",
    "user": "webuser",
    "pass": "secret-pass",
    "org": "org",
    "extensions": ["101"],
}


def test_a_timezone_is_a_zoneinfo_name_and_a_typo_is_caught() -> None:
    config = parse_config(toml_config([BASE | {"key": "k3y-value", "timezone": "Asia/Jerusalem"}]))
    assert config.pbx[0].zone == JERUSALEM
    default = parse_config(toml_config([BASE | {"key": "k3y-value"}]))
    assert default.pbx[0].timezone is None and default.pbx[0].zone is None
    with pytest.raises(ConfigError) as caught:
        parse_config(toml_config([BASE | {"key": "k3y-value", "timezone": "Europe/Istambul"}]))
    message = str(caught.value)
    assert 'field "timezone"' in message and 'did you mean "Europe/Istanbul"' in message


def test_dialup_history_settings() -> None:
    entry = DIALUP | {"org_token": "tok-secret-42", "panel_user": "cpadmin", "panel_pass": "pw-9"}
    config = parse_config(toml_config([entry])).pbx[0]
    assert config.kind == "dialup"
    assert config.cdr_endpoint == "https://voip.example.co.il/API/cdr.php"
    assert config.panel_endpoint == "https://voip.example.co.il/"
    assert scrub("sent tok-secret-42 and pw-9") == "sent *** and ***"
    with pytest.raises(ConfigError, match="give both panel_user and panel_pass"):
        parse_config(toml_config([DIALUP | {"panel_user": "cpadmin"}]))
    with pytest.raises(ConfigError, match="without a query string"):
        parse_config(toml_config([DIALUP | {"cdr_url": "https://h/cdr.php?org_token=x"}]))
