"""IEXPBX call history: ``action=cdr`` (vendor-notes §3).

Asked a local day at a time: ``date1`` and ``date2`` as ``ddMMyyyyHHmm``, ``number`` (its
digits) when the query names one, and ``uf=yes`` as the vendor's own sample sends it. Rows
come in the usual ``{success, count, data}`` envelope: ``id``, ``calldate``
(``dd.MM.yyyy HH:mm:ss``,
the PBX's local time), ``calltype`` (``incoming``, ``outcoming`` sic), ``src``, ``dst``,
``duration`` (seconds with a Turkish decimal comma, ``85,6972``), ``disposition``
(``ANSWERED``, ``BUSY``, ``NO ANSWER``), ``queue`` and ``record`` (a boolean: whether there is
a recording, which ``action=record&id=`` fetches by the row's id).

Whether ``date2`` is inclusive is not documented; a day's rows are kept within the day here
and a row two days both return is kept once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
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
from pbxtui.drivers.iexpbx_rows import parse_envelope
from pbxtui.drivers.reading import Fields, Layout
from pbxtui.drivers.values import clock_seconds
from pbxtui.model.history import CdrRecord, HistoryPage, HistoryQuery, digits
from pbxtui.model.push import EndStatus

if TYPE_CHECKING:
    from pbxtui.drivers.iexpbx import IexPbxDriver

SOURCE = "cdr"
TIME_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S")
REQUEST_FORMAT = "%d%m%Y%H%M"
TRUE_WORDS = frozenset({"true", "1", "yes", "var", "evet"})  # Turkish "there is", "yes"
FALSE_WORDS = frozenset({"false", "0", "no", "yok", "hayir", "hay\u0131r"})

CDR_FIELDS = Fields(
    {
        "id": ("id", "cdrid", "callid"),
        "unique_id": ("uniqueid", "chanid", "linkedid"),
        "start": ("calldate", "date", "start"),
        "calltype": ("calltype", "type", "direction"),
        "src": ("src", "caller", "source"),
        "dst": ("dst", "called", "destination"),
        "duration": ("duration", "time"),
        "billable": ("billsec", "billable"),
        "disposition": ("disposition", "status", "callstatus"),
        "queue": ("queue", "queuenumber"),
        "record": ("record", "recorded", "recording"),
    }
)


class CdrReader(CdrRows):
    """Rows of ``action=cdr`` → records (pure: safe in a worker thread)."""

    FIELDS = CDR_FIELDS
    UNREADABLE = "no call in the cdr answer has an id and a readable calldate"

    def __init__(self, pbx: str, zone: tzinfo | None) -> None:
        self.pbx = pbx
        self.zone = zone

    def record(self, row: Mapping[str, Any], layout: Layout, where: str) -> CdrRecord | None:
        def text(field: str) -> str:
            return layout.text(row, field, where, flags=True)

        start = parse_local(text("start"), TIME_FORMATS, self.zone)
        ident = text("id")
        if start is None or not ident:
            return None
        src, dst, direction = parties(text("src"), text("dst"), text("calltype"))
        raw = text("disposition")
        status = end_status(raw)
        flag = text("record").lower()
        recorded = True if flag in TRUE_WORDS else False if flag in FALSE_WORDS else None
        return CdrRecord(
            pbx=self.pbx,
            id=ident,
            unique_id=text("unique_id"),
            start=start,
            direction=direction,
            caller=src,
            callee=dst,
            status=status,
            status_raw=raw,
            duration=clock_seconds(text("duration")),
            billable=clock_seconds(text("billable")),
            queue=text("queue"),
            answered_by=dst if status is EndStatus.ANSWERED else "",
            recorded=recorded,
            recording=ident if recorded else "",
        )


def request_time(day: date) -> str:
    """Midnight of ``day`` as IEXPBX reads it: ``ddMMyyyyHHmm`` on the PBX's own clock."""
    return datetime.combine(day, time()).strftime(REQUEST_FORMAT)


async def pages(driver: IexPbxDriver, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
    zone = driver.config.zone
    reader = CdrReader(driver.name, zone)

    async def read_day(day: date) -> list[CdrRecord]:
        params = {
            "date1": request_time(day),
            "date2": request_time(day + timedelta(days=1)),
            "uf": "yes",
        }
        if query.number:
            # The PBX matches the number as stored: its digits, not the operator's spacing.
            params["number"] = digits(query.number)
        response = await driver._send("cdr", params, expected="JSON")
        read = partial(_read_answer, driver, reader, response.text)
        return await driver.off_loop(read, size=response.size)

    async for page in paged(driver.name, query, zone, read_day, source=SOURCE):
        yield page


def _read_answer(driver: IexPbxDriver, reader: CdrReader, text: str) -> list[CdrRecord]:
    envelope = driver._checked(driver._read(parse_envelope, text))
    if not envelope.success:
        reason = envelope.message or "success is false, with no reason given"
        raise BadAnswer(driver.name, f"refused cdr: {reason}")
    if envelope.rows is None:
        raise BadAnswer(driver.name, "answered cdr without data (no rows, not even [])")
    return driver._read(reader.read, envelope.rows)
