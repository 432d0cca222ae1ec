"""One collector polls the simulators and publishes to a real NATS JetStream server; consoles
follow it there and act through it (pbxtui collect, [broker])."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
import nats
import pytest

from pbxtui import paths
from pbxtui.broker.deltas import DeltaMessage, Publisher
from pbxtui.broker.link import KEYFRAME_OF, SEQUENCE, Subjects
from pbxtui.broker.remote import BrokerEngine
from pbxtui.config import BrokerConfig, parse_config
from pbxtui.headless_collect import collect
from pbxtui.launch import console_app
from pbxtui.model import Call, HealthState
from pbxtui.model.events import EngineUpdate
from pbxtui.model.outcomes import ActionStatus
from pbxtui.model.records import PbxHealth
from pbxtui.model.requests import Hangup
from pbxtui.model.state import PbxState, ResourceState
from pbxtui.model.vocabulary import Capabilities, Resource
from pbxtui.sim import build_simulator
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.ui.modals.confirm import ConfirmModal
from tests.broker.conftest import collecting, with_broker
from tests.conftest import served, toml_config
from tests.ui.helpers import health_text, notices, run, table, wait_for

SIZE = (160, 45)


def still() -> ScenarioSpec:
    """Only the stuck call is up, and nothing happens by itself."""
    return ScenarioSpec(seed=7, live=False, warmup_seconds=0)


async def until(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Wait until ``condition()`` holds (looked at every 20 ms), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_a_console_joining_later_follows_the_collector_and_hangs_up_through_it(
    nats_url: str,
) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still())
    async with served(sim, poll_interval=0.3) as plain:
        config = with_broker(plain, nats_url)
        async with collecting(config) as collector:
            await until(lambda: collector.published > 2, "the collector's first messages")
            app = console_app(config, arm_seconds=0)
            assert isinstance(app.engine, BrokerEngine)  # nothing polled from here
            async with run(app, SIZE) as pilot:
                await wait_for(pilot, lambda: table(app, "calls").row_count == 1, what="call")
                await wait_for(pilot, lambda: "hq pbxcloud ok" in health_text(app), what="ok")
                (stuck,) = sim.scenario.calls.values()
                await pilot.press("h")
                await wait_for(pilot, lambda: isinstance(app.screen, ConfirmModal))
                assert stuck.caller in " ".join(app.screen.confirmation.targets)
                await pilot.press("y")
                await wait_for(pilot, lambda: not sim.scenario.calls, what="call hung up")
                await wait_for(pilot, lambda: table(app, "calls").row_count == 0, what="gone")
                await wait_for(
                    pilot,
                    lambda: any("hang up" in n.title for n in notices(app)),
                    what="the hang-up's result",
                )
                await pilot.press("H")  # no history through a collector: said, and how
                await wait_for(
                    pilot,
                    lambda: any("--direct" in n.message for n in notices(app)),
                    what="why there is no history",
                )
    lines = [json.loads(line) for line in paths.audit_log_path().read_text().splitlines()]
    assert [line["result"] for line in lines] == ["intent", "ok"]
    assert all(" via " in line["user"] for line in lines)  # the console's operator, and whose


async def test_the_console_state_is_the_collectors_as_calls_come_and_go(nats_url: str) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=ScenarioSpec(seed=3, calls_per_minute=300))
    async with served(sim, poll_interval=0.2) as plain:
        config = with_broker(plain, nats_url, keyframe_seconds=1)
        async with (
            collecting(config) as collector,
            BrokerEngine(config, config.broker) as remote,  # type: ignore[arg-type]
            anyio.create_task_group() as group,
        ):
            group.start_soon(remote.run)
            seen: set[frozenset[str]] = set()

            def same() -> bool:
                mine = frozenset(c.key for c in remote.state()["hq"].calls())
                theirs = frozenset(c.key for c in collector.engine.state()["hq"].calls())
                seen.add(mine)
                # ... across repeated keyframes, which a console that followed skips unread
                return mine == theirs and len(seen) > 3 and remote.skipped > 1

            await until(same, "the same calls, after several changes", timeout=20)
            mine = {c.key: c for c in remote.state()["hq"].calls()}
            theirs = {c.key: c for c in collector.engine.state()["hq"].calls()}
            assert mine == theirs  # every field, not only which calls
            group.cancel_scope.cancel()


async def test_with_no_collector_nothing_is_sent_and_the_console_says_why(nats_url: str) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still())
    async with served(sim) as plain:
        config = with_broker(plain, nats_url)
        async with BrokerEngine(config, config.broker) as remote:  # type: ignore[arg-type]
            assert "waiting for the collector" in remote.state()["hq"].health.last_error
            call = Call(pbx="hq", id="SIP/201-0001", channel="SIP/201-0001")
            outcome = await remote.perform(Hangup(pbx="hq", call=call))
            assert outcome.status is ActionStatus.REFUSED
            assert "nothing was sent" in outcome.message
            assert len(sim.scenario.calls) == 1


async def test_a_collector_gone_silent_is_said_on_every_pbx(nats_url: str) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still())
    async with served(sim, poll_interval=0.3) as plain:
        config = with_broker(plain, nats_url)
        async with (
            BrokerEngine(config, config.broker) as remote,  # type: ignore[arg-type]
            anyio.create_task_group() as group,
        ):
            group.start_soon(remote.run)
            async with collecting(config, alive_seconds=0.05):
                await until(lambda: remote.state()["hq"].health.state is HealthState.OK, "hq ok")
            await until(
                lambda: "no word from the collector" in remote.state()["hq"].health.last_error,
                "the silence said",
            )
            assert remote.state()["hq"].health.state is HealthState.DOWN
            assert len(remote.state()["hq"].calls()) == 1  # still shown, as last heard
            group.cancel_scope.cancel()


async def test_garbage_on_the_broker_is_skipped(nats_url: str) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=ScenarioSpec(seed=3, calls_per_minute=300))
    async with served(sim, poll_interval=0.2) as plain:
        config = with_broker(plain, nats_url)
        async with (
            collecting(config),
            BrokerEngine(config, config.broker) as remote,  # type: ignore[arg-type]
            anyio.create_task_group() as group,
        ):
            group.start_soon(remote.run)
            await until(lambda: remote.state()["hq"].calls(), "calls")
            nc = await nats.connect(nats_url)
            js = nc.jetstream()
            updates = Subjects("test").updates
            for junk in (b"", b"garbage", b'{"seq": "x"}', b"\x78\x9c" + b"\x00" * 64):
                await js.publish(updates, junk)
            await js.publish(updates, b"x" * 10, headers={"Pbxtui-Encoding": "deflate"})
            await nc.close()

            def fetched() -> object:
                return remote.state()["hq"].resource(Resource.CALLS).fetched_at

            before = fetched()
            await until(lambda: fetched() != before, "updates still followed")
            group.cancel_scope.cancel()


async def test_collect_says_plainly_when_the_broker_cannot_be_reached() -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still())
    async with served(sim) as plain:
        config = with_broker(plain, "nats://robot:s3cr3t-pw@127.0.0.1:9")
        said: list[str] = []
        code = await collect(config, read_only=False, say=said.append)
    assert code == 1
    assert said and "cannot reach the broker at nats://" in said[0]
    assert "s3cr3t-pw" not in " ".join(said)


@pytest.mark.parametrize("url", ["http://x:4222", "4222", ""])
def test_a_broker_address_that_is_not_one_is_refused(url: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="NATS server address"):
        BrokerConfig(url=url)


@dataclass
class Arrived:
    """A message as the console's subscription hands it over (what ``_take`` reads)."""

    data: bytes
    headers: dict[str, str]


