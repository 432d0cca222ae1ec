"""Call history of the dialup.php family: ``cdr.php``, or the CloudPlus panel's reports.

``cdr.php`` (globalex-switchboard.txt, "CDR details") is POSTed the organisation's
``org_token`` and filters: ``start_date``, ``end_date`` and ``call_duration`` with the
documented ``>10`` style (a shortest duration is sent that way). It answers JSON; its rows were
never published, so they are read under the names of its own filters (``call_uniqueId``,
``call_source``, ``call_destination``, ``call_status``, ``call_duration``, ``did_number``…)
and Asterisk's CDR names (INFERENCE), inside this family's ``{"data": …}`` wrapper or bare.

Where no ``org_token`` is configured but the CloudPlus panel's login is, the panel's
``API/Reports.php`` is read instead, after a session login (``cloudplus_panel``): Asterisk CDR
columns (``calldate``, ``src``, ``dst``, ``duration``, ``billsec``, ``disposition``,
``uniqueid``, ``recordingfile``: the panel is Elastix-based; INFERENCE).

Dates are asked a local day at a time as ``YYYY-MM-DD`` (INFERENCE); the end may well be
inclusive, so each day's rows are kept within the day, and a row twice is kept once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, timedelta, tzinfo
from functools import partial
from typing import TYPE_CHECKING, Any

from pbxtui.drivers.base import AuthRefused, BadAnswer
from pbxtui.drivers.cloudplus_panel import REPORTS_PATH, PanelSession
from pbxtui.drivers.dialup_answers import _raise_refusal
from pbxtui.drivers.history import (
    CdrRows,
    end_status,
    paged,
    parse_local,
    parties,
)
from pbxtui.drivers.http import VendorHttp, VendorResponse
from pbxtui.drivers.reading import (
    Fields,
    Layout,
    Unreadable,
    decode_json,
    int_of,
    rows_of,
    truncated_json,
)
from pbxtui.model.history import CdrRecord, HistoryPage, HistoryQuery
from pbxtui.model.push import EndStatus

if TYPE_CHECKING:
    from pbxtui.drivers.dialup import DialupDriver

CDR_SOURCE = "cdr.php"
PANEL_SOURCE = "the CloudPlus panel's Reports.php"
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
)
REFUSAL_WORDS = ("fail", "error", "invalid", "denied", "refused")
AUTH_WORDS = ("token", "login", "auth", "credential", "password", "permission")

CDR_FIELDS = Fields(
    {
        "unique_id": ("call_uniqueid", "uniqueid", "linkedid", "ivruniqueid"),
        "start": ("call_date", "call_start", "calldate", "start", "date", "start_time"),
        "direction": ("call_direction", "direction", "type"),
        "caller": ("call_source", "src", "caller", "source"),
        "caller_name": ("call_source_name", "callername", "cnam"),
        "callee": ("call_destination", "dst", "target", "destination"),
        "status": ("call_status", "disposition", "status"),
        "duration": ("call_duration", "duration"),
        "billable": ("call_billsec", "billsec", "dialtime", "billable"),
        "queue": ("queue_name", "queuename", "queue", "queueid"),
        "answered_by": ("answered_by", "targetextension", "agent"),
        "recording": ("call_record", "recordingfile", "record", "recording"),
        "did": ("did_number", "did"),
    }
)


class CdrReader(CdrRows):
    """Rows of cdr.php or of the panel's reports → records (pure: safe in a worker thread)."""

    FIELDS = CDR_FIELDS
    UNREADABLE = "no call in the answer has a readable date"

    def __init__(self, pbx: str, zone: tzinfo | None, *, by_unique_id: bool) -> None:
        self.pbx = pbx
        self.zone = zone
        self.by_unique_id = by_unique_id  # the panel downloads recordings by unique id

    def record(self, row: Mapping[str, Any], layout: Layout, where: str) -> CdrRecord | None:
        def text(field: str) -> str:
            return layout.text(row, field, where, flags=True)

        start = parse_local(text("start"), TIME_FORMATS, self.zone)
        if start is None:
            return None
        caller, callee, direction = parties(text("caller"), text("callee"), text("direction"))
        unique_id = text("unique_id")
        raw = text("status")
        status = end_status(raw)
        recording = text("recording")
        listed = bool(layout.keys["recording"])
        answered = status is EndStatus.ANSWERED
        if self.by_unique_id and recording:
            recording = unique_id or recording
        return CdrRecord(
            pbx=self.pbx,
            id=unique_id or f"{start.isoformat()}|{caller}|{callee}",
            unique_id=unique_id,
            start=start,
            direction=direction,
            caller=caller,
            caller_name=text("caller_name"),
            callee=callee,
            status=status,
            status_raw=raw,
            duration=_seconds(text("duration")),
            billable=_seconds(text("billable")),
            queue=text("queue"),
            answered_by=text("answered_by") or (callee if answered else ""),
            recorded=bool(recording) if listed else None,
            recording=recording,
            did=text("did"),
        )


