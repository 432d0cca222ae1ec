"""Driver for the GlobalEx / Voiptech / CloudPlus ``API/dialup.php`` family (vendor-notes §2).

The API has no list of calls, queues or peers: only the status of one extension per request
(``exten=``), a hangup by extension, and a click2call that blocks until its first leg answers.
So the driver sweeps the configured extensions under a per-PBX budget (at most
``max_in_flight`` requests in flight, starts spaced at ``requests_per_second``), derives calls
and BLF lamps from that one sweep, and shares it between the resources the engine polls.
With the defaults (4 in flight, 20 requests/s) a sweep of 100 extensions takes at least 5 s.

Call durations are *observed*: the API gives none, so a call's age is the time since this
driver first saw its ``Uniqueid`` (unless the PBX adds a duration field).

What it cannot tell: a caller waiting in a queue is on no extension, so it is not seen at all
(no call here is ever QUEUED), and an extension's own call into a queue is just ``busy``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import anyio
import httpx

from pbxtui.config import DialupConfig, PbxConfig
from pbxtui.drivers.base import (
    ActionRefused,
    AuthRefused,
    BadAnswer,
    Driver,
    DriverError,
    PbxTimeout,
    PbxUnreachable,
)
from pbxtui.drivers.http import VendorHttp, VendorResponse
from pbxtui.drivers.reading import (
    Unreadable,
    decode_json,
    kind_of,
    parse_xml,
    text_of,
    truncated_json,
)
from pbxtui.drivers.values import clock_seconds, json_scalar
from pbxtui.model import (
    Action,
    ActionResult,
    BlfLamp,
    Call,
    CallState,
    Capabilities,
    Click2Call,
    Click2CallOption,
    Direction,
    Extension,
    LampKind,
    LineState,
    Resource,
    utcnow,
)

logger = logging.getLogger("pbxtui.drivers")
# A status answer is a few hundred bytes; a longer one is read but not kept for comparison
# (2,000 extensions answering megabytes each must not stay in memory).
STATUS_MEMO_CHARS = 4096

DEFAULT_DIAL_TIMEOUT = 20  # seconds the PBX waits for the first leg when none is given
DIAL_TIMEOUT_MARGIN = 10  # the HTTP request must outlive the vendor's own dial timeout
ISRAEL = "+972"  # the only country these brands serve, per their documents
# Brands known to dial +E.164 as sent. None so far: `+972…` was OBSERVED refused with `fail`.
PLUS_ACCEPTED_BRANDS: frozenset[str] = frozenset()
SCHEDULE_DEFAULTS = {"Maxretry": "1", "Retrytime": "60"}  # INFERENCE: units undocumented

# Every vocabulary seen or documented, keys folded by ``_fold``: GlobalEx documents
# free/busy/ringing/unavailable, CloudPlus Idle/InUse/Ringing/Disconnected; Asterisk's own
# words and ExtensionState numbers are accepted too, in case a brand passes them through.
LINE_WORDS: dict[str, LineState] = {
    "free": LineState.IDLE,
    "idle": LineState.IDLE,
    "notinuse": LineState.IDLE,
    "0": LineState.IDLE,
    "busy": LineState.BUSY,
    "inuse": LineState.BUSY,
    "onhold": LineState.BUSY,
    "hold": LineState.BUSY,
    "held": LineState.BUSY,
    "ringinuse": LineState.BUSY,
    "1": LineState.BUSY,
    "2": LineState.BUSY,
    "9": LineState.BUSY,
    "16": LineState.BUSY,
    "ringing": LineState.RINGING,
    "ring": LineState.RINGING,
    "8": LineState.RINGING,
    "unavailable": LineState.UNAVAILABLE,
    "disconnected": LineState.UNAVAILABLE,
    "unreachable": LineState.UNAVAILABLE,
    "unregistered": LineState.UNAVAILABLE,
    "offline": LineState.UNAVAILABLE,
    "invalid": LineState.UNAVAILABLE,
    "4": LineState.UNAVAILABLE,
    "-1": LineState.UNAVAILABLE,
}
HELD_WORDS = frozenset({"onhold", "hold", "held", "16"})
OK_WORDS = frozenset({"ok", "success", "true", "1"})

# Field names, folded; the first one present wins.
STATUS_KEYS = ("status", "state", "extenstatus", "extensionstatus")
UNIQUEID_KEYS = ("uniqueid", "uid")
BRIDGED_KEYS = ("bridgeduniqueid", "bridgeduid", "bridgedid")
CALLEE_KEYS = ("destination", "dst", "callerid", "connectedlinenum")
DURATION_KEYS = ("duration", "seconds", "time", "billsec")
VENDOR_ID_KEYS = ("uniqueid1", "uniqueid", "callid")

# The fields read from an answer (folded), which must hold text or a number.
READ_KEYS = frozenset(
    {"channel", "response"}
    | set(STATUS_KEYS + UNIQUEID_KEYS + BRIDGED_KEYS + CALLEE_KEYS + DURATION_KEYS + VENDOR_ID_KEYS)
)
NUMBER_WORD_RE = re.compile(r"-?\d+")
NOT_ALNUM_RE = re.compile(r"[^a-z0-9]")
UNIQUEID_RE = re.compile(r"[0-9]{1,18}(?:\.[0-9]{1,18})*")

AUTH_TEXTS = ("You need to login first!", "Restricted access")
BAD_EVENT = "the PBX answered 'bad event' (it ignores POST; this driver uses GET)"
LOGIN_REDIRECT = "redirected to a login page"


# -- parsing (pure) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ExtensionStatus:
    """One extension's status reply, reduced to the fields this driver knows."""

    state: LineState
    state_raw: str
    held: bool = False
    channel: str = ""
    unique_id: str = ""
    bridged_unique_id: str = ""
    bridged_channel: str = ""
    callee: str = ""
    duration: int | None = None

    @property
    def on_call(self) -> bool:
        return self.state in (LineState.BUSY, LineState.RINGING) and bool(self.channel)

    @property
    def call_key(self) -> str:
        """What identifies this extension's call across polls."""
        return self.unique_id or self.channel


