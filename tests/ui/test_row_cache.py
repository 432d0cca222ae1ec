"""Rows built once per record version: a call observed again by the next poll (as the drivers
read it: the same record while its duration agrees with its start) is the very same row; a
call whose clock moved is rebuilt; a PBX whose state did not change costs nothing; a new
filter rebuilds no row."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pbxtui.model import Call, CallState, PbxState, Record, Resource
from pbxtui.ui.call_index import CallIndex
from pbxtui.ui.cells import shown
from pbxtui.ui.views import CallsSpec, ExtensionsSpec, ViewContext
from tests.ui.fakes import NOW, fixed_states, fleet_config, hq_records


def polled(
    state: PbxState, seconds: float, resource: Resource = Resource.CALLS, **changes: Any
) -> PbxState:
    """``state`` as a poll ``seconds`` later reports it and a driver reads it: each call's
    duration in whole seconds (the rounding a PBX does), the call kept as it was while that
    agrees with its start (``Call.observed_again``); ``changes`` by call id, a new record."""
    records: list[Record] = []
    for record in state.records(resource):
        if isinstance(record, Call):
            at = record.observed_at + timedelta(seconds=seconds)
            duration = record.duration + int(seconds)
            if record.id in changes:
                update = {"observed_at": at, "duration": duration, **changes[record.id]}
                record = record.model_copy(update=update)
            else:
                record = record.observed_again(duration, at)
        records.append(record)
    resources = dict(state.resources)
    resources[resource] = replace(resources[resource], records=tuple(records))
    return replace(state, resources=resources)


class Counting(CallsSpec):
    def __init__(self) -> None:
        super().__init__()
        self.built: list[str] = []
        self.looked_at = 0
        self.read: list[str] = []

    def row(self, record: Call, ctx: ViewContext, *, stale: bool) -> Any:
        self.built.append(record.id)
        return super().row(record, ctx, stale=stale)

    def records(self, state: PbxState) -> Any:
        self.read.append(state.name)
        return super().records(state)

    def versions(self, state: PbxState, records: Any, ctx: ViewContext, *, stale: bool) -> Any:
        self.looked_at += len(records)
        return super().versions(state, records, ctx, stale=stale)


def context(states: dict[str, PbxState], index: CallIndex, seconds: float = 0) -> ViewContext:
    return ViewContext(now=NOW + timedelta(seconds=seconds), pbxs=states, calls=index)


def test_a_call_observed_again_is_the_same_row() -> None:
    states = fixed_states(fleet_config(names=("hq",)))
    index, spec = CallIndex(), Counting()
    first = spec.refresh(context(states, index))
    assert len(first.changed) == 4 and len(spec.built) == 4
    spec.built.clear()
    # 1.6 s later: durations say one second more (whole seconds), every call kept
    later = {"hq": polled(states["hq"], 1.6)}
    delta = spec.refresh(context(later, index, 1.6))
    assert delta.changed == {} and delta.removed == [] and spec.built == []
    stuck = "hq\x1fPJSIP/trunk-ACME-0000f255"
    assert shown(spec.cache.rows()[stuck][6], NOW + timedelta(seconds=60))[0] == "2:08:01"


def test_a_call_whose_clock_moved_is_rebuilt_with_its_new_start() -> None:
    states = fixed_states(fleet_config(names=("hq",)))
    index, spec = CallIndex(), Counting()
    spec.refresh(context(states, index))
    spec.built.clear()
    stuck = "PJSIP/trunk-ACME-0000f255"
    # The PBX restarted this call's clock: ten seconds less than its start implies.
    call = next(c for c in states["hq"].calls() if c.id == stuck)
    later = {"hq": polled(states["hq"], 1, **{stuck: {"duration": call.duration - 9}})}
    delta = spec.refresh(context(later, index, 1))
    assert spec.built == [stuck] and list(delta.changed) == [f"hq\x1f{stuck}"]
    assert shown(delta.changed[f"hq\x1f{stuck}"][6], NOW + timedelta(seconds=60))[0] == "2:07:51"


def test_a_changed_call_is_the_only_row_rebuilt() -> None:
    states = fixed_states(fleet_config(names=("hq",)))
    index, spec = CallIndex(), Counting()
    spec.refresh(context(states, index))
    spec.built.clear()
    answered = {"PJSIP/trunk-ACME-0000f253": {"state": CallState.UP, "state_raw": "Up"}}
    delta = spec.refresh(context({"hq": polled(states["hq"], 1, **answered)}, index, 1))
    assert spec.built == ["PJSIP/trunk-ACME-0000f253"]
    assert list(delta.changed) == ["hq\x1fPJSIP/trunk-ACME-0000f253"]
    assert delta.changed["hq\x1fPJSIP/trunk-ACME-0000f253"][5][0] == "up"


def test_a_pbx_whose_state_did_not_change_is_not_looked_at() -> None:
    states = fixed_states(fleet_config())
    index, spec = CallIndex(), Counting()
    spec.refresh(context(states, index))
    spec.read.clear(), spec.built.clear()
    states = {**states, "hq": polled(states["hq"], 1, **{"PJSIP/trunk-ACME-0000f253": {}})}
    spec.refresh(context(states, index, 1))
    assert spec.read == ["hq"], "hq's calls only"
    assert spec.built == ["PJSIP/trunk-ACME-0000f253"]


def test_a_new_filter_rebuilds_no_row() -> None:
    states = fixed_states(fleet_config())
    index, spec = CallIndex(), Counting()
    spec.refresh(context(states, index))
    spec.built.clear()
    spec.looked_at = 0
    narrowed = spec.refresh(context(states, index), "ringing")
    assert spec.built == [] and spec.looked_at == 0
    assert narrowed.changed == {} and len(narrowed.removed) == len(spec.cache.records) - 1
    widened = spec.refresh(context(states, index), "")
    assert spec.built == [] and len(widened.changed) == len(narrowed.removed)


def test_a_call_start_that_moves_further_than_a_wobble_is_taken() -> None:
    """A PBX that restarts a call's clock (a transfer): the row follows it."""
    states = fixed_states(fleet_config(names=("hq",)))
    index, spec = CallIndex(), Counting()
    spec.refresh(context(states, index))
    spec.built.clear()
    restarted = {"PJSIP/trunk-ACME-0000f1e8": {"duration": 0}}
    spec.refresh(context({"hq": polled(states["hq"], 1, **restarted)}, index, 1))
    assert spec.built == ["PJSIP/trunk-ACME-0000f1e8"]


