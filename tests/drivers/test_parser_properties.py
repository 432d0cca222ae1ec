"""Property tests of every driver parser: whatever a PBX answers, the outcome is models or
this PBX's typed error (issue 9, deliverable 2); and reading with the memos of earlier
answers gives exactly what reading afresh gives (the speed of issue 8 changes no result).

Bodies are JSON-ish values built from the field names the drivers read (in any case, beside
positional and unknown keys), then serialised as they are, truncated, garbled, nested deep
or given integers beyond Python's 4,300-digit limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbxtui.config import parse_config
from pbxtui.drivers import create_driver
from pbxtui.drivers.base import DriverError
from pbxtui.drivers.dialup import (
    DialupDriver,
    ExtensionStatus,
    StatusReader,
    derive_calls,
    parse_action,
    read_fields,
)
from pbxtui.drivers.http import VendorResponse
from pbxtui.drivers.iexpbx import IexPbxDriver, parse_directory, parse_envelope
from pbxtui.drivers.iexpbx_rows import (
    CallReader,
    Envelope,
    QueueInfo,
    User,
    queues_from_rows,
    users_from_rows,
)
from pbxtui.drivers.pbxcloud import PbxCloudDriver
from pbxtui.drivers.pbxcloud_calls import ChannelReader, Leg, group_legs
from pbxtui.model import ActionResult, Call, Direction, LineState, Record
from tests.conftest import toml_config

# The same examples on every run (derandomize), as the project's other property tests: the
# suite never fails now and then. Widening the search is a change of these settings by hand.
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

# Every name a driver reads, and the words its values take, so generated rows are read.
FIELD_NAMES = [
    # PBX Cloud
    "Channel", "State", "ChannelState", "ChannelStateDesc", "Application", "Data",
    "CallerID", "CallerIDNum", "CallerIDName", "Extension", "Exten", "Duration", "UniqueID",
    "LinkedID", "BridgedTo", "BridgeID", "OnHold", "Name", "Host", "Status", "Description",
    "ex_number", "ex_name", "st_extension", "st_state", "st_timestamp", "CALLSINQUEUE",
    "FIRSTWAITING", "AGENTSAVAILABLE", "AGENTSFREE", "SERVICELEVEL", "Response", "Message",
    "ID", "id", "name",
    # IEXPBX
    "success", "count", "data", "message", "channel", "duration", "calltype", "callinfo",
    "src", "dst", "username", "regstatus", "queuenumber", "internal",
    # dialup
    "exten", "Uniqueid", "BridgedUniqueid", "Uniqueid1",
    # positional duplicates and strangers
    "0", "1", "2", "4", "5", "10", "", "x-other",
]  # fmt: skip
WORDS = [
    "Up", "Ring", "Ringing", "Down", "6", "Queue", "Dial", "AppDial", "MusicOnHold",
    "630,t,,,300", "SIP/201-ACME-0000a1b2", "PJSIP/trunk-ACME-00000b2", "SIP/201-0000a1b2",
    "201-ACME", "201", "0501234567", "(None)", "pbx21-1700000000.1", "1717240000.42",
    "00:01:14", "1:02", "74", "85,6972", "-5", "1e999", "nan", "OK (23 ms)", "UNREACHABLE",
    "INUSE", "NOT_INUSE", "paused", "available", "Talking", "Waiting", "Queue(630)", "free",
    "busy", "ringing", "fail", "OK", "Success", "Error", "2026-01-05 10:11:12", "1700000000",
    "100,101,102", "true", "\u0663\u0664", "\u00b2", "",
]  # fmt: skip


def _case(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.lower(), name.upper(), f" {name}"])


keys = st.one_of(st.sampled_from(FIELD_NAMES).flatmap(_case), st.text(max_size=6))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=12,
)
rows = st.dictionaries(keys, st.one_of(scalars, scalars, values), max_size=10)
row_lists = st.lists(rows, max_size=6)
documents = st.one_of(
    values,
    row_lists,
    st.dictionaries(st.sampled_from(["630", "631", "201-ACME"]), rows, max_size=3),
    st.builds(lambda r: {"data": r}, st.one_of(rows, row_lists, values)),
    st.builds(
        lambda ok, r, outer: (
            [{"success": ok, "count": len(r), "data": r}]
            if outer
            else {"success": ok, "count": len(r), "data": r}
        ),
        st.one_of(st.booleans(), scalars),
        row_lists,
        st.booleans(),
    ),
)


def _garble(text: str, data: st.DataObject) -> str:
    if not text:
        return text
    at = data.draw(st.integers(0, len(text) - 1))
    junk = data.draw(st.sampled_from(["\x00", "\ufffd", "}", "]", '"', ",", "\\", "{"]))
    return text[:at] + junk + text[at + 1 :]


@st.composite
def bodies(draw: st.DrawFn) -> str:
    """An answer's text: JSON as sent, cut short, garbled, or hostile."""
    document = draw(documents)
    text = json.dumps(document)  # NaN and Infinity come out as the non-standard words
    form = draw(st.sampled_from(["json", "json", "json", "cut", "garbled", "hostile", "text"]))
    if form == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if form == "garbled":
        return _garble(text, draw(st.data()))
    if form == "hostile":
        depth = draw(st.integers(500, 5_000))
        digits = "7" * draw(st.integers(4_301, 6_000))
        return draw(
            st.sampled_from(
                [
                    "[" * depth + "]" * depth,
                    '{"data": ' + "[" * depth + "]" * depth + "}",
                    f'[{{"Channel": "SIP/1", "Duration": {digits}}}]',
                    f'{{"data": {{"Status": {digits}}}}}',
                    "[" * depth,
                    "",
                    "null",
                    "]",
                ]
            )
        )
    if form == "text":
        return draw(st.one_of(st.sampled_from(WORDS), st.text(max_size=40)))
    return text


