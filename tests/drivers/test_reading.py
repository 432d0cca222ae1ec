"""The shared reading helpers: guarded documents, typed fields, layouts and memos."""

from __future__ import annotations

import json
import threading

import pytest

from pbxtui.drivers.reading import (
    MEMO_LIMIT,
    Fields,
    Layouts,
    RowMemo,
    Unreadable,
    decode_json,
    int_of,
    number_of,
    parse_xml,
    rows_of,
    text_of,
    truncated_json,
)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, "nested too deeply"),
        ("[" + "9" * 4_301 + "]", "number too long"),
        ('{"n": -' + "1" * 10_000 + "}", "number too long"),
        ('[{"x": NaN}]', "NaN, which is not a number"),
        ("[Infinity]", "Infinity"),
        ("[-Infinity]", "-Infinity"),
    ],
)
def test_hostile_json_is_unreadable_never_a_crash(body: str, words: str) -> None:
    with pytest.raises(Unreadable, match=words):
        decode_json(body)


def test_ordinary_json_and_syntax_errors_are_left_to_the_driver() -> None:
    assert decode_json('[{"a": 1.5, "b": [null, true]}]') == [{"a": 1.5, "b": [None, True]}]
    assert decode_json("9" * 4_300) == int("9" * 4_300)  # at the limit is still a number
    with pytest.raises(json.JSONDecodeError):
        decode_json('{"a": }')


@pytest.mark.parametrize(
    ("body", "cut"),
    [
        ('[{"a": "b', True),
        ('[{"a": 1},', True),
        ('{"a": [1, 2', True),
        ('[{"a": 1}] x', False),
        ('{"a" 1}', False),
    ],
)
def test_truncated_json_is_told_from_malformed(body: str, cut: bool) -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(body)
    assert truncated_json(body, caught.value) is cut


@pytest.mark.parametrize(
    ("value", "text"),
    [("  a ", "a"), (12, "12"), (12.0, "12"), (12.5, "12.5"), (None, ""), (-0.0, "0")],
)
def test_scalars_read_as_text(value: object, text: str) -> None:
    assert text_of(value, "x") == text


@pytest.mark.parametrize(
    ("value", "kind"),
    [([1], "list"), ({"a": 1}, "object"), (True, "boolean")],
)
def test_a_container_or_a_boolean_where_text_belongs_names_the_field(
    value: object, kind: str
) -> None:
    with pytest.raises(Unreadable, match=f"channel 3 'Channel' is a JSON {kind}, expected text"):
        text_of(value, "channel 3 'Channel'")
    assert text_of(True, "a flag", flags=True) == "true"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12", 12),
        ("12,9", 12),
        ("99.5%", 99),
        ("1e3", 1000),
        ("-4", -4),
        ("1e999", None),
        ("9" * 5_000, None),
        ("nan", None),
        ("inf", None),
        ("\u0663", None),  # an Arabic-Indic 3: int() reads it, but no PBX writes counts so
        ("12 calls", None),
        ("", None),
    ],
)
def test_whole_numbers_never_overflow(text: str, number: int | None) -> None:
    assert int_of(text) == number
    assert (number_of(text) is None) is (number is None)


FIELDS = Fields(
    {"channel": ("channel", "name"), "state": ("state",), "duration": ("duration",)},
    volatile={"duration"},
)


def test_a_layout_is_resolved_once_per_key_set_whatever_the_case() -> None:
    layouts = Layouts(FIELDS)
    first = {"CHANNEL": "SIP/1", "State": "Up", "Duration": "5", "0": "SIP/1"}
    second = {"CHANNEL": "SIP/2", "State": "Ring", "Duration": "6", "0": "SIP/2"}
    layout = layouts.of(first)
    assert layouts.of(second) is layout  # the same key set: the same layout, not resolved again
    assert layout.keys == {"channel": ("CHANNEL",), "state": ("State",), "duration": ("Duration",)}
    assert layout.text(first, "channel", "row 1") == "SIP/1"
    assert layout.first(second, "duration") == "6"
    # The fingerprint leaves the ticking duration and the positional duplicate out.
    assert layout.fingerprint(first) == ("SIP/1", "Up")
    assert layout.fingerprint({**first, "Duration": "99"}) == layout.fingerprint(first)