def test_an_extension_row_follows_its_call_only() -> None:
    states = fixed_states(fleet_config(names=("hq",)))
    index, spec = CallIndex(), ExtensionsSpec()
    spec.refresh(context(states, index))
    before = spec.cache.rows()
    unchanged = spec.refresh(context({"hq": polled(states["hq"], 1)}, index, 1))
    assert unchanged.changed == {}, "its call observed again: the same rows"
    hq = polled(states["hq"], 2, **{"PJSIP/trunk-ACME-0000f1e8": {"caller": "0509999999"}})
    delta = spec.refresh(context({"hq": hq}, index, 2))
    assert list(delta.changed) == ["hq\x1f208"]
    assert "0509999999 → 208" in delta.changed["hq\x1f208"][7][0]
    assert before["hq\x1f201"] is spec.cache.rows()["hq\x1f201"]


# -- the calls' rows brought up to date by the records' identities ---------------------------

POLL_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["change", "end", "arrive", "twice", "stale", "again", "filter"]),
        st.integers(0, 30),
        st.sampled_from(["", "ringing", "up", "acme", "05"]),
    ),
    min_size=1,
    max_size=12,
)


def _next_poll(state: PbxState, step: tuple[str, int, str], serial: int) -> PbxState:
    what, pick, _ = step
    resource = state.resource(Resource.CALLS)
    calls = list(resource.records)
    if what == "stale":
        stale = replace(resource, error="" if resource.error else "HTTP 500")
        return replace(state, resources={**state.resources, Resource.CALLS: stale})
    if what == "again":
        resource = replace(resource, records=tuple(calls))  # a new poll, every call kept
    elif calls or what == "arrive":
        at = pick % len(calls) if calls else 0
        if what == "change" and calls:
            up = calls[at].state is not CallState.UP
            state_now = CallState.UP if up else CallState.HELD
            calls[at] = calls[at].model_copy(update={"state": state_now})
        elif what == "end" and calls:
            del calls[at]
        elif what == "arrive":
            base = calls[at] if calls else hq_records()[Resource.CALLS][0]
            calls.insert(at, base.model_copy(update={"id": f"PJSIP/new-{serial:04d}"}))
        elif what == "twice" and calls:
            calls.append(calls[at].model_copy(update={"caller": "0555"}))  # its key again
        resource = replace(resource, records=tuple(calls), error="")
    return replace(state, resources={**state.resources, Resource.CALLS: resource})


@settings(max_examples=120, deadline=None)
@given(steps=POLL_STEPS)
def test_rows_kept_up_to_date_by_identity_are_the_rows_built_from_scratch(
    steps: list[tuple[str, int, str]],
) -> None:
    """Whatever the polls do (calls changed, ended, arrived, a key twice, the poll failing
    and recovering, the filter moving), the table that applies each delta shows what a
    table built afresh from the same poll shows, and the cache knows the same records."""
    states = fixed_states(fleet_config(names=("hq", "istanbul")))
    index, spec = CallIndex(), CallsSpec()
    needle = ""
    delta = spec.refresh(context(states, index), needle)
    table = dict(delta.changed)
    for serial, step in enumerate(steps):
        states = {**states, "hq": _next_poll(states["hq"], step, serial)}
        if step[0] == "filter":
            needle = step[2]
        ctx = context(states, index)
        delta = spec.refresh(ctx, needle)
        assert not delta.changed.keys() & set(delta.removed)
        for key in delta.removed:
            del table[key]
        table.update(delta.changed)
        rows, records = CallsSpec().build(ctx, needle)
        assert table == rows
        assert dict(spec.shown_records) == records
