"""One file (a recording, a voicemail) streamed from a PBX to disk, never held whole in memory.

``VendorHttp`` reads an answer into memory under a body limit, which suits listings; a
recording is megabytes of audio that only needs to reach a file. Here the body goes to disk
chunk by chunk (decoded in bounded steps, as ``http`` does), into a temporary file beside the
destination that is renamed over it only once the whole body has arrived and was checked: a
failure at any point (an HTML answer, a body over the limit, a connection dropped mid-body,
a cancellation) leaves neither the destination changed nor a temporary file behind.

What is checked before a byte is written: the status (a redirect to a login page, 401/403,
any other error), the Content-Type and the first bytes. A text answer (``No id specified``,
``file not found``, a login page, JSON) is an error quoting it, never an "audio" file; an
``audio/*`` type, or a binary type (``application/octet-stream``) whose first bytes are no
text, is a recording.

Budget: the request takes its place in the PBX's budget like any other until the PBX has
answered its head; the body is bandwidth, not a request, and a download of minutes must not
hold one of the live polls' in-flight slots all that while. The PBX's ``timeout`` bounds each
wait (connecting, each read), and ``DOWNLOAD_SECONDS`` the whole transfer.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import anyio
import anyio.to_thread
import httpx

from pbxtui.drivers.base import (
    AuthRefused,
    BadAnswer,
    ConsoleBusy,
    PbxTimeout,
    PbxUnreachable,
)
from pbxtui.drivers.http import (
    MIB,
    VendorHttp,
    VendorResponse,
    _decoder,
    _redirected,
    _transport_error,
    login_page,
)
from pbxtui.model.media import Downloaded, DownloadProgress, ProgressListener
from pbxtui.redact import redact_url

MEDIA_LIMIT = 256 * MIB  # ten minutes of WAV are 9.6 MB; nothing a PBX records is near this
DOWNLOAD_SECONDS = 600.0
SNIFF_BYTES = 512  # the first bytes looked at to tell audio from text
TEXT_KEPT = 20_000  # of a text answer, read to say what it is (a login page's form is deep)
QUOTED = 120  # characters of a text answer quoted in the error
BINARY_TYPES = frozenset(
    {"application/octet-stream", "binary/octet-stream", "application/x-download", ""}
)
TEXT_CONTROL = frozenset(b"\t\n\r\f")

Explain = Callable[[str], Exception | None]
"""A vendor's reading of a text answer (``No id specified``, its auth refusal): the error to
raise instead of the generic one, or None."""


@dataclass(frozen=True)
class Asked:
    """What is fetched: the endpoint, its parameters, and how to name it to an operator."""

    http: VendorHttp
    params: dict[str, str]
    what: str  # "the recording 28701", "voicemail message 12"


def _looks_like_text(head: bytes) -> bool:
    """Whether the first bytes are text (a message, HTML, JSON), not audio."""
    if not head:
        return True
    sample = head[:SNIFF_BYTES]
    if sample.startswith((b"RIFF", b"OggS", b"ID3", b"fLaC", b"#!AMR", b".snd", b"FORM")):
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not merely a character cut at the sample's end
            return False
        text = sample[: exc.start].decode("utf-8")
    return all(ch.isprintable() or ord(ch) in TEXT_CONTROL for ch in text)


def _quote(head: bytes) -> str:
    text = " ".join(head[:2000].decode("utf-8", "replace").split())
    return text[:QUOTED] + ("…" if len(text) > QUOTED else "")


def _base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


class _Judge:
    """Whether an answer's head and first bytes are a recording; raises why not."""

    def __init__(
        self, pbx: str, what: str, status: int, content_type: str, explain: Explain | None
    ) -> None:
        self.pbx, self.what, self.status, self.content_type = pbx, what, status, content_type
        self.explain = explain

    def head(self) -> None:
        base = _base_type(self.content_type)
        if base.startswith("audio/") or base in BINARY_TYPES or base.startswith("video/"):
            return
        if base.startswith(("text/", "application/json", "application/xml", "application/x")):
            return  # judged on its body: what the text says is the reason
        raise BadAnswer(self.pbx, f"answered {base} instead of {self.what}: not audio")

    def audio(self, head: bytes) -> bool:
        """Whether an answer starting with ``head`` is a recording (else: ``refuse``)."""
        base = _base_type(self.content_type)
        textual = not base.startswith("audio/") and base not in BINARY_TYPES
        return not textual and not _looks_like_text(head)

    def refuse(self, head: bytes) -> NoReturn:
        """Raise why an answer starting with ``head`` is not a recording."""
        base = _base_type(self.content_type)
        if not head:
            raise BadAnswer(
                self.pbx,
                f"answered 0 bytes ({base or 'no type'}) instead of {self.what}: "
                "the PBX has no recording by that reference",
            )
        page = VendorResponse(self.status, head[:TEXT_KEPT].decode("utf-8", "replace"), base, 0)
        if page.looks_like_login:
            raise AuthRefused(self.pbx, login_page(self.what, self.status))
        if page.looks_like_html:
            raise BadAnswer(self.pbx, f"answered an HTML page instead of {self.what}")
        said = " ".join(page.text.split())
        better = self.explain(said) if self.explain is not None else None
        if better is not None:
            raise better
        raise BadAnswer(
            self.pbx,
            f'answered text ({base or "no type"}) instead of {self.what}: "{_quote(head)}"',
        )


