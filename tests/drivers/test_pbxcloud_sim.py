"""The PBX Cloud simulator's wire behaviour, checked in-process (no socket needed)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from pbxtui.sim import build_simulator
from pbxtui.sim.faults import Faults
from pbxtui.sim.pbxcloud import (
    HTML_TYPE,
    JSON_TYPE,
    PATH,
    QUEUE_FIELDS,
    TOO_BAD,
    WRONG_TENANT,
    Quirks,
    build,
)
from pbxtui.sim.scenario import ScenarioSpec, SimCall

KEY = "sim-test-key-0042"


class Api:
    """Requests to one simulator, with its credentials filled in."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(
        self, reqtype: str, fmt: str | None = "json", **params: str
    ) -> httpx.Response:
        query = {"reqtype": reqtype, "tenant": "ACME", "key": KEY, **params}
        if fmt is not None:
            query["format"] = fmt
        return await self.client.get(PATH, params=query)


def make(quirks: Quirks | None = None, faults: Faults | None = None, **options: Any) -> Any:
    spec = ScenarioSpec(live=False, warmup_seconds=0, stuck_call_seconds=None)
    sim = build("hq", spec=spec, quirks=quirks, faults=faults, key=KEY, **options)
    frozen = sim.scenario.now
    sim.scenario.clock = lambda: frozen
    return sim


@asynccontextmanager
async def client_for(sim: Any) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        yield Api(client)


@pytest.fixture
def sim() -> Any:
    return make()


@pytest.fixture
async def api(sim: Any) -> AsyncIterator[Api]:
    async with client_for(sim) as api:
        yield api


def answered_call(sim: Any, ext: str = "205") -> SimCall:
    s = sim.scenario
    call: SimCall = s._new_call(caller="0501234567", callee=ext, direction="inbound", extension=ext)
    s._ring(call, ext)
    s._answer(call)
    call.ends_at = math.inf
    return call


# -- transport behaviour -----------------------------------------------------------------------
async def test_reqtype_and_info_are_case_insensitive(api: Api) -> None:
    upper = await api("INFO", info="QUEUES")
    lower = await api("info", info="queues")
    assert upper.json() == lower.json() == {"630": "Sales", "631": "Support"}


async def test_content_type_follows_the_format_not_the_body(api: Api) -> None:
    data = await api("PEERS")
    refused = await api("PEERS", key="wrong")
    plain = await api("PEERS", fmt=None)
    assert data.headers["content-type"] == JSON_TYPE
    assert (refused.status_code, refused.text) == (200, TOO_BAD)
    assert refused.headers["content-type"] == JSON_TYPE  # an error text labelled JSON
    assert plain.headers["content-type"] == HTML_TYPE
    assert (
        plain.text.splitlines()[0]
        == "node|Name|Host|Dyn|Forcerport|Comedia|ACL|Port|Status|Description|Realtime|"
    )


async def test_content_type_quirks() -> None:
    sim = make(Quirks(json_content_type_for_errors=False, json_as_html=True))
    async with client_for(sim) as api:
        refused = await api("PEERS", tenant="OTHER")
        data = await api("PEERS")
        assert (refused.text, refused.headers["content-type"]) == (TOO_BAD, HTML_TYPE)
        assert data.headers["content-type"] == HTML_TYPE and data.json()


@pytest.mark.parametrize("fmt", ["xml", "csv", "yaml"])
async def test_unsupported_formats_answer_zero_bytes(api: Api, fmt: str) -> None:
    response = await api("PEERS", fmt=fmt)
    assert (response.status_code, response.content) == (200, b"")


async def test_credentials(sim: Any) -> None:
    async with client_for(sim) as api:
        assert (await api("PEERS", tenant="")).text == TOO_BAD
        assert (await api("PEERS", key="")).text == TOO_BAD
        assert (await api("PEERS", tenant="acme")).json()  # tenant codes are not case-bound
        sim.faults.auth_refused = True
        assert (await api("PEERS")).text == TOO_BAD
    assert sim.credentials == {"tenant": "ACME", "key": KEY, "nodename": "pbx21"}
    generated = [build("x").credentials["key"] for _ in range(2)]
    assert generated[0] != generated[1] and len(generated[0]) >= 16


async def test_wrong_tenant_text_quirk() -> None:
    async with client_for(make(Quirks(auth_refusal="tenant"))) as api:
        assert (await api("CHANNELS", key="bad")).text == WRONG_TENANT


async def test_jsonp_wraps_json_only(api: Api) -> None:
    assert (
        await api("INFO", info="queues", callback="cb")
    ).text == 'cb({"630":"Sales","631":"Support"})'
    assert (await api("INFO", info="queues", callback="<b>")).text.startswith("{")
    assert (await api("PEERS", callback="cb", key="bad")).text == TOO_BAD


