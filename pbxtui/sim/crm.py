"""A simulated CRM that answers in the While1 Voice caller-data format.

``GET /api/while1voice?telephone=0501234567&dnid=0210000000&token=…`` → the nine-key JSON of
while1voice-caller-data.txt (``Content-Type: application/json``), every key ``null`` for a
caller it does not know. Any number is known or not by a hash of it and the seed, the same
way every time, so every caller the scenarios invent has a stable answer: about
``known_share`` of them a contact (a name, an id, a popup link served here at ``/popup``,
sometimes a language, a queue position or a direct line). A number is the same contact in
local and international form (``0501234567``, ``+972501234567``, ``00972501234567``): its
last nine digits decide.

The token, when it has one, is read from ``token=`` or ``Authorization: Bearer``; a wrong one
gets a 401. ``Faults`` apply as to any simulator (``/_sim/faults``: ``latency``, ``hang``,
``http_500``, ``garbage``, …), and ``/_sim/crm`` shows how often each number was asked and
switches ``legacy`` (the older page's six keys) and ``known_share`` at run time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from collections import Counter
from dataclasses import dataclass
from html import escape
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pbxtui.sim.faults import FaultMiddleware, Faults
from pbxtui.sim.hooks import update_quirks
from pbxtui.sim.scenario import FIRST_NAMES
from pbxtui.sim.while1 import CALLER_DATA_KEYS, LEGACY_KEYS

PATH = "/api/while1voice"
POPUP_PATH = "/popup"
CONTROL_PATH = "/_sim/crm"
SIGNIFICANT_DIGITS = 9
LAST_NAMES = (
    "Cohen", "Levi", "Mizrahi", "Peretz", "Biton", "Dahan", "Avraham", "Friedman",
    "Yilmaz", "Kaya", "Demir", "Sahin", "Celik", "Popescu", "Ionescu", "Popa",
)  # fmt: skip
LANGUAGES = ("en", "he", "tr", "ro")


@dataclass
class CrmQuirks:
    legacy: bool = False  # the older page's six keys, without outbound_number and after
    known_share: float = 0.7  # share of numbers that are a contact


def number_key(number: str) -> str:
    """A number's last nine digits: the same contact whether it is written locally
    (``0501234567``) or internationally (``+972501234567``, ``00972501234567``)."""
    return re.sub(r"\D", "", number)[-SIGNIFICANT_DIGITS:]


class SimulatedCrm:
    """The CRM's contacts and its app (``app``, served like any simulator)."""

    def __init__(
        self,
        *,
        seed: int = 1,
        token: str = "",
        quirks: CrmQuirks | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.seed = seed
        self.token = token
        self.quirks = quirks or CrmQuirks()
        self.faults = faults or Faults()
        self.asked: Counter[str] = Counter()  # requests by ``telephone`` as sent
        self.contacts: dict[str, dict[str, Any]] = {}  # added by hand; win over the hash
        routes = [
            Route(PATH, self.caller_data, methods=["GET"]),
            Route(POPUP_PATH, self.popup, methods=["GET"]),
        ]
        api = FaultMiddleware(Starlette(routes=routes), self.faults)
        # The control endpoint stays out of the faults: a hanging CRM can still be mended.
        control = Starlette(routes=[Route(CONTROL_PATH, self.control, methods=["GET", "POST"])])

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            inner = control if scope.get("path") == CONTROL_PATH else api
            await inner(scope, receive, send)

        self.app: ASGIApp = app

    def url(self, port: int, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{port}{PATH}"

    # -- the contacts ---------------------------------------------------------------------
    def add(self, number: str, name: str, **fields: Any) -> None:
        self.contacts[number_key(number)] = {"name": name, **fields}

    def contact(self, number: str, base: str = "http://127.0.0.1/") -> dict[str, Any] | None:
        """The nine keys for a known number (``base``: where the popup is served), or None."""
        key = number_key(number)
        if not key:
            return None
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        manual = self.contacts.get(key)
        if manual is None and digest[0] >= self.quirks.known_share * 256:
            return None
        ident = 10000 + int.from_bytes(digest[1:4], "big") % 90000
        first, last = FIRST_NAMES[digest[4] % len(FIRST_NAMES)], LAST_NAMES[digest[5] % 16]
        data: dict[str, Any] = dict.fromkeys(CALLER_DATA_KEYS)
        data.update(
            id=ident,
            name=f"{first} {last}",
            backend_link=f"{base.rstrip('/')}{POPUP_PATH}?id={ident}",
            queue_position=digest[6] % 101 if digest[7] < 40 else None,
            direct_line=f"Local/{first.lower()}-{last.lower()}" if digest[8] < 25 else None,
            language=LANGUAGES[digest[9] % len(LANGUAGES)] if digest[10] < 128 else None,
            external_id=f"CRM-{ident}",
        )
        data.update(manual or {})
        return data

    def answer(self, number: str, base: str = "http://127.0.0.1/") -> dict[str, Any]:
        """What the CRM answers: a contact's keys, or every key null."""
        data = self.contact(number, base) or dict.fromkeys(CALLER_DATA_KEYS)
        keys = LEGACY_KEYS if self.quirks.legacy else CALLER_DATA_KEYS
        return {key: data.get(key) for key in keys}

    # -- the endpoints --------------------------------------------------------------------
    async def caller_data(self, request: Request) -> Response:
        if self.token and not self._authorized(request):
            return JSONResponse({"error": "invalid token"}, status_code=401)
        telephone = request.query_params.get("telephone", "")
        self.asked[telephone] += 1
        return JSONResponse(self.answer(telephone, str(request.base_url)))

    def _authorized(self, request: Request) -> bool:
        sent = request.query_params.get("token", "")
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            sent = bearer[7:].strip()
        return hmac.compare_digest(sent.encode(), self.token.encode())

    async def popup(self, request: Request) -> HTMLResponse:
        ident = request.query_params.get("id", "")
        return HTMLResponse(
            f"<!DOCTYPE html><html><body><h1>Contact {escape(ident)}</h1></body></html>"
        )

    async def control(self, request: Request) -> Response:
        if request.method == "POST":
            try:
                values = json.loads(await request.body() or b"{}")
                if not isinstance(values, dict):
                    raise ValueError("expected a JSON object")
                update_quirks(self.quirks, values)
            except ValueError as exc:
                return Response(str(exc), status_code=400, media_type="text/plain")
        return JSONResponse({"quirks": dataclasses.asdict(self.quirks), "asked": self.asked})