def _fold(text: str) -> str:
    """``Status``/``status``/``Bridged_Uniqueid`` → ``status``/``bridgeduniqueid``."""
    # Every answer repeats the same dozen keys: fold each once (short ones only are kept).
    return _folded(text) if len(text) <= 40 else _fold_now(text)


@lru_cache(maxsize=1024)
def _folded(text: str) -> str:
    return _fold_now(text)


def _fold_now(text: str) -> str:
    stripped = text.strip().lower()
    if NUMBER_WORD_RE.fullmatch(stripped):
        return stripped
    return NOT_ALNUM_RE.sub("", stripped)


def _first(fields: Mapping[str, str], keys: tuple[str, ...]) -> str:
    return next((fields[k] for k in keys if fields.get(k)), "")


def read_fields(pbx: str, response: VendorResponse) -> dict[str, str]:
    """Any answer of this API as ``{folded key: text}``, or the error it means.

    JSON (``{"data":{…}}`` or bare), XML (``<data><Key>…</Key></data>``) and ``Key: Value``
    text are all read; the HTTP-200 refusal texts become ``AuthRefused``/``BadAnswer``.
    """
    if 300 <= response.status < 400:
        raise AuthRefused(pbx, f"{LOGIN_REDIRECT} (HTTP {response.status})")
    body = response.text.strip()
    if not body:
        raise BadAnswer(pbx, f"answered an empty body (HTTP {response.status})")
    _raise_refusal(pbx, response, body)
    if body[0] in "{[":
        return _json_fields(pbx, body)
    if body.startswith("<"):
        return _xml_fields(pbx, body)
    return _text_fields(pbx, body)


