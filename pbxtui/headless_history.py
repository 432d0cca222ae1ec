"""``pbxtui history``: one PBX's call history read through the engine, and written as text,
JSON or CSV (no Textual here).

Times given on the command line are this machine's local time unless they say otherwise
(``2026-11-23 14:00``, ``2026-11-23T14:00+03:00``, ``…Z``), or relative to now (``2h``,
``90m``, ``1d12h``, ``1w``), or ``today`` / ``yesterday`` (local midnight).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pbxtui.config import Config
from pbxtui.drivers.base import NotSupported
from pbxtui.engine import Engine
from pbxtui.engine.queries import EngineHistory
from pbxtui.masking import mask_tree
from pbxtui.model.history import (
    CSV_COLUMNS,
    CdrRecord,
    HistoryPage,
    HistoryQuery,
    csv_row,
    utc_text,
)
from pbxtui.model.records import utcnow
from pbxtui.when import parse_when as parse_when  # where the CLI has always found it

HISTORY_SCHEMA_VERSION = 1
KEEP = frozenset({"pbx", "id", "unique_id", "recording", "start", "start_utc", "source"})
"""Fields masked only where they hold a number shown elsewhere (``--mask-numbers``): what a
command takes back (the id, the recording reference) and the times."""
DIRECTION_SHORT = {"inbound": "in", "outbound": "out", "internal": "int", "unknown": "?"}


@dataclass
class HistoryResult:
    pbx: str
    kind: str
    source: str
    query: HistoryQuery
    records: list[CdrRecord] = field(default_factory=list)
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.error


Progress = Callable[[HistoryPage, int], None]
"""Told of each page as it comes, with the number of records so far."""


async def read_history(
    config: Config, pbx: str, query: HistoryQuery, *, progress: Progress | None = None
) -> HistoryResult:
    """The records of ``query`` on ``pbx``, newest first, and whatever stopped the read."""
    pbx_config = config.get(pbx)  # a ConfigError naming the known PBXs
    async with Engine(config) as engine:
        history = EngineHistory(engine)
        driver = engine.driver(pbx)
        # A one-off command receives no pushed calls: its history is the CDR API's.
        result = HistoryResult(pbx, pbx_config.kind, driver.history_source(), query)
        if not driver.history_source():
            result.error = await _why_none(driver.history(query))
            return result
        async for page in history.history(pbx, query):
            result.records.extend(page.records)
            if page.note:
                result.notes.append(page.note)
            if page.error:
                result.error = page.error
            if progress is not None:
                progress(page, len(result.records))
        return result


async def _why_none(pages: Any) -> str:
    try:
        async for _ in pages:
            break
    except NotSupported as exc:
        return str(exc)
    return "no call history from this PBX's API"


def record_dicts(result: HistoryResult, *, mask: bool = False) -> list[dict[str, Any]]:
    """The records as JSON objects (times in UTC with ``Z``), in CSV's column order."""
    rows = []
    for record in result.records:
        values = record.model_dump(mode="json")
        values["start"] = utc_text(record.start)
        rows.append({key: values[key] for key in CSV_COLUMNS if key in values})
    return mask_tree(rows, keep=KEEP) if mask else rows


def history_document(result: HistoryResult, *, mask: bool = False) -> dict[str, Any]:
    """The ``history --json`` document (schema in the README)."""
    since, until = result.query.bounds()
    query = result.query
    return {
        "schema": HISTORY_SCHEMA_VERSION,
        "generated_at": utc_text(utcnow()),
        "pbx": result.pbx,
        "kind": result.kind,
        "source": result.source,
        "query": {
            "since": utc_text(since),
            "until": utc_text(until),
            "number": query.number,
            "statuses": sorted(s.value for s in query.statuses),
            "min_duration": query.min_duration,
            "limit": query.limit,
        },
        "complete": result.complete,
        "error": result.error,
        "notes": result.notes,
        "count": len(result.records),
        "records": record_dicts(result, mask=mask),
    }


def history_csv(result: HistoryResult, *, mask: bool = False) -> str:
    """A header line, then one line per call: what a spreadsheet opens."""
    rows = [csv_row(record) for record in result.records]
    if mask:
        rows = mask_tree(rows, keep=KEEP)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def format_history(result: HistoryResult, *, mask: bool = False) -> str:
    """One line per call, newest first, in this machine's local time."""
    lines = [f"{result.pbx} ({result.kind}): {len(result.records)} calls from {result.source}"]
    for record, row in zip(result.records, record_dicts(result, mask=mask), strict=True):
        start = record.start.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        duration = _clock(record.duration)
        extras = [
            f"by {row['answered_by']}" if row["answered_by"] else "",
            f"queue {row['queue']}" if row["queue"] else "",
            "recorded" if record.recorded else "",
            "pushed" if record.source == "push" else "",
        ]
        parties = f"{row['caller'] or '?'} → {row['callee'] or '?'}"
        lines.append(
            f"  {start}  {DIRECTION_SHORT[record.direction.value]:<3}  {parties:<28} "
            f"{record.status.value:<10} {duration:>8}  {' '.join(e for e in extras if e):<28}"
            f"  {row['id']}".rstrip()
        )
    return "\n".join(lines)


def _clock(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
