"""PBX Cloud (MiRTA ``proxyapi.php``) call history: ``INFO`` ``SIMPLECDRS`` or ``cdrs``.

Asked as the observed clients ask (vendor-notes §1.5, §7): ``reqtype=INFO&info=SIMPLECDRS``
with ``start`` and ``end`` dates, ``end`` exclusive, one local day at a time. SIMPLECDRS rows
are ``sc_*`` fields, every value twice (under a positional key too, PHP's FETCH_BOTH), all
strings; no rows is a 0-byte body (A-49). ``INFO cdrs`` (``cdr_source = "cdrs"``) is asked in
CSV, which the syntax index offers for it: a header line then one line per call, a quarter
of the JSON's bytes; its JSON form answers a lone ``]`` for no rows (A-50). Its column names
were never published (INFERENCE: ``cd_*`` beside the ``sc_*`` ones), so one alias table reads
both listings and Asterisk's own CDR names.

Times are the PBX's local time (``sc_start``, ``YYYY-MM-DD HH:MM:SS``), read in the PBX's
configured zone. A call's id is its unique id, which is also what ``INFO recording`` fetches
its recording by, so that is the recording reference.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from datetime import date, timedelta, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any

from pbxtui.drivers.base import BadAnswer
from pbxtui.drivers.history import (
    CdrRows,
    end_status,
    paged,
    parse_local,
    parties,
)
from pbxtui.drivers.pbxcloud_calls import strip_tenant
from pbxtui.drivers.reading import Fields, Layout, Unreadable, int_of, rows_of
from pbxtui.model.history import CdrRecord, HistoryPage, HistoryQuery
from pbxtui.model.push import EndStatus

if TYPE_CHECKING:
    from pbxtui.drivers.pbxcloud import PbxCloudDriver

TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S")
# Bodies that mean "no calls that day" for these two listings: SIMPLECDRS answers 0 bytes
# CDRS a lone "]"; the rest are what an empty PHP array becomes.
NO_ROWS = frozenset({"", "]", "[]", "null", "{}"})
SOURCES = {"simplecdrs": "INFO SIMPLECDRS", "cdrs": "INFO cdrs (CSV)"}

CDR_FIELDS = Fields(
    {
        "unique_id": ("sc_uniqueid", "cd_uniqueid", "uniqueid", "linkedid"),
        "row_id": ("cd_id", "id"),
        "start": ("sc_start", "cd_start", "start", "calldate", "date"),
        "direction": ("sc_direction", "cd_direction", "direction"),
        "caller": ("sc_calleridnum", "cd_src", "calleridnum", "src", "caller"),
        "caller_name": ("sc_calleridname", "cd_srcname", "calleridname", "callername"),
        "callee": ("sc_dialednum", "cd_dst", "dialednum", "dst", "callee"),
        "status": ("sc_disposition", "cd_disposition", "disposition", "status"),
        "duration": ("sc_duration", "cd_duration", "duration"),
        "billable": ("cd_billsec", "billsec", "billable"),
        "answered_by": ("sc_whoanswered", "cd_whoanswered", "whoanswered", "answeredby"),
        "queue": ("cd_queue", "queue"),
        "recording": ("cd_recording", "recordingfile", "recording"),
        "did": ("cd_did", "did"),
    }
)


class CdrReader(CdrRows):
    """Rows of SIMPLECDRS or CDRS → records (pure: safe in a worker thread)."""

    FIELDS = CDR_FIELDS

    def __init__(self, pbx: str, tenant: str, zone: tzinfo | None) -> None:
        self.pbx = pbx
        self.tenant = tenant
        self.zone = zone

    def record(self, row: Mapping[str, Any], layout: Layout, where: str) -> CdrRecord | None:
        def text(field: str) -> str:
            return layout.text(row, field, where, flags=True)

        start = parse_local(text("start"), TIME_FORMATS, self.zone)
        if start is None:
            return None
        caller, callee, direction = parties(text("caller"), text("callee"), text("direction"))
        unique_id = text("unique_id")
        status_raw = text("status")
        status = end_status(status_raw)
        recording_file = text("recording")
        has_file = bool(layout.keys["recording"])  # CDRS says; SIMPLECDRS does not
        talked = status in (EndStatus.ANSWERED, EndStatus.UNKNOWN)
        ident = unique_id or text("row_id") or f"{start.isoformat()}|{caller}|{callee}"
        return CdrRecord(
            pbx=self.pbx,
            id=ident,
            unique_id=unique_id,
            start=start,
            direction=direction,
            caller=strip_tenant(caller, self.tenant),
            caller_name=text("caller_name"),
            callee=strip_tenant(callee, self.tenant),
            status=status,
            status_raw=status_raw,
            duration=_seconds(text("duration")),
            billable=_seconds(text("billable")),
            queue=text("queue"),
            answered_by=strip_tenant(text("answered_by"), self.tenant),
            recorded=bool(recording_file) if has_file else None,
            recording=unique_id if talked and (recording_file or not has_file) else "",
            did=text("did"),
        )


def _seconds(text: str) -> int | None:
    value = int_of(text)
    return value if value is not None and 0 <= value < 10**9 else None


def csv_rows(body: str) -> list[dict[str, str]]:
    """A CSV listing: a header line, then a line per call (``;`` or ``,`` separated)."""
    lines = body.lstrip("\ufeff")
    head = lines.split("\n", 1)[0]
    delimiter = ";" if head.count(";") > head.count(",") else ","
    try:
        reader = csv.DictReader(io.StringIO(lines), delimiter=delimiter)
        rows = [
            {key: value for key, value in row.items() if isinstance(key, str)}
            for row in reader
            if any(row.values())
        ]
    except csv.Error as exc:
        raise Unreadable(f"answered CSV that cannot be read: {exc}") from None
    if reader.fieldnames is None or not any(
        name.strip().lower() in ("sc_start", "cd_start", "start", "calldate")
        for name in reader.fieldnames
    ):
        raise Unreadable("answered CSV without a header naming the call's start")
    return rows


def json_rows(data: Any) -> list[Mapping[str, Any]]:
    return rows_of(data, "sc_start", "calls", "call") if data is not None else []


async def pages(driver: PbxCloudDriver, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
    """The query's calls, a local day at a time, newest first."""
    zone = driver.config.zone
    reader = CdrReader(driver.name, driver.tenant, zone)
    source = driver.cdr_source

    async def read_day(day: date) -> list[CdrRecord]:
        params = {
            "info": source,
            "start": day.isoformat(),
            "end": (day + timedelta(days=1)).isoformat(),  # exclusive, as the API reads it
        }
        if source == "cdrs":
            params["format"] = "csv"
        response = await driver._send("INFO", **params)
        what = f"the calls of {day.isoformat()}"
        body = driver._screen(response, what)
        if body in NO_ROWS:
            return []
        return await driver.off_loop(
            partial(_read_body, driver, reader, body, what, source), size=response.size
        )

    async for page in paged(driver.name, query, zone, read_day, source=SOURCES[source]):
        yield page


def _read_body(
    driver: PbxCloudDriver, reader: CdrReader, body: str, what: str, source: str
) -> list[CdrRecord]:
    try:
        if source == "cdrs" and not body.startswith(("[", "{")):
            return reader.read(csv_rows(body))
        data = driver._json(body, what, NO_ROWS)
        return reader.read(json_rows(data))
    except Unreadable as exc:
        raise BadAnswer(driver.name, f"answered {what} unreadably: {exc}") from None
