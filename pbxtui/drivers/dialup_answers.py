"""The dialup.php family's answers read: one extension's status, an action's reply, and the
calls a sweep of statuses shows (vendor-notes §2).

The API answers JSON (``{"data":{…}}`` or bare), XML or ``Key: Value`` text, and refuses with
HTTP-200 texts; all are read here into ``{folded key: text}`` and then into an
``ExtensionStatus``. A field this driver reads holding a JSON object, a list or a boolean is a
type mismatch, named in the BadAnswer. Pure, but for ``StatusReader``'s memo of one answer
per extension, so any of it may run in a worker thread.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from pbxtui.drivers.base import AuthRefused, BadAnswer, DriverError
from pbxtui.drivers.http import VendorResponse
from pbxtui.drivers.reading import (
    Unreadable,
    decode_json,
    kind_of,
    parse_xml,
    text_of,
    truncated_json,
)
from pbxtui.drivers.values import clock_seconds, json_scalar
from pbxtui.model import Call, CallState, Direction, LineState

logger = logging.getLogger("pbxtui.drivers")
# A status answer is a few hundred bytes; a longer one is read but not kept for comparison
# (2,000 extensions answering megabytes each must not stay in memory).
STATUS_MEMO_CHARS = 4096

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


def first_of(fields: Mapping[str, str], keys: tuple[str, ...]) -> str:
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
    word = first_of(fields, STATUS_KEYS)
    if _fold(word) == "fail" or (not word and _fold(fields.get("response", "")) == "fail"):
        raise AuthRefused(
            pbx, "credentials refused: the status request answered 'fail' (user not accepted)"
        )
    if not word:
        raise BadAnswer(pbx, "answered without an extension status")
    folded = _fold(word)
    bridged = first_of(fields, BRIDGED_KEYS)
    # Documented as "the other party's channel id": a channel name there is a name, not an id.
    bridged_is_name = "/" in bridged
    return ExtensionStatus(
        state=LINE_WORDS.get(folded, LineState.UNKNOWN),
        state_raw=word,
        held=folded in HELD_WORDS,
        channel=fields.get("channel", ""),
        unique_id=first_of(fields, UNIQUEID_KEYS),
        bridged_unique_id="" if bridged_is_name else bridged,
        bridged_channel=bridged if bridged_is_name else "",
        callee=first_of(fields, CALLEE_KEYS),
        duration=_duration(first_of(fields, DURATION_KEYS)),
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


def _check_echo(pbx: str, exten: str, fields: Mapping[str, str]) -> None:
    """The answer echoes the parameters asked (vendor-notes §2.4): one whose ``exten`` does
    not name the extension asked for is no status of it, however plausible its status word
    (a JSON number there is an Asterisk state number, so the status alone cannot tell)."""
    echoed = fields.get("exten", "")
    if echoed and exten not in echoed:
        raise BadAnswer(
            pbx, f"answered the status of extension {echoed[:40]!r} when asked for {exten!r}"
        )


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
            fields = read_fields(self.pbx, response)
            _check_echo(self.pbx, exten, fields)
            status = parse_status(self.pbx, fields)
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
