"""Call history over real HTTP to every vendor's simulator: the same calls read back as the
same normalized records (field names, status words, times in the PBX's zone), filters,
paging and limits, and the CloudPlus panel's session login."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from pbxtui.drivers import create_driver
from pbxtui.drivers.base import AuthRefused, BadAnswer, Driver, NotSupported
from pbxtui.model.history import CdrRecord, EndStatus, HistoryPage, HistoryQuery
from pbxtui.model.records import Direction
from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.dialup_cdrs import PanelQuirks
from pbxtui.sim.fleet import running_fleet
from tests.drivers.history_calls import FAR, OUTSIDE, Scripted, finished, still, three_calls

ZONE = "Asia/Jerusalem"


def make(kind: str, name: str = "pbx", *, timezone: str | None = ZONE, **options: Any) -> Any:
    spec = still(first_extension=201)
    if kind == "cloudplus":
        options.setdefault("brand", "cloudplus")
        kind = "dialup"
    return build_simulator(kind, name, spec=spec, timezone=timezone, **options)


@asynccontextmanager
async def drivers(*sims: SimulatedPbx, **overrides: Any) -> AsyncIterator[list[Driver]]:
    fleet = running_fleet(list(sims), **overrides)
    async with fleet as (config, _, _), httpx.AsyncClient() as client:
        yield [create_driver(pbx, client) for pbx in config.pbx]


async def read(driver: Driver, query: HistoryQuery) -> tuple[list[CdrRecord], list[HistoryPage]]:
    pages = [page async for page in driver.history(query)]
    return [r for page in pages for r in page.records], pages


def last_hours(hours: float = 2, **fields: Any) -> HistoryQuery:
    return HistoryQuery(since=datetime.now(UTC) - timedelta(hours=hours), **fields)


def without_cdr_token(sim: SimulatedPbx) -> SimulatedPbx:
    """A CloudPlus PBX configured with its panel's login only: history from Reports.php."""
    sim.credentials.pop("org_token")
    return sim


def vendor_sims() -> list[SimulatedPbx]:
    return [
        make("pbxcloud", "hq"),
        make("iexpbx", "ist"),
        make("dialup", "branch"),
        without_cdr_token(make("cloudplus", "cloud")),
    ]


async def test_every_vendor_reads_the_same_calls_as_the_same_records() -> None:
    sims = vendor_sims()
    scripted = [three_calls(sim.scenario) for sim in sims]
    async with drivers(*sims) as found:
        for sim, driver, calls in zip(sims, found, scripted, strict=True):
            records, _ = await read(driver, last_hours())
            assert len(records) == 3, sim.name
            by_start = {r.start: r for r in records}
            for label, call in calls.items():
                record = by_start[call.start]  # the PBX's local time read in its zone
                check_record(sim, label, call, record)


def check_record(sim: SimulatedPbx, label: str, call: Scripted, record: CdrRecord) -> None:
    where = f"{sim.name} {label}"
    assert record.pbx == sim.name
    assert record.start.utcoffset() is not None
    assert record.duration == int(call.ended - call.started), where
    caller, callee = call.call.caller, call.call.callee
    assert (record.caller, record.callee) == (caller, callee), where
    if label == "inbound":
        assert (record.direction, record.status) == (Direction.INBOUND, EndStatus.ANSWERED), where
        assert record.answered_by == callee and record.status_raw == "ANSWERED", where
    elif label == "outbound":
        assert (record.direction, record.status) == (Direction.OUTBOUND, EndStatus.ANSWERED), where
        assert record.answered_by == FAR, where
    else:
        assert record.direction is Direction.INTERNAL, where
        assert record.status is EndStatus.NO_ANSWER and record.status_raw == "NO ANSWER", where
        assert record.answered_by == "" and record.recording == "", where
    if label != "missed":
        assert record.recording, where  # something the recordings code can fetch
        assert record.recorded in (True, None), where


async def test_a_call_that_ended_in_the_scenario_is_in_its_history() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    async with drivers(sim) as (driver,):
        before, _ = await read(driver, last_hours())
        assert before == []
        scenario = sim.scenario
        call = finished(scenario, caller=OUTSIDE, callee="205", direction="inbound", ago=120)
        after, _ = await read(driver, last_hours())
    assert [r.unique_id for r in after] == [call.unique_id]
    assert after[0].start == call.start


