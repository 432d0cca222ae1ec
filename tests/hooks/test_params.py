"""Reading what a sender wrote: nothing it writes paints the screen or bloats the event."""

from __future__ import annotations

import pytest

from pbxtui.hooks import words
from pbxtui.hooks.params import MAX_FIELDS, BadParams, body_params, clean, query_params
from pbxtui.model.push import MAX_RAW_VALUE, EndStatus
from pbxtui.model.records import Direction


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("Dana\x1b[2J\x1b]0;owned\x07", "Dana[2J]0;owned"),  # no terminal control sequence
        ("050\u202e7654321", "0507654321"),  # no right-to-left override reordering digits
        ("two\nlines\tand\rmore", "two lines and more"),
        ("\x00\x85\ufeffx", "x"),
        ("x" * 10_000, "x" * MAX_RAW_VALUE),
    ],
)
def test_values_are_cleaned_and_cut(sent: str, shown: str) -> None:
    assert clean(sent) == shown


def test_odd_encodings_are_read_not_refused() -> None:
    params = query_params(b"caller=%FF%FE05&NAME=D%C3%A9a&raw=\xe9\xff&caller=second&=x")
    assert params == {"caller": "\ufffd\ufffd05", "name": "Déa", "raw": "\ufffd\ufffd"}
    assert body_params(b"caller=%E2%82%AC", "application/x-www-form-urlencoded") == {"caller": "€"}


def test_json_values_become_text() -> None:
    body = b'{"a": 1, "b": 2.5, "c": true, "d": null, "e": {"x": [1]}, "a": 9}'
    assert body_params(body, "application/json") == {
        "a": "1",
        "b": "2.5",
        "c": "true",
        "d": "",
        "e": '{"x": [1]}',
    }


def test_too_many_parameters_are_refused() -> None:
    many = "&".join(f"k{n}=v" for n in range(MAX_FIELDS + 1)).encode()
    with pytest.raises(BadParams):
        query_params(many)
    assert len(query_params("&".join(f"k{n}=v" for n in range(MAX_FIELDS)).encode())) == 100


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ('"ANSWER"', EndStatus.ANSWERED),
        ("ANSER", EndStatus.ANSWERED),
        ("NO ANSWER", EndStatus.NO_ANSWER),
        ("noanswer", EndStatus.NO_ANSWER),
        ("ABANDONE", EndStatus.ABANDONED),
        ("CANCEL", EndStatus.CANCELLED),
        ("CONGESTION", EndStatus.CONGESTION),
        ("SOMETHING", EndStatus.UNKNOWN),
        ("", None),
    ],
)
def test_end_status_words(word: str, status: EndStatus | None) -> None:
    assert words.end_status(word) is status


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12),
        ("85,6972", 85),
        ("12.9", 12),
        ("00:01:05", 65),
        ("1:02:03", 3723),
        ("-5", None),
        ("", None),
        ("12s", None),
        ("9" * 30, None),
    ],
)
def test_seconds(text: str, value: int | None) -> None:
    assert words.seconds(text) == value


def test_directions() -> None:
    assert [words.direction(w) for w in ("Incoming", "OUT", "outcoming", "", "?")] == [
        Direction.INBOUND,
        Direction.OUTBOUND,
        Direction.OUTBOUND,
        Direction.UNKNOWN,
        Direction.UNKNOWN,
    ]
