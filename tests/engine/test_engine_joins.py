"""The engine publishes joined states, to subscribers and to ``state()`` alike."""

from __future__ import annotations

from typing import Any

import pytest

from pbxtui.engine import joins
from pbxtui.model import EngineUpdate, Resource


async def test_every_published_state_is_joined(make_config: Any, make_engine: Any) -> None:
    engine = make_engine(make_config("hq"))
    updates: list[EngineUpdate] = []
    engine.subscribe(updates.append)
    async with engine:
        polled = (await engine.poll_once())["hq"]
        current = engine.state()["hq"]
    # The fake's call names extension 201 only as its callee; its queue gives no counts.
    assert [e.call_id for e in polled.extensions()] == ["c1"]
    assert current.extensions() == polled.extensions()
    (queue,) = current.queues()
    assert (queue.agents_available, queue.agents_busy, queue.agents_total) == (1, 0, 1)
    after_both = [
        u.state
        for u in updates
        if u.state.resource(Resource.CALLS).fetched_at
        and u.state.resource(Resource.EXTENSIONS).fetched_at
    ]
    assert after_both and all(s.extensions()[0].call_id == "c1" for s in after_both)


async def test_a_failing_join_publishes_the_records_unjoined(
    make_config: Any, make_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: joins.Joiner, state: Any) -> Any:
        raise RuntimeError("a bug in a join")

    monkeypatch.setattr(joins.Joiner, "join", broken)
    engine = make_engine(make_config("hq"))
    async with engine:
        state = (await engine.poll_once())["hq"]
    assert [c.id for c in state.calls()] == ["c1"]
    assert [e.call_id for e in state.extensions()] == [""]
