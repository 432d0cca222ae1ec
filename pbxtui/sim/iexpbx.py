"""The IEXPBX ``api/old/get`` simulator: the shared scenario in IEXPBX's JSON and XML.

Documented formats are reproduced as the vendor's page shows them (vendor-notes §3): the
``[{success, count, data}]`` envelope, ``HH:MM:SS`` live durations, ``Queue(630)`` call types,
``OK (93 ms)`` registration, comma-joined queue members, and the CDR's Turkish-locale
durations (``"85,6972"``) and ``dd.MM.yyyy HH:mm:ss`` dates, in the PBX's local time. The
CDRs are the calls the scenario ended (``Scenario.ended``); ``date1`` and ``date2`` are read
to the minute, both ends included (INFERENCE: the page does not say). Everything the page leaves out
(action answers, auth failures, the directory's XML markup) is an INFERENCE behind a switch
in ``Quirks``. ``record`` streams a recorded call's .gsm audio (``media``).
"""

from __future__ import annotations

import json
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.audio import GSM_TYPE, gsm_bytes
from pbxtui.sim.cdrs import SimClock, facts_of
from pbxtui.sim.faults import FaultMiddleware, Faults
from pbxtui.sim.hooks import HookEmitter
from pbxtui.sim.iexpbx_hooks import IexHookQuirks, IexPbxFeed
from pbxtui.sim.media import MediaQuirks, media_response
from pbxtui.sim.scenario import CallPhase, EndedCall, Scenario, ScenarioSpec, SimCall, SimLeg

PATH = "/api/old/get"
TRUNK = "trunk-sip-Trunk110"  # the trunk peer in the vendor's own sample channel
CDR_FIRST_ID = 28600

# A phonebook's own contacts (the first two are the vendor's sample), before the extensions.
DIRECTORY: tuple[tuple[str, str], ...] = (
    ("John Lash", "908502590259"),
    ("David Copper", "905381234567"),
    ("Ayşe Yılmaz", "902163334455"),  # noqa: RUF001 (a Turkish name, spelt as one)
    ("Servis Masası", "908505551010"),  # noqa: RUF001
)

Params = dict[str, str]


@dataclass
class Quirks:
    """IEXPBX behaviours, each a switch; defaults follow the vendor's page."""

    outer_array: bool = True  # the documented [ {...} ]; False: the bare object
    auth_failure_message: str = "Invalid username or password"
    message_key: str = "message"  # "" sends failures without any message
    callinfo_ringing: str = "Ringing"
    directory_format: Literal["cisco", "entry", "attributes"] = "cisco"
    duration_format: Literal["hms", "ms", "seconds"] = "hms"
    first_leg_delay: float = 3.0  # seconds before an originated call's first leg answers
    # Failures and action answers carry the request as received, credentials and all,
    # percent-encoded as sent (a vendor's debugging left on).
    echo_url: bool = False


def iexpbx_channel(leg: SimLeg) -> str:
    """``SIP/201-0000a1b2`` for an extension, ``SIP/trunk-sip-Trunk110-36a9b`` for the trunk."""
    if leg.internal:
        return f"SIP/{leg.party}-{leg.hex_id}"
    return f"SIP/{TRUNK}-{leg.hex_id[-5:]}"


def format_duration(seconds: float, style: str) -> str:
    total = max(0, int(seconds))
    if style == "seconds":
        return str(total)
    if style == "ms":
        return f"{total // 60:02d}:{total % 60:02d}"
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def turkish_seconds(value: float) -> str:
    """``85.6972`` → ``"85,6972"``: a comma and as many decimals as the value needs."""
    return f"{value:.5f}".rstrip("0").rstrip(".").replace(".", ",")


