"""SVG snapshots of the History screen: a fixed history (two PBXs listing, one failing, one
without any), the clock frozen, at 80x24 and 160x45."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from textual.pilot import Pilot

from pbxtui.model.history import CdrRecord, EndStatus, HistoryPage, HistoryQuery
from pbxtui.model.records import Direction
from pbxtui.ui.app import PbxApp
from pbxtui.ui.screens.history import HistoryScreen
from tests.snapshots.test_snapshots import settle
from tests.ui.fakes import NOW, StaticEngine, fixed_states, fleet_config, frozen_clock
from tests.ui.helpers import wait_for

Snap = Callable[..., bool]

CALLS = (
    # pbx, minutes ago, direction, caller, callee, status, raw, duration, billable, queue, by, rec
    ("hq", 4, "inbound", "0501234567", "201", "answered", "ANSWERED", 312, 300, "Sales", "201", 1),
    ("hq", 11, "inbound", "0529876543", "630", "abandoned", "ABANDON", 48, 0, "Sales", "", 0),
    ("eu", 17, "outbound", "205", "00441632960001", "answered", "ANSWERED", 95, 80, "", "", 1),
    ("hq", 26, "internal", "203", "204", "no_answer", "NO ANSWER", 20, 0, "", "", 0),
    ("eu", 38, "inbound", "+33 1 23 45 67 89", "210", "busy", "BUSY", 3, 0, "", "", 0),
    ("hq", 52, "outbound", "202", "0541112233", "failed", "FAILED", 0, 0, "", "", 0),
    (
        "hq",
        75,
        "inbound",
        "0507654321",
        "630",
        "answered",
        "ANSWERED",
        1260,
        1190,
        "Sales",
        "207",
        1,
    ),
)


def records(pbx: str) -> tuple[CdrRecord, ...]:
    return tuple(
        CdrRecord(
            pbx=p,
            id=f"{p}-{i}",
            unique_id=f"17419{i:05d}.{i}",
            start=NOW - timedelta(minutes=ago),
            direction=Direction(direction),
            caller=caller,
            callee=callee,
            status=EndStatus(status),
            status_raw=raw,
            duration=duration,
            billable=billable,
            queue=queue,
            answered_by=by,
            recording=f"rec-{i}" if rec else "",
            recorded=bool(rec),
        )
        for i, (
            p,
            ago,
            direction,
            caller,
            callee,
            status,
            raw,
            duration,
            billable,
            queue,
            by,
            rec,
        ) in enumerate(CALLS)
        if p == pbx
    )


class FixedHistory:
    def history_source(self, pbx: str) -> str:
        return "" if pbx == "istanbul" else "CDR API"

    async def history(self, pbx: str, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        since, until = query.bounds(NOW)
        if pbx == "branch":
            yield HistoryPage(pbx=pbx, progress=0.0, error="no answer within 5 s")
            return
        yield HistoryPage(pbx=pbx, records=records(pbx), window=(since, until), source="CDR API")


def make_app() -> PbxApp:
    config = fleet_config()
    engine = StaticEngine(config, states=fixed_states(config))
    app = PbxApp(config, engine=engine, clock=frozen_clock, arm_seconds=0, history=FixedHistory())
    app.animation_level = "none"
    return app


async def open_history(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("H")
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    await wait_for(pilot, lambda: not screen.reading and screen.table.fitted)
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 45)], ids=["80x24", "160x45"])
def test_history_screen(snap_compare: Snap, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=open_history)