def test_aliases_are_tried_in_order_and_empty_values_skipped() -> None:
    row = {"name": "SIP/9", "channel": "", "state": None}
    layout = Layouts(FIELDS).of(row)
    assert layout.keys["channel"] == ("channel", "name")
    assert layout.text(row, "channel", "row") == "SIP/9"
    assert layout.text(row, "state", "row") == ""


def test_a_row_without_any_field_read_has_an_empty_fingerprint() -> None:
    layout = Layouts(FIELDS).of({"colour": "blue"})
    assert layout.fingerprint({"colour": "blue"}) == ()
    assert layout.text({"colour": "blue"}, "channel", "row") == ""
    one = Layouts(Fields({"channel": ("channel",)})).of({"channel": "SIP/1"})
    assert isinstance(one.fingerprint({"channel": "SIP/1"}), tuple)  # one key: still a tuple


def test_a_hostile_answer_cannot_grow_the_layouts_without_bound() -> None:
    layouts = Layouts(FIELDS)
    for n in range(1_000):
        layouts.of({f"key{n}": n})
    assert len(layouts._known) <= 64


def test_a_row_memo_keeps_only_what_the_last_answer_used() -> None:
    layout = Layouts(FIELDS).of({"channel": "a"})
    memo: RowMemo[int] = RowMemo()
    last, current = memo.begin()
    current[layout] = {("a",): 1, ("b",): 2}
    memo.commit(current)
    last, current = memo.begin()
    assert last[layout][("a",)] == 1  # the answer before's entries are there to reuse
    current[layout] = {("a",): 1, ("c",): 3}
    memo.commit(current)
    last, _ = memo.begin()
    assert last[layout] == {("a",): 1, ("c",): 3}  # b went away with the answer after it


def test_a_row_memo_of_an_answer_too_large_is_not_kept() -> None:
    layout = Layouts(FIELDS).of({"channel": "a"})
    memo: RowMemo[int] = RowMemo()
    _, current = memo.begin()
    current[layout] = {(n,): n for n in range(MEMO_LIMIT + 1)}
    memo.commit(current)
    assert memo.begin()[0] == {}


def test_reads_racing_in_threads_each_install_a_whole_generation() -> None:
    layout = Layouts(FIELDS).of({"channel": "a"})
    memo: RowMemo[int] = RowMemo()

    def answer(offset: int) -> None:
        for _ in range(50):
            last, current = memo.begin()
            seen, kept = last.get(layout, {}), current.setdefault(layout, {})
            for n in range(200):
                kept[(offset + n,)] = seen.get((offset + n,)) or offset + n
            memo.commit(current)

    threads = [threading.Thread(target=answer, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    survivors = memo.begin()[0][layout]
    offsets = {key[0] // 1000 for key in survivors}
    assert len(offsets) == 1 and len(survivors) == 200  # one answer's entries, all of them


@pytest.mark.parametrize(
    ("data", "count"),
    [
        ([{"channel": "a"}, {"channel": "b"}], 2),
        ({"u1": {"channel": "a"}, "u2": {"channel": "b"}}, 2),
        ({"Channel": "a", "state": "Up"}, 1),
        ({"rows": [{"channel": "a"}], "total": 1}, 1),
        ([], 0),
    ],
)
def test_rows_in_every_container_shape(data: object, count: int) -> None:
    assert len(rows_of(data, "channel", "channels", "channel")) == count


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (None, "got a JSON null"),
        (5, "got a JSON number"),
        ("rows", "got a JSON string"),
        ([{"channel": "a"}, None], "channel 2 is a JSON null"),
        ([{"channel": "a"}, [1]], "channel 2 is a JSON list"),
        ({"a": [1], "b": [2]}, "holds none"),
        ({}, "an empty object"),
    ],
)
def test_rows_of_the_wrong_type_name_where(data: object, words: str) -> None:
    with pytest.raises(Unreadable, match=words):
        rows_of(data, "channel", "channels", "channel")


def test_xml_with_a_dtd_is_refused_and_broken_xml_is_unreadable() -> None:
    assert parse_xml('<?xml version="1.0" encoding="UTF-8"?><a><b>1</b></a>').tag == "a"
    bomb = '<!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><l>&b;</l>'
    with pytest.raises(Unreadable, match="DOCTYPE"):
        parse_xml(bomb)
    with pytest.raises(Unreadable, match="malformed or truncated"):
        parse_xml("<a><b>")
    assert parse_xml("<a>" * 20_000 + "</a>" * 20_000).tag == "a"  # deep but well formed
