"""Reading the history of several PBXs at once (no Textual here), and saying how far it got.

Every PBX is read in its own task, so a PBX whose CDR API is slow or failing holds back no
other: its pages arrive as they come, and its error ends its own read only. A defect in a
source becomes that PBX's reason on screen, never a crash of the console.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio

from pbxtui.model.history import HistoryPage, HistoryQuery, HistorySource
from pbxtui.redact import scrub

PageListener = Callable[[str, HistoryPage | None], None]
"""Called with each page of a PBX as it comes, then with None when that PBX is done."""

DAY = timedelta(days=1)


async def read_all(
    source: HistorySource, pbxs: Sequence[str], query: HistoryQuery, listener: PageListener
) -> None:
    """Read ``query`` on every PBX of ``pbxs`` at once; returns when every read has ended."""
    async with anyio.create_task_group() as group:
        for pbx in pbxs:
            group.start_soon(_read_one, source, pbx, query, listener)


async def _read_one(
    source: HistorySource, pbx: str, query: HistoryQuery, listener: PageListener
) -> None:
    try:
        if not source.history_source(pbx):
            listener(pbx, HistoryPage(pbx=pbx, note="no call history from this PBX"))
            return
        async for page in source.history(pbx, query):
            listener(pbx, page)
            if page.error:
                return
    except Exception as exc:  # a defect in a source: this PBX's reason, not a crash
        reason = scrub(f"internal error: {type(exc).__name__}: {exc}")[:300]
        listener(pbx, HistoryPage(pbx=pbx, progress=0.0, error=reason))
    finally:
        listener(pbx, None)


@dataclass
class PbxProgress:
    """How far one PBX's read has come."""

    pbx: str
    rows: int = 0
    progress: float = 0.0
    oldest: datetime | None = None
    """The start of the oldest window read so far (readers go newest first)."""
    source: str = ""
    error: str = ""
    note: str = ""
    done: bool = False

    def took(self, page: HistoryPage) -> None:
        self.rows += len(page.records)
        self.progress = max(self.progress, page.progress)
        if page.window is not None:
            self.oldest = min(self.oldest or page.window[0], page.window[0])
        self.source = page.source or self.source
        self.error = page.error or self.error
        self.note = page.note or self.note

    def line(self, since: datetime, until: datetime) -> tuple[str, str]:
        """(level, text): ``reading hq… 1,200 rows, day 3 of 7`` and the like."""
        if self.error:
            return "alert", f"{self.pbx}: stopped after {self.rows:,} rows — {self.error}"
        if not self.done:
            return "info", f"reading {self.pbx}… {self.rows:,} rows{self._where(since, until)}"
        source = f" from {self.source}" if self.source else ""
        note = f" — {self.note}" if self.note else ""
        return "info", f"{self.pbx}: {self.rows:,} calls{source}{note}"

    def _where(self, since: datetime, until: datetime) -> str:
        days = max(1, math.ceil((until - since) / DAY))
        if days > 1:
            read = (until - self.oldest) / DAY if self.oldest is not None else 0.0
            return f", day {min(days, int(read) + 1)} of {days}"
        return f", {int(self.progress * 100)}%"