async def test_form_post_is_accepted(api: Api) -> None:
    form = {"reqtype": "INFO", "info": "queues", "tenant": "ACME", "key": KEY, "format": "json"}
    response = await api.client.post(PATH, data=form)
    assert response.json() == {"630": "Sales", "631": "Support"}


# -- formats -----------------------------------------------------------------------------------
async def test_channels_rows_and_names(sim: Any, api: Api) -> None:
    call = answered_call(sim)
    rows = (await api("CHANNELS", nodename="pbx21")).json()
    assert [row["Channel"] for row in rows] == [leg.channel for leg in call.legs]
    assert re.fullmatch(r"PJSIP/trunk-ACME-[0-9a-f]{8}", rows[0]["Channel"])
    assert re.fullmatch(r"PJSIP/205-ACME-[0-9a-f]{8}", rows[1]["Channel"])
    assert rows[0]["BridgedTo"] == rows[1]["Channel"] and rows[1]["BridgedTo"] == rows[0]["Channel"]
    assert {row["LinkedID"] for row in rows} == {call.legs[0].unique_id}
    assert rows[0]["Duration"].isdigit() and rows[0]["node"] == "pbx21"
    assert (await api("CHANNELS", nodename="pbx99")).content == b"[]"  # no channels there


async def test_channels_ami_style() -> None:
    sim = make(Quirks(channels_style="ami", channels_linkedid=False, channels_shape="object"))
    call = answered_call(sim)
    async with client_for(sim) as api:
        rows = (await api("CHANNELS")).json()
    assert set(rows) == {leg.unique_id for leg in call.legs}
    row = rows[call.legs[0].unique_id]
    assert re.fullmatch(r"\d\d:\d\d:\d\d", row["Duration"]) and "Linkedid" not in row
    assert row["ChannelStateDesc"] == "Up" and row["ChannelState"] == "6"
    assert row["BridgeId"] == rows[call.legs[1].unique_id]["BridgeId"] != ""


@pytest.mark.parametrize(
    ("empty", "body"), [("zero", ""), ("bracket", "]"), ("null", "null"), ("emptylist", "[]")]
)
async def test_empty_channels(empty: str, body: str) -> None:
    async with client_for(make(Quirks(channels_empty=empty))) as api:  # type: ignore[arg-type]
        assert (await api("CHANNELS")).text == body


