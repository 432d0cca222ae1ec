"""PBX Cloud's call history in its own words: ``SIMPLECDRS`` and ``cdrs`` rows, and COUNTPEERS.

SIMPLECDRS rows are as observed (vendor-notes §1.5, A-49): ``sc_*`` fields, all strings,
each also under its positional key (PHP's FETCH_BOTH). The ``cdrs`` columns were never
published: ``cd_*`` here is INFERENCE in the same style, with what SIMPLECDRS lacks
(answer and end times, billable seconds, queue, recording file, originate id). Times are
the tenant's local time; ``start`` and ``end`` are read as dates or date-times, ``end``
exclusive, as the observed client uses them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pbxtui.sim.cdrs import CdrFacts, SimClock, ended_calls
from pbxtui.sim.scenario import Scenario

DIRECTIONS = {"inbound": "IN", "outbound": "OUT", "internal": "LOCAL"}
DISPOSITIONS = {"answered": "ANSWERED", "no_answer": "NO ANSWER", "abandoned": "ABANDONED"}
SIMPLE_FIELDS = (
    "sc_te_id", "tenantcode", "sc_start", "sc_direction", "sc_calleridnum", "sc_calleridname",
    "sc_dialednum", "sc_disposition", "sc_duration", "sc_uniqueid", "sc_whoanswered",
)  # fmt: skip
CDRS_FIELDS = (
    "cd_id", "cd_te_id", "tenantcode", "cd_start", "cd_answer", "cd_end", "cd_direction",
    "cd_src", "cd_srcname", "cd_dst", "cd_disposition", "cd_duration", "cd_billsec",
    "cd_uniqueid", "cd_originateid", "cd_queue", "cd_whoanswered", "cd_recording", "cd_did",
)  # fmt: skip
TENANT_ID = "41"
STAMP = "%Y-%m-%d %H:%M:%S"
REQUEST_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


class CdrBook:
    """One tenant's ended calls, selected and written as the API answers them."""

    def __init__(self, scenario: Scenario, tenant: str, clock: SimClock) -> None:
        self.scenario = scenario
        self.tenant = tenant
        self.clock = clock

    def select(self, params: Mapping[str, str]) -> list[CdrFacts]:
        """The calls that began in ``[start, end)`` (default: today so far), oldest first;
        ``calleridnum`` (a real client's filter) keeps one caller."""
        today = self.clock.local(self.scenario.now).replace(hour=0, minute=0, second=0)
        low = self._moment(params.get("start", ""), today)
        high = self._moment(params.get("end", ""), today + timedelta(days=1))
        caller = params.get("calleridnum", "").strip()
        found = [
            facts
            for facts in ended_calls(self.scenario)
            if low <= facts.start < high and (not caller or facts.caller == caller)
        ]
        return found[::-1]

    def _moment(self, text: str, default: datetime) -> float:
        text = text.strip()
        for fmt in REQUEST_FORMATS:
            try:
                return self.clock.epoch(datetime.strptime(text, fmt))
            except ValueError:
                continue
        return self.clock.epoch(default)

    def peer(self, number: str) -> str:
        return f"{number}-{self.tenant}" if number in self.scenario.extensions else number

    def simple_row(self, facts: CdrFacts) -> dict[str, str]:
        return dict(
            zip(
                SIMPLE_FIELDS,
                (
                    TENANT_ID,
                    self.tenant,
                    self.clock.local(facts.start).strftime(STAMP),
                    DIRECTIONS.get(facts.direction, "LOCAL"),
                    facts.caller,
                    facts.caller_name,
                    facts.callee,
                    DISPOSITIONS[facts.outcome],
                    str(int(facts.duration)),
                    facts.unique_id,
                    self.peer(facts.answered_by),
                ),
                strict=True,
            )
        )

    def cdrs_row(self, facts: CdrFacts) -> dict[str, str]:
        answered = facts.answered
        return dict(
            zip(
                CDRS_FIELDS,
                (
                    str(900000 + facts.seq),
                    TENANT_ID,
                    self.tenant,
                    self.clock.local(facts.start).strftime(STAMP),
                    self.clock.local(answered).strftime(STAMP) if answered is not None else "",
                    self.clock.local(facts.end).strftime(STAMP),
                    DIRECTIONS.get(facts.direction, "LOCAL"),
                    facts.caller,
                    facts.caller_name,
                    facts.callee,
                    DISPOSITIONS[facts.outcome],
                    str(int(facts.duration)),
                    str(int(facts.billable)),
                    facts.unique_id,
                    facts.originate_id,
                    facts.queue,
                    self.peer(facts.answered_by),
                    f"{facts.unique_id}.wav" if facts.recorded else "",
                    "",
                ),
                strict=True,
            )
        )


def fetch_both(rows: Iterable[Mapping[str, str]], positional: bool) -> list[dict[str, str]]:
    """Rows as PHP's FETCH_BOTH gives them: each value under its position and its name."""
    out = []
    for row in rows:
        both: dict[str, str] = {}
        for position, (key, value) in enumerate(row.items()):
            if positional:
                both[str(position)] = value
            both[key] = value
        out.append(both)
    return out


def csv_text(fields: tuple[str, ...], rows: Iterable[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def pipe_rows(rows: Iterable[Mapping[str, str]]) -> str:
    return "\n".join("|".join(row.values()) + "|" for row in rows)


def peer_counts(nodes: Mapping[str, int]) -> dict[str, int]:
    """COUNTPEERS: each node's count and a total that is their sum (A-70)."""
    return {**nodes, "total": sum(nodes.values())}
