"""Queries over the engine's PBXs: call history, from each PBX's CDR API and from what it
pushed, merged (satisfies the model's ``HistorySource``).

A query is not a poll: it runs when asked, in the asker's task, with its requests under the
PBX's request budget at a poll's priority, so a history read of a busy PBX never starves its
live polls of their share, nor floods it.

Pushed end-call events (``Engine.push_history``) are history too: the only history of a PBX
whose API has none, and the newest of one whose CDR API has not listed a call yet. A call in
both is listed once, from its CDR (the fuller row): the same id, or the same caller and
callee starting within ``SAME_CALL_SECONDS`` of each other (a pushed call's start is its end
less its duration, so it is known to a few seconds).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta

from pbxtui.drivers.base import DriverError
from pbxtui.engine.engine import Engine
from pbxtui.engine.poller import log_bug
from pbxtui.model.history import (
    CdrRecord,
    CdrSource,
    HistoryPage,
    HistoryQuery,
    digits,
    newest_first,
)
from pbxtui.model.push import EndStatus, PushEvent, PushKind
from pbxtui.redact import scrub

SAME_CALL_SECONDS = 15
PUSHED = "the calls it pushed (webhooks)"
ENDED_KINDS = frozenset({PushKind.CALL_ENDED, PushKind.CALL_MISSED})


def cdr_from_push(event: PushEvent) -> CdrRecord | None:
    """An end-call (or missed-call) event as a history record; None for any other event."""
    if event.kind not in ENDED_KINDS:
        return None
    status = event.status or (
        EndStatus.NO_ANSWER if event.kind is PushKind.CALL_MISSED else EndStatus.UNKNOWN
    )
    start = event.received_at - timedelta(seconds=event.duration or 0)
    answered_by = event.agent or event.extension
    return CdrRecord(
        pbx=event.pbx,
        id=event.call_id or event.dedupe_key.rsplit("\x1f", 1)[-1],
        unique_id=event.call_id,
        start=start,
        direction=event.direction,
        caller=event.caller,
        callee=event.callee,
        status=status,
        status_raw=event.status_raw,
        duration=event.duration,
        billable=event.billable,
        queue=event.queue,
        answered_by=answered_by if status is EndStatus.ANSWERED else "",
        recorded=bool(event.recording) if event.recording else None,
        recording=event.recording,
        did=event.did,
        source=CdrSource.PUSH,
    )


def same_call(pushed: CdrRecord, listed: CdrRecord) -> bool:
    if pushed.id and pushed.id in (listed.id, listed.unique_id):
        return True
    if pushed.unique_id and pushed.unique_id in (listed.id, listed.unique_id):
        return True
    if not pushed.caller or digits(pushed.caller) != digits(listed.caller):
        return False
    callee = digits(pushed.callee or pushed.answered_by)
    if callee not in (digits(listed.callee), digits(listed.answered_by)):
        return False
    return abs((pushed.start - listed.start).total_seconds()) <= SAME_CALL_SECONDS


class EngineHistory:
    """Call history of an open engine's PBXs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def history_source(self, pbx: str) -> str:
        api = self.engine.driver(pbx).history_source()
        return f"{api}, and {PUSHED}" if api else PUSHED

    def pushed(self, pbx: str, query: HistoryQuery, until: datetime) -> list[CdrRecord]:
        records = (cdr_from_push(e) for e in self.engine.push_history(pbx))
        return newest_first(r for r in records if r is not None and query.matches(r, until))

    async def history(self, pbx: str, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        since, until = query.bounds()
        query = query.model_copy(update={"until": until})  # one "now" for every page
        pushed = self.pushed(pbx, query, until)
        driver = self.engine.driver(pbx)
        if not driver.history_source():
            yield HistoryPage(
                pbx=pbx,
                records=tuple(pushed[: query.limit]),
                window=(since, until),
                source=PUSHED,
                note=f"{pbx}'s API has no call history: these are {PUSHED} since pbxtui started",
            )
            return
        left = query.limit
        async for page in self._merged(pbx, driver.history(query), pushed):
            if left is not None:
                page = page.model_copy(update={"records": page.records[:left]})
                left -= len(page.records)
            yield page
            if left == 0 or page.error:
                return

    async def _merged(
        self, pbx: str, pages: AsyncIterator[HistoryPage], pushed: list[CdrRecord]
    ) -> AsyncIterator[HistoryPage]:
        waiting = list(pushed)  # pushed calls not yet listed nor shown, newest first
        last: HistoryPage | None = None
        try:
            async for page in pages:
                last = page
                listed = page.records
                waiting = [p for p in waiting if not any(same_call(p, r) for r in listed)]
                start = page.window[0] if page.window else None
                mine = [p for p in waiting if start is None or p.start >= start]
                waiting = [p for p in waiting if p not in mine]
                yield page.model_copy(update={"records": _newest(listed, mine)})
        except DriverError as exc:
            yield self._stopped(pbx, waiting, last, str(exc))
            return
        except Exception as exc:  # a defect: the pages so far stand, the reason is said
            log_bug(f"{pbx}: reading the call history failed", exc)
            reason = scrub(f"internal error: {type(exc).__name__}: {exc}")[:300]
            yield self._stopped(pbx, waiting, last, reason)
            return
        if waiting:  # older than every page: the CDR API no longer lists them
            yield HistoryPage(pbx=pbx, records=tuple(waiting), source=PUSHED)

    @staticmethod
    def _stopped(
        pbx: str, waiting: list[CdrRecord], last: HistoryPage | None, reason: str
    ) -> HistoryPage:
        return HistoryPage(
            pbx=pbx,
            records=tuple(waiting),
            progress=last.progress if last is not None else 0.0,
            source=last.source if last is not None else PUSHED,
            error=reason,
            note=f"showing {PUSHED} only from here" if waiting else "",
        )


def _newest(*groups: Iterable[CdrRecord]) -> tuple[CdrRecord, ...]:
    return tuple(newest_first(r for group in groups for r in group))
