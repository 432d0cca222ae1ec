"""The state store and its bus: numbered updates, subscribers in order, coalescing streams;
and updates as messages that read back into what they were made from."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio

from pbxtui.engine.store import StateStore
from pbxtui.model import (
    Call,
    Capabilities,
    Change,
    ChangeKind,
    EngineUpdate,
    PbxHealth,
    PbxState,
    Resource,
    ResourceState,
)
from pbxtui.model.messages import UpdateMessage

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def state(pbx: str, calls: int) -> PbxState:
    records = tuple(
        Call(pbx=pbx, id=f"c{i}", channel=f"SIP/{i}", caller="0501", observed_at=NOW)
        for i in range(calls)
    )
    return PbxState(
        name=pbx,
        kind="pbxcloud",
        capabilities=Capabilities(frozenset({Resource.CALLS}), frozenset()),
        health=PbxHealth(pbx=pbx, kind="pbxcloud"),
        resources={Resource.CALLS: ResourceState(records=records, fetched_at=NOW)},
    )


def change(pbx: str, text: str) -> Change:
    return Change(at=NOW, pbx=pbx, kind=ChangeKind.CALL_STARTED, text=text)


def test_updates_are_numbered_and_told_in_order() -> None:
    store = StateStore()
    seen: list[EngineUpdate] = []
    unsubscribe = store.subscribe(seen.append)
    store.publish(state("hq", 1), Resource.CALLS, (change("hq", "a"),))
    store.publish(state("eu", 2), Resource.CALLS)
    unsubscribe()
    store.publish(state("hq", 3), Resource.CALLS)
    assert [u.seq for u in seen] == [1, 2]
    assert store.seq == 3 and len(store.get("hq").calls()) == 3  # type: ignore[union-attr]


async def test_a_slow_reader_gets_the_newest_state_and_every_change() -> None:
    store = StateStore()
    stream = store.stream(max_changes=3)
    for i in range(5):  # the reader is busy elsewhere meanwhile
        store.publish(state("hq", i), Resource.CALLS, (change("hq", f"hq {i}"),))
    store.publish(state("eu", 1), Resource.CALLS, (change("eu", "eu"),))
    with anyio.fail_after(5):
        batch = await stream.__anext__()
    assert [(u.pbx, u.seq) for u in batch.updates] == [("hq", 5), ("eu", 6)]
    assert len(batch.updates[0].state.calls()) == 4  # the stale copies were replaced
    assert [c.text for c in batch.changes] == ["hq 3", "hq 4", "eu"]
    assert batch.dropped == 3 and batch.last_seq == 6
    store.close_stream(stream)
    collected: list[Any] = [b async for b in stream]
    assert collected == []


def test_an_update_survives_json_both_ways() -> None:
    store = StateStore()
    update = store.publish(state("hq", 2), Resource.CALLS, (change("hq", "started"),))
    text = UpdateMessage.of(update).model_dump_json()
    back = UpdateMessage.model_validate_json(text).to_update()
    assert back == update
    assert '"schema_version":1' in text and '"seq":1' in text