def _raise_refusal(pbx: str, response: VendorResponse, body: str) -> None:
    lowered = body.lower()
    for text in AUTH_TEXTS:
        if text.lower().rstrip("!") in lowered:
            raise AuthRefused(pbx, f"credentials refused: the PBX answered {text!r}")
    if lowered.startswith("bad event"):
        raise BadAnswer(pbx, BAD_EVENT)
    if "window.top.location" in lowered:
        raise AuthRefused(pbx, LOGIN_REDIRECT)
    if response.looks_like_html:
        if "login" in lowered or 'type="password"' in lowered or "type='password'" in lowered:
            raise AuthRefused(pbx, LOGIN_REDIRECT)
        raise BadAnswer(pbx, f"answered an HTML page instead of JSON (HTTP {response.status})")


def _flatten(pbx: str, obj: Mapping[str, Any], where: str) -> dict[str, str]:
    """The scalar fields of one JSON object, keys folded. A field this driver reads holding
    an object, a list (or a boolean, but for ``Response``) is a type mismatch, named."""
    fields: dict[str, str] = {}
    for key, value in obj.items():
        folded = _fold(str(key))
        if folded in READ_KEYS:
            try:
                fields[folded] = text_of(value, f"{where}{key!r}", flags=folded == "response")
            except Unreadable as exc:
                raise BadAnswer(pbx, f"answered {exc}") from None
        elif (text := json_scalar(value)) is not None:
            fields[folded] = text
    return fields


def _json_fields(pbx: str, body: str) -> dict[str, str]:
    try:
        data = decode_json(body)
    except json.JSONDecodeError as exc:
        if truncated_json(body, exc):
            raise BadAnswer(pbx, f"answered truncated JSON: {exc.msg}") from None
        raise BadAnswer(pbx, f"answered malformed JSON: {exc.msg} at character {exc.pos}") from None
    except Unreadable as exc:
        raise BadAnswer(pbx, str(exc)) from None
    if isinstance(data, list):  # tolerate a one-element list around the object
        data = next((item for item in data if isinstance(item, dict)), data)
    if not isinstance(data, dict):
        shape = "a list" if isinstance(data, list) else f"a JSON {kind_of(data)}"
        raise BadAnswer(pbx, f"answered JSON of an unexpected shape ({shape}, not an object)")
    inner = next((v for k, v in data.items() if _fold(str(k)) == "data"), None)
    if isinstance(inner, list):
        inner = next((item for item in inner if isinstance(item, dict)), inner)
    if inner is not None and not isinstance(inner, dict):
        raise BadAnswer(pbx, f"answered 'data' as a JSON {kind_of(inner)}, expected an object")
    fields = _flatten(pbx, {k: v for k, v in data.items() if _fold(str(k)) != "data"}, "")
    if isinstance(inner, dict):
        # The envelope's contents win over anything beside it.
        fields.update(_flatten(pbx, inner, "data "))
    return fields


def _xml_fields(pbx: str, body: str) -> dict[str, str]:
    try:
        root = parse_xml(body)
    except Unreadable as exc:
        raise BadAnswer(pbx, str(exc)) from None
    inner = root.find("data")
    node = inner if inner is not None else root
    return {_fold(child.tag): (child.text or "").strip() for child in node if len(child) == 0}


def _text_fields(pbx: str, body: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in re.split(r"<br\s*/?>|\r?\n", body, flags=re.IGNORECASE):
        text = re.sub(r"<[^>]+>", "", line).strip()
        key, sep, value = text.partition(":")
        if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9_ -]{0,40}", key.strip()):
            fields[_fold(key)] = value.strip()
    if not fields and re.fullmatch(r"[A-Za-z]+", body):
        # Without Response=yes the PBX answers one bare word: a status, OK or fail.
        key = "status" if _fold(body) in LINE_WORDS else "response"
        fields[key] = body
    if not fields:
        raise BadAnswer(pbx, "answered something that is neither JSON, XML nor 'Key: Value' text")
    return fields


def _duration(text: str) -> int | None:
    """Seconds from ``83``, ``83.4``, ``1:23`` or ``0:01:23``; None for anything else."""
    seconds = clock_seconds(text)
    # An epoch where a duration should be is not a duration.
    return seconds if seconds is not None and seconds <= 7 * 86400 else None


