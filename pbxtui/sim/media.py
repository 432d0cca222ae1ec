"""How the simulators serve a recording or a voicemail message, and what can go wrong with it.

Every file is streamed (a recording of any length costs a chunk of memory to serve), with its
length declared. ``MediaQuirks`` switches one simulator's files to what a broken PBX or proxy
sends: another Content-Type, a larger body (to try a client's size limit and its memory),
no Content-Length, or a connection that breaks after some bytes (the server fails
mid-body, as a PHP process killed while streaming a file does).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

import anyio.lowlevel
from starlette.responses import StreamingResponse

from pbxtui.sim.audio import wav_chunks, wav_length

CHUNK = 64 * 1024


class MidStreamFailure(RuntimeError):
    """Raised inside a response on purpose: the server drops the connection mid-body."""


@dataclass
class MediaQuirks:
    content_type: str = ""  # set: every file is served with this type instead of its own
    size: int = 0  # set: every file is a WAV of this many bytes instead of its own audio
    declare_length: bool = True  # False: chunked, no Content-Length
    break_after: int | None = None  # bytes sent before the connection breaks
    served: int = 0  # files served whole (tests: nothing was fetched twice)


def _pieces(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        for offset in range(0, len(chunk), CHUNK):
            yield chunk[offset : offset + CHUNK]


def media_response(audio: bytes, content_type: str, quirks: MediaQuirks) -> StreamingResponse:
    """``audio`` as the PBX would stream it, changed by ``quirks``."""
    if quirks.size:
        chunks: Iterable[bytes] = wav_chunks(quirks.size)
        length = wav_length(quirks.size)
    else:
        chunks, length = (audio,), len(audio)
    limit = quirks.break_after

    async def body() -> AsyncIterator[bytes]:
        sent = 0
        for piece in _pieces(chunks):
            if limit is not None and sent + len(piece) > limit:
                yield piece[: max(0, limit - sent)]
                raise MidStreamFailure("the simulated PBX broke the connection mid-body")
            sent += len(piece)
            yield piece
            await anyio.lowlevel.checkpoint()
        quirks.served += 1

    headers = {"content-length": str(length)} if quirks.declare_length else {}
    return StreamingResponse(
        body(), media_type=quirks.content_type or content_type, headers=headers
    )
