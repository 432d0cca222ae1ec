"""Vendor state words that are read without any HTTP: each one normalized, the word kept."""

from __future__ import annotations

import pytest

from pbxtui.drivers.pbxcloud import CHANNEL_STATE_CODES, calls_from_rows
from pbxtui.model import CallState

# `core show channels` state words and AMI's numeric ChannelState, each on a lone leg.
CHANNEL_WORDS = {
    "Down": CallState.DIALING,
    "Rsrvd": CallState.DIALING,
    "OffHook": CallState.DIALING,
    "Dialing": CallState.DIALING,
    "Dialing Offhook": CallState.DIALING,
    "Pre-ring": CallState.DIALING,
    "Ring": CallState.RINGING,
    "Ringing": CallState.RINGING,
    "Up": CallState.UP,
    "Busy": CallState.OTHER,
}


@pytest.mark.parametrize("code", [False, True], ids=["word", "code"])
def test_every_channel_state_is_normalized_and_kept(code: bool) -> None:
    codes = {word: number for number, word in CHANNEL_STATE_CODES.items()}
    assert set(codes) == set(CHANNEL_WORDS)  # every state Asterisk has is checked
    for word, expected in CHANNEL_WORDS.items():
        row = {"channel": "SIP/301-ACME-00000aa1", "state": codes[word] if code else word}
        (call,) = calls_from_rows([row], pbx="hq", tenant="ACME")
        assert (call.state, call.state_raw) == (expected, word), row