def parse_status(pbx: str, fields: Mapping[str, str]) -> ExtensionStatus:
    """An extension status reply's fields → ``ExtensionStatus`` (echoed params ignored)."""
    word = _first(fields, STATUS_KEYS)
    if _fold(word) == "fail" or (not word and _fold(fields.get("response", "")) == "fail"):
        raise AuthRefused(
            pbx, "credentials refused: the status request answered 'fail' (user not accepted)"
        )
    if not word:
        raise BadAnswer(pbx, "answered without an extension status")
    folded = _fold(word)
    bridged = _first(fields, BRIDGED_KEYS)
    # Documented as "the other party's channel id": a channel name there is a name, not an id.
    bridged_is_name = "/" in bridged
    return ExtensionStatus(
        state=LINE_WORDS.get(folded, LineState.UNKNOWN),
        state_raw=word,
        held=folded in HELD_WORDS,
        channel=fields.get("channel", ""),
        unique_id=_first(fields, UNIQUEID_KEYS),
        bridged_unique_id="" if bridged_is_name else bridged,
        bridged_channel=bridged if bridged_is_name else "",
        callee=_first(fields, CALLEE_KEYS),
        duration=_duration(_first(fields, DURATION_KEYS)),
    )


def parse_action(pbx: str, fields: Mapping[str, str]) -> tuple[bool, str]:
    """An action's reply → (accepted, the vendor's word)."""
    word = fields.get("response", "")
    if not word:
        if _fold(fields.get("status", "")) == "fail":
            raise AuthRefused(
                pbx, "credentials refused: the PBX answered 'fail' (user not accepted)"
            )
        raise BadAnswer(pbx, "answered without a Response (OK or fail)")
    return _fold(word) in OK_WORDS, word


def normalize_number(pbx: str, number: str, brand: str) -> str:
    """A number as this brand will dial it: local format, since ``+E.164`` is refused.

    ``+972XXXXXXXX`` becomes ``0XXXXXXXX``; any other ``+`` number is refused here with a
    clear reason rather than sent to a PBX that would answer a bare ``fail``.
    """
    cleaned = re.sub(r"[\s\-().]", "", number)
    if not cleaned:
        raise ActionRefused(pbx, "no number to dial")
    if not cleaned.startswith("+") or brand in PLUS_ACCEPTED_BRANDS:
        return cleaned
    national = cleaned[len(ISRAEL) :]
    if cleaned.startswith(ISRAEL) and national.isdigit() and 8 <= len(national.lstrip("0")) <= 9:
        return "0" + national.lstrip("0")
    raise ActionRefused(pbx, f"{pbx} refuses +E.164 numbers; dial in local format")


def _uid_order(unique_id: str) -> tuple[int, tuple[int, ...], str]:
    """Asterisk ``epoch.seq`` ids sort by creation: the earlier is the call's originator."""
    parts = unique_id.split(".")
    if UNIQUEID_RE.fullmatch(unique_id):
        return (0, tuple(int(p) for p in parts), unique_id)
    return (1, (), unique_id)


def derive_calls(
    pbx: str,
    statuses: Mapping[str, ExtensionStatus],
    *,
    observed: Mapping[str, int],
    at: datetime,
) -> list[Call]:
    """One Call per extension on a call; two watched extensions bridged together are one.

    ``observed`` maps a call key (Uniqueid, else Channel) to seconds since first seen, used
    when the PBX gives no duration.
    """
    active = {ext: s for ext, s in statuses.items() if s.on_call}
    partners = _Partners(active)
    calls: list[Call] = []
    taken: set[str] = set()
    for ext in sorted(active, key=lambda e: _uid_order(active[e].unique_id)):
        if ext in taken:
            continue
        status = active[ext]
        partner = partners.of(ext, status, taken)
        taken.update({ext, partner} if partner else {ext})
        calls.append(_call(pbx, ext, status, partner, active, observed, at))
    return calls