class _Sink:
    """A temporary file beside ``destination``, renamed over it once complete."""

    def __init__(self, destination: Path) -> None:
        self.destination = destination
        self.temp: Path | None = None
        self.file: anyio.AsyncFile[bytes] | None = None

    async def open(self) -> None:
        folder = self.destination.parent
        fd, name = await anyio.to_thread.run_sync(
            lambda: tempfile.mkstemp(
                dir=folder, prefix=f".{self.destination.name}.", suffix=".part"
            )
        )
        self.temp = Path(name)
        self.file = anyio.wrap_file(os.fdopen(fd, "wb"))

    async def write(self, data: bytes) -> None:
        assert self.file is not None
        await self.file.write(data)

    async def commit(self) -> None:
        assert self.file is not None and self.temp is not None
        await self.file.flush()
        await anyio.to_thread.run_sync(os.fsync, self.file.wrapped.fileno())
        await self.file.aclose()
        self.file = None
        await anyio.to_thread.run_sync(os.replace, self.temp, self.destination)
        self.temp = None

    async def discard(self) -> None:
        # Shielded: a cancelled download still removes what it had written.
        with anyio.CancelScope(shield=True):
            if self.file is not None:
                await self.file.aclose()
                self.file = None
            if self.temp is not None:
                with contextlib.suppress(FileNotFoundError):
                    await anyio.to_thread.run_sync(self.temp.unlink)
                self.temp = None


async def download(
    asked: Asked,
    destination: Path,
    on_progress: ProgressListener | None = None,
    *,
    limit: int | None = None,
    seconds: float = DOWNLOAD_SECONDS,
    explain: Explain | None = None,
) -> Downloaded:
    """Stream what ``asked`` names to ``destination`` (see the module docstring)."""
    http = asked.http
    pbx = http.pbx
    limit = MEDIA_LIMIT if limit is None else limit
    destination = Path(destination)
    if not destination.parent.is_dir():
        raise BadAnswer(pbx, f"cannot write {destination}: its folder does not exist")
    shown = redact_url(http.url)
    sink = _Sink(destination)
    try:
        with anyio.fail_after(seconds):
            return await _transfer(asked, sink, on_progress, limit, explain, shown)
    except TimeoutError:
        await sink.discard()
        raise PbxTimeout(
            pbx, f"{asked.what} not complete within {seconds:g} s from {shown}"
        ) from None
    except BaseException:
        await sink.discard()
        raise