def _arrived(message: DeltaMessage, said: str, again: bool = False) -> Arrived:
    headers = {SEQUENCE: said} | ({KEYFRAME_OF: message.pbx} if again else {})
    return Arrived(message.model_dump_json().encode(), headers)


async def test_a_repeated_keyframe_is_read_after_a_message_went_missing() -> None:
    config = parse_config(
        toml_config(
            [
                {
                    "name": "hq",
                    "kind": "pbxcloud",
                    "url": "http://127.0.0.1:9",
                    "key": "k",
                    "tenant": "t",
                }
            ]
        )
    )
    remote = BrokerEngine(config, BrokerConfig(url="nats://127.0.0.1:9"))
    publisher = Publisher()

    def state(calls: int) -> PbxState:
        records = tuple(Call(pbx="hq", id=f"c{n}", channel=f"SIP/{n}") for n in range(calls))
        return PbxState(
            name="hq",
            kind="pbxcloud",
            capabilities=Capabilities(frozenset({Resource.CALLS}), frozenset()),
            health=PbxHealth(pbx="hq", kind="pbxcloud"),
            resources={Resource.CALLS: ResourceState(records=records)},
        )

    def update(calls: int, seq: int) -> EngineUpdate:
        return EngineUpdate("hq", Resource.CALLS, state(calls), seq=seq)

    (first,) = publisher.delta(update(1, 1))
    remote._take(_arrived(first, "run.1"))  # type: ignore[arg-type]
    (second,) = publisher.delta(update(2, 2))
    remote._take(_arrived(second, "run.2"))  # type: ignore[arg-type]
    (again,) = publisher.again("hq")
    remote._take(_arrived(again, "run.3", again=True))  # type: ignore[arg-type]
    assert remote.skipped == 1 and len(remote.state()["hq"].calls()) == 2
    publisher.delta(update(3, 3))  # published as run.4, and lost on its way
    (again,) = publisher.again("hq")
    remote._take(_arrived(again, "run.5", again=True))  # type: ignore[arg-type]
    assert remote.skipped == 1  # read: the console may have missed what it repeats
    assert len(remote.state()["hq"].calls()) == 3
