"""One HTTP exchange with a vendor API, bounded in time and size, its failures made readable.

Every vendor here puts credentials in the query string, so nothing from httpx (whose messages
and exceptions carry the full URL) ever reaches a person: errors are rebuilt from the redacted
URL and raised ``from None`` so no chained exception carries the original either.

What one exchange may cost is bounded before anything is parsed:

- **time**: ``timeout`` seconds from the moment the request leaves its budget (the wait for
  the budget is the console's, not the PBX's) to the last byte of the answer, whether the
  PBX is slow to connect, to answer, or dribbles a body; the reason says which;
- **size**: the answer is streamed and decoded here (gzip and deflate, counted on the
  *decoded* bytes), and reading stops at the body limit of what is asked
  (``BODY_LIMITS``), so a 50 MB body or a gzip bomb costs at most that limit;
- **redirects**: none is followed. One to a login page means the credentials were refused;
  any other is a bad answer naming the status and where it pointed (without its query).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit, urlunsplit

import anyio
import anyio.lowlevel
import httpx

from pbxtui.drivers.budget import Priority, RequestBudget, meter, priority
from pbxtui.redact import redact_url

MIB = 1024 * 1024
DEFAULT_BODY_LIMIT = 16 * MIB
# What is asked (the resource polled, "action", "directory") → the largest answer read.
BODY_LIMITS: Mapping[str, int] = {"calls": 32 * MIB, "action": 1 * MIB}
READ_CHUNK = 256 * 1024  # decoded bytes produced at most per step of decompression
OVERLOADED = frozenset({429, 502, 503, 504})
LOGIN_WORDS = ("login", "logon", "signin", "sign-in", "auth", "sso", "session")
ACCEPT_ENCODING = "gzip, deflate"  # only what is decoded here, under the size limit
URLS_KEPT = 256  # built request URLs kept per endpoint (VendorHttp._url)

purpose: ContextVar[str] = ContextVar("pbxtui_request_purpose", default="")
"""What the requests made in this context are for: a resource's name, "action", "directory"."""


@contextmanager
def asking(what: str, kind: Priority = Priority.POLL) -> Iterator[None]:
    """Mark the requests made inside as being for ``what``, with this priority."""
    purpose_token = purpose.set(what)
    priority_token = priority.set(kind)
    try:
        yield
    finally:
        priority.reset(priority_token)
        purpose.reset(purpose_token)


def body_limit(what: str) -> int:
    return BODY_LIMITS.get(what, DEFAULT_BODY_LIMIT)


@dataclass(frozen=True)
class VendorResponse:
    status: int
    text: str
    content_type: str
    latency_ms: int
    size: int = 0  # decoded bytes of the body
    location: str = ""  # a redirect's target, redacted and without its query

    @property
    def looks_like_html(self) -> bool:
        head = self.text.lstrip()[:200].lower()
        return head.startswith(("<!doctype html", "<html", "<head", "<body")) or (
            "<html" in head and "<body" in self.text.lower()
        )

    @property
    def looks_like_login(self) -> bool:
        """An HTML page asking for a password: a session or credentials refused (by the PBX
        or a proxy in front of it), whatever the status."""
        if not self.looks_like_html:
            return False
        page = self.text[:20_000].lower()
        return any(sign in page for sign in ('type="password"', "type='password'", "type=password"))


class _Phase:
    """How far an exchange got: what running out of time there means."""

    def __init__(self) -> None:
        self.receiving = False
        self.received = 0


