from __future__ import annotations

import pytest

from pbxtui.drivers.values import clock_seconds, json_scalar, qualify


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:01:14", 74),
        ("01:14", 74),
        ("127:14", 7634),
        ("74", 74),
        ("85,6972", 85),
        ("4.5", 4),
        ("", None),
        ("soon", None),
        ("nan", None),
        ("1e999", None),
        ("-3", None),
        ("9" * 30, None),  # no call lasts 10^30 seconds: a figure that is no duration
        ("9" * 5_000, None),  # beyond int()'s 4,300 digits
        ("1" * 5_000 + ":00", None),
        (" 00:00:07 ", 7),
        ("\u0663:\u0664\u0665", 225),  # Arabic-Indic digits are digits to int()
    ],
)
def test_clock_seconds(text: str, seconds: int | None) -> None:
    assert clock_seconds(text) == seconds
    assert clock_seconds(text) == seconds  # and again, from the cache of short texts


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("OK (93 ms)", (True, 93)),
        ("LAGGED (2510 ms)", (True, 2510)),
        ("UNREACHABLE", (False, None)),
        ("UNKNOWN", (False, None)),
        ("Unmonitored", (None, None)),
        ("", (None, None)),
    ],
)
def test_qualify(status: str, expected: tuple[bool | None, int | None]) -> None:
    assert qualify(status) == expected


def test_json_scalar() -> None:
    assert [json_scalar(v) for v in (True, 12, 12.0, 1.5, " x ", None, [1], {})] == [
        "true", "12", "12", "1.5", "x", None, None, None,
    ]  # fmt: skip
    huge = (float("inf"), float("nan"), 1e300)
    assert [json_scalar(v) for v in huge] == ["inf", "nan", "1e+300"]
