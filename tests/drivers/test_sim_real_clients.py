"""The simulators as real third-party clients of these APIs see them, over loopback HTTP: what
those clients send, and what they check in the answer (vendor-notes §7). Each test is one
defect the clients found; the old behaviour is kept behind a quirk, and shown failing."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pbxtui.drivers import create_driver
from pbxtui.drivers.base import Driver
from pbxtui.model.records import Call, LineState
from pbxtui.sim import SimulatedPbx
from pbxtui.sim.dialup import CHSTATUS_PATH
from pbxtui.sim.dialup import Quirks as DialupQuirks
from pbxtui.sim.dialup import build as build_dialup
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.pbxcloud import HTML_TYPE
from pbxtui.sim.pbxcloud import Quirks as CloudQuirks
from pbxtui.sim.pbxcloud import build as build_cloud
from tests.drivers.history_calls import OUTSIDE, finished, still, three_calls

SYNTAX_INDEX = Path(__file__).resolve().parents[2] / "pbxtui" / "sim" / "pbxcloud_help.txt"
REQTYPES = (
    "COUNTPEERS", "COUNTCHANNELS", "PEERS", "BLFS", "FLOWS", "CHANNELS", "PHONEBOOK", "INFO",
    "AGENT", "ATXTRANSFER", "CAMPAIGN", "DIAL", "HANGUP", "MEDIAFILE", "QUEUERESET", "REBOOT",
    "RESPONSEPATH", "SETFLOW", "TRANSFER", "UNREGISTER", "VOICEMAIL", "COUNTCALLS", "BALANCE",
    "MANAGEDB", "CHECKAUTH",
)  # fmt: skip


class Client:
    """A real client of one simulator: its own HTTP client, credentials filled in."""

    def __init__(self, sim: SimulatedPbx, url: str, http: httpx.AsyncClient) -> None:
        self.sim, self.url, self.http = sim, url, http

    async def cloud(self, reqtype: str, **params: str) -> httpx.Response:
        creds = {"tenant": self.sim.credentials["tenant"], "key": self.sim.credentials["key"]}
        return await self.http.get(self.url, params={"reqtype": reqtype, **creds, **params})

    async def dialup(self, path: str = "", **params: str) -> httpx.Response:
        creds = {k: self.sim.credentials[k] for k in ("user", "pass", "org")}
        url = self.url.replace("/API/dialup.php", path) if path else self.url
        return await self.http.get(url, params={**creds, **params})


@asynccontextmanager
async def client_of(sim: SimulatedPbx, **overrides: Any) -> AsyncIterator[tuple[Client, Driver]]:
    async with running_fleet([sim], **overrides) as (config, _, _), httpx.AsyncClient() as http:
        yield Client(sim, config.pbx[0].url, http), create_driver(config.pbx[0], http)


def cloud(quirks: CloudQuirks | None = None, **options: Any) -> SimulatedPbx:
    return build_cloud("hq", spec=still(first_extension=201), quirks=quirks, **options)


def pinned_at(sim: SimulatedPbx, hour: int, minute: int = 0) -> SimulatedPbx:
    """The simulator's clock stopped at ``hour:minute`` today (this machine's time, as the
    simulator's): a request without dates reads "today so far", which just after midnight
    holds none of the calls scripted minutes before (a CI run at 00:04 saw a lone "]")."""
    moment = datetime.combine(date.today(), time(hour, minute)).astimezone().timestamp()
    sim.scenario.now = moment
    sim.scenario.clock = lambda: moment
    return sim


# -- PBX Cloud ---------------------------------------------------------------------------------
@pytest.mark.parametrize("old", [False, True])
async def test_help_answers_the_whole_syntax_index(old: bool) -> None:
    """A PHP client checks HELP contains "reqtype - Request type" (it got one title line)."""
    async with client_of(cloud(CloudQuirks(help_title_only=old))) as (client, _):
        text = (await client.cloud("HELP")).text
    whole = "reqtype - Request type" in text and all(f"\n{r}" in text for r in REQTYPES)
    assert whole is not old
    if not old:
        assert text == SYNTAX_INDEX.read_text(encoding="utf-8")
        assert text.startswith("PBX Cloud - API Syntax index")


@pytest.mark.parametrize("old", [False, True])
async def test_countpeers_counts_each_node_and_a_total_that_is_their_sum(old: bool) -> None:
    sim = cloud(CloudQuirks(countpeers_empty=old))
    async with client_of(sim) as (client, _):
        answer = await client.cloud("COUNTPEERS", format="json")
        plain = await client.cloud("COUNTPEERS")
        peers = (await client.cloud("PEERS", format="json")).json()
    if old:
        assert answer.content == b""
        return
    counts = answer.json()
    nodes = {k: v for k, v in counts.items() if k != "total"}
    assert len(nodes) >= 2 and all(isinstance(v, int) for v in counts.values())
    assert counts["total"] == sum(nodes.values()) > 0  # what the PHP client asserts
    registered = [p for p in peers if p["Status"].startswith(("OK", "LAGGED"))]
    for node, count in nodes.items():
        assert count == sum(1 for p in registered if p["node"] == node), node
    assert plain.text == "".join(f"{node}:{count}|" for node, count in counts.items())


async def test_simplecdrs_as_the_python_client_asks_lists_the_calls() -> None:
    """``reqtype=INFO&info=SIMPLECDRS&start=…&end=…`` with end a day past the last wanted."""
    sim = pinned_at(cloud(), 12)
    calls = three_calls(sim.scenario)
    today = date.today()
    async with client_of(sim) as (client, _):
        spans = {
            "today": (today, today + timedelta(days=1)),
            "end exclusive": (today, today),
            "yesterday": (today - timedelta(days=1), today),
        }
        answers = {
            name: await client.cloud(
                "INFO", info="SIMPLECDRS", start=a.isoformat(), end=b.isoformat(), format="json"
            )
            for name, (a, b) in spans.items()
        }
        one = await client.cloud("INFO", info="SIMPLECDRS", calleridnum=OUTSIDE, format="json")
    rows = answers["today"].json()
    assert {row["sc_uniqueid"] for row in rows} == {c.unique_id for c in calls.values()}
    for row in rows:
        named = [k for k in row if not k.isdigit()]
        assert named[:3] == ["sc_te_id", "tenantcode", "sc_start"]
        assert [row[str(i)] for i in range(len(named))] == [row[k] for k in named]  # FETCH_BOTH
        assert all(isinstance(v, str) for v in row.values())
        assert row["sc_direction"] in ("IN", "OUT", "LOCAL")
    assert answers["end exclusive"].content == b""  # no rows: 0 bytes
    assert [r["sc_calleridnum"] for r in one.json()] == [OUTSIDE]


@pytest.mark.parametrize("old", [False, True])
async def test_info_cdrs_lists_rows_in_json_and_csv(old: bool) -> None:
    sim = pinned_at(cloud(CloudQuirks(cdrs_empty=old)), 12)
    three_calls(sim.scenario)
    async with client_of(sim) as (client, _):
        data = await client.cloud("INFO", info="cdrs", format="json")
        table = await client.cloud("INFO", info="cdrs", format="csv")
        simple = await client.cloud("INFO", info="simplecdrs", format="json")
    if old:
        assert data.content == table.content == simple.content == b""
        return
    assert len(data.json()) == 3 and len(simple.json()) == 3
    lines = table.text.splitlines()
    assert lines[0].startswith("cd_id,cd_te_id,tenantcode,cd_start") and len(lines) == 4
    assert table.headers["content-type"].startswith("text/csv")


async def test_info_cdrs_without_dates_reads_today_so_far() -> None:
    """Five minutes past midnight, calls of a quarter of an hour ago are yesterday's."""
    sim = pinned_at(cloud(), 0, 5)
    three_calls(sim.scenario)
    yesterday, today = date.today() - timedelta(days=1), date.today()
    async with client_of(sim) as (client, _):
        undated = await client.cloud("INFO", info="cdrs", format="json")
        dated = await client.cloud(
            "INFO", info="cdrs", start=yesterday.isoformat(), end=today.isoformat(), format="json"
        )
    assert undated.text == "]" and len(dated.json()) == 3