class VendorHttp:
    """GET (or POST) one request to a PBX's endpoint under its budget, and time it."""

    def __init__(
        self,
        *,
        pbx: str,
        url: str,
        client: httpx.AsyncClient,
        timeout: float,
        budget: RequestBudget | None = None,
        body_limit: int | None = None,
    ) -> None:
        self.pbx = pbx
        self.url = url
        self.client = client
        self.timeout = timeout
        self.budget = budget
        self.body_limit = body_limit
        """Bytes at most in any answer from this endpoint (None: by what is asked)."""
        self.last_latency_ms: int | None = None
        self._urls: dict[tuple[object, ...], httpx.URL] = {}

    async def get(
        self, params: dict[str, str], *, timeout: float | None = None, path: str = ""
    ) -> VendorResponse:
        return await self._send("GET", params, timeout=timeout, path=path)

    async def post_form(
        self, params: dict[str, str], form: dict[str, str], *, timeout: float | None = None
    ) -> VendorResponse:
        return await self._send("POST", params, form=form, timeout=timeout)

    async def _send(
        self,
        method: str,
        params: dict[str, str],
        *,
        form: dict[str, str] | None = None,
        timeout: float | None = None,
        path: str = "",
    ) -> VendorResponse:
        url = self.url + path
        limit = timeout if timeout is not None else self.timeout
        async with self._slot():
            started = time.perf_counter()
            try:
                response = await self._exchange(method, url, params, form, limit)
            except BaseException as exc:
                self._judge(exc, time.perf_counter() - started, limit)
                raise
            self._judge(response, time.perf_counter() - started, limit)
        return response

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """A place in the budget; the time on the wire is told to the fetch's meter."""
        if self.budget is None:
            yield
            return
        async with self.budget.slot():
            watch = meter.get()
            if watch is not None:
                watch.sending(1)
            try:
                yield
            finally:
                if watch is not None:
                    watch.sending(-1)

    def _judge(self, outcome: VendorResponse | BaseException, seconds: float, limit: float) -> None:
        """Tell the budget how the PBX coped, so it asks a struggling one less."""
        from pbxtui.drivers.base import DriverError, PbxTimeout, PbxUnreachable

        budget = self.budget
        if budget is None:
            return
        if isinstance(outcome, VendorResponse):
            budget.answered(seconds, limit)
        elif isinstance(outcome, PbxTimeout | PbxUnreachable):
            budget.congested()
        elif isinstance(outcome, DriverError) and outcome.overloaded:
            if outcome.retry_after is not None and priority.get() is Priority.POLL:
                budget.pause(outcome.retry_after)
            else:
                budget.congested()

    async def _exchange(
        self,
        method: str,
        url: str,
        params: dict[str, str],
        form: dict[str, str] | None,
        limit: float,
    ) -> VendorResponse:
        # Imported here: base.py imports this module for its error classes' users.
        from pbxtui.drivers.base import ConsoleBusy, PbxTimeout

        # The endpoint alone: the query carries credentials and says little to an operator.
        shown = redact_url(url)
        phase = _Phase()
        started = time.perf_counter()
        result: VendorResponse | None = None
        # httpx's own timeouts (connect, write, read, pool) come first and say which; this
        # bound, a little later, catches an answer that dribbles in without ever pausing long.
        with anyio.CancelScope(deadline=anyio.current_time() + limit + _grace(limit)) as scope:
            try:
                request = self.client.build_request(
                    method,
                    self._url(url, params),
                    data=form,
                    headers={"Accept-Encoding": ACCEPT_ENCODING},
                    timeout=httpx.Timeout(limit),
                )
                response = await self.client.send(request, stream=True)
                phase.receiving = True
                try:
                    result = await self._read(response, shown, phase)
                finally:
                    await response.aclose()
            except httpx.PoolTimeout:
                raise ConsoleBusy(
                    self.pbx,
                    f"waited {limit:g} s for a free connection to {shown}: this console's own "
                    "limit, not the PBX",
                ) from None
            except httpx.TimeoutException as exc:
                raise PbxTimeout(self.pbx, _timeout_reason(exc, phase, limit, shown)) from None
            except httpx.HTTPError as exc:
                raise _transport_error(self.pbx, exc, shown) from None
        if scope.cancelled_caught or result is None:
            raise PbxTimeout(self.pbx, _timeout_reason(None, phase, limit, shown))
        latency_ms = round((time.perf_counter() - started) * 1000)
        self.last_latency_ms = latency_ms
        if 300 <= result.status < 400:
            _redirected(self.pbx, result, url, shown)
        return replace(result, latency_ms=latency_ms)

    def _url(self, url: str, params: dict[str, str]) -> httpx.URL:
        """``url`` with ``params``, as httpx would build it, made once per set of parameters:
        a poll asks the same ones every second, and httpx parses a URL in pure Python, twice a
        request (about a tenth of a small request's CPU)."""
        key = (url, *params.items())
        found = self._urls.get(key)
        if found is None:
            if len(self._urls) >= URLS_KEPT:
                self._urls.clear()  # actions name numbers: never an unbounded cache
            found = self._urls[key] = httpx.Request("GET", url, params=params).url
        return found

    async def _read(self, response: httpx.Response, shown: str, phase: _Phase) -> VendorResponse:
        from pbxtui.drivers.base import AuthRefused, BadAnswer

        status = response.status_code
        content_type = response.headers.get("content-type", "")
        if 300 <= status < 400:
            return VendorResponse(
                status, "", content_type, 0, location=response.headers.get("location", "")
            )
        if status in (401, 403):
            raise AuthRefused(
                self.pbx, f"HTTP {status} {response.reason_phrase}: credentials refused"
            )
        if status >= 400:
            error = BadAnswer(self.pbx, f"HTTP {status} {response.reason_phrase} from {shown}")
            error.overloaded = status in OVERLOADED
            error.retry_after = _retry_after(response)
            raise error
        limit = self.body_limit if self.body_limit is not None else body_limit(purpose.get())
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if declared.isdigit() and encoding == "identity" and int(declared) > limit:
            raise BadAnswer(self.pbx, _too_large(limit, purpose.get()))
        body = bytearray()
        if response.is_stream_consumed:
            # An in-memory transport (tests' MockTransport) hands the body over already read.
            body += response.content
        else:
            decoder = _decoder(self.pbx, encoding)
            async for raw in response.aiter_raw():
                phase.received += len(raw)
                for piece in decoder.feed(raw):
                    body += piece
                    if len(body) > limit:
                        break
                    if decoder.inflate is not None:
                        # A few KiB of a bomb unpack to megabytes: give the event loop back
                        # after each step, or several bombs read at once stall it together.
                        await anyio.lowlevel.checkpoint()
                if len(body) > limit:
                    break
            else:
                for piece in decoder.flush():
                    body += piece
        if len(body) > limit:
            raise BadAnswer(self.pbx, _too_large(limit, purpose.get()))
        charset = response.charset_encoding or "utf-8"
        try:
            text = body.decode(charset, errors="replace")
        except LookupError:  # a charset Python does not know
            text = body.decode("utf-8", errors="replace")
        return VendorResponse(status, text, content_type, 0, size=len(body))


