"""The scale mode rendered by each vendor simulator, read by the real drivers over HTTP."""

from __future__ import annotations

import pytest

from pbxtui.model import Resource
from pbxtui.sim import build_simulator
from pbxtui.sim.scale import ScaleSpec
from tests.conftest import driver_for


@pytest.mark.parametrize("kind", ["pbxcloud", "iexpbx"])
async def test_every_call_of_a_busy_pbx_is_read(kind: str) -> None:
    # No churn, so the count cannot move while the request is on its way.
    spec = ScaleSpec(seed=9, calls=300, churn=0.0, extensions=40)
    sim = build_simulator(kind, "big", spec=spec)
    async with driver_for(sim) as driver:
        calls = await driver.fetch(Resource.CALLS)
    assert len(calls) == 300
    assert len({call.id for call in calls}) == 300
