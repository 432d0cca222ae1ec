"""The engine's joins across one PBX's resources, on hand-made states (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from pbxtui.engine.joins import STATE_RANK, Joiner, join
from pbxtui.model import (
    Action,
    Agent,
    AgentState,
    BlfLamp,
    Call,
    CallState,
    Capabilities,
    Extension,
    LampKind,
    PbxHealth,
    PbxState,
    Queue,
    Record,
    Resource,
    ResourceState,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PAUSING = Capabilities(frozenset(Resource), frozenset({Action.PAUSE}))
NOT_PAUSING = Capabilities(frozenset(Resource), frozenset())


def fetched(*records: Record) -> ResourceState:
    return ResourceState(tuple(records), fetched_at=T0)


def pbx(capabilities: Capabilities = PAUSING, **resources: ResourceState) -> PbxState:
    return PbxState(
        name="hq",
        kind="fake",
        capabilities=capabilities,
        health=PbxHealth(pbx="hq", kind="fake"),
        resources={Resource(name): state for name, state in resources.items()},
    )


def call(id: str, state: CallState = CallState.UP, **fields: str) -> Call:
    return Call(pbx="hq", id=id, channel=f"SIP/{id}", state=state, **fields)


def ext(number: str, call_id: str = "", name: str = "") -> Extension:
    return Extension(pbx="hq", id=number, number=number, name=name, call_id=call_id)


def lamp(extension: str) -> BlfLamp:
    kind = LampKind.EXTENSION if extension else LampKind.FLOW
    return BlfLamp(pbx="hq", id=extension or "*51", label="x", kind=kind, extension=extension)


def call_ids(state: PbxState) -> dict[str, str]:
    return {e.number: e.call_id for e in state.extensions()}


# -- extensions and lamps ---------------------------------------------------------------------
def test_an_extension_gets_the_call_that_names_it() -> None:
    state = pbx(
        calls=fetched(
            call("in", extension="201", caller="0501234567", callee="201"),
            call("local", caller="202", callee="203", extension="203"),
        ),
        extensions=fetched(ext("201"), ext("202"), ext("203"), ext("204")),
    )
    assert call_ids(join(state)) == {"201": "in", "202": "local", "203": "local", "204": ""}


def test_an_answered_call_wins_over_a_ringing_one_whatever_the_order() -> None:
    ringing = call("b-ringing", CallState.RINGING, extension="201")
    answered = call("a-up", CallState.UP, caller="201", callee="0309876543")
    for calls in ((ringing, answered), (answered, ringing)):
        state = pbx(calls=fetched(*calls), extensions=fetched(ext("201")))
        assert call_ids(join(state)) == {"201": "a-up"}


def test_every_call_state_has_its_place_in_the_preference() -> None:
    assert set(STATE_RANK) == set(CallState)


def test_equal_candidates_are_decided_by_call_id_not_by_order() -> None:
    first, second = call("c1", extension="201"), call("c2", extension="201")
    for calls in ((first, second), (second, first)):
        state = pbx(calls=fetched(*calls), extensions=fetched(ext("201")))
        assert call_ids(join(state)) == {"201": "c1"}


def test_the_calls_extension_wins_over_a_party_of_the_same_state() -> None:
    named = call("z", extension="201")
    party = call("a", caller="201", callee="202", extension="202")
    state = pbx(calls=fetched(named, party), extensions=fetched(ext("201")))
    assert call_ids(join(state)) == {"201": "z"}


def test_a_drivers_call_id_is_kept_while_it_names_a_call() -> None:
    state = pbx(
        calls=fetched(call("theirs", extension="202"), call("other", extension="201")),
        extensions=fetched(ext("201", call_id="theirs"), ext("203", call_id="gone")),
    )
    # "gone" names no call any more: a pane would show a call nobody can find.
    assert call_ids(join(state)) == {"201": "theirs", "203": ""}


def test_without_a_calls_poll_yet_the_drivers_call_id_stands() -> None:
    state = pbx(calls=ResourceState(), extensions=fetched(ext("201", call_id="c9")))
    assert call_ids(join(state)) == {"201": "c9"}


def test_lamps_get_the_call_of_their_extension_and_flows_none() -> None:
    state = pbx(
        calls=fetched(call("in", extension="201")),
        blf=fetched(lamp("201"), lamp("202"), lamp("")),
    )
    assert [(lamp.extension, lamp.call_id) for lamp in join(state).lamps()] == [
        ("201", "in"),
        ("202", ""),
        ("", ""),
    ]


def test_records_the_join_does_not_change_are_the_drivers_own() -> None:
    idle = ext("204")
    state = pbx(calls=fetched(call("in", extension="201")), extensions=fetched(ext("201"), idle))
    assert join(state).extensions()[1] is idle


# -- agents and queues ------------------------------------------------------------------------
def agent(extension: str, queue: str, state: AgentState, name: str = "") -> Agent:
    agent_id = f"{extension}-ACME"
    return Agent(pbx="hq", id=agent_id, extension=extension, queue_id=queue, name=name, state=state)


def test_agents_take_the_extensions_name_unless_they_have_one() -> None:
    state = pbx(
        extensions=fetched(ext("201", name="Dana"), ext("202", name="Avi")),
        agents=fetched(
            agent("201", "630", AgentState.AVAILABLE),
            agent("202", "630", AgentState.BUSY, name="Avi Cohen"),
            agent("203", "630", AgentState.BUSY),
        ),
    )
    assert [a.name for a in join(state).agents()] == ["Dana", "Avi Cohen", ""]


def test_queue_counts_come_from_the_agents_when_the_vendor_gave_none() -> None:
    agents = fetched(
        agent("201", "630", AgentState.AVAILABLE),
        agent("202", "630", AgentState.BUSY),
        agent("203", "630", AgentState.PAUSED),
        agent("204", "630", AgentState.UNAVAILABLE),
        agent("201", "631", AgentState.AVAILABLE),
    )
    figures = {"agents_available": 7, "agents_busy": 0, "agents_paused": 1, "agents_total": 9}
    vendor = Queue(pbx="hq", id="631", **figures)
    state = pbx(queues=fetched(Queue(pbx="hq", id="630", agents_total=5), vendor), agents=agents)
    sales, support = join(state).queues()
    assert (sales.agents_available, sales.agents_busy, sales.agents_paused) == (1, 1, 1)
    assert sales.agents_total == 5  # the driver's own figure stands
    assert support is vendor


def test_no_pause_count_where_the_api_cannot_pause() -> None:
    state = pbx(
        NOT_PAUSING,
        queues=fetched(Queue(pbx="hq", id="630")),
        agents=fetched(agent("201", "630", AgentState.AVAILABLE)),
    )
    (queue,) = join(state).queues()
    assert (queue.agents_available, queue.agents_paused, queue.agents_total) == (1, None, 1)


def test_no_counts_before_the_agents_are_known() -> None:
    queue = Queue(pbx="hq", id="630")
    state = pbx(queues=fetched(queue), agents=ResourceState())
    assert join(state).queues() == (queue,)


# -- cost -------------------------------------------------------------------------------------
def test_a_resource_is_joined_again_only_when_its_inputs_change() -> None:
    joiner = Joiner()
    calls = fetched(call("in", extension="201"))
    extensions = fetched(ext("201"))
    first = joiner.join(pbx(calls=calls, extensions=extensions))
    again = joiner.join(pbx(calls=calls, extensions=extensions, peers=fetched()))
    assert again.records(Resource.EXTENSIONS) is first.records(Resource.EXTENSIONS)

    moved = joiner.join(pbx(calls=fetched(call("out", extension="201")), extensions=extensions))
    assert call_ids(moved) == {"201": "out"}


def test_an_unchanged_join_keeps_its_records_when_the_calls_are_polled_again() -> None:
    joiner = Joiner()
    extensions = fetched(ext("201"), ext("202"))
    before = joiner.join(pbx(calls=fetched(call("in", extension="201")), extensions=extensions))
    after = joiner.join(pbx(calls=fetched(call("in", extension="201")), extensions=extensions))
    # A fresh poll of the same call: the joined row is the same object, so nothing redraws.
    assert after.extensions()[0] is before.extensions()[0]


def test_ten_thousand_calls_join_every_extension() -> None:
    calls = [call(f"c{i:05d}", extension=str(10000 + i)) for i in range(10_000)]
    extensions = [ext(str(10000 + i)) for i in range(0, 10_000, 7)]
    joined = join(pbx(calls=fetched(*calls), extensions=fetched(*extensions)))
    assert all(e.call_id == f"c{int(e.number) - 10000:05d}" for e in joined.extensions())
