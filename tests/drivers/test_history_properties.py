"""Property tests of the call-history parsers: whatever a PBX answers to a history request,
the outcome is CDR records or this PBX's typed error, never another exception; and a record
read is always a valid one (an aware start, a status word of the shared vocabulary)."""

from __future__ import annotations

import csv
import io
import json
import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbxtui.drivers.dialup_history import CdrReader as DialupReader
from pbxtui.drivers.dialup_history import cdr_rows
from pbxtui.drivers.iexpbx_history import CdrReader as IexReader
from pbxtui.drivers.iexpbx_history import _read_answer
from pbxtui.drivers.pbxcloud_history import CdrReader as CloudReader
from pbxtui.drivers.pbxcloud_history import _read_body
from pbxtui.drivers.pbxcloud_rows import named_extension_rows
from pbxtui.drivers.reading import Unreadable
from pbxtui.model.history import CdrRecord, EndStatus
from tests.drivers.test_parser_properties import DRIVERS, FUZZ, model_or_typed_error, response

ZONE = zoneinfo.ZoneInfo("Europe/Istanbul")
CDR_NAMES = [
    # PBX Cloud
    "sc_start", "sc_direction", "sc_calleridnum", "sc_calleridname", "sc_dialednum",
    "sc_disposition", "sc_duration", "sc_uniqueid", "sc_whoanswered", "cd_start", "cd_src",
    "cd_dst", "cd_billsec", "cd_recording", "cd_queue", "cd_id",
    # IEXPBX
    "id", "calldate", "calltype", "src", "dst", "duration", "disposition", "queue", "record",
    # dialup
    "call_uniqueId", "call_date", "call_direction", "call_source", "call_destination",
    "call_status", "call_duration", "call_billsec", "did_number", "call_record", "uniqueid",
    "billsec", "recordingfile",
    # positional duplicates and strangers
    "0", "1", "10", "", "x-other",
]  # fmt: skip
CDR_WORDS = [
    "2026-11-23 10:11:12", "23.11.2026 10:11:12", "0000-00-00 00:00:00", "2026-02-30 10:00:00",
    "9999-12-31 23:59:59", "0001-01-01 00:00:00", "23/11/2026 10:11:12", "IN", "OUT", "LOCAL",
    "incoming", "outcoming", "Incoming", "ANSWERED", "NO ANSWER", "ANSER", "BUSY", "FAILED",
    "CONGESTION", "ABANDONE", "85,6972", "00:01:14", "-5", "1e999", "99999999999", "201-ACME",
    "0501234567", "pbx21-1700000000.1", "true", "false", "yok", "x.wav", "",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(CDR_WORDS),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
cdr_rows_st = st.dictionaries(
    st.sampled_from(CDR_NAMES), st.one_of(scalars, scalars, scalars, values), max_size=12
)
documents = st.one_of(
    values,
    st.lists(cdr_rows_st, max_size=5),
    st.builds(lambda r: {"data": r}, st.one_of(st.lists(cdr_rows_st, max_size=5), values)),
    st.builds(
        lambda ok, r: [{"success": ok, "count": len(r), "data": r}],
        st.one_of(st.booleans(), scalars),
        st.lists(cdr_rows_st, max_size=5),
    ),
    st.dictionaries(st.sampled_from(["status", "message", "error"]), scalars, max_size=3),
)


@st.composite
def bodies(draw: st.DrawFn) -> str:
    text = json.dumps(draw(documents))
    form = draw(st.sampled_from(["json", "json", "json", "cut", "csv", "text"]))
    if form == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if form == "csv":
        rows = draw(st.lists(cdr_rows_st, max_size=4))
        names = sorted({k for row in rows for k in row}) or ["cd_start"]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(names)
        writer.writerows([[str(row.get(n, "")) for n in names] for row in rows])
        return buffer.getvalue()
    if form == "text":
        return draw(st.one_of(st.sampled_from(CDR_WORDS), st.text(max_size=40)))
    return text


def valid(result: object) -> None:
    for record in result if isinstance(result, list) else []:
        assert isinstance(record, CdrRecord)
        assert record.start.utcoffset() is not None and record.status in set(EndStatus)
        assert record.duration is None or record.duration >= 0


def cloud_reads(body: str) -> list[Callable[[], Any]]:
    driver = DRIVERS["pbxcloud"]
    reader = CloudReader("hq", "ACME", ZONE)
    return [
        lambda: _read_body(driver, reader, body, "the calls", "simplecdrs"),
        lambda: _read_body(driver, reader, body, "the calls", "cdrs"),
    ]


def iex_reads(body: str) -> list[Callable[[], Any]]:
    driver = DRIVERS["iexpbx"]
    return [lambda: _read_answer(driver, IexReader("hq", ZONE), body)]


def dialup_reads(body: str) -> list[Callable[[], Any]]:
    def read(by_unique_id: bool) -> list[CdrRecord]:
        rows = cdr_rows("hq", response(body), "the calls")
        try:
            return DialupReader("hq", None, by_unique_id=by_unique_id).read(rows)
        except Unreadable as exc:  # the driver says it as its BadAnswer
            from pbxtui.drivers.base import BadAnswer

            raise BadAnswer("hq", str(exc)) from None

    return [lambda: read(True), lambda: read(False)]


READS = {"pbxcloud": cloud_reads, "iexpbx": iex_reads, "dialup": dialup_reads}


@pytest.mark.parametrize("kind", list(READS))
@FUZZ
@given(body=bodies())
def test_every_cdr_parser_ends_in_records_or_a_typed_error(kind: str, body: str) -> None:
    for read in READS[kind](body):

        def checked(read: Callable[[], Any] = read) -> Any:
            result = read()
            valid(result)
            return result

        model_or_typed_error(checked)


@FUZZ
@given(document=documents)
def test_extension_rows_in_any_shape_are_named_or_refused(document: Any) -> None:
    try:
        named = named_extension_rows(document)
    except Unreadable:
        return
    rows = named if isinstance(named, list) else []
    assert not any(isinstance(row, list) for row in rows)