async def test_blfs_rows_carry_positional_duplicates(api: Api) -> None:
    rows = (await api("BLFS")).json()
    assert rows[0] == {
        "0": "201-ACME",
        "st_extension": "201-ACME",
        "1": "NOT_INUSE",
        "st_state": "NOT_INUSE",
        "2": rows[0]["st_timestamp"],
        "st_timestamp": rows[0]["st_timestamp"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rows[0]["st_timestamp"])
    assert rows[-1]["st_extension"] == "*52"
    for line in (await api("BLFS", fmt="plain")).text.splitlines():
        assert len(line.split("|")) == 7 and line.endswith("|")


async def test_blfs_without_duplicates() -> None:
    async with client_for(make(Quirks(duplicate_positional_keys=False))) as api:
        rows = (await api("BLFS")).json()
    assert set(rows[0]) == {"st_extension", "st_state", "st_timestamp"}


@pytest.mark.parametrize("shape", ["array", "object"])
async def test_extensions_records(shape: str) -> None:
    sim = make(Quirks(extensions_shape=shape))  # type: ignore[arg-type]
    async with client_for(sim) as api:
        data = (await api("INFO", info="extensions")).json()
        plain = (await api("INFO", fmt="plain", info="extensions")).text
    records = data if shape == "array" else list(data.values())
    if shape == "object":
        assert list(data) == [r["ex_id"] for r in records]
    assert len(records) == len(sim.scenario.extensions)
    assert all(len(r) == 148 and not any(k.isdigit() for k in r) for r in records)
    assert records[0]["password"] == sim.extra["passwords"]["201"]
    assert plain.splitlines()[0] == "Number|Name|Tech|State|Username|Password"


async def test_queue_and_agents(sim: Any, api: Api) -> None:
    sim.scenario.pause("203", "630", "Lunch")
    queue = (await api("INFO", info="queue", id="630")).json()
    agents = (await api("INFO", info="agents", queue="630")).json()
    assert list(queue) == list(QUEUE_FIELDS) and queue["AGENTSPAUSED"] == "1"
    assert (await api("INFO", info="queue")).text == "No id specified"
    members = [a.extension for a in sim.scenario.agents if a.queue_id == "630"]
    assert list(agents) == [f"{n}-ACME" for n in members]
    row = agents["203-ACME"]
    assert list(row) == ["0", "1", "2", "4", "5", "6", "7", "8", "10", "11"]
    assert row["0"] == 0 and row["1"] == "paused" and row["4"] == "Lunch" and row["5"]
    assert row["10"] == row["11"] == "203-ACME"
    assert agents["201-ACME"]["4"] == agents["201-ACME"]["5"] == ""
    plain = (await api("INFO", fmt="plain", info="agents", queue="630")).text
    assert plain.startswith("201-ACME:available|") and "203-ACME:paused|" in plain
    assert (await api("INFO", info="agents", queue="999")).text == "null"
    assert (await api("INFO", info="nonsense")).content == b""


# -- actions -----------------------------------------------------------------------------------
@pytest.mark.parametrize("extension", ["205-ACME", "205"])
async def test_hangup_by_extension(sim: Any, api: Api, extension: str) -> None:
    answered_call(sim)
    assert (await api("HANGUP", extension=extension)).text == "Success|Channel Hungup|"
    assert sim.scenario.calls == {}
    assert (await api("HANGUP", channel="PJSIP/205-ACME-0")).text == "Error|No such channel|"


@pytest.mark.parametrize(
    ("style", "ok", "refused"),
    [
        (
            "json",
            '{"Response": "Success", "Message": "Gone"}',
            '{"Response": "Error", "Message": "No such channel"}',
        ),
        ("empty", "", ""),
    ],
)  # fmt: skip
async def test_ack_styles_and_texts(style: str, ok: str, refused: str) -> None:
    quirks = Quirks(ack_style=style)  # type: ignore[arg-type]
    quirks.ack_texts["HANGUP"] = "Gone"
    sim = make(quirks)
    call = answered_call(sim)
    async with client_for(sim) as api:
        assert (await api("HANGUP", channel=call.legs[0].channel)).text == ok
        assert (await api("HANGUP", channel=call.legs[0].channel)).text == refused


async def test_agent_actions(sim: Any, api: Api) -> None:
    paused = await api("AGENT", action="PAUSE", queue="630", extension="204", pausereason="Break")
    assert paused.text == "Success|Interface paused|"
    agent = next(a for a in sim.scenario.agents if a.extension == "204")
    assert (agent.paused, agent.pause_reason) == (True, "Break")
    unpaused = await api("AGENT", action="unpause", queue="630", extension="204-ACME")
    assert unpaused.text == "Success|Interface unpaused|" and not agent.paused
    assert (
        await api("AGENT", action="pause", extension="299")
    ).text == "Error|Interface not found|"
    assert (await api("AGENT", action="pause")).text == "No extension specified"
    assert (await api("AGENT", action="LISTQUEUES", extension="204")).content == b""


async def test_dial(sim: Any, api: Api) -> None:
    plain = await api("DIAL", fmt=None, source="ACCOUNT", dest="0541112233", account="203-ACME")
    word, message, originate_id, rest = plain.text.split("|")
    assert (word, message, rest) == ("Success", "Originate successfully queued", "")
    assert re.fullmatch(r"[0-9a-f]{14}", originate_id)
    (call,) = sim.scenario.calls.values()
    assert (call.originate_id, call.legs[0].party) == (originate_id, "203")
    refused = await api("DIAL", source="299", dest="0541112233", account="299-ACME")
    body = json.loads(refused.text)
    assert (body["Response"], body["Message"]) == ("Error", "Extension does not exist.")
    assert re.fullmatch(r"[0-9a-f]{14}", body["ID"])
    refused_plain = await api("DIAL", fmt="plain", source="299", dest="0541112233")
    assert refused_plain.text.startswith("Error|Extension does not exist.|")


async def test_the_fleet_builds_it_with_a_tenant() -> None:
    sim = build_simulator("pbxcloud", "eu", spec=ScenarioSpec(seed=44), tenant="EUROPA")
    assert sim.credentials["tenant"] == "EUROPA" and sim.path == PATH
    channels = [leg.channel for _, leg in sim.scenario.legs()]
    assert channels and all(
        re.fullmatch(r"PJSIP/(trunk|\d+)-EUROPA-[0-9a-f]{8}", channel) for channel in channels
    )


async def test_extension_polls_reuse_a_fresh_peers_answer() -> None:
    """Extensions are polled every second, peers every 5 s: PEERS is not asked twice."""
    from pbxtui.drivers.http import VendorHttp
    from pbxtui.sim import build_simulator
    from pbxtui.sim.scenario import ScenarioSpec
    from tests.conftest import driver_for

    sim = build_simulator("pbxcloud", "hq", spec=ScenarioSpec(live=False, warmup_seconds=0))
    async with driver_for(sim) as driver:
        asked: list[str] = []
        original = VendorHttp.get

        async def counting(self: VendorHttp, params: dict[str, str], **kw: object) -> object:
            asked.append(params.get("reqtype", ""))
            return await original(self, params, **kw)  # type: ignore[arg-type]

        driver.http.get = counting.__get__(driver.http)  # type: ignore[method-assign]
        await driver.fetch_peers()
        extensions = await driver.fetch_extensions()
        await driver.fetch_extensions()
        assert asked.count("PEERS") == 1
        assert any(e.registered for e in extensions), "registration still merged in"