async def test_info_cdrs_without_rows_is_a_lone_bracket() -> None:
    async with client_of(cloud()) as (client, _):
        assert (await client.cloud("INFO", info="cdrs", format="json")).text == "]"


@pytest.mark.parametrize("old", [False, True])
async def test_info_recording_answers_audio_or_says_no_id(old: bool) -> None:
    """A client accepts a recording only with an audio/* type; 0 bytes of text/html was all."""
    sim = cloud(CloudQuirks(recording_empty=old))
    calls = three_calls(sim.scenario)
    async with client_of(sim) as (client, _):
        audio = await client.cloud("INFO", info="recording", id=calls["inbound"].unique_id)
        missed = await client.cloud("INFO", info="recording", id=calls["missed"].unique_id)
        no_id = await client.cloud("INFO", info="recording", format="json")
        unknown = await client.cloud("INFO", info="recording", id="pbx24-1.1")
    assert (no_id.text, no_id.headers["content-type"]) == ("No id specified", HTML_TYPE)
    assert missed.content == unknown.content == b""  # nothing recorded, nothing known
    if old:
        assert audio.content == b""
        return
    assert audio.headers["content-type"].startswith("audio/")
    with wave.open(io.BytesIO(audio.content)) as sound:
        seconds = sound.getnframes() / sound.getframerate()
    assert seconds == calls["inbound"].ended - calls["inbound"].started - 5  # talked, not rang


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("keys", ["named", "both", "positional"])
async def test_info_extensions_in_every_shape_read_alike(shape: str, keys: str) -> None:
    """MiRTA's admin pages read rows by position (item[132]): some deployments send them."""
    plain = cloud()
    varied = cloud(CloudQuirks(extensions_shape=shape, extensions_keys=keys))  # type: ignore[arg-type]
    for sim in (plain, varied):
        finished(sim.scenario, caller=OUTSIDE, callee="205", direction="inbound", ago=60)
        sim.scenario.extensions["207"].registered = False
    async with client_of(varied) as (client, driver):
        rows = (await client.cloud("INFO", info="extensions", format="json")).json()
        got = await driver.fetch_extensions()
    async with client_of(plain) as (_, driver):
        expected = await driver.fetch_extensions()
    first = rows[0] if shape == "array" else next(iter(rows.values()))
    assert isinstance(first, list) is (keys == "positional")
    if keys == "both":
        assert first["0"] == first["ex_id"] and first["2"] == first["ex_number"]

    def seen(extensions: Any) -> list[tuple[str, str, LineState, str]]:
        return [(e.number, e.name, e.state, e.state_raw) for e in extensions]

    assert seen(got) == seen(expected) and len(got) == 10
    assert {e.number: e.state for e in got}["207"] is LineState.UNAVAILABLE