def response(body: str, status: int = 200) -> VendorResponse:
    return VendorResponse(status=status, text=body, content_type="application/json", latency_ms=1)


def make_driver(kind: str) -> Any:
    entries = {
        "pbxcloud": {"tenant": "ACME", "key": "k3y"},
        "iexpbx": {"username": "api", "password": "pa55"},
        "dialup": {"user": "w", "pass": "p", "org": "o", "extensions": ["101", "102"]},
    }
    entry = {"name": "hq", "kind": kind, "url": "http://pbx.invalid/x", **entries[kind]}
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda _: httpx.Response(599)))
    return create_driver(parse_config(toml_config([entry]), source="<test>").pbx[0], client)


DRIVERS = {kind: make_driver(kind) for kind in ("pbxcloud", "iexpbx", "dialup")}


# What a read may give: the model's records, or the small readings drivers build them from.
READINGS = (Record, ActionResult, ExtensionStatus, User, QueueInfo, Envelope, tuple, dict)


def model_or_typed_error(read: Callable[[], object]) -> None:
    """``read()`` gives models (or None for "nothing there") or raises this PBX's
    DriverError; any other exception fails the test."""
    try:
        result = read()
    except DriverError as exc:
        assert exc.pbx == "hq" and exc.reason
        return
    for item in result if isinstance(result, list) else [result]:
        assert item is None or isinstance(item, READINGS), item


def pbxcloud_reads(driver: PbxCloudDriver, answer: VendorResponse) -> Iterator[Callable[[], Any]]:
    yield lambda: driver.read_calls(answer)
    yield lambda: driver.read_peers(answer)
    yield lambda: driver.read_extensions(answer, [])
    yield lambda: driver.read_lamps(answer)
    yield lambda: driver.read_queue(answer, "630", "Sales")
    yield lambda: driver.read_agents(answer, "630")
    yield lambda: driver.read_queue_names(answer)
    yield lambda: driver._ack(answer)


def iexpbx_reads(driver: IexPbxDriver, answer: VendorResponse) -> Iterator[Callable[[], Any]]:
    yield lambda: driver._calls(driver.read_rows("activecalls", answer))
    yield lambda: driver._read(users_from_rows, driver.read_rows("users", answer))
    yield lambda: driver._read(queues_from_rows, driver.read_rows("queues", answer))
    yield lambda: driver._checked(driver._read(parse_envelope, answer.text))
    yield lambda: driver._read(parse_directory, answer.text)


def dialup_reads(driver: DialupDriver, answer: VendorResponse) -> Iterator[Callable[[], Any]]:
    reader = StatusReader("hq")

    def sweep() -> list[Call]:
        statuses = {"101": reader.read("101", answer), "102": reader.read("102", answer)}
        return derive_calls("hq", statuses, observed={}, at=AT)

    yield lambda: reader.read("101", answer)
    yield sweep
    yield lambda: parse_action("hq", read_fields("hq", answer))


READS: dict[str, Callable[[Any, VendorResponse], Iterator[Callable[[], Any]]]] = {
    "pbxcloud": pbxcloud_reads,
    "iexpbx": iexpbx_reads,
    "dialup": dialup_reads,
}