@pytest.mark.parametrize("kind", ["pbxcloud", "iexpbx", "dialup", "cloudplus"])
async def test_times_are_read_in_the_zone_the_config_names(kind: str) -> None:
    """The PBX writes Jerusalem's wall clock; a config that says UTC reads it hours off, a
    config that says nothing reads it as this machine's (here both sides agree)."""
    right, wrong = make(kind, "right"), make(kind, "wrong")
    local = make(kind, "local", timezone=None)
    if kind == "cloudplus":
        for sim in (right, wrong, local):
            without_cdr_token(sim)
    wrong.credentials["timezone"] = "UTC"
    calls = {
        sim.name: finished(
            sim.scenario, caller=OUTSIDE, callee="205", direction="inbound", ago=3 * 3600
        )
        for sim in (right, wrong, local)
    }
    async with drivers(right, wrong, local) as found:
        starts = {}
        for driver in found:
            (record,), _ = await read(driver, last_hours(8))
            starts[driver.name] = record.start
    assert starts["right"] == calls["right"].start
    assert starts["local"] == calls["local"].start
    offset = calls["wrong"].start.astimezone(right_zone()).utcoffset()
    assert starts["wrong"] - calls["wrong"].start == offset


def right_zone() -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(ZONE)


@pytest.mark.parametrize("kind", ["pbxcloud", "iexpbx", "dialup", "cloudplus"])
async def test_filters_mean_the_same_everywhere(kind: str) -> None:
    sim = make(kind)
    if kind == "cloudplus":
        without_cdr_token(sim)
    calls = three_calls(sim.scenario)
    async with drivers(sim) as (driver,):
        by_number, _ = await read(driver, last_hours(number="050-123 4567"))
        answered, _ = await read(driver, last_hours(statuses=frozenset({EndStatus.ANSWERED})))
        long, _ = await read(driver, last_hours(min_duration=40))
        extension, _ = await read(driver, last_hours(number=calls["missed"].call.callee))
    assert [r.start for r in by_number] == [calls["inbound"].start]
    assert {r.start for r in answered} == {calls["inbound"].start, calls["outbound"].start}
    assert [r.start for r in long] == [calls["inbound"].start]  # 65 s; the outbound 35 s
    assert [r.start for r in extension] == [calls["missed"].start]


async def test_days_are_pages_newest_first_and_a_limit_stops_asking() -> None:
    sim = make("pbxcloud", "hq")
    for days in (0, 1, 2):
        for minute in (10, 20):
            finished(
                sim.scenario,
                caller=OUTSIDE,
                callee="205",
                direction="inbound",
                ago=days * 86400 + minute * 60,
            )
    async with drivers(sim) as (driver,):
        records, pages = await read(driver, last_hours(24 * 3 + 1))
        asked = sim.faults.requests
        limited, short = await read(driver, last_hours(24 * 3 + 1, limit=3))
        asked_limited = sim.faults.requests - asked
    starts = [r.start for r in records]
    assert len(records) == 6 and starts == sorted(starts, reverse=True)
    assert len(pages) >= 4  # each local day the range touches is one page
    progress = [page.progress for page in pages]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert all(p.window is not None and p.window[0] < p.window[1] for p in pages)
    assert [r.start for r in limited] == starts[:3]
    assert asked_limited == len(short) < len(pages)  # no day asked past the limit


async def test_a_row_on_two_days_is_kept_once() -> None:
    """IEXPBX reads date2 inclusively (to the minute): midnight's call comes back twice."""
    sim = make("iexpbx", "ist")
    now = datetime.fromtimestamp(sim.scenario.now, right_zone())
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if (now - midnight).total_seconds() < 120:
        midnight -= timedelta(days=1)
    ago = sim.scenario.now - midnight.timestamp() - 30  # 00:00:30, Jerusalem's time
    call = finished(sim.scenario, caller=OUTSIDE, callee="205", direction="inbound", ago=ago)
    assert call.start.astimezone(right_zone()).strftime("%H:%M") == "00:00"
    async with drivers(sim) as (driver,):
        records, pages = await read(driver, last_hours(48))
    assert [r.id for r in records] == [records[0].id] and len(pages) >= 2


