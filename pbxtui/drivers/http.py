"""One HTTP exchange with a vendor API, with transport failures turned into readable errors.

Every vendor here puts credentials in the query string, so nothing from httpx (whose messages
and exceptions carry the full URL) ever reaches a person: errors are rebuilt from the redacted
URL and raised ``from None`` so no chained exception carries the original either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from pbxtui.redact import redact_url

MAX_BODY_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class VendorResponse:
    status: int
    text: str
    content_type: str
    latency_ms: int

    @property
    def looks_like_html(self) -> bool:
        head = self.text.lstrip()[:200].lower()
        return head.startswith(("<!doctype html", "<html", "<head", "<body")) or (
            "<html" in head and "<body" in self.text.lower()
        )


class VendorHttp:
    """GET (or POST) one request to a PBX's endpoint and time it."""

    def __init__(self, *, pbx: str, url: str, client: httpx.AsyncClient, timeout: float) -> None:
        self.pbx = pbx
        self.url = url
        self.client = client
        self.timeout = timeout
        self.last_latency_ms: int | None = None

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
        # Imported here: base.py imports this module for its error classes' users.
        from pbxtui.drivers.base import AuthRefused, BadAnswer, PbxTimeout, PbxUnreachable

        url = self.url + path
        # The endpoint alone: the query carries credentials and says little to an operator.
        shown = redact_url(url)
        limit = timeout if timeout is not None else self.timeout
        started = time.perf_counter()
        try:
            response = await self.client.request(
                method, url, params=params, data=form, timeout=httpx.Timeout(limit)
            )
        except httpx.TimeoutException:
            raise PbxTimeout(self.pbx, f"no answer within {limit:g} s from {shown}") from None
        except httpx.ConnectError as exc:
            raise PbxUnreachable(self.pbx, f"cannot connect to {shown}: {_why(exc)}") from None
        except httpx.HTTPError as exc:
            raise PbxUnreachable(
                self.pbx, f"{type(exc).__name__} talking to {shown}: {_why(exc)}"
            ) from None
        latency_ms = round((time.perf_counter() - started) * 1000)
        self.last_latency_ms = latency_ms
        if len(response.content) > MAX_BODY_BYTES:
            raise BadAnswer(self.pbx, f"answer of {len(response.content)} bytes is too large")
        if response.status_code in (401, 403):
            raise AuthRefused(
                self.pbx,
                f"HTTP {response.status_code} {response.reason_phrase}: credentials refused",
            )
        if response.status_code >= 400:
            raise BadAnswer(
                self.pbx,
                f"HTTP {response.status_code} {response.reason_phrase} from {shown}",
            )
        return VendorResponse(
            status=response.status_code,
            text=response.text,
            content_type=response.headers.get("content-type", ""),
            latency_ms=latency_ms,
        )


def _why(exc: Exception) -> str:
    """A short reason for a transport error without the URL httpx may have put in it."""
    text = str(exc) or type(exc).__name__
    if any(sign in text for sign in ("Connection refused", "Errno 111", "connection attempts")):
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return redact_url(text) if "://" in text else text[:200]