@pytest.mark.parametrize("kind", list(READS))
@FUZZ
@given(body=bodies(), status=st.sampled_from([200, 200, 200, 302]))
def test_every_parser_ends_in_a_model_or_a_typed_error(kind: str, body: str, status: int) -> None:
    answer = response(body, status if kind == "dialup" else 200)
    for read in READS[kind](DRIVERS[kind], answer):
        model_or_typed_error(read)


xml_names = st.sampled_from(["contacts", "contact", "entry", "name", "phone", "number", "x"])


@st.composite
def xml_documents(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(xml_names)
    attributes = draw(st.dictionaries(xml_names, st.sampled_from(WORDS), max_size=2))
    shown = "".join(f' {k}="{v}"' for k, v in attributes.items())
    if depth > 3 or draw(st.booleans()):
        return f"<{tag}{shown}>{draw(st.sampled_from(WORDS))}</{tag}>"
    children = draw(st.lists(xml_documents(depth + 1), max_size=3))
    return f"<{tag}{shown}>{''.join(children)}</{tag}>"


@FUZZ
@given(document=xml_documents(), form=st.sampled_from(["xml", "cut", "garbled", "dtd", "deep"]))
def test_the_xml_directory_ends_in_entries_or_a_typed_error(document: str, form: str) -> None:
    driver: IexPbxDriver = DRIVERS["iexpbx"]
    text = {
        "xml": document,
        "cut": document[: len(document) // 2],
        "garbled": document.replace(">", "<", 1),
        "dtd": '<!DOCTYPE x [<!ENTITY a "b">]>' + document,
        "deep": "<a>" * 50_000 + "</a>" * 50_000,
    }[form]
    model_or_typed_error(lambda: driver._read(parse_directory, text))


# -- memos change no result ---------------------------------------------------------------------
CHANNEL_NAMES = [f"SIP/{n}-ACME-0000a{n}" for n in (201, 202, 203)] + ["SIP/trunk-ACME-00b1"]
channel_rows = st.fixed_dictionaries(
    {
        "Channel": st.sampled_from(CHANNEL_NAMES),
        "State": st.sampled_from(["Up", "Ring", "Ringing", "6", "Down"]),
        "Application": st.sampled_from(["Dial", "AppDial", "Queue", "MusicOnHold"]),
        "Duration": st.sampled_from(["0", "5", "61", "1:02"]),
    },
    optional={
        "LinkedID": st.sampled_from(["l1", "l2", ""]),
        "UniqueID": st.sampled_from(["l1", "l2", "u3"]),
        "BridgedTo": st.sampled_from([*CHANNEL_NAMES, "(None)", "bridge-1"]),
        "CallerID": st.sampled_from(["0501234567", "201", ""]),
        "Data": st.sampled_from(["630,t", "SIP/202-ACME"]),
    },
)


@FUZZ
@given(answers=st.lists(st.lists(channel_rows, max_size=6), min_size=1, max_size=5))
def test_channels_read_with_memos_as_read_afresh(answers: list[list[dict[str, str]]]) -> None:
    reader = ChannelReader(pbx="hq", tenant="ACME")
    for rows in answers:
        assert reader.read(rows, AT) == ChannelReader(pbx="hq", tenant="ACME").read(rows, AT)


iex_rows = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(["SIP/201-0000a1", "SIP/trunk-sip-T-1", ""]),
        "duration": st.sampled_from(["00:00:05", "00:01:00", "7"]),
        "callinfo": st.sampled_from(["Talking", "Ringing", "Waiting"]),
        "calltype": st.sampled_from(["Queue(630)", "Dial(SIP/201)"]),
        "src": st.sampled_from(["201", "905321234567"]),
        "dst": st.sampled_from(["630", "202", "0212"]),
    }
)


@FUZZ
@given(answers=st.lists(st.lists(iex_rows, max_size=5), min_size=1, max_size=5))
def test_activecalls_read_with_memos_as_read_afresh(answers: list[list[dict[str, str]]]) -> None:
    reader = CallReader("hq")
    for rows in answers:
        assert reader.read(rows, AT) == CallReader("hq").read(rows, AT)


dialup_statuses = st.builds(
    lambda word, channel, uid, bridged: ExtensionStatus(
        state=LineState(word),
        state_raw=word,
        channel=channel,
        unique_id=uid,
        bridged_unique_id=bridged,
        bridged_channel=channel.replace("1", "2") if bridged == "" else "",
    ),
    st.sampled_from(["busy", "ringing", "idle"]),
    st.sampled_from(["SIP/101-1", "SIP/102-1", "SIP/103-1", ""]),
    st.sampled_from(["1.1", "1.2", "1.3", "x", ""]),
    st.sampled_from(["1.1", "1.2", "1.3", ""]),
)


