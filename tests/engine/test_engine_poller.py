"""Poll scheduling: intervals, backoff, bounded fetches."""

from __future__ import annotations

import random
from typing import Any

import httpx

from pbxtui.config import parse_config
from pbxtui.drivers import create_driver
from pbxtui.drivers.base import PbxUnreachable
from pbxtui.engine.poller import (
    MAX_BACKOFF,
    backoff_delay,
    fetch_limit,
    fetch_resource,
    interval_for,
)
from pbxtui.model import Resource, ResourceState


def test_intervals_per_resource() -> None:
    assert interval_for(Resource.CALLS, 1.0) == 1.0
    assert interval_for(Resource.EXTENSIONS, 1.0) == 1.0
    assert interval_for(Resource.BLF, 1.0) == 1.0
    assert interval_for(Resource.AGENTS, 1.0) == 1.0
    assert interval_for(Resource.QUEUES, 1.0) == 2.0
    assert interval_for(Resource.PEERS, 0.5) == 5.0
    assert interval_for(Resource.PEERS, 2.0) == 10.0


async def test_the_fetch_bound_allows_for_rate_limited_per_extension_reads(
    make_config: Any,
) -> None:
    client = httpx.AsyncClient()
    hq = create_driver(make_config("hq", timeout=5.0).pbx[0], client)
    assert fetch_limit(hq, 2.0) == 7.0
    dialup = parse_config(
        '[[pbx]]\nname = "d"\nkind = "dialup"\nurl = "https://d.example.invalid/api"\n'
        'user = "u"\npass = "pw-123456"\norg = "o"\nextensions = ["200-399"]\n'
        "timeout = 5.0\nrequests_per_second = 20.0\n"
    )
    assert fetch_limit(create_driver(dialup.pbx[0], client), 2.0) == 7.0 + 200 / 20
    await client.aclose()


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    rng = random.Random(3)
    assert backoff_delay(1.0, 0, rng) == 1.0
    for failures in range(1, 12):
        base = min(1.0 * 2**failures, MAX_BACKOFF)
        samples = [backoff_delay(1.0, failures, rng) for _ in range(200)]
        assert all(0.8 * base <= s <= 1.2 * base for s in samples)
        assert max(samples) - min(samples) > 0.1 * base  # there is jitter
    means = [sum(backoff_delay(0.5, n, rng) for _ in range(200)) / 200 for n in range(1, 6)]
    assert means == sorted(means) and means[-1] > 3 * means[0]
    # A resource polled less often than the cap is never retried more often than usual.
    assert backoff_delay(60.0, 3, rng) >= 0.8 * 60.0


async def test_a_fetch_that_overruns_its_bound_is_a_timeout_keeping_records(
    fakes: Any, make_config: Any
) -> None:
    driver = fakes.factory(make_config("hq").pbx[0], None)
    first = await fetch_resource(driver, Resource.CALLS, ResourceState(), limit=1.0)
    assert first.ok and len(first.records) == 1 and first.latency_ms is not None

    driver.hang(5.0)
    second = await fetch_resource(driver, Resource.CALLS, first, limit=0.1)
    assert second.error_kind == "timeout" and "0.1 s" in second.error
    assert second.stale and second.records == first.records

    driver.hang(0)
    driver.fail_with(PbxUnreachable("hq", "cannot connect to https://hq: connection refused"))
    third = await fetch_resource(driver, Resource.CALLS, second, limit=1.0)
    assert third.error_kind == "unreachable" and third.failures == 2
    assert third.error == "cannot connect to https://hq: connection refused"

    driver.fail_with(KeyError("a driver bug"))
    fourth = await fetch_resource(driver, Resource.CALLS, third, limit=1.0)
    assert fourth.error_kind == "error" and "KeyError" in fourth.error
    assert fourth.records == first.records


async def test_fetch_resource_never_raises_for_driver_errors(fakes: Any, make_config: Any) -> None:
    from pbxtui.drivers import base

    driver = fakes.factory(make_config("hq").pbx[0], None)
    for cls in (
        base.PbxUnreachable,
        base.PbxTimeout,
        base.AuthRefused,
        base.BadAnswer,
        base.NotSupported,
        base.ActionRefused,
    ):
        driver.fail_with(cls("hq", "why"))
        state = await fetch_resource(driver, Resource.QUEUES, ResourceState(), limit=1.0)
        assert (state.error, state.error_kind) == ("why", cls.label)