class _Partners:
    """Who names whom: each active extension's unique id and channel, and the ones it names
    as its other party, indexed, so that finding a partner is a lookup, not a scan of every
    extension (2,000 watched extensions made the scan the whole cost of a sweep)."""

    def __init__(self, active: Mapping[str, ExtensionStatus]) -> None:
        self.order = {ext: position for position, ext in enumerate(active)}
        self.index: dict[tuple[str, str], list[str]] = {}
        for ext, status in active.items():
            for key in (
                ("uid", status.unique_id),
                ("channel", status.channel),
                ("names uid", status.bridged_unique_id),
                ("names channel", status.bridged_channel),
            ):
                if key[1]:
                    self.index.setdefault(key, []).append(ext)

    def of(self, ext: str, status: ExtensionStatus, taken: set[str]) -> str:
        """The other watched extension on this same call (A.Uniqueid == B.BridgedUniqueid,
        or by channel, either way round); the first listed when several qualify."""
        found: list[str] = []
        for key in (
            ("names uid", status.unique_id),
            ("names channel", status.channel),
            ("uid", status.bridged_unique_id),
            ("channel", status.bridged_channel),
        ):
            if key[1]:
                found += self.index.get(key, ())
        free = [other for other in found if other != ext and other not in taken]
        return min(free, key=self.order.__getitem__) if free else ""


def _call(
    pbx: str,
    ext: str,
    status: ExtensionStatus,
    partner: str,
    active: Mapping[str, ExtensionStatus],
    observed: Mapping[str, int],
    at: datetime,
) -> Call:
    sides = [status] + ([active[partner]] if partner else [])
    if any(s.state is LineState.RINGING for s in sides):
        state = CallState.RINGING
    elif any(s.held for s in sides):
        state = CallState.HELD
    else:
        state = CallState.UP
    reported = [s.duration for s in sides if s.duration is not None]
    duration = max(reported) if reported else max(observed.get(s.call_key, 0) for s in sides)
    raws = dict.fromkeys(s.state_raw for s in sides)
    return Call(
        pbx=pbx,
        id=ext,  # hangup is by extension
        channel=status.channel,
        caller=ext,
        callee=partner or status.callee,
        state=state,
        state_raw="/".join(raws),
        duration=max(0, duration),
        direction=Direction.INTERNAL if partner else Direction.UNKNOWN,
        extension=ext,
        unique_id=status.unique_id,
        bridged_channel=active[partner].channel if partner else status.bridged_channel,
        bridged_unique_id=active[partner].unique_id if partner else status.bridged_unique_id,
        observed_at=at,
    )


def short_reason(error: DriverError) -> str:
    """An error's reason without the (redacted) URL the HTTP layer puts in it."""
    reason = re.sub(r"\s+(?:from|to)\s+[a-z]+://\S*?(:?)(?=\s|$)", r"\1", error.reason)
    return f"{error.label}: {reason}"


def status_url(url: str, brand: str) -> str:
    """CloudPlus reads extension status from ``CHstatus.php`` beside ``dialup.php`` (OBSERVED)."""
    if brand == "cloudplus":
        return re.sub(r"dialup\.php$", "CHstatus.php", url, flags=re.IGNORECASE)
    return url


class StatusReader:
    """Reads each extension's status answers, reusing the last reading while the answer is
    the same text (an idle extension answers the same bytes sweep after sweep). Pure but
    for its memo of one entry per extension, which is safe from a worker thread."""

    def __init__(self, pbx: str) -> None:
        self.pbx = pbx
        self._last: dict[str, tuple[int, str, ExtensionStatus]] = {}

    def read(self, exten: str, response: VendorResponse) -> ExtensionStatus:
        known = self._last.get(exten)
        if known is not None and known[0] == response.status and known[1] == response.text:
            return known[2]
        try:
            status = parse_status(self.pbx, read_fields(self.pbx, response))
        except DriverError:
            raise
        except Exception as exc:
            # A defect, not a PBX's doing: on record in full; the operator sees a reason.
            logger.exception("%s: reading the status of %s failed", self.pbx, exten)
            reason = f"answered a status this driver cannot read ({type(exc).__name__})"
            raise BadAnswer(self.pbx, reason) from None
        if len(response.text) <= STATUS_MEMO_CHARS:
            self._last[exten] = (response.status, response.text, status)
        else:
            self._last.pop(exten, None)
        return status