def _seconds(text: str) -> int | None:
    value = int_of(text)
    return value if value is not None and 0 <= value < 10**9 else None


def cdr_rows(pbx: str, response: VendorResponse, what: str) -> list[Mapping[str, Any]]:
    """The rows of a JSON listing; the family's refusals (texts, login pages, ``fail``) as
    AuthRefused or BadAnswer."""
    body = response.text.strip()
    if not body:
        raise BadAnswer(pbx, f"answered an empty body instead of {what}")
    _raise_refusal(pbx, response, body)
    try:
        data = decode_json(body)
    except json.JSONDecodeError as exc:
        if body[0] in "[{" and truncated_json(body, exc):
            raise BadAnswer(pbx, f"answered truncated JSON for {what}") from None
        raise BadAnswer(pbx, f'answered text instead of {what}: "{body[:80]}"') from None
    except Unreadable as exc:
        raise BadAnswer(pbx, f"{exc} ({what})") from None
    if isinstance(data, dict):
        inner = next((v for k, v in data.items() if str(k).lower() == "data"), None)
        if isinstance(inner, list):
            data = inner
        elif not any(isinstance(v, list) for v in data.values()):
            _refusal(pbx, {str(k).lower(): v for k, v in data.items()}, what)
    try:
        return rows_of(data, "call_date", "calls", "call")
    except Unreadable as exc:
        raise BadAnswer(pbx, f"answered {what} unreadably: {exc}") from None


def _refusal(pbx: str, fields: Mapping[str, Any], what: str) -> None:
    """An object that is no listing: a refusal in the family's words, or nothing readable."""
    words = " ".join(str(v) for v in fields.values() if isinstance(v, str | int))[:200]
    lowered = words.lower()
    if any(word in lowered for word in REFUSAL_WORDS):
        if any(word in lowered for word in AUTH_WORDS) or fields.get("status") == "fail":
            raise AuthRefused(pbx, f"refused the org_token or login: the PBX answered {words!r}")
        raise BadAnswer(pbx, f"refused {what}: {words}")
    raise BadAnswer(pbx, f"answered {what} as a JSON object holding no list of calls")


class DialupHistory:
    """The history reader of one dialup PBX, as its config allows (token, panel, or none)."""

    def __init__(self, driver: DialupDriver) -> None:
        config = driver.dialup
        self.driver = driver
        self.token = config.org_token
        self.cdr_http = VendorHttp(
            pbx=config.name,
            url=config.cdr_endpoint,
            client=driver.http.client,
            timeout=config.timeout,
            budget=driver.budget,
        )
        self.panel: PanelSession | None = None
        if config.panel_user is not None and config.panel_pass is not None:
            self.panel = PanelSession(
                pbx=config.name,
                base_url=config.panel_endpoint,
                user=config.panel_user,
                password=config.panel_pass,
                client=driver.http.client,
                timeout=config.timeout,
                budget=driver.budget,
            )

    @property
    def source(self) -> str:
        if self.token is not None:
            return CDR_SOURCE
        return PANEL_SOURCE if self.panel is not None else ""

    async def pages(self, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        driver = self.driver
        zone = driver.config.zone
        reader = CdrReader(driver.name, zone, by_unique_id=self.token is None)
        read = self._cdr_day if self.token is not None else self._panel_day

        async def read_day(day: date) -> list[CdrRecord]:
            what = f"the calls of {day.isoformat()}"
            response = await read(day, query)
            rows = cdr_rows(driver.name, response, what)
            return await driver.off_loop(
                partial(_read_rows, driver.name, reader, rows, what), size=response.size
            )

        async for page in paged(driver.name, query, zone, read_day, source=self.source):
            yield page

    async def _cdr_day(self, day: date, query: HistoryQuery) -> VendorResponse:
        assert self.token is not None
        form = {
            "org_token": self.token.get_secret_value(),
            "start_date": day.isoformat(),
            "end_date": (day + timedelta(days=1)).isoformat(),
        }
        if query.min_duration:
            form["call_duration"] = f">{query.min_duration - 1}"
        return await self.cdr_http.post_form({}, form)

    async def _panel_day(self, day: date, query: HistoryQuery) -> VendorResponse:
        assert self.panel is not None
        params = {
            "start_date": day.isoformat(),
            "end_date": (day + timedelta(days=1)).isoformat(),
            "format": "json",
        }
        return await self.panel.get(REPORTS_PATH, params)


def _read_rows(
    pbx: str, reader: CdrReader, rows: Sequence[Mapping[str, Any]], what: str
) -> list[CdrRecord]:
    try:
        return reader.read(rows)
    except Unreadable as exc:
        raise BadAnswer(pbx, f"answered {what} unreadably: {exc}") from None
