"""The vendor extras over real HTTP, through the engine's one policy and its audit: each
where its vendor has it (the simulator records what it received), refused with the vendor
named elsewhere; the tenant figures as PBX Cloud counts them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from pbxtui.engine import AuditLog, Engine
from pbxtui.model import (
    ActionRequest,
    ActionStatus,
    CampaignControl,
    EngineUpdate,
    Peer,
    Queue,
    QueueCallback,
    QueueReset,
    RebootPeer,
    SetFlow,
    UnregisterPeer,
)
from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.dialup import build as build_dialup
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.pbxcloud import Quirks as CloudQuirks
from pbxtui.sim.pbxcloud import build as build_cloud
from tests.drivers.history_calls import still

FLOWS = (("*51", "Night mode"), ("*52", "Holiday"))
QUEUES = (("630", "Sales"), ("631", "Support"))


def cloud(**quirks: Any) -> SimulatedPbx:
    spec = still(first_extension=201, flows=FLOWS, queues=QUEUES)
    return build_cloud("hq", spec=spec, quirks=CloudQuirks(**quirks))


def branch(**options: Any) -> SimulatedPbx:
    return build_dialup("branch", spec=still(first_extension=201), **options)


@asynccontextmanager
async def engine_on(
    tmp_path: Path, *sims: SimulatedPbx, **overrides: Any
) -> AsyncIterator[tuple[Engine, AuditLog]]:
    audit = AuditLog(tmp_path / "audit.jsonl")
    fleet = running_fleet(list(sims), requests_per_second=200.0, **overrides)
    async with fleet as (config, _, _), Engine(config, audit=audit) as engine:
        yield engine, audit


def peer(name: str, pbx: str = "hq") -> Peer:
    return Peer(pbx=pbx, id=name, name=name)


# -- PBX Cloud ---------------------------------------------------------------------------------
async def test_setflow_sets_the_lamp_the_blf_board_shows(tmp_path: Path) -> None:
    sim = cloud()
    async with engine_on(tmp_path, sim) as (engine, audit):
        driver = engine.driver("hq")
        before = {lamp.id: lamp.state_raw for lamp in await driver.fetch_blf()}
        outcome = await engine.perform(SetFlow(pbx="hq", flow="*51", state="INUSE"))
        value = await engine.perform(SetFlow(pbx="hq", flow="*52", value="closed"))
        unknown = await engine.perform(SetFlow(pbx="hq", flow="*99", state="INUSE"))
        after = {lamp.id: lamp.state_raw for lamp in await driver.fetch_blf()}
    assert outcome.ok and value.ok, (outcome.message, value.message)
    assert (before["*51"], after["*51"]) == ("NOT_INUSE", "INUSE")
    assert sim.extra["sim"].extras.flow_values == {"*52": "closed"}
    assert unknown.status is ActionStatus.FAILED and "Flow not found" in unknown.message
    assert [r for r in sim.scenario.received if r[0] == "set_flow"] == [
        ("set_flow", "*51"),
        ("set_flow", "*52"),
        ("set_flow", "*99"),
    ]
    lines = [e for e in audit.read_entries() if e["action"] == "set_flow"]
    assert [e["result"] for e in lines if e["result"] != "intent"] == ["ok", "ok", "failed"]
    assert lines[0]["params"] == {"flow": "*51", "state": "INUSE"}


async def test_queue_reset_zeroes_the_figures_of_that_queue_only(tmp_path: Path) -> None:
    sim = cloud()
    stats = sim.scenario.queues["630"].stats
    stats.received, stats.answered, stats.abandoned = 40, 35, 5
    sim.scenario.queues["631"].stats.received = 9
    async with engine_on(tmp_path, sim) as (engine, _):
        queues = {q.id: q for q in await engine.driver("hq").fetch_queues()}
        outcome = await engine.perform(QueueReset(pbx="hq", queue=queues["630"]))
        gone = await engine.perform(QueueReset(pbx="hq", queue=Queue(pbx="hq", id="999")))
        again = {q.id: q for q in await engine.driver("hq").fetch_queues()}
    assert queues["630"].answered == 35 and outcome.ok, outcome.message
    assert again["630"].answered == 0 and again["630"].abandoned == 0
    assert sim.scenario.queues["631"].stats.received == 9
    assert not gone.ok and "Queue not found" in gone.message
    assert ("queue_reset", "630") in sim.scenario.received


async def test_campaigns_move_as_the_vendor_says(tmp_path: Path) -> None:
    """ "Start and stop can affect only on-demand campaign": 14 is scheduled."""
    sim = cloud()
    campaigns = sim.extra["sim"].extras.campaigns
    async with engine_on(tmp_path, sim) as (engine, _):
        results = [
            await engine.perform(CampaignControl(pbx="hq", campaign=c, verb=v))  # type: ignore[arg-type]
            for c, v in (("12", "start"), ("12", "pause"), ("12", "resume"), ("14", "stop"))
        ]
        unknown = await engine.perform(CampaignControl(pbx="hq", campaign="77", verb="start"))
    assert [r.ok for r in results] == [True, True, True, False]
    assert "only on-demand" in results[3].message
    assert campaigns["12"].state == "running" and campaigns["14"].state == "running"
    assert not unknown.ok and "Campaign not found" in unknown.message
    assert ("campaign", "12:pause") in sim.scenario.received


async def test_reboot_and_unregister_one_peer_then_every_peer(tmp_path: Path) -> None:
    sim = cloud()
    exts = sim.scenario.extensions
    async with engine_on(tmp_path, sim) as (engine, audit):
        one = await engine.perform(UnregisterPeer(pbx="hq", peer=peer("203-ACME")))
        peers = {p.name: p for p in await engine.driver("hq").fetch_peers()}
        reboot = await engine.perform(RebootPeer(pbx="hq", peer=peers["205-ACME"]))
        untyped = await engine.perform(RebootPeer(pbx="hq"))
        wrong = await engine.perform(UnregisterPeer(pbx="hq", typed="all"))
        every = await engine.perform(UnregisterPeer(pbx="hq", typed="ALL"))
    assert one.ok and reboot.ok, (one.message, reboot.message)
    assert peers["203-ACME"].registered is False
    for refused in (untyped, wrong):
        assert refused.status is ActionStatus.REFUSED and not refused.sent
        assert "ALL (or the PBX's name, hq) typed to confirm" in refused.message
    assert every.ok and not any(e.registered for e in exts.values())
    sent = [r for r in sim.scenario.received if r[0] in ("reboot", "unregister")]
    assert sent == [("unregister", "203-ACME"), ("reboot", "205-ACME"), ("unregister", "ALL")]
    refusals = [e for e in audit.read_entries() if e.get("result") == "refused"]
    assert [e["params"] for e in refusals] == [{"peer": "ALL"}, {"peer": "ALL"}]


async def test_a_rebooted_phone_registers_again(tmp_path: Path) -> None:
    sim = cloud()
    scenario = sim.scenario
    async with engine_on(tmp_path, sim) as (engine, _):
        await engine.perform(RebootPeer(pbx="hq", peer=peer("204-ACME")))
        down = {p.name: p.registered for p in await engine.driver("hq").fetch_peers()}
        scenario.now += 30  # past the reboot
        sim.extra["sim"].extras.settle()
    assert down["204-ACME"] is False and scenario.extensions["204"].registered


async def test_the_pbx_name_typed_confirms_every_peer_too(tmp_path: Path) -> None:
    sim = cloud()
    async with engine_on(tmp_path, sim) as (engine, _):
        outcome = await engine.perform(RebootPeer(pbx="hq", typed="hq"))
    assert outcome.ok and ("reboot", "ALL") in sim.scenario.received


async def test_tenant_figures_count_per_node_and_in_total(tmp_path: Path) -> None:
    sim = cloud(balance="42.10")
    sim.scenario.extensions["207"].registered = False
    async with engine_on(tmp_path, sim) as (engine, _):
        figures = await engine.driver("hq").tenant_figures()
        peers = await engine.driver("hq").fetch_peers()
    assert figures is not None and not figures.problems
    registered = sum(1 for p in peers if p.registered)
    assert figures.peers_total == sum(figures.peers.values()) == registered
    assert set(figures.peers) == {"pbx21", "pbx22"}
    legs = sum(len(c.legs) for c in sim.scenario.calls.values())
    assert figures.channels_total == legs and figures.balance == "42.10"
    assert figures.summary().startswith(f"peers {registered} (pbx21 ")


async def test_figures_the_pbx_cannot_give_are_said_and_the_rest_kept(tmp_path: Path) -> None:
    sim = cloud(countpeers_empty=True)
    async with engine_on(tmp_path, sim) as (engine, _):
        figures = await engine.driver("hq").tenant_figures()
    assert figures is not None and figures.peers_total is None
    assert figures.channels_total is not None and figures.balance == "123.45"
    assert figures.problems == ("peers: answered an empty body",)


async def test_the_live_engine_reads_the_figures_rarely_into_health(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("pbxtui.engine.figures.FIRST_READ_SECONDS", 0.0)
    sim = cloud()
    operations = sim.extra["sim"].operations
    asked: list[str] = []
    for reqtype in ("COUNTPEERS", "COUNTCHANNELS", "CHANNELS"):
        original = operations[reqtype]
        operations[reqtype] = lambda params, o=original, r=reqtype: (asked.append(r), o(params))[1]
    enough = anyio.Event()

    def seen(update: EngineUpdate) -> None:
        if update.state.health.figures is not None and asked.count("CHANNELS") >= 3:
            enough.set()

    fast = engine_on(tmp_path, sim, poll_interval=0.2)
    async with fast as (engine, _), anyio.create_task_group() as group:
        engine.subscribe(seen)
        group.start_soon(engine.run)
        with anyio.fail_after(20):
            await enough.wait()
        figures = engine.state()["hq"].health.figures
        group.cancel_scope.cancel()
    assert figures is not None and figures.peers_total and figures.balance == "123.45"
    # The calls were polled again and again; the figures were asked once.
    assert (asked.count("COUNTPEERS"), asked.count("COUNTCHANNELS")) == (1, 1)


# -- the dialup family -------------------------------------------------------------------------
async def test_queue_callback_posts_addcb_with_the_org_token(tmp_path: Path) -> None:
    sim = branch()
    callbacks = sim.extra["sim"].callbacks
    async with engine_on(tmp_path, sim) as (engine, audit):
        ok = await engine.perform(
            QueueCallback(pbx="branch", number="+972501234567", queue="630", max_dial=3)
        )
        gone = await engine.perform(QueueCallback(pbx="branch", number="0501", queue="999"))
    assert ok.ok and "callback list" in ok.message, ok.message
    # +972 is dialled in local form by this family: the callback number too.
    assert callbacks.entries == [{"CBnum": "0501234567", "CBQdest": "630", "maxCBdial": "3"}]
    assert not gone.ok and "Queue 999 not found" in gone.message
    intent = next(e for e in audit.read_entries() if e["action"] == "queue_callback")
    assert intent["params"] == {"number": "+972501234567", "queue": "630", "max_dial": "3"}
    token = sim.credentials["org_token"]
    assert token not in (tmp_path / "audit.jsonl").read_text()


async def test_queue_callback_without_a_licence_or_token_is_said(tmp_path: Path) -> None:
    sim = branch()
    sim.extra["sim"].callbacks.licensed = False
    async with engine_on(tmp_path, sim) as (engine, _):
        unlicensed = await engine.perform(QueueCallback(pbx="branch", number="0501", queue="630"))
    assert not unlicensed.ok and "valid license" in unlicensed.message
    bare = branch()
    del bare.credentials["org_token"]  # configured without one
    async with engine_on(tmp_path, bare) as (engine, _):
        no_token = await engine.perform(QueueCallback(pbx="branch", number="0501", queue="630"))
    assert no_token.status is ActionStatus.UNSUPPORTED and "org_token" in no_token.message
    assert not bare.extra["sim"].callbacks.entries


# -- refused plainly elsewhere -----------------------------------------------------------------
REQUESTS_ELSEWHERE: list[tuple[str, ActionRequest]] = [
    ("branch", SetFlow(pbx="branch", flow="*51", state="INUSE")),
    ("branch", QueueReset(pbx="branch", queue=Queue(pbx="branch", id="630"))),
    ("branch", CampaignControl(pbx="branch", campaign="12", verb="start")),
    ("branch", RebootPeer(pbx="branch", peer=peer("201", "branch"))),
    ("branch", UnregisterPeer(pbx="branch", typed="ALL")),
    ("istanbul", QueueReset(pbx="istanbul", queue=Queue(pbx="istanbul", id="630"))),
    ("istanbul", RebootPeer(pbx="istanbul", typed="ALL")),
    ("hq", QueueCallback(pbx="hq", number="0501", queue="630")),
    ("istanbul", QueueCallback(pbx="istanbul", number="0501", queue="630")),
]


@pytest.mark.parametrize(("pbx", "request_"), REQUESTS_ELSEWHERE, ids=lambda v: str(v)[:30])
async def test_each_extra_is_refused_elsewhere_with_the_vendor_named(
    tmp_path: Path, pbx: str, request_: ActionRequest
) -> None:
    sims = [cloud(), branch(), build_simulator("iexpbx", "istanbul", spec=still())]
    async with engine_on(tmp_path, *sims) as (engine, audit):
        outcome = await engine.perform(request_)
        vendor = engine.driver(pbx).vendor
    assert outcome.status is ActionStatus.UNSUPPORTED and not outcome.sent
    assert f"{request_.label} is not supported by {pbx}'s API ({vendor})" in outcome.message
    assert all(not s.scenario.received for s in sims)
    assert audit.read_entries()[-1]["result"] == "unsupported"
