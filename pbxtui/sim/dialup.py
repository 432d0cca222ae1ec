"""Simulator of the GlobalEx / Voiptech / CloudPlus ``API/dialup.php`` family.

What is known of the real API (vendor-notes §2): GET with credentials in the query, HTTP 200
for everything (errors are short texts), a ``{"data":{…echoed params…}}`` JSON envelope, a
click2call that blocks until the first leg answers, and per-extension status in one of two
vocabularies. What is not public (the status reply's exact shape, XML, hangup) is rendered
in every plausible variant behind the ``Quirks`` switches.

``Response=yes`` asks for a result; without it an action is carried out and answered with an
empty 200 (OBSERVED by a real proxy) and a status request answers the bare status word.
CloudPlus wraps ``dialup.php``'s JSON in ``{"data": …}`` like every brand, while its
``CHstatus.php`` answers flat (``{"status": "Idle"}``). History: ``cdr.php`` and, on
CloudPlus, the panel (``dialup_cdrs``). Recordings: the panel's download, and GlobalEx's
recording link (``/API/recording.php?file=<the record name in base64>``), streamed.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.cdrs import SimClock
from pbxtui.sim.dialup_cdrs import (
    PANEL_LOGIN_PAGE,
    RECORDING_TYPE,
    SESSION_COOKIE,
    CdrApi,
    Panel,
    PanelQuirks,
    recording_of,
)
from pbxtui.sim.dialup_extras import POSTOUT_PATHS, CallbackQueue
from pbxtui.sim.dialup_hooks import DialupHookQuirks, GlobalExFeed
from pbxtui.sim.faults import FaultMiddleware, Faults
from pbxtui.sim.hooks import HookEmitter, did_for
from pbxtui.sim.media import MediaQuirks, media_response
from pbxtui.sim.scenario import LegState, Scenario, ScenarioSpec, SimCall, asterisk_channel

PATH = "/API/dialup.php"
CHSTATUS_PATH = "/API/CHstatus.php"
CDR_PATHS = ("/API/cdr.php", "/api/cdr.php")  # beside dialup.php; Bluebe's is lower case
PANEL_LOGIN_PATH = "/index.php"
REPORTS_PATH = "/API/Reports.php"
DOWNLOAD_PATH = "/admin/"
RECORDING_LINK_PATH = "/API/recording.php"
RECORDING_LINK = RECORDING_LINK_PATH + "?file={record_b64}"  # what the config is given
DEFAULT_TIMEOUT = 20
ANSWER_POLL_STEP = 0.05  # seconds between looks at a ringing first leg

Brand = Literal["globalex", "cloudplus"]

# The scenario's line states in each brand's words (GlobalEx documented; CloudPlus observed).
VOCABULARY: dict[str, dict[str, str]] = {
    "globalex": {
        "idle": "free",
        "busy": "busy",
        "ringing": "ringing",
        "unavailable": "unavailable",
    },
    "cloudplus": {
        "idle": "Idle",
        "busy": "InUse",
        "ringing": "Ringing",
        "unavailable": "Disconnected",
    },
}

LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Login</title></head><body>\n"
    '<form method="post" action="/login.php"><input name="user">'
    '<input type="password" name="pass"><button>Login</button></form>\n</body></html>\n'
)
REDIRECT_BODY = "<script>window.top.location='/login.php';</script>"


@dataclass
class Quirks:
    """Each switch is one real or plausible behaviour; defaults follow vendor-notes §2."""

    brand_vocabulary: Brand = "globalex"
    post_allowed: bool = False  # OBSERVED: POST answers `bad event` (GlobalEx docs claim POST)
    # login: `You need to login first!`; restricted: `Restricted access`; status_fail:
    # {"status":"fail"}; html_login: a login page; redirect: a 302 to the login page.
    auth_failure: Literal["login", "restricted", "status_fail", "html_login", "redirect"] = "login"
    status_format_json: Literal["data", "flat"] = "data"  # {"data":{…}} vs {"status":…}
    # CHstatus.php's own (CloudPlus: flat, OBSERVED); None: as status_format_json.
    chstatus_format_json: Literal["data", "flat"] | None = None
    honours_response: bool = True  # False: answers as if Response=yes were never sent
    reject_plus_numbers: bool = True  # OBSERVED: `+972…` refused with `fail`, nothing dialled
    first_leg_delay: float | None = 3.0  # seconds until leg 1 answers; None: it never does
    include_duration: bool = False  # whether a real status carries a duration is unknown
    echo_params: bool = True  # OBSERVED: the JSON envelope echoes the request (never `pass`)
    # Login failures and echoed envelopes carry the request URL as received, `pass` and all,
    # percent-encoded as sent (a vendor's debugging left on).
    echo_url: bool = False


@dataclass
class Reply:
    """A result before formatting: fields in order, or a fixed body (auth texts)."""

    fields: dict[str, str] = field(default_factory=dict)
    raw: str | None = None
    bare: bool = False  # never inside the `data` envelope ({"status":"fail"} is observed bare)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=UTF-8"


Handler = Callable[["DialupSim", dict[str, str]], Awaitable[Reply]]


class DialupSim:
    """The vendor app's state: the scenario, the switches, and what tests inspect."""

    def __init__(
        self,
        scenario: Scenario,
        faults: Faults,
        quirks: Quirks,
        *,
        user: str,
        password: str,
        org: str,
        cdr: CdrApi | None = None,
        panel: Panel | None = None,
    ) -> None:
        self.scenario = scenario
        self.faults = faults
        self.quirks = quirks
        self.user, self.password, self.org = user, password, org
        self.cdr = cdr
        self.panel = panel
        self.callbacks = CallbackQueue(scenario, cdr) if cdr is not None else None
        self.scheduled: list[dict[str, str]] = []  # future calls accepted (params, no `pass`)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.status_requests = 0
        self.requests: Counter[str] = Counter()  # by path, faulted ones included
        self.media = MediaQuirks()

    # -- the ASGI endpoint ----------------------------------------------------------------
    def counted(self, app: ASGIApp) -> ASGIApp:
        """``app`` (faults included) counting requests, so tests can see the driver's budget."""

        async def counting(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            self.requests[scope["path"]] += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                await app(scope, receive, send)
            finally:
                self.in_flight -= 1

        return counting

    async def endpoint(self, request: Request) -> Response:
        reply = await self._handle(request)
        if self.quirks.echo_url and reply.raw is None:
            reply.fields["Url"] = _request_line(request)
        return self._render(reply, request.query_params.get("RFormat", ""), request.url.path)

    # -- history: cdr.php and the CloudPlus panel ---------------------------------------------
    async def cdr_endpoint(self, request: Request) -> Response:
        self.scenario.advance()
        params = await _all_params(request)
        if self.cdr is None:
            return Response(b"", media_type="text/html; charset=UTF-8")
        if self.faults.auth_refused or not self.cdr.authorised(params):
            body = json.dumps({"status": "fail", "message": "Invalid org_token"})
            return Response(body, media_type="application/json")
        rows = self.cdr.rows(params)
        return Response(json.dumps({"data": rows}), media_type="application/json")

    async def postout_endpoint(self, request: Request) -> Response:
        self.scenario.advance()
        if self.callbacks is None:
            return Response(b"", media_type="text/html; charset=UTF-8")
        params = await _all_params(request)
        return self.callbacks.answer(params, refused=self.faults.auth_refused)

    async def panel_login(self, request: Request) -> Response:
        if self.panel is None or request.method != "POST":
            return Response(PANEL_LOGIN_PAGE, media_type="text/html; charset=UTF-8")
        self.scenario.advance()
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        body, cookie = self.panel.login(form)
        response = Response(body, media_type="text/html; charset=UTF-8")
        if cookie is not None and not self.faults.auth_refused:
            response.set_cookie(SESSION_COOKIE, cookie, path="/", httponly=True)
        return response

    def _session(self, request: Request) -> bool:
        cookie = request.cookies.get(SESSION_COOKIE, "")
        return self.panel is not None and self.panel.valid(cookie)

    async def panel_reports(self, request: Request) -> Response:
        self.scenario.advance()
        if self.panel is None or not self._session(request):
            return Response(PANEL_LOGIN_PAGE, media_type="text/html; charset=UTF-8")
        rows = self.panel.reports(dict(request.query_params))
        return Response(json.dumps({"data": rows}), media_type="application/json")

    async def panel_download(self, request: Request) -> Response:
        self.scenario.advance()
        params = request.query_params
        if self.panel is None or not self._session(request):
            return Response(PANEL_LOGIN_PAGE, media_type="text/html; charset=UTF-8")
        if params.get("menu") != "monitoring" or params.get("action") != "download":
            return Response(PANEL_PAGE_NOT_FOUND, media_type="text/html; charset=UTF-8")
        audio = self.panel.recording(params.get("id", "") or params.get("file", ""))
        if audio is None:
            return Response("file not found", media_type="text/html; charset=UTF-8")
        return media_response(audio, RECORDING_TYPE, self.media)

    async def recording_link(self, request: Request) -> Response:
        """GlobalEx's recording link: the file name, base64-encoded, opens the file with no
        credential (INFERENCE: the encoding comes with the licence; this one is the config
        example's ``{record_b64}``)."""
        self.scenario.advance()
        encoded = request.query_params.get("file", "")
        try:
            name = base64.urlsafe_b64decode(encoded.encode()).decode()
        except (ValueError, UnicodeDecodeError):
            name = ""
        audio = recording_of(self.scenario, name) if name else None
        if audio is None:
            return Response("file not found", media_type="text/html; charset=UTF-8")
        return media_response(audio, RECORDING_TYPE, self.media)

    async def _handle(self, request: Request) -> Reply:
        self.scenario.advance()
        params = dict(request.query_params)
        if request.method == "POST":
            if not self.quirks.post_allowed:
                return Reply(raw="bad event")
            # Form-encoded only (what the docs' POST example sends), read without multipart.
            params.update(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if self.faults.auth_refused or not self._authorized(params):
            refusal = self._auth_failure()
            if self.quirks.echo_url and refusal.raw is not None and refusal.status == 200:
                refusal.raw += f" ({_request_line(request)})"
            return refusal
        path = request.url.path
        operation = _operation(params, status_only=path == CHSTATUS_PATH)
        if operation is None:
            return Reply(raw="bad event")
        if operation == "status":
            reply = await self.status(params, path)
        else:
            reply = await HANDLERS[operation](self, params)
        asked = params.get("Response", "").lower() == "yes"
        if not asked or not self.quirks.honours_response:
            # Without Response=yes the PBX acts but says little: the status word, or nothing.
            return (
                Reply(raw=reply.fields.get(self._status_key(path), "")) if reply.fields else reply
            )
        if self.quirks.echo_params and reply.raw is None:
            echoed = {k: v for k, v in params.items() if k.lower() != "pass"}
            reply.fields = echoed | reply.fields
        return reply

    def _authorized(self, params: dict[str, str]) -> bool:
        return (
            params.get("user") == self.user
            and params.get("pass") == self.password
            and params.get("org") == self.org
        )

    def _auth_failure(self) -> Reply:
        mode = self.quirks.auth_failure
        if mode == "status_fail":
            return Reply(fields={"status": "fail"}, bare=True)
        if mode == "restricted":
            return Reply(raw="Restricted access")
        if mode == "html_login":
            return Reply(raw=LOGIN_PAGE)
        if mode == "redirect":
            return Reply(raw=REDIRECT_BODY, status=302, headers={"location": "/login.php"})
        return Reply(raw="You need to login first!")

    # -- rendering ------------------------------------------------------------------------
    def _json_style(self, path: str) -> str:
        """``data`` (wrapped) or ``flat``: CHstatus.php may differ from dialup.php."""
        own = self.quirks.chstatus_format_json if path == CHSTATUS_PATH else None
        return own or self.quirks.status_format_json

    def _render(self, reply: Reply, rformat: str, path: str = PATH) -> Response:
        if reply.raw is not None:
            return Response(
                reply.raw, reply.status, headers=reply.headers, media_type=reply.content_type
            )
        fmt = rformat.lower()
        if fmt == "json":
            wrap = self._json_style(path) == "data" and not reply.bare
            body = json.dumps({"data": reply.fields} if wrap else reply.fields)
            return Response(body, media_type="application/json")
        if fmt == "xml":
            items = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in reply.fields.items() if _tag(k))
            body = f'<?xml version="1.0" encoding="UTF-8"?><data>{items}</data>'
            return Response(body, media_type="text/xml")
        joiner = "<br>\n" if fmt == "html" else "\n"
        lines = joiner.join(f"{k}: {v}" for k, v in reply.fields.items())
        return Response(lines + "\n", media_type="text/html; charset=UTF-8")

    def _status_key(self, path: str = PATH) -> str:
        """GlobalEx says ``Status``; CloudPlus says ``status`` bare and ``State`` in ``data``."""
        if self.quirks.brand_vocabulary == "globalex":
            return "Status"
        return "State" if self._json_style(path) == "data" else "status"

    # -- operations -----------------------------------------------------------------------
    async def status(self, params: dict[str, str], path: str = PATH) -> Reply:
        self.status_requests += 1
        exten = params.get("exten", "")
        line = self.scenario.extension_state(exten)
        fields = {self._status_key(path): VOCABULARY[self.quirks.brand_vocabulary][line]}
        found = self.scenario.call_of(exten) if line in ("busy", "ringing") else None
        if found is not None:
            call, leg = found
            other = call.other_leg(leg)
            fields["Channel"] = leg.channel
            fields["Uniqueid"] = leg.unique_id
            fields["BridgedUniqueid"] = other.unique_id if other else ""
            if self.quirks.include_duration:
                since = call.answered if call.answered is not None else leg.created
                fields["Duration"] = str(max(0, int(self.scenario.now - since)))
        return Reply(fields=fields)

    async def hangup(self, params: dict[str, str]) -> Reply:
        done = self.scenario.hangup_extension(params.get("exten", ""))
        return Reply(fields={"Response": "OK" if done else "fail"})

    async def click2call(self, params: dict[str, str]) -> Reply:
        dial1, dial2 = params.get("dial1", ""), params.get("dial2", "")
        if not dial1 or not dial2 or self._refuses(dial1, dial2):
            return Reply(fields={"Response": "fail"})
        timeout = _timeout(params.get("Timeout", ""))
        if timeout is None:
            return Reply(fields={"Response": "fail"})
        reverse = params.get("Reverse", "").lower() == "yes"
        first, second = (dial2, dial1) if reverse else (dial1, dial2)
        call = self.scenario.originate(first, second, answer_after=self.quirks.first_leg_delay)
        if call is None:  # unknown, unregistered or busy first party
            return Reply(fields={"Response": "fail"})
        if not await self._wait_first_leg(call, timeout):
            self.scenario.cancel(call)
            return Reply(fields={"Response": "fail"})
        second_leg = self.scenario.connect_second_leg(call)
        fields = {"Response": "OK"}
        if params.get("showUID", "").lower() == "yes":
            fields["Uniqueid1"] = call.legs[0].unique_id
            fields["Uniqueid2"] = second_leg.unique_id if second_leg else ""
        return Reply(fields=fields)

    async def _wait_first_leg(self, call: SimCall, timeout: float) -> bool:
        """Block like the real PBX: until leg 1 answers, is hung up, or ``timeout`` passes."""
        delay = self.quirks.first_leg_delay
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.scenario.first_leg_answered(call):
                return True
            if call.id not in self.scenario.calls:  # hung up while ringing
                return False
            if delay is not None and time.monotonic() - started >= delay:
                # The scenario moves in whole-second steps; answer on time, as it would.
                call.legs[0].state = LegState.UP
                return True
            await anyio.sleep(ANSWER_POLL_STEP)
        return False

    async def scheduled_call(self, params: dict[str, str]) -> Reply:
        mandatory = ("dial1", "dial2", "Date", "Maxretry", "Retrytime", "ident")
        valid = all(params.get(k) for k in mandatory) and re.fullmatch(r"\d{12}", params["Date"])
        if not valid or self._refuses(params["dial1"], params["dial2"]):
            return Reply(fields={"Response": "fail"})
        self.scheduled.append({k: v for k, v in params.items() if k.lower() != "pass"})
        return Reply(fields={"Response": "OK"})

    def _refuses(self, *numbers: str) -> bool:
        return self.quirks.reject_plus_numbers and any(n.startswith("+") for n in numbers)


HANDLERS: dict[str, Handler] = {
    "status": DialupSim.status,
    "hangup": DialupSim.hangup,
    "click2call": DialupSim.click2call,
    "scheduled_call": DialupSim.scheduled_call,
}


def _operation(params: dict[str, str], *, status_only: bool) -> str | None:
    if "exten" in params and (status_only or params.get("operation", "") == ""):
        return "status"
    if status_only:
        return None
    if "exten" in params and params.get("operation", "").lower() == "hangup":
        return "hangup"
    if "dial1" in params or "dial2" in params:
        return "scheduled_call" if params.get("Date") else "click2call"
    return None


def _timeout(value: str) -> int | None:
    """The documented 1-300 s first-leg timeout (20 by default); None when out of range."""
    if not value:
        return DEFAULT_TIMEOUT
    if not value.isdigit() or not 1 <= int(value) <= 300:
        return None
    return int(value)


def _tag(name: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name) is not None


def build(
    name: str,
    *,
    spec: ScenarioSpec | None = None,
    faults: Faults | None = None,
    quirks: Quirks | None = None,
    user: str = "webuser",
    password: str | None = None,
    org: str = "demo-org",
    brand: Brand = "globalex",
    first_leg_delay: float | None = 3.0,
    hooks_url: str = "",
    hooks_token: str = "",
    hook_quirks: DialupHookQuirks | None = None,
    timezone: str | None = None,
    org_token: str | None = None,
    panel_user: str = "cpadmin",
    panel_pass: str | None = None,
    panel_quirks: PanelQuirks | None = None,
) -> SimulatedPbx:
    """A simulated dialup.php PBX; ``quirks``, when given, wins over ``brand`` and
    ``first_leg_delay`` (which only shape the default ``Quirks``). It sends GlobalEx's
    webhooks to ``hooks_url`` (``<receiver>/hook/<name>``) once it has one. Its history:
    cdr.php for ``org_token`` (made up when not given), and on CloudPlus the panel, whose
    login is ``panel_user`` / ``panel_pass`` (not the API user's); its times in ``timezone``."""
    if quirks is None:
        quirks = Quirks(brand_vocabulary=brand, first_leg_delay=first_leg_delay)
        if brand == "cloudplus":  # OBSERVED: CHstatus.php answers {"status":…} bare
            quirks.chstatus_format_json = "flat"
            quirks.auth_failure = "status_fail"
    faults = faults or Faults()
    password = password or secrets.token_urlsafe(12)
    org_token = org_token or secrets.token_urlsafe(16)
    scenario = (spec or ScenarioSpec()).scenario(channel_namer=asterisk_channel("SIP"))
    clock = SimClock(timezone)
    cdr = CdrApi(scenario, clock, org, org_token)
    panel = None
    if brand == "cloudplus":
        panel_pass = panel_pass or secrets.token_urlsafe(12)
        panel = Panel(scenario, clock, panel_user, panel_pass, panel_quirks or PanelQuirks())
    sim = DialupSim(
        scenario, faults, quirks, user=user, password=password, org=org, cdr=cdr, panel=panel
    )
    feed = GlobalExFeed(scenario, org=org, did=did_for(scenario.spec.seed), quirks=hook_quirks)
    hooks = HookEmitter(scenario, feed, url=hooks_url, token=hooks_token)
    app = Starlette(
        routes=[
            Route(PATH, sim.endpoint, methods=["GET", "POST"]),
            Route(CHSTATUS_PATH, sim.endpoint, methods=["GET", "POST"]),
            *(Route(path, sim.cdr_endpoint, methods=["GET", "POST"]) for path in CDR_PATHS),
            *(Route(p, sim.postout_endpoint, methods=["GET", "POST"]) for p in POSTOUT_PATHS),
            Route(PANEL_LOGIN_PATH, sim.panel_login, methods=["GET", "POST"]),
            Route(REPORTS_PATH, sim.panel_reports, methods=["GET"]),
            Route(DOWNLOAD_PATH, sim.panel_download, methods=["GET"]),
            Route(RECORDING_LINK_PATH, sim.recording_link, methods=["GET"]),
        ]
    )
    numbers = list(scenario.extensions)
    extensions = [f"{numbers[0]}-{numbers[-1]}"] if numbers else []
    return SimulatedPbx(
        name=name,
        kind="dialup",
        scenario=scenario,
        faults=faults,
        app=hooks.control(sim.counted(FaultMiddleware(app, faults))),
        path=PATH,
        credentials={
            "user": user,
            "pass": password,
            "org": org,
            "extensions": extensions,
            "brand": brand,
            "org_token": org_token,
            "recording_link": RECORDING_LINK,
        }
        | ({"panel_user": panel_user, "panel_pass": panel_pass} if panel else {})
        | ({"timezone": timezone} if timezone else {}),
        quirks=quirks,
        extra={"sim": sim, "media": sim.media},
        hooks=hooks,
    )


def _request_line(request: Request) -> str:
    """``GET /API/dialup.php?user=…&pass=…``: the query as received, still percent-encoded."""
    return f"{request.method} {request.url.path}?{request.url.query}"


PANEL_PAGE_NOT_FOUND = "<html><body>Page not found</body></html>"


async def _all_params(request: Request) -> dict[str, str]:
    """Query parameters, and a POST's form fields (form-encoded, read without multipart)."""
    params = dict(request.query_params)
    if request.method == "POST":
        params.update(parse_qsl((await request.body()).decode("utf-8", "replace")))
    return params
