"""The vendors' words for how a call ended, which way it went and how long it took."""

from __future__ import annotations

import re

from pbxtui.model.push import EndStatus
from pbxtui.model.records import Direction

MAX_SECONDS = 10 * 365 * 86400
"""A longer "duration" is not one: read as unknown, kept in the raw parameters."""

_STATUSES = {
    # GlobalEx writes "ANSWER" (quotes included, in its table) and NO ANSWER; Voicenter-style
    # senders ABANDONE; IEXPBX ANSER (sic) and NOANSWER.
    "ANSWER": EndStatus.ANSWERED,
    "ANSWERED": EndStatus.ANSWERED,
    "ANSER": EndStatus.ANSWERED,
    "NOANSWER": EndStatus.NO_ANSWER,
    "BUSY": EndStatus.BUSY,
    "CANCEL": EndStatus.CANCELLED,
    "CANCELED": EndStatus.CANCELLED,
    "CANCELLED": EndStatus.CANCELLED,
    "CONGESTION": EndStatus.CONGESTION,
    "FAILED": EndStatus.FAILED,
    "FAIL": EndStatus.FAILED,
    "CHANUNAVAIL": EndStatus.FAILED,
    "ABANDON": EndStatus.ABANDONED,
    "ABANDONE": EndStatus.ABANDONED,
    "ABANDONED": EndStatus.ABANDONED,
}

_DIRECTIONS = {
    "IN": Direction.INBOUND,
    "INBOUND": Direction.INBOUND,
    "INCOMING": Direction.INBOUND,
    "OUT": Direction.OUTBOUND,
    "OUTBOUND": Direction.OUTBOUND,
    "OUTGOING": Direction.OUTBOUND,
    "OUTCOMING": Direction.OUTBOUND,  # IEXPBX's CDR spelling
    "INTERNAL": Direction.INTERNAL,
    "LOCAL": Direction.INTERNAL,
}


def _word(text: str) -> str:
    """``"NO ANSWER"`` → ``NOANSWER``: quotes, case, spaces and separators dropped."""
    return re.sub(r"[\s\"'`_\-]", "", text).upper()


def end_status(text: str) -> EndStatus | None:
    """How the call ended; ``None`` when the sender did not say, ``UNKNOWN`` for a word
    not known (the word itself is kept as ``status_raw``)."""
    word = _word(text)
    if not word:
        return None
    return _STATUSES.get(word, EndStatus.UNKNOWN)


def direction(text: str) -> Direction:
    return _DIRECTIONS.get(_word(text), Direction.UNKNOWN)


def seconds(text: str) -> int | None:
    """``12``, ``12.7`` or ``12,7`` (a Turkish locale) and ``00:01:05`` as whole seconds;
    anything else, negative or implausibly large, as ``None``."""
    value = text.strip()
    if not value:
        return None
    if re.fullmatch(r"\d{1,4}(:\d{1,2}){1,2}", value):
        total = 0
        for part in value.split(":"):
            total = total * 60 + int(part)
        return total
    match = re.fullmatch(r"\+?(\d{1,12})(?:[.,]\d{0,9})?", value)
    if not match:
        return None
    number = int(match.group(1))
    return number if number <= MAX_SECONDS else None
