"""The console's repaint pacing on its own: spacing, the push exception, slices in order."""

from __future__ import annotations

import pytest

from pbxtui.model import Capabilities, PbxHealth, PbxState
from pbxtui.ui.repaint_pacing import (
    MAX_RENDER_SPACING,
    MIN_RENDER_SPACING,
    PUSH_RENDER_SPACING,
    RENDER_COST_FACTOR,
    RENDER_SLICE,
    RepaintPacing,
)


def state(name: str) -> PbxState:
    return PbxState(
        name=name,
        kind="dialup",
        capabilities=Capabilities(frozenset(), frozenset()),
        health=PbxHealth(pbx=name, kind="dialup"),
    )


def test_a_cheap_repaint_waits_the_minimum_spacing_and_a_push_cuts_it_short() -> None:
    pacing = RepaintPacing()
    pacing.begin({"a": state("a")})
    pacing.painted(0.001, now=100.0)
    assert pacing.due(pushed=False) == pytest.approx(100.0 + MIN_RENDER_SPACING)
    assert pacing.due(pushed=True) == pytest.approx(100.0 + PUSH_RENDER_SPACING)


def test_the_spacing_counts_every_slice_of_a_repaint_and_is_capped() -> None:
    pacing = RepaintPacing()
    pacing.begin({})
    pacing.painted(0.05, now=10.0)
    pacing.painted(0.05, now=10.1)
    assert pacing.due(pushed=False) == pytest.approx(10.1 + RENDER_COST_FACTOR * 0.1)
    pacing.begin({})  # a new repaint starts its count again
    pacing.painted(5.0, now=20.0)
    assert pacing.due(pushed=False) == pytest.approx(20.0 + MAX_RENDER_SPACING)


def test_slices_take_the_oldest_news_first_and_a_pbx_that_changed_again_goes_last() -> None:
    pacing = RepaintPacing()
    names = [f"pbx{i}" for i in range(RENDER_SLICE + 2)]
    pacing.begin({name: state(name) for name in names})
    newer = state("pbx0")
    pacing.begin({"pbx0": newer})
    first = pacing.next_slice()
    assert list(first) == names[1 : RENDER_SLICE + 1]
    rest = pacing.next_slice()
    assert list(rest) == [names[-1], "pbx0"]
    assert rest["pbx0"] is newer
    assert not pacing.backlog
    assert pacing.next_slice() == {}
