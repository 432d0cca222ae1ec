"""The console's garbage-collector set-up: on a terminal only, and rows the collector skips."""

from __future__ import annotations

import gc

from pbxtui.heap import FULL_COLLECTION_EVERY, freeze_long_lived
from pbxtui.ui.app import PbxApp
from pbxtui.ui.cells import cell, num_cell, since_cell
from tests.ui.fakes import NOW, StaticEngine, fleet_config, frozen_clock
from tests.ui.helpers import run


async def test_a_headless_console_leaves_the_collector_as_it_was() -> None:
    config = fleet_config()
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
    app = PbxApp(config, engine=StaticEngine(config), clock=frozen_clock)
    async with run(app) as pilot:
        await pilot.pause()
    assert gc.get_freeze_count() == frozen and gc.get_threshold() == threshold


def test_freezing_moves_what_lives_now_out_of_sight_and_makes_full_collections_rarer() -> None:
    threshold = gc.get_threshold()
    try:
        freeze_long_lived()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[2] == FULL_COLLECTION_EVERY
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


def test_rows_are_made_of_what_the_collector_does_not_track() -> None:
    row = (cell("PJSIP/201-0001"), num_cell(3, "3"), since_cell(NOW, prefix="a → b "))
    # A tuple of untracked values is untracked when a collection looks at it: nested ones
    # from the inside out, a level a collection.
    for _ in range(4):
        gc.collect()
    assert not gc.is_tracked(row)