async def test_pbx_cloud_cdrs_in_csv_read_as_simplecdrs_do() -> None:
    sim = make("pbxcloud", "hq")
    three_calls(sim.scenario)
    async with drivers(sim, cdr_source="cdrs") as (csv_driver,):
        assert csv_driver.history_source() == "INFO cdrs (CSV)"
        from_csv, _ = await read(csv_driver, last_hours())
    async with drivers(sim) as (json_driver,):
        from_json, _ = await read(json_driver, last_hours())
    fields = ("id", "start", "direction", "caller", "callee", "status", "duration", "answered_by")
    assert [[getattr(r, f) for f in fields] for r in from_csv] == [
        [getattr(r, f) for f in fields] for r in from_json
    ]
    inbound = next(r for r in from_csv if r.direction is Direction.INBOUND)
    assert (inbound.billable, inbound.recorded) == (60, True)  # what only CDRS says
    assert all(r.billable is None and r.recorded is None for r in from_json)


async def test_a_pbx_cloud_recording_reference_fetches_audio() -> None:
    sim = make("pbxcloud", "hq")
    calls = three_calls(sim.scenario)
    async with drivers(sim) as (driver,):
        records, _ = await read(driver, last_hours())
        inbound = next(r for r in records if r.unique_id == calls["inbound"].unique_id)
        response = await driver.http.client.get(
            driver.config.url,
            params={
                "reqtype": "INFO",
                "info": "recording",
                "id": inbound.recording,
                "tenant": "ACME",
                "key": sim.credentials["key"],
                "format": "json",
            },
        )
    assert response.headers["content-type"].startswith("audio/")
    with wave.open(io.BytesIO(response.content)) as audio:
        assert audio.getframerate() == 8000 and audio.getnframes() == 60 * 8000


async def test_dialup_without_a_token_or_panel_has_no_history_api() -> None:
    sim = make("dialup", "branch")
    sim.credentials.pop("org_token")
    async with drivers(sim) as (driver,):
        assert driver.history_source() == ""
        with pytest.raises(NotSupported, match="set org_token"):
            await read(driver, last_hours())


async def test_a_wrong_org_token_is_refused_credentials() -> None:
    sim = make("dialup", "branch")
    sim.credentials["org_token"] = "not-the-token"
    async with drivers(sim) as (driver,):
        with pytest.raises(AuthRefused, match="org_token"):
            await read(driver, last_hours())


async def test_cdr_php_applies_its_duration_operators() -> None:
    sim = make("dialup", "branch")
    three_calls(sim.scenario)
    token = sim.credentials["org_token"]
    async with drivers(sim) as (driver,):
        url = driver.config.url.replace("dialup.php", "cdr.php")
        client = driver.http.client

        async def durations(expression: str) -> list[str]:
            form = {"org_token": token, "call_duration": expression}
            answer = (await client.post(url, data=form)).json()
            return sorted(row["call_duration"] for row in answer["data"])

        assert await durations(">30") == ["35", "65"]
        assert await durations("<=35") == ["20", "35"]
        assert await durations("=20") == ["20"]
        assert await durations("65") == ["65"]


async def test_cloudplus_logs_into_its_panel_once_and_again_when_the_session_ends() -> None:
    sim = without_cdr_token(make("cloudplus", "cloud"))
    three_calls(sim.scenario)
    panel = sim.extra["sim"].panel
    async with drivers(sim) as (driver,):
        assert driver.history_source() == "the CloudPlus panel's Reports.php"
        first, _ = await read(driver, last_hours())
        again, _ = await read(driver, last_hours())
        assert panel.logins == 1  # the session cookie was kept
        panel.expire()
        after, _ = await read(driver, last_hours())
    assert panel.logins == 2
    assert len(first) == len(again) == len(after) == 3


@pytest.mark.parametrize("refusal", ["fail", "login_page"])
async def test_a_refused_panel_login_is_refused_credentials(refusal: str) -> None:
    """The API user is not the panel user: the panel answers fail, or its login form."""
    sim = without_cdr_token(make("cloudplus", "cloud", panel_quirks=PanelQuirks(refusal=refusal)))  # type: ignore[arg-type]
    sim.credentials["panel_user"] = sim.credentials["user"]  # the API user, as one might try
    async with drivers(sim) as (driver,):
        with pytest.raises(AuthRefused, match="not the API user") as caught:
            await read(driver, last_hours())
    assert sim.credentials["panel_pass"] not in str(caught.value)


async def test_a_broken_answer_is_this_pbx_s_bad_answer() -> None:
    sims = [make("pbxcloud", "hq"), make("iexpbx", "ist"), make("dialup", "branch")]
    for sim in sims:
        three_calls(sim.scenario)
        sim.faults.update({"garbage": True})
    async with drivers(*sims) as found:
        for driver in found:
            with pytest.raises(BadAnswer) as caught:
                await read(driver, last_hours())
            assert caught.value.pbx == driver.name
