"""The Calls pane's recently ended calls: each call the console saw end, as it last saw it,
newest first, a link to its row in the history (``Enter`` or ``H`` on it opens History there).

A finished call is no live call: its rows are not ``Record`` s, so no action (hang up,
transfer) ever targets one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import ClassVar

from pbxtui.model import Call, Change, ChangeKind, PbxState
from pbxtui.ui.cells import cell, fixed_cell, num_cell
from pbxtui.ui.format import format_duration
from pbxtui.ui.history_link import FinishedCall
from pbxtui.ui.row_cache import Delta
from pbxtui.ui.views import MARK_COLUMN, NO_MARK, PBX_COLUMN, ViewContext
from pbxtui.ui.widgets.columns import Column, Keep
from pbxtui.ui.widgets.live_table import Row

MAX_RECENT = 50


class RecentCalls:
    """The calls seen ending, newest last (at most ``MAX_RECENT``)."""

    def __init__(self) -> None:
        self.calls: deque[FinishedCall] = deque(maxlen=MAX_RECENT)

    def note(self, before: Mapping[str, PbxState], changes: Iterable[Change]) -> bool:
        """Keep the calls that ``changes`` say ended, as ``before`` (the state shown until
        now) last had them; True when any was kept. A call is kept once, however many ways
        its end was learnt (a webhook, then the poll that no longer lists it)."""
        kept = False
        known: dict[str, dict[str, Call]] = {}
        noted = {finished.call.key for finished in self.calls}
        for change in changes:
            if change.kind is not ChangeKind.CALL_ENDED or not change.key:
                continue
            if change.key in noted:
                continue
            state = before.get(change.pbx)
            if state is None:
                continue
            calls = known.get(change.pbx)
            if calls is None:
                calls = known[change.pbx] = {c.key: c for c in state.calls()}
            call = calls.get(change.key)
            if call is not None:
                self.calls.append(FinishedCall(call, change.at))
                noted.add(change.key)
                kept = True
        return kept


class RecentSpec:
    """The recent list's rows (the ``Builder`` a pane section needs)."""

    name: ClassVar[str] = "recent"
    columns: ClassVar[tuple[Column, ...]] = (
        MARK_COLUMN,
        PBX_COLUMN,
        Column("ended", "Ended", 8, keep=Keep.DATA),
        Column("caller", "Caller", 13, 11, keep=Keep.DATA),
        Column("callee", "Callee", 13, 11, keep=Keep.DATA),
        Column("lasted", "Lasted", 8, 7, keep=Keep.DATA),
        Column("hint", "", 24, 0, sortable=False),
    )
    sort: ClassVar[str] = "ended"
    reverse: ClassVar[bool] = True

    def __init__(self) -> None:
        self.recent = RecentCalls()
        self._records: dict[str, FinishedCall] = {}
        self._shown: dict[str, Row] = {}
        self._epoch: object = None

    @property
    def shown_records(self) -> Mapping[str, FinishedCall]:
        return self._records

    def row(self, finished: FinishedCall, ctx: ViewContext) -> Row:
        ended = finished.ended_at.astimezone(ctx.now.tzinfo)
        lasted = finished.lasted
        return (
            NO_MARK,
            cell(finished.pbx),
            fixed_cell(ended.strftime("%H:%M:%S"), (0, ended.timestamp())),
            cell(ctx.number(finished.call.caller)),
            cell(ctx.number(finished.call.callee)),
            num_cell(lasted, format_duration(lasted)),
            cell("Enter: its history", ctx.palette.muted),
        )

    def refresh(self, ctx: ViewContext, needle: str = "") -> Delta:
        cache = self._shown
        if ctx.epoch != self._epoch:  # a theme or privacy mode changed: every row anew
            self._epoch, cache = ctx.epoch, {}
        needle = needle.lower()
        records: dict[str, FinishedCall] = {}
        rows: dict[str, Row] = {}
        for finished in self.recent.calls:
            if finished.pbx not in ctx.pbxs:
                continue
            key = finished.key
            records[key] = finished
            row = cache.get(key) or self.row(finished, ctx)
            text = " ".join(c[0] for c in row).lower()
            if not needle or needle in text:
                rows[key] = row
        before = self._shown
        delta = Delta(
            {k: r for k, r in rows.items() if before.get(k) is not r},
            [k for k in before if k not in rows],
        )
        self._records, self._shown = records, rows
        return delta
