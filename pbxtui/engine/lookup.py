"""The CRM lookup client (``[lookup]``): one question, ``who is this number?``, asked of a
CRM that answers in the While1 Voice caller-data format.

``GET url?telephone=…&dnid=…&token=…`` → the nine-key JSON (every key ``null`` for a caller
the CRM does not know). The token travels in the query string, as the format wants, so no
URL and no httpx message ever reaches a person: failures are rebuilt here from what went
wrong, scrubbed, and raised ``from None``. Each exchange is bounded in time (``timeout``, to
the last byte) and size (``MAX_BODY`` decoded bytes): a CRM that hangs or floods costs one
slot of the lookup, never a poll.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import Any, Self

import anyio
import httpx
from pydantic import ValidationError

from pbxtui import redact
from pbxtui.config import LookupConfig
from pbxtui.contacts import CALLER_DATA_KEYS, CallerData
from pbxtui.tls import tls_context

MAX_BODY = 64 * 1024
"""A caller-data answer is a few hundred bytes: anything past this is not one."""


class LookupFailed(Exception):
    """The CRM could not answer; ``reason`` is safe to show (no token, no URL query)."""

    def __init__(self, reason: str) -> None:
        self.reason = redact.scrub(reason)
        super().__init__(self.reason)


def _where(url: str) -> str:
    """The CRM's address as shown: scheme, host and path, never the query."""
    parts = httpx.URL(url)
    return f"{parts.scheme}://{parts.netloc.decode()}{parts.path}"


def caller_data(body: bytes) -> CallerData:
    """The answer read: the documented keys (an older CRM's subset too); a key it does not
    know is ignored, a value of the wrong type makes the whole answer unreadable."""
    try:
        document: Any = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LookupFailed("the CRM's answer is not JSON") from None
    if not isinstance(document, dict):
        raise LookupFailed("the CRM's answer is not a JSON object")
    known = {key: document[key] for key in CALLER_DATA_KEYS if key in document}
    if "name" in known and isinstance(known["name"], str):
        known["name"] = " ".join(known["name"].split())[:200] or None
    try:
        return CallerData.model_validate(known)
    except ValidationError as exc:
        problem = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in problem["loc"])
        why = f"{field}: {problem['msg']}"
        raise LookupFailed(f"the CRM's answer is not caller data ({why})") from None


class LookupClient:
    """Asks ``[lookup]``'s CRM, over its own small connection pool (``concurrency``
    connections). Use as ``async with LookupClient(config) as client``."""

    def __init__(self, config: LookupConfig, *, transport: httpx.AsyncBaseTransport | None = None):
        self.config = config
        self.where = _where(config.url)
        self._token = config.token.get_secret_value() if config.token is not None else ""
        if self._token:
            redact.secrets.add(self._token)  # the last line of defence for any free text
        self._client = httpx.AsyncClient(
            verify=tls_context(config.verify_tls),
            timeout=httpx.Timeout(config.timeout),
            limits=httpx.Limits(
                max_connections=config.concurrency, max_keepalive_connections=config.concurrency
            ),
            follow_redirects=False,
            headers={"Accept": "application/json"},
            transport=transport,
        )

    async def __aenter__(self) -> Self:
        await self._client.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._client.__aexit__(exc_type, exc, tb)

    async def lookup(self, telephone: str, dnid: str = "") -> CallerData:
        """Who ``telephone`` is (``dnid``: the number it called or was called from); the
        all-``None`` answer for a caller the CRM does not know. Raises ``LookupFailed``."""
        params = {"telephone": telephone, "dnid": dnid}
        if self._token:
            params["token"] = self._token
        limit = self.config.timeout
        try:
            with anyio.fail_after(limit):
                return await self._exchange(params)
        except TimeoutError:
            raise LookupFailed(f"{self.where}: no answer within {limit:g} s") from None
        except httpx.HTTPError as exc:
            # httpx's own message may carry the URL, query and token: rebuilt, not passed on.
            raise LookupFailed(f"{self.where}: {_transport_reason(exc)}") from None

    async def _exchange(self, params: dict[str, str]) -> CallerData:
        async with self._client.stream("GET", self.config.url, params=params) as response:
            if response.status_code != 200:
                raise LookupFailed(f"{self.where}: HTTP {response.status_code}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BODY:
                    raise LookupFailed(f"{self.where}: answer larger than {MAX_BODY // 1024} KiB")
        return caller_data(bytes(body))


def _transport_reason(exc: httpx.HTTPError) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect"
    if isinstance(exc, httpx.TimeoutException):
        return "no answer in time"
    if isinstance(exc, httpx.DecodingError):
        return "an answer that cannot be decoded"
    return f"the exchange failed ({type(exc).__name__})"