def login_page(what: str, status: int) -> str:
    """The reason for a login page answered where ``what`` was asked."""
    return (
        f"answered a login page instead of {what} (HTTP {status}): "
        "the credentials or the session were refused"
    )


def _amount(size: int) -> str:
    if size < 10 * 1024:
        return f"{size} bytes"
    return f"{size // 1024} KiB" if size < 10 * MIB else f"{size // MIB} MiB"


def _grace(limit: float) -> float:
    return max(0.5, limit * 0.1)


def _too_large(limit: int, what: str) -> str:
    return f"answer larger than {limit / MIB:g} MiB" + (
        f" (the limit for {what}); stopped reading it" if what else "; stopped reading it"
    )


class _Decoder:
    """Undoes a Content-Encoding in bounded steps: never more than ``READ_CHUNK`` decoded
    bytes at a time, however much a few compressed bytes unpack to."""

    def __init__(self, pbx: str, wbits: int | None) -> None:
        self.pbx = pbx
        self.wbits = wbits
        self.inflate = zlib.decompressobj(wbits) if wbits is not None else None
        self.first = True

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.inflate is None:
            if data:
                yield data
            return
        while True:
            piece = self._step(data)
            data = self.inflate.unconsumed_tail
            if piece:
                yield piece
            if not data and len(piece) < READ_CHUNK:
                return

    def flush(self) -> Iterator[bytes]:
        # Everything fed has been unpacked in bounded steps; what flush adds is small.
        if self.inflate is not None:
            yield self.inflate.flush()

    def _step(self, data: bytes) -> bytes:
        from pbxtui.drivers.base import BadAnswer

        assert self.inflate is not None
        try:
            return self.inflate.decompress(data, READ_CHUNK)
        except zlib.error:
            if self.first and self.wbits == zlib.MAX_WBITS:
                # "deflate" is sent both zlib-wrapped and raw; try raw, as browsers do.
                self.wbits = -zlib.MAX_WBITS
                self.inflate = zlib.decompressobj(self.wbits)
                return self._step(data)
            raise BadAnswer(self.pbx, "answered a compressed body that does not unpack") from None
        finally:
            self.first = False


