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
from collections.abc import Iterator
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


GSM_TYPE = "audio/x-gsm"
GSM_FRAME = 33  # bytes of one 20 ms GSM 06.10 frame
GSM_FRAMES_PER_SECOND = 50


@lru_cache(maxsize=4)
def _gsm_second(seed: int) -> bytes:
    """One second of GSM 06.10 frames: each 33 bytes with the format's 0xD signature nibble,
    its parameters a steady pattern (a decoder plays it as a soft buzz; no encoder is
    needed for a simulator, only a file every GSM player reads)."""
    frames = []
    for n in range(GSM_FRAMES_PER_SECOND):
        body = bytes((37 * (n + k) + seed * 11) % 256 for k in range(GSM_FRAME - 1))
        frames.append(bytes([0xD0 | (n + seed) % 16]) + body)
    return b"".join(frames)


def gsm_bytes(seconds: float, *, seed: int = 0) -> bytes:
    """A raw .gsm file (what IEXPBX's ``record`` sends) of ``seconds``, 1.65 kB a second."""
    whole = max(1, min(MAX_SECONDS, math.ceil(seconds)))
    return _gsm_second(seed % 8) * whole


def wav_header(data_bytes: int) -> bytes:
    """The 44-byte header of an 8 kHz 16-bit mono WAV holding ``data_bytes`` of samples."""
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, RATE, RATE * 2, 2, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def wav_chunks(size: int, *, seed: int = 0) -> Iterator[bytes]:
    """A WAV file of about ``size`` bytes, a second of samples at a time: a recording of any
    length costs one second of memory to serve."""
    second = _second(seed % 8)
    data = max(0, size - 44) // len(second) * len(second) or len(second)
    yield wav_header(data)
    for _ in range(data // len(second)):
        yield second


def wav_length(size: int) -> int:
    """How many bytes ``wav_chunks(size)`` yields."""
    second = RATE * 2
    return 44 + (max(0, size - 44) // second * second or second)