class IexPbxApi:
    """The request handlers over one scenario; ``endpoint`` is the Starlette route."""

    def __init__(
        self,
        scenario: Scenario,
        faults: Faults,
        quirks: Quirks,
        username: str,
        password: str,
        clock: SimClock | None = None,
    ) -> None:
        self.scenario = scenario
        self.faults = faults
        self.quirks = quirks
        self.username = username
        self.password = password
        self.kinds: dict[int, tuple[str, str]] = {}  # originated call id → (kind, detail)
        self.clock = clock or SimClock()
        self.echo = ""  # "GET /path?query" of the request being answered, with echo_url
        self.handlers: dict[str, Callable[[Params], Response]] = {
            "activecalls": self.activecalls,
            "users": self.users,
            "queues": self.queues,
            "hangupcall": self.hangupcall,
            "callnumber": self.callnumber,
            "callback": self.callback,
            "callivr": self.callivr,
            "phonedirectory": self.phonedirectory,
            "cdr": self.cdrs,
            "record": self.record,
        }
        self.media = MediaQuirks()

    async def endpoint(self, request: Request) -> Response:
        if self.quirks.echo_url:
            self.echo = f"{request.method} {request.url.path}?{request.url.query}"
        self.scenario.advance()
        # The vendor's page writes "& channel=": a parameter name with a space in it.
        params = {key.strip(): value for key, value in request.query_params.multi_items()}
        if self.faults.auth_refused or not self._authorised(params):
            return self.fail(self.quirks.auth_failure_message)
        handler = self.handlers.get(params.get("action", "").strip().lower())
        if handler is None:
            return self.fail("Unknown action")
        return handler(params)

    def _authorised(self, params: Params) -> bool:
        user_ok = secrets.compare_digest(
            params.get("username", "").encode(), self.username.encode()
        )
        pass_ok = secrets.compare_digest(
            params.get("password", "").encode(), self.password.encode()
        )
        return user_ok and pass_ok

    # -- envelopes ------------------------------------------------------------------------
    def envelope(self, data: list[dict[str, Any]]) -> Response:
        body: dict[str, Any] = {"success": True, "count": len(data), "data": data}
        if self.echo and self.quirks.message_key and not data:  # an action's answer
            body[self.quirks.message_key] = f"done ({self.echo})"
        return self._json(body)

    def fail(self, message: str) -> Response:
        body: dict[str, Any] = {"success": False, "count": 0, "data": []}
        if self.quirks.message_key:
            body[self.quirks.message_key] = message + (f" ({self.echo})" if self.echo else "")
        return self._json(body)

    def _json(self, body: dict[str, Any]) -> Response:
        document: Any = [body] if self.quirks.outer_array else body
        text = json.dumps(document, ensure_ascii=False, indent=1)
        return Response(text, media_type="application/json; charset=utf-8")

    # -- reading --------------------------------------------------------------------------
    def activecalls(self, params: Params) -> Response:
        calls = sorted(self.scenario.calls.values(), key=lambda call: call.started)
        return self.envelope([self._call_row(call) for call in calls])

    def _call_row(self, call: SimCall) -> dict[str, Any]:
        src, dst = self.parties(call)
        return {
            "channel": call.legs[0].channel,
            "duration": format_duration(
                self.scenario.now - call.started, self.quirks.duration_format
            ),
            "calltype": self._calltype(call, dst),
            "callinfo": self._callinfo(call),
            "src": src,
            "dst": dst,
        }

    def parties(self, call: SimCall) -> tuple[str, str]:
        kind, detail = self.kinds.get(call.id, ("", ""))
        if kind == "ivr":
            return detail, call.callee  # the IVR calls the number
        if call.originate_id:
            return call.callee, call.caller  # the scenario stores an originate reversed
        if call.direction == "inbound" and call.extension:
            return call.caller, call.extension
        return call.caller, call.callee

    def _calltype(self, call: SimCall, dst: str) -> str:
        kind, detail = self.kinds.get(call.id, ("", ""))
        if kind == "ivr":
            return f"IVR({detail})"
        if call.queue:
            return f"Queue({call.queue})"
        if dst in self.scenario.extensions:
            return f"Dial(SIP/{dst},30)"
        return f"Dial(SIP/{TRUNK}/{dst},60)"

    def _callinfo(self, call: SimCall) -> str:
        words = {
            CallPhase.UP: "Talking",
            CallPhase.RINGING: self.quirks.callinfo_ringing,
            CallPhase.DIALING: "Dialing",
            CallPhase.HELD: "Hold",
            CallPhase.QUEUED: "Waiting",  # INFERENCE: the page shows only "Talking"
        }
        return words[call.phase]

    def users(self, params: Params) -> Response:
        return self.envelope(
            [
                {"username": ext.number, "name": ext.name, "regstatus": self._regstatus(ext.number)}
                for ext in self.scenario.extensions.values()
            ]
        )

    def _regstatus(self, number: str) -> str:
        ext = self.scenario.extensions[number]
        if ext.registered:
            return f"OK ({ext.latency_ms} ms)"
        # chan_sip's two words for a phone that is not there, spread over the extensions.
        return "UNKNOWN" if number[-1:] in "05" else "UNREACHABLE"

    def queues(self, params: Params) -> Response:
        return self.envelope(
            [
                {"queuenumber": q.id, "name": q.name, "internal": ",".join(q.members)}
                for q in self.scenario.queues.values()
            ]
        )

    def phonedirectory(self, params: Params) -> Response:
        contacts = list(DIRECTORY) + [
            (ext.name, ext.number) for ext in self.scenario.extensions.values()
        ]
        xml = directory_xml(contacts, self.quirks.directory_format)
        return Response(xml, media_type="text/xml; charset=utf-8")

    def cdrs(self, params: Params) -> Response:
        try:
            low = self._cdr_date(params.get("date1", ""))
            high = self._cdr_date(params.get("date2", ""))
        except ValueError:
            return self.fail("Invalid date format, expected ddMMyyyyHHmm")
        number = params.get("number", "").strip()
        rows = []
        for ended in reversed(self.scenario.ended):
            minute = int(ended.call.started // 60 * 60)  # the request's dates are to the minute
            if (low is not None and minute < low) or (high is not None and minute > high):
                continue
            row = self._cdr_row(ended)
            if not number or number in (row["src"], row["dst"]):
                rows.append(row)
        return self.envelope(rows)

    def record(self, params: Params) -> Response:
        """A recorded call's audio as binary .gsm, by its CDR id (or its first leg's unique
        id); a refusal in the envelope otherwise."""
        ident = params.get("id", "").strip()
        if not ident:
            return self.fail("Missing parameter: id")
        for ended in self.scenario.ended:
            call = ended.call
            if ident in (str(CDR_FIRST_ID + call.id), call.linked_id):
                if call.answered is None:
                    break
                audio = gsm_bytes(ended.ended - call.answered, seed=call.id)
                return media_response(audio, GSM_TYPE, self.media)
        return self.fail(f"Record not found: {ident}")

    def _cdr_date(self, text: str) -> float | None:
        text = text.strip()
        return self.clock.epoch(datetime.strptime(text, "%d%m%Y%H%M")) if text else None

    # -- actions --------------------------------------------------------------------------
    def hangupcall(self, params: Params) -> Response:
        channel = params.get("channel", "").strip()
        if not channel:
            return self.fail("Missing parameter: channel")
        if not self.scenario.hangup_channel(channel):
            return self.fail("Channel not found")
        return self.envelope([])

    def callnumber(self, params: Params) -> Response:
        internal, number = params.get("internal", "").strip(), params.get("number", "").strip()
        if not internal or not number:
            return self.fail("Missing parameter: internal and number are required")
        if internal not in self.scenario.extensions:
            return self.fail(f"Extension {internal} not found")
        call = self.scenario.originate(internal, number, answer_after=self.quirks.first_leg_delay)
        if call is None:
            return self.fail(f"Extension {internal} is busy or unavailable")
        self.kinds[call.id] = ("click2call", "")
        return self.envelope([])

    def callback(self, params: Params) -> Response:
        first, second = params.get("number1", "").strip(), params.get("number2", "").strip()
        if not first or not second:
            return self.fail("Missing parameter: number1 and number2 are required")
        call = self.scenario.originate(first, second, answer_after=self.quirks.first_leg_delay)
        if call is None:
            return self.fail(f"{first} is busy or unavailable")
        self.kinds[call.id] = ("callback", "")
        return self.envelope([])

    def callivr(self, params: Params) -> Response:
        number = params.get("number", "").strip()
        if not number:
            return self.fail("Missing parameter: number")
        ivr = params.get("dest", "").strip() or "ivr"
        call = self.scenario.originate(number, ivr, answer_after=self.quirks.first_leg_delay)
        if call is None:
            return self.fail(f"{number} is busy or unavailable")
        self.kinds[call.id] = ("ivr", ivr)
        return self.envelope([])

    # -- call detail records ------------------------------------------------------------------
    def _cdr_row(self, ended: EndedCall) -> dict[str, Any]:
        call = ended.call
        start = self.clock.local(call.started)
        src, dst = self.parties(call)
        # The scenario runs in whole steps; a call-specific fraction gives the real look.
        length = max(0.0, ended.ended - call.started) + (call.id * 0.6180339887) % 1
        return {
            "id": str(CDR_FIRST_ID + call.id),
            "calldate": start.strftime("%d.%m.%Y %H:%M:%S"),
            "calltype": {"inbound": "incoming", "outbound": "outcoming"}.get(
                call.direction, "internal"
            ),
            "src": src,
            "dst": dst,
            "duration": turkish_seconds(length),
            "disposition": DISPOSITIONS[facts_of(ended).outcome],
            "queue": call.queue,
            "record": call.answered is not None,
            "userfield": "",
        }


DISPOSITIONS = {"answered": "ANSWERED", "no_answer": "NO ANSWER", "abandoned": "NO ANSWER"}


def directory_xml(contacts: list[tuple[str, str]], style: str) -> str:
    """The phone directory in one of the plausible markups (INFERENCE: the page lost it)."""
    if style == "entry":
        root = ET.Element("phonebook")
        for name, number in contacts:
            entry = ET.SubElement(root, "entry")
            ET.SubElement(entry, "name").text = name
            ET.SubElement(entry, "number").text = number
    elif style == "attributes":
        root = ET.Element("contacts")
        for name, number in contacts:
            ET.SubElement(root, "contact", {"name": name, "phone": number})
    else:  # Cisco IP phone directory, what a PBX "phone directory" XML most often is
        root = ET.Element("CiscoIPPhoneDirectory")
        ET.SubElement(root, "Title").text = "IEXPBX"
        ET.SubElement(root, "Prompt").text = "Select a contact"
        for name, number in contacts:
            entry = ET.SubElement(root, "DirectoryEntry")
            ET.SubElement(entry, "Name").text = name
            ET.SubElement(entry, "Telephone").text = number
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def build(
    name: str,
    *,
    spec: ScenarioSpec | None = None,
    faults: Faults | None = None,
    quirks: Quirks | None = None,
    username: str = "apiuser",
    password: str | None = None,
    hooks_url: str = "",
    hooks_token: str = "",
    hook_quirks: IexHookQuirks | None = None,
    timezone: str | None = None,
) -> SimulatedPbx:
    """A simulated IEXPBX writing its times in ``timezone`` (None: this machine's); it calls
    its webhook URLs (``hooks_url`` + ``/call_start``, ``/hangup``) once it has one."""
    password = password or secrets.token_urlsafe(12)
    scenario = (spec or ScenarioSpec()).scenario(channel_namer=iexpbx_channel)
    faults = faults or Faults()
    quirks = quirks or Quirks()
    api = IexPbxApi(scenario, faults, quirks, username, password, SimClock(timezone))
    feed = IexPbxFeed(api.parties, hook_quirks)
    hooks = HookEmitter(scenario, feed, url=hooks_url, token=hooks_token)
    app = Starlette(routes=[Route(PATH, api.endpoint, methods=["GET"])])
    return SimulatedPbx(
        name=name,
        kind="iexpbx",
        scenario=scenario,
        faults=faults,
        app=hooks.control(FaultMiddleware(app, faults)),
        path=PATH,
        credentials={"username": username, "password": password}
        | ({"timezone": timezone} if timezone else {}),
        quirks=quirks,
        extra={"api": api, "media": api.media},
        hooks=hooks,
    )