def _decoder(pbx: str, encoding: str) -> _Decoder:
    from pbxtui.drivers.base import BadAnswer

    if encoding in ("", "identity"):
        return _Decoder(pbx, None)
    if encoding in ("gzip", "x-gzip"):
        return _Decoder(pbx, zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return _Decoder(pbx, zlib.MAX_WBITS)
    raise BadAnswer(pbx, f"answered in an encoding it was not offered ({encoding[:40]})")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: rare from these APIs; the back-off covers it


def _redirected(pbx: str, response: VendorResponse, url: str, shown: str) -> None:
    from pbxtui.drivers.base import AuthRefused, BadAnswer

    target = urljoin(url, response.location) if response.location else ""
    where = _without_query(target) if target else "nowhere (no Location)"
    status = response.status
    if target and _address(target) == _address(url):
        raise BadAnswer(pbx, f"redirect loop: HTTP {status} from {shown} back to itself")
    path = urlsplit(target).path.lower() if target else ""
    if any(word in path for word in LOGIN_WORDS):
        raise AuthRefused(pbx, f"redirected to a login page (HTTP {status}): {where}")
    raise BadAnswer(
        pbx,
        f"redirected (HTTP {status} to {where}); pbxtui follows no redirect: "
        "if the API has moved, put its new address in the config",
    )


def _address(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc, parts.path


def _without_query(url: str) -> str:
    """A URL as safe to show: redacted, its query (which may carry credentials) cut."""
    parts = urlsplit(url)
    cut = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return redact_url(cut) + ("?…" if parts.query else "")


def _timeout_reason(
    exc: httpx.TimeoutException | None, phase: _Phase, limit: float, shown: str
) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"cannot connect within {limit:g} s to {shown}"
    if isinstance(exc, httpx.WriteTimeout):
        return f"could not send the request within {limit:g} s to {shown}"
    if phase.receiving:
        return (
            f"answer not complete within {limit:g} s from {shown} "
            f"({_amount(phase.received)} received)"
        )
    return f"no answer within {limit:g} s from {shown}"


def _transport_error(pbx: str, exc: httpx.HTTPError, shown: str) -> Exception:
    from pbxtui.drivers.base import PbxUnreachable

    if isinstance(exc, httpx.ConnectError):
        return PbxUnreachable(pbx, f"cannot connect to {shown}: {_why(exc)}")
    return PbxUnreachable(pbx, f"{type(exc).__name__} talking to {shown}: {_why(exc)}")


def _why(exc: Exception) -> str:
    """A short reason for a transport error without the URL httpx may have put in it."""
    text = str(exc) or type(exc).__name__
    if any(sign in text for sign in ("Connection refused", "Errno 111", "connection attempts")):
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return "TLS certificate not trusted (certificate verify failed)"
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return "TLS handshake failed (is it really https?)"
    return redact_url(text) if "://" in text else text[:200]
