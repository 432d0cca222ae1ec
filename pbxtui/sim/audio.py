"""Real audio for the simulators' recordings: a WAV file as long as the call talked.

8 kHz, 16-bit, mono (telephone quality, what PBXs record), 16 kB a second: a few minutes'
call is a few megabytes, enough for a download to show its progress. The sound is a voice-
like warble, one second of it computed once and repeated, so a long recording costs a copy,
not a synthesis.
"""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import lru_cache

RATE = 8000
MAX_SECONDS = 600  # a recording is cut here: ten minutes are 9.6 MB
WAV_TYPE = "audio/x-wav"


@lru_cache(maxsize=4)
def _second(seed: int) -> bytes:
    """One second of samples: two tones under a syllable-rate envelope."""
    low, high = 180 + seed % 60, 520 + seed % 180
    samples = []
    for n in range(RATE):
        t = n / RATE
        envelope = 0.5 - 0.5 * math.cos(2 * math.pi * 3 * t)
        voice = 0.6 * math.sin(2 * math.pi * low * t) + 0.3 * math.sin(2 * math.pi * high * t)
        value = envelope * voice
        samples.append(int(value * 12000))
    return struct.pack(f"<{RATE}h", *samples)


def wav_bytes(seconds: float, *, seed: int = 0) -> bytes:
    """A WAV file of ``seconds`` (at least one, at most ``MAX_SECONDS``)."""
    whole = max(1, min(MAX_SECONDS, math.ceil(seconds)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(_second(seed % 8) * whole)
    return buffer.getvalue()