# -- the dialup family -------------------------------------------------------------------------
def cloudplus(quirks: DialupQuirks | None = None) -> SimulatedPbx:
    return build_dialup("cloud", spec=still(first_extension=201), brand="cloudplus", quirks=quirks)


async def test_cloudplus_dialup_php_keeps_its_data_wrapper_and_chstatus_stays_flat() -> None:
    """The flat form is CHstatus.php's alone; it had been applied to dialup.php too."""
    sim = cloudplus()
    sim.scenario.extensions["203"].registered = True
    async with client_of(sim, requests_per_second=200.0) as (client, _):
        hangup = await client.dialup(
            exten="203", operation="hangup", Response="yes", RFormat="json"
        )
        status = await client.dialup(exten="203", Response="yes", RFormat="json")
        flat = await client.dialup(CHSTATUS_PATH, exten="203", Response="yes", RFormat="json")
    assert set(hangup.json()) == {"data"} and hangup.json()["data"]["Response"] == "fail"
    assert status.json()["data"]["State"] == "Idle"
    assert "data" not in flat.json() and flat.json()["status"] == "Idle"


async def test_without_response_yes_an_action_is_done_and_answered_empty() -> None:
    """The one documented behaviour: the PBX acts and answers an empty 200 (as a real proxy
    saw); a status answers its bare word. The driver always asks Response=yes."""
    sim = build_dialup("branch", spec=still(first_extension=201))
    call = finished(sim.scenario, caller=OUTSIDE, callee="205", direction="inbound", ago=60)
    del call
    ringing = sim.scenario._new_call(
        caller=OUTSIDE, callee="206", direction="inbound", extension="206"
    )
    sim.scenario._ring(ringing, "206")
    async with client_of(sim, requests_per_second=200.0) as (client, _):
        word = await client.dialup(exten="206")
        done = await client.dialup(exten="206", operation="hangup")
        after = await client.dialup(exten="206")
    assert (word.status_code, word.text) == (200, "ringing")
    assert (done.status_code, done.content) == (200, b"")
    assert after.text == "free" and ringing.id not in sim.scenario.calls