async def _transfer(
    asked: Asked,
    sink: _Sink,
    on_progress: ProgressListener | None,
    limit: int,
    explain: Explain | None,
    shown: str,
) -> Downloaded:
    http = asked.http
    pbx = http.pbx
    timeout = http.timeout
    request = http.client.build_request(
        "GET",
        http.url,
        params=asked.params,
        headers={"Accept-Encoding": "identity"},
        timeout=httpx.Timeout(timeout),
    )
    response = await _head(http, request, shown)
    try:
        status = response.status_code
        content_type = response.headers.get("content-type", "")
        if 300 <= status < 400:
            answer = VendorResponse(
                status, "", content_type, 0, location=response.headers.get("location", "")
            )
            _redirected(pbx, answer, http.url, shown)
        if status in (401, 403):
            raise AuthRefused(pbx, f"HTTP {status} {response.reason_phrase}: credentials refused")
        if status >= 400:
            raise BadAnswer(
                pbx, f"HTTP {status} {response.reason_phrase} from {shown} for {asked.what}"
            )
        judged = _Judge(pbx, asked.what, status, content_type, explain)
        judged.head()
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        total = int(declared) if declared.isdigit() and encoding in ("", "identity") else None
        if total is not None and total > limit:
            raise BadAnswer(pbx, _too_large(asked.what, limit, declared=total))
        received = await _stream(response, sink, judged, encoding, limit, total, on_progress, asked)
    except httpx.TimeoutException:
        raise PbxTimeout(pbx, f"{asked.what} stalled: no data within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise _broken(pbx, exc, asked.what, shown) from None
    finally:
        with anyio.CancelScope(shield=True):
            await response.aclose()
    if total is not None and received != total:
        raise BadAnswer(pbx, f"{asked.what} ended after {received} of {total} bytes")
    await sink.commit()
    return Downloaded(path=sink.destination, size=received, content_type=content_type)


async def _head(http: VendorHttp, request: httpx.Request, shown: str) -> httpx.Response:
    """Send the request in its place in the budget; the answer's head is the PBX's reply."""
    budget = http.budget
    started = time.perf_counter()
    slot = budget.slot() if budget is not None else contextlib.nullcontext()
    async with slot:
        try:
            response = await http.client.send(request, stream=True)
        except httpx.PoolTimeout:
            raise ConsoleBusy(
                http.pbx, f"waited {http.timeout:g} s for a free connection to {shown}"
            ) from None
        except httpx.TimeoutException as exc:
            if budget is not None:
                budget.congested()
            how = "cannot connect" if isinstance(exc, httpx.ConnectTimeout) else "no answer"
            raise PbxTimeout(http.pbx, f"{how} within {http.timeout:g} s from {shown}") from None
        except httpx.HTTPError as exc:
            if budget is not None:
                budget.congested()
            raise _transport_error(http.pbx, exc, shown) from None
    if budget is not None:
        budget.answered(time.perf_counter() - started, http.timeout)
    return response


async def _stream(
    response: httpx.Response,
    sink: _Sink,
    judged: _Judge,
    encoding: str,
    limit: int,
    total: int | None,
    on_progress: ProgressListener | None,
    asked: Asked,
) -> int:
    """The body to the sink, judged on its first bytes; returns the bytes written."""
    pbx = asked.http.pbx
    decoder = _decoder(pbx, encoding)
    head = bytearray()
    received = 0
    opened = False

    def tell() -> None:
        if on_progress is not None:
            on_progress(DownloadProgress(received=received, total=total))

    tell()

    async def write(piece: bytes) -> None:
        nonlocal received
        received += len(piece)
        if received > limit:
            raise BadAnswer(pbx, _too_large(asked.what, limit))
        await sink.write(piece)
        tell()

    async for raw in response.aiter_raw():
        for piece in decoder.feed(raw):
            if opened:
                await write(piece)
                continue
            head += piece
            if len(head) >= SNIFF_BYTES and judged.audio(bytes(head)):
                await sink.open()
                opened = True
                await write(bytes(head))
            elif len(head) >= TEXT_KEPT:
                judged.refuse(bytes(head))  # enough of a text answer to say what it is
    for piece in decoder.flush():
        if opened:
            await write(piece)
        else:
            head += piece
    if not opened:
        if not judged.audio(bytes(head)):
            judged.refuse(bytes(head))
        await sink.open()
        await write(bytes(head))
    return received


def _too_large(what: str, limit: int, *, declared: int | None = None) -> str:
    said = f" (it says {declared // MIB} MiB)" if declared is not None else ""
    return f"{what} is larger than {limit / MIB:g} MiB{said}: not downloaded"


def _broken(pbx: str, exc: httpx.HTTPError, what: str, shown: str) -> Exception:
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return PbxUnreachable(
            pbx, f"the connection to {shown} broke while sending {what}: nothing was kept"
        )
    return _transport_error(pbx, exc, shown)
