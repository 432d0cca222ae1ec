"""Readers for the value formats several vendor APIs share (Asterisk underneath them all)."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

LATENCY_RE = re.compile(r"\(\s*(\d+)\s*ms\s*\)", re.IGNORECASE)
CLOCK_RE = re.compile(r"^(?:(?P<h>\d+):)?(?P<m>\d+):(?P<s>\d+(?:[.,]\d+)?)$")

# chan_sip / PJSIP qualify words. UNKNOWN is what chan_sip says of a qualified peer that never
# answered: in practice not registered.
REGISTERED_WORDS = ("ok", "lagged", "registered", "reachable", "online", "true")
UNREGISTERED_WORDS = (
    "unreachable",
    "unknown",
    "unregistered",
    "not registered",
    "offline",
    "unavailable",
    "false",
)


def clock_seconds(text: str) -> int | None:
    """``HH:MM:SS``, ``MM:SS`` or seconds (``"74"``, ``"85,6972"``) → whole seconds, else None."""
    # A live answer repeats a few thousand distinct durations; long texts are not worth keeping.
    return _clock_seconds(text) if len(text) <= 24 else _read_clock(text)


@lru_cache(maxsize=8192)
def _clock_seconds(text: str) -> int | None:
    return _read_clock(text)


def _read_clock(text: str) -> int | None:
    text = text.strip()
    match = CLOCK_RE.match(text)
    try:
        if match:
            seconds = float(match["s"].replace(",", "."))
            total = int(match["h"] or 0) * 3600 + int(match["m"]) * 60 + int(seconds)
            return total if total < 10**9 else None
        value = float(text.replace(",", "."))
    except (ValueError, OverflowError):
        return None
    # Past a billion seconds (31 years) a figure is no call's duration, whatever it is.
    return int(value) if math.isfinite(value) and 0 <= value < 10**9 else None


def qualify(status: str) -> tuple[bool | None, int | None]:
    """chan_sip qualify text (``OK (23 ms)``, ``UNREACHABLE``…) → (registered, latency ms).

    ``None`` where the text does not say (``Unmonitored``, empty, a word never seen).
    """
    word = status.strip().lower()
    found = LATENCY_RE.search(word)
    latency = int(found.group(1)) if found else None
    if word.startswith(UNREGISTERED_WORDS):
        return False, None
    if word.startswith(REGISTERED_WORDS) or latency is not None:
        return True, latency
    return None, latency


def json_scalar(value: Any) -> str | None:
    """A JSON scalar as text (``12`` → ``"12"``, ``12.0`` → ``"12"``); None for null/nested."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # 1e300 is written as such, not as its 301 digits.
        return str(int(value)) if value.is_integer() and abs(value) < 10**15 else repr(value)
    if isinstance(value, str):
        return value.strip()
    return None