# -- the request budget -----------------------------------------------------------------------
class RequestSpacing:
    """At most ``per_second`` request starts per second, evenly spaced (no bursts)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / per_second
        self.clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Claim the next start slot; returns how long to wait for it."""
        now = self.clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        return slot - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await anyio.sleep(delay)


@dataclass(frozen=True)
class _Sweep:
    taken: float  # monotonic time the sweep finished
    extensions: list[Extension]
    calls: list[Call]
    lamps: list[BlfLamp]


@dataclass
class _PendingSweep:
    done: anyio.Event
    result: _Sweep | None = None
    error: Exception | None = None


Outcome = ExtensionStatus | DriverError


# -- the driver -------------------------------------------------------------------------------
class DialupDriver(Driver):
    kind = "dialup"
    vendor = "GlobalEx / Voiptech / CloudPlus dialup.php"
    capabilities = Capabilities(
        resources=frozenset({Resource.CALLS, Resource.EXTENSIONS, Resource.BLF}),
        actions=frozenset({Action.HANGUP, Action.CLICK2CALL, Action.SCHEDULED_CALL}),
        click2call_options=frozenset(Click2CallOption),
    )

    def __init__(self, config: PbxConfig, client: httpx.AsyncClient) -> None:
        super().__init__(config, client)
        if not isinstance(config, DialupConfig):
            raise TypeError(f"DialupDriver needs a dialup config, not {config.kind!r}")
        self.dialup = config
        self.status_http = VendorHttp(
            pbx=config.name,
            url=status_url(config.url, config.brand),
            client=client,
            timeout=config.timeout,
        )
        self._limiter = anyio.CapacityLimiter(config.max_in_flight)
        self._spacing = RequestSpacing(config.requests_per_second)
        self._reuse_for = config.poll_interval / 2
        self._last: _Sweep | None = None
        self._pending: _PendingSweep | None = None
        self._first_seen: dict[str, tuple[float, str]] = {}  # call key → (monotonic, ext)
        self._lamps: dict[str, tuple[str, datetime | None]] = {}  # ext → (raw, since)
        self._statuses = StatusReader(config.name)

    def fetch_seconds(self) -> float:
        # One request per watched extension under the rate limit: 200 extensions at 20/s
        # need 10 s on top of one request's timeout.
        return self.config.timeout + len(self.dialup.extensions) / self.dialup.requests_per_second

    # -- resources ------------------------------------------------------------------------
    async def fetch_extensions(self) -> list[Extension]:
        return list((await self._sweep()).extensions)

    async def fetch_calls(self) -> list[Call]:
        return list((await self._sweep()).calls)

    async def fetch_blf(self) -> list[BlfLamp]:
        return list((await self._sweep()).lamps)

    async def probe(self) -> None:
        await self._status(self.dialup.extensions[0])

    # -- actions --------------------------------------------------------------------------
    async def hangup(self, call: Call) -> ActionResult:
        exten = call.extension or call.id
        params = self._auth() | {
            "exten": exten,
            "operation": "hangup",
            "Response": "yes",
            "RFormat": "json",
        }
        # Actions bypass the polling budget: an operator must not queue behind a sweep.
        ok, word = parse_action(self.name, read_fields(self.name, await self.http.get(params)))
        if not ok:
            return ActionResult(ok=False, message=f"extension {exten} was not hung up ({word})")
        self._last = None  # the next poll must show the effect
        return ActionResult(ok=True, message=f"hung up extension {exten}")

    async def click2call(self, request: Click2Call) -> ActionResult:
        if request.timeout is not None and not 1 <= request.timeout <= 300:
            raise ActionRefused(self.name, "the first-leg timeout must be 1-300 seconds")
        brand = self.dialup.brand
        dial1 = normalize_number(self.name, request.source, brand)
        dial2 = normalize_number(self.name, request.destination, brand)
        params = self._auth() | {
            "dial1": dial1,
            "dial2": dial2,
            "Response": "yes",
            "RFormat": "json",
            "showUID": "yes",
        }
        if request.caller_id:
            params["SetCID"] = normalize_number(self.name, request.caller_id, brand)
        if request.reverse:
            params["Reverse"] = "yes"
        if request.timeout is not None:
            params["Timeout"] = str(request.timeout)
        if request.scheduled_at is not None:
            params |= self._schedule(request)
        # The PBX answers only when the first leg answers or its Timeout passes, so the
        # request's own timeout must outlive it; it takes no slot of the polling budget.
        wait = (request.timeout or DEFAULT_DIAL_TIMEOUT) + DIAL_TIMEOUT_MARGIN
        response = await self.http.get(params, timeout=wait)
        fields = read_fields(self.name, response)
        ok, word = parse_action(self.name, fields)
        self._last = None
        if request.scheduled_at is not None:
            when = params["Date"]
            if not ok:
                return ActionResult(
                    ok=False, message=f"the PBX refused the scheduled call ({word})"
                )
            return ActionResult(ok=True, message=f"call {dial1} → {dial2} scheduled for {when}")
        if not ok:
            return ActionResult(
                ok=False, message=f"the first leg ({dial1}) did not answer ({word})"
            )
        vendor_id = _first(fields, VENDOR_ID_KEYS)
        return ActionResult(
            ok=True, message=f"{dial1} answered; now dialling {dial2}", vendor_id=vendor_id
        )

    def _schedule(self, request: Click2Call) -> dict[str, str]:
        assert request.scheduled_at is not None
        when = request.scheduled_at
        if when.tzinfo is not None:
            # The PBX reads Date in its own local time; assume the operator shares it.
            when = when.astimezone().replace(tzinfo=None)
        return {
            "Date": when.strftime("%Y%m%d%H%M"),
            "Maxretry": str(request.max_retry)
            if request.max_retry is not None
            else SCHEDULE_DEFAULTS["Maxretry"],
            "Retrytime": str(request.retry_time)
            if request.retry_time is not None
            else SCHEDULE_DEFAULTS["Retrytime"],
            "ident": request.ident or self.dialup.org,
        }

    # -- the sweep ------------------------------------------------------------------------
    def _auth(self) -> dict[str, str]:
        return {
            "user": self.dialup.user,
            "pass": self.dialup.pass_.get_secret_value(),
            "org": self.dialup.org,
        }

    async def _status(self, exten: str) -> ExtensionStatus:
        params = self._auth() | {"exten": exten, "Response": "yes", "RFormat": "json"}
        async with self._limiter:
            await self._spacing.wait()
            response = await self.status_http.get(params)
        return self._statuses.read(exten, response)

    async def _sweep(self) -> _Sweep:
        """The last sweep if fresh, the one in flight if any, else a new one."""
        while True:
            last = self._last
            if last is not None and time.monotonic() - last.taken < self._reuse_for:
                return last
            pending = self._pending
            if pending is None:
                return await self._lead_sweep()
            await pending.done.wait()
            if pending.error is not None:
                raise pending.error
            if pending.result is not None:
                return pending.result
            # The leader was cancelled: go round again, and lead if nobody else does.

    async def _lead_sweep(self) -> _Sweep:
        pending = _PendingSweep(anyio.Event())
        self._pending = pending
        try:
            pending.result = self._last = await self._run_sweep()
            return pending.result
        except Exception as exc:
            pending.error = exc
            raise
        finally:
            self._pending = None
            pending.done.set()

    async def _run_sweep(self) -> _Sweep:
        outcomes: dict[str, Outcome] = {}
        fatal: list[DriverError] = []
        async with anyio.create_task_group() as group:
            for exten in self.dialup.extensions:
                group.start_soon(self._read_one, exten, outcomes, fatal, group.cancel_scope)
        if fatal:
            raise fatal[0]
        statuses = {e: o for e, o in outcomes.items() if isinstance(o, ExtensionStatus)}
        if not statuses:
            errors = [o for o in outcomes.values() if isinstance(o, DriverError)]
            raise next((e for e in errors if isinstance(e, AuthRefused)), errors[0])
        return self._assemble(outcomes, statuses)

    async def _read_one(
        self,
        exten: str,
        outcomes: dict[str, Outcome],
        fatal: list[DriverError],
        scope: anyio.CancelScope,
    ) -> None:
        try:
            outcomes[exten] = await self._status(exten)
        except DriverError as exc:
            outcomes[exten] = exc
            if self._ends_sweep(exc, outcomes):
                fatal.append(exc)
                scope.cancel()

    @staticmethod
    def _ends_sweep(error: DriverError, outcomes: Mapping[str, Outcome]) -> bool:
        """Errors that every other request would repeat: stop instead of waiting for them.

        Credentials and connection refusals are PBX-wide; a timeout is too until any
        extension has answered (otherwise a hung PBX costs ``N / max_in_flight`` timeouts).
        """
        if isinstance(error, AuthRefused | PbxUnreachable):
            return True
        answered = any(isinstance(o, ExtensionStatus) for o in outcomes.values())
        return isinstance(error, PbxTimeout) and not answered

    def _assemble(
        self, outcomes: Mapping[str, Outcome], statuses: Mapping[str, ExtensionStatus]
    ) -> _Sweep:
        now, at = time.monotonic(), utcnow()
        observed = self._observe(now, statuses)
        calls = derive_calls(self.name, statuses, observed=observed, at=at)
        on_call = {c.extension: c.id for c in calls}
        on_call |= {c.callee: c.id for c in calls if c.direction is Direction.INTERNAL}
        extensions: list[Extension] = []
        lamps: list[BlfLamp] = []
        for exten in self.dialup.extensions:
            outcome = outcomes.get(exten)
            if isinstance(outcome, ExtensionStatus):
                state, raw = outcome.state, outcome.state_raw
            else:
                reason = short_reason(outcome) if outcome else "not read"
                state, raw = LineState.UNKNOWN, f"error: {reason}"
            extensions.append(
                Extension(
                    pbx=self.name,
                    id=exten,
                    number=exten,
                    state=state,
                    state_raw=raw,
                    call_id=on_call.get(exten, ""),
                )
            )
            lamps.append(self._lamp(exten, state, raw, at))
        return _Sweep(taken=now, extensions=extensions, calls=calls, lamps=lamps)

    def _observe(self, now: float, statuses: Mapping[str, ExtensionStatus]) -> dict[str, int]:
        """Seconds since each call key was first seen; forget calls that have ended."""
        seen: set[str] = set()
        for exten, status in statuses.items():
            if status.on_call and status.call_key:
                first = self._first_seen.get(status.call_key, (now, exten))[0]
                self._first_seen[status.call_key] = (first, exten)
                seen.add(status.call_key)
        # An extension that failed this sweep keeps its call's first-seen time.
        self._first_seen = {
            key: value
            for key, value in self._first_seen.items()
            if key in seen or (value[1] not in statuses and value[1] in self.dialup.extensions)
        }
        return {key: int(now - first) for key, (first, _) in self._first_seen.items()}

    def _lamp(self, exten: str, state: LineState, raw: str, at: datetime) -> BlfLamp:
        previous = self._lamps.get(exten)
        since = None if previous is None else (previous[1] if previous[0] == raw else at)
        self._lamps[exten] = (raw, since)
        return BlfLamp(
            pbx=self.name,
            id=exten,
            label=exten,
            kind=LampKind.EXTENSION,
            state=state,
            state_raw=raw,
            since=since,
            extension=exten,
        )