async def test_a_pbx_that_ignores_response_yes_has_its_action_taken_as_sent() -> None:
    """Driver and simulator agree: an empty answer to an action is "sent, unconfirmed", and
    the next status poll is the truth (it was a BadAnswer: "answered an empty body")."""
    sim = build_dialup(
        "branch", spec=still(first_extension=201), quirks=DialupQuirks(honours_response=False)
    )
    ringing = sim.scenario._new_call(
        caller=OUTSIDE, callee="206", direction="inbound", extension="206"
    )
    sim.scenario._ring(ringing, "206")
    seen = Call(pbx="branch", id="206", channel=ringing.legs[1].channel, extension="206")
    async with client_of(sim, requests_per_second=200.0) as (_, driver):
        before = {e.number: e.state for e in await driver.fetch_extensions()}
        result = await driver.hangup(seen)
        after = {e.number: e.state for e in await driver.fetch_extensions()}
    assert result.ok and "answered nothing" in result.message and "next poll" in result.message
    assert (before["206"], after["206"]) == (LineState.RINGING, LineState.IDLE)
    assert ringing.id not in sim.scenario.calls


# -- the extras, as a client of the syntax index would ask them ----------------------------------
async def test_countchannels_per_node_sums_to_its_total_and_balance_is_a_bare_number() -> None:
    sim = cloud()
    finished(sim.scenario, caller=OUTSIDE, callee="205", direction="inbound", ago=60)
    live = sim.scenario._new_call(
        caller=OUTSIDE, callee="206", direction="inbound", extension="206"
    )
    sim.scenario._ring(live, "206")
    async with client_of(sim) as (client, _):
        counts = (await client.cloud("COUNTCHANNELS", format="json")).json()
        one = await client.cloud("COUNTCHANNELS", nodename="pbx21", format="json")
        balances = {
            f: (await client.cloud("INFO", info="balance", format=f)).text
            for f in ("json", "plain")
        }
    nodes = {k: v for k, v in counts.items() if k != "total"}
    assert counts["total"] == sum(nodes.values()) == len(live.legs) and set(nodes) == {
        "pbx21",
        "pbx22",
    }
    assert one.text == str(nodes["pbx21"])
    assert balances == {"json": "123.45", "plain": "123.45"}  # whatever the format


@pytest.mark.parametrize("style", ["plain", "json"])
async def test_the_extras_answer_in_the_acknowledgement_style(style: str) -> None:
    sim = cloud(CloudQuirks(ack_style=style))  # type: ignore[arg-type]
    async with client_of(sim) as (client, driver):
        flow = await client.cloud("SETFLOW", number="*51", state="INUSE")
        result = await driver.set_flow("*51", "NOT_INUSE", "")
        missing = await driver.campaign("99", "start")
    if style == "plain":
        assert flow.text == "Error|Flow not found|"  # still(): no flows
    else:
        assert flow.json() == {"Response": "Error", "Message": "Flow not found"}
    assert not result.ok and result.message == "Flow not found"
    assert not missing.ok and missing.message == "Campaign not found"