def partner_by_scan(
    ext: str, status: ExtensionStatus, active: dict[str, ExtensionStatus], taken: set[str]
) -> str:
    """The definition the indexed search must agree with: the first listed extension that
    names this one, or that this one names, by unique id or by channel."""

    def names(a: ExtensionStatus, b: ExtensionStatus) -> bool:
        return bool(
            (b.unique_id and a.bridged_unique_id == b.unique_id)
            or (b.channel and a.bridged_channel == b.channel)
        )

    for other, candidate in active.items():
        if other == ext or other in taken:
            continue
        if names(candidate, status) or names(status, candidate):
            return other
    return ""


@FUZZ
@given(statuses=st.dictionaries(st.sampled_from(["101", "102", "103", "104"]), dialup_statuses))
def test_dialup_partners_found_by_index_as_by_scan(statuses: dict[str, ExtensionStatus]) -> None:
    calls = derive_calls("hq", statuses, observed={}, at=AT)
    active = {ext: s for ext, s in statuses.items() if s.on_call}
    taken: set[str] = set()
    expected = []
    for call in calls:  # the order derive_calls took them in is the order of its calls
        partner = partner_by_scan(call.extension, active[call.extension], active, taken)
        taken |= {call.extension, partner} - {""}
        expected.append(partner)
    assert [c.callee if c.direction is Direction.INTERNAL else "" for c in calls] == expected


def reference_groups(legs: Sequence[Leg]) -> list[list[int]]:
    """Legs joined by LinkedID, else through their bridge: the general rule, by union-find."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for leg in legs:
        find("c:" + leg.channel)
        if leg.linked_id:
            parent[find("c:" + leg.channel)] = find("l:" + leg.linked_id)
        elif leg.bridge:
            parent[find("c:" + leg.channel)] = find("c:" + leg.bridge)
    groups: dict[str, list[int]] = {}
    for position, leg in enumerate(legs):
        groups.setdefault(find("c:" + leg.channel), []).append(position)
    return list(groups.values())


@FUZZ
@given(answer=st.lists(channel_rows, max_size=8))
def test_legs_group_as_the_general_rule_groups_them(answer: list[dict[str, str]]) -> None:
    reader = ChannelReader(pbx="hq", tenant="ACME")
    legs, _ = reader._legs(answer)
    assert group_legs(legs) == reference_groups(legs)


json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)


@FUZZ
@given(body=json_scalars.map(json.dumps))
def test_a_bare_json_scalar_is_never_a_listing(body: str) -> None:
    # "0", "false", '""' or "null" read as "no rows" would show a broken PBX as healthy.
    answer = response(body)
    cloud: PbxCloudDriver = DRIVERS["pbxcloud"]
    iex: IexPbxDriver = DRIVERS["iexpbx"]
    reads: list[Callable[[], object]] = [
        lambda: cloud.read_calls(answer),
        lambda: cloud.read_peers(answer),
        lambda: cloud.read_extensions(answer, []),
        lambda: cloud.read_lamps(answer),
        lambda: cloud.read_queue_names(answer),
        lambda: iex.read_rows("activecalls", answer),
        lambda: StatusReader("hq").read("101", answer),
    ]
    for read in reads:
        with pytest.raises(DriverError):
            read()


def test_one_reader_shared_by_worker_threads_reads_every_answer_right() -> None:
    # Large answers may be read in a worker thread while the next poll's answer is read in
    # another: the memos are shared, and each read must still equal a fresh one.
    import sys
    import threading

    answers = [
        [
            {
                "Channel": f"SIP/{200 + n}-ACME-{n:06x}",
                "State": "Up" if (n + turn) % 3 else "Ring",
                "Application": "Dial",
                "Duration": str(n + turn),
                "LinkedID": f"l{n // 2}",
                "UniqueID": f"l{n // 2}" if n % 2 == 0 else f"u{n}",
            }
            for n in range(300)
        ]
        for turn in range(6)
    ]
    expected = [ChannelReader(pbx="hq", tenant="ACME").read(rows, AT) for rows in answers]
    shared = ChannelReader(pbx="hq", tenant="ACME")
    failures: list[int] = []

    def poll(start: int) -> None:
        for round_ in range(20):
            turn = (start + round_) % len(answers)
            if shared.read(answers[turn], AT) != expected[turn]:
                failures.append(turn)

    threads = [threading.Thread(target=poll, args=(k,)) for k in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads interleave inside reads, not between them
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert failures == []
