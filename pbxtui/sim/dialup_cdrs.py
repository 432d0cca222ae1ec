"""The dialup.php family's call history: ``cdr.php``, and the CloudPlus panel (login, reports,
recording downloads).

``cdr.php`` takes what globalex-switchboard.txt documents: ``org_token`` (mandatory), the
filters ``call_status``, ``did_number``, ``call_duration`` and ``call_price`` (with ``>10``
style operators), ``call_source``, ``call_destination``, ``call_uniqueId``, ``call_type``,
``start_date`` and ``end_date``; POST as documented, GET too. Its answer was never
published: rows named after those filters inside the family's ``{"data": …}`` wrapper is
INFERENCE. An end date alone includes its whole day (a report form's "end date").

The panel (INFERENCE, Elastix-based): ``index.php`` takes a form login (``input_user``,
``input_pass``) and sets a ``PHPSESSID`` cookie; a refused login answers ``fail`` (OBSERVED:
"the panel login answers fail" to the API user); ``API/Reports.php`` lists Asterisk CDR
columns for a session and answers the login form otherwise; ``/admin/?menu=monitoring&
action=download&id=…`` sends a recording.
"""

from __future__ import annotations

import operator
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pbxtui.sim.audio import WAV_TYPE, wav_bytes
from pbxtui.sim.cdrs import CdrFacts, SimClock, ended_calls, find
from pbxtui.sim.scenario import Scenario

STAMP = "%Y-%m-%d %H:%M:%S"
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y")
STATUS_WORDS = {"answered": "ANSWERED", "no_answer": "NO ANSWER", "abandoned": "NO ANSWER"}
DIRECTION_WORDS = {"inbound": "Incoming", "outbound": "Outgoing", "internal": "Internal"}
OPERATOR_RE = re.compile(r"^\s*(>=|<=|<>|!=|>|<|=)?\s*(-?\d+(?:\.\d+)?)\s*$")
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
    ">=": operator.ge,
    "<=": operator.le,
    "<>": operator.ne,
    "!=": operator.ne,
}
SESSION_COOKIE = "PHPSESSID"
PANEL_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>CloudPlus - Elastix</title></head><body>\n"
    '<div id="menu">System | PBX | Reports | Monitoring</div>\n</body></html>\n'
)
PANEL_LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Elastix - Login page</title></head><body>\n"
    '<form method="POST" action="index.php"><input type="text" name="input_user">'
    '<input type="password" name="input_pass"><input type="submit" name="submit_login" '
    'value="Submit"></form>\n</body></html>\n'
)


def compare(expression: str, value: float) -> bool:
    """``>10``, ``<=30``, ``=0`` or a bare number (equal) against ``value``; a filter that is
    no such expression matches nothing."""
    match = OPERATOR_RE.match(expression)
    if match is None:
        return False
    return OPERATORS[match.group(1) or "="](value, float(match.group(2)))


def _date(text: str) -> tuple[datetime, bool] | None:
    """A request's date, and whether it named only a day."""
    text = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt), "%H" not in fmt
        except ValueError:
            continue
    return None


def did_of(seed: int) -> str:
    return f"03555{seed:04d}"[:9]


def call_type(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if len(digits) <= 5:
        return "internal"
    if digits.startswith("05"):
        return "mobile"
    if digits.startswith("00") or number.startswith("+"):
        return "international"
    return "landline"


class CdrApi:
    """``cdr.php`` over one scenario."""

    def __init__(self, scenario: Scenario, clock: SimClock, org: str, token: str) -> None:
        self.scenario = scenario
        self.clock = clock
        self.org = org
        self.token = token
        self.did = did_of(scenario.spec.seed)

    def authorised(self, params: Mapping[str, str]) -> bool:
        given = params.get("org_token", "")
        return bool(given) and secrets.compare_digest(given.encode(), self.token.encode())

    def rows(self, params: Mapping[str, str]) -> list[dict[str, str]]:
        low = _date(params.get("start_date", ""))
        high = _date(params.get("end_date", ""))
        since = self.clock.epoch(low[0]) if low else float("-inf")
        if high is None:
            until = float("inf")
        else:
            moment, day_only = high
            until = self.clock.epoch(moment + timedelta(days=1) if day_only else moment)
        rows = []
        for facts in ended_calls(self.scenario):
            if since <= facts.start < until:
                row = self.row(facts)
                if self.wanted(params, row, facts):
                    rows.append(row)
        return rows

    def wanted(self, params: Mapping[str, str], row: Mapping[str, str], facts: CdrFacts) -> bool:
        exact = {
            "call_status": "call_status",
            "did_number": "did_number",
            "call_source": "call_source",
            "call_destination": "call_destination",
            "call_uniqueId": "call_uniqueId",
            "call_type": "call_type",
        }
        for param, column in exact.items():
            wanted = params.get(param, "").strip()
            if wanted and wanted.lower() != row[column].lower():
                return False
        for param, value in (("call_duration", facts.duration), ("call_price", self.price(facts))):
            expression = params.get(param, "").strip()
            if expression and not compare(expression, value):
                return False
        org = params.get("org", "").strip()
        return not org or org == self.org

    @staticmethod
    def price(facts: CdrFacts) -> float:
        if facts.direction != "outbound" or facts.answered is None:
            return 0.0
        return 0.1 * -(-int(facts.billable) // 60)  # per started minute

    def row(self, facts: CdrFacts) -> dict[str, str]:
        start = self.clock.local(facts.start)
        other = facts.caller if facts.direction == "outbound" else facts.callee
        return {
            "call_uniqueId": facts.unique_id,
            "call_date": start.strftime(STAMP),
            "call_direction": DIRECTION_WORDS.get(facts.direction, "Internal"),
            "call_source": facts.caller,
            "call_destination": facts.callee,
            "call_status": STATUS_WORDS[facts.outcome],
            "call_duration": str(int(facts.duration)),
            "call_billsec": str(int(facts.billable)),
            "did_number": self.did if facts.direction == "inbound" else "",
            "call_type": call_type(facts.callee if facts.direction == "outbound" else other),
            "call_price": f"{self.price(facts):.2f}",
            "call_country": "IL",
            "org": self.org,
            "queue_name": facts.queue,
            "call_record": self.record_name(facts) if facts.recorded else "",
        }

    def record_name(self, facts: CdrFacts) -> str:
        """A MixMonitor-style file name, as this family's end-call webhook's ``record``."""
        stamp = self.clock.local(facts.start).strftime("%Y%m%d-%H%M%S")
        side = {"inbound": "in", "outbound": "out"}.get(facts.direction, "internal")
        return f"{side}-{facts.callee}-{facts.caller}-{stamp}-{facts.unique_id}.wav"


@dataclass
class PanelQuirks:
    refusal: Literal["fail", "login_page"] = "fail"  # what a refused login answers
    session_seconds: float = 1800.0


@dataclass
class Panel:
    """The CloudPlus panel: sessions, reports and recordings."""

    scenario: Scenario
    clock: SimClock
    user: str
    password: str
    quirks: PanelQuirks = field(default_factory=PanelQuirks)
    sessions: dict[str, float] = field(default_factory=dict)  # cookie → expiry (scenario time)
    logins: int = 0

    def login(self, form: Mapping[str, str]) -> tuple[str, str | None]:
        """(body, the new session's cookie or None)."""
        user_ok = secrets.compare_digest(form.get("input_user", "").encode(), self.user.encode())
        pass_ok = secrets.compare_digest(
            form.get("input_pass", "").encode(), self.password.encode()
        )
        if not (user_ok and pass_ok):
            return ("fail" if self.quirks.refusal == "fail" else PANEL_LOGIN_PAGE), None
        cookie = secrets.token_hex(16)
        self.sessions[cookie] = self.scenario.now + self.quirks.session_seconds
        self.logins += 1
        return PANEL_PAGE, cookie

    def valid(self, cookie: str) -> bool:
        expiry = self.sessions.get(cookie)
        return expiry is not None and self.scenario.now < expiry

    def expire(self) -> None:
        """Every session ends (tests: the panel logs its users out)."""
        self.sessions.clear()

    def reports(self, params: Mapping[str, str]) -> list[dict[str, str]]:
        """Asterisk CDR columns, newest first."""
        low = _date(params.get("start_date", ""))
        high = _date(params.get("end_date", ""))
        since = self.clock.epoch(low[0]) if low else float("-inf")
        until = float("inf")
        if high is not None:
            moment, day_only = high
            until = self.clock.epoch(moment + timedelta(days=1) if day_only else moment)
        return [self.report_row(f) for f in ended_calls(self.scenario) if since <= f.start < until]

    def report_row(self, facts: CdrFacts) -> dict[str, Any]:
        inbound = facts.direction == "inbound"
        return {
            "calldate": self.clock.local(facts.start).strftime(STAMP),
            "clid": f'"{facts.caller_name}" <{facts.caller}>',
            "src": facts.caller,
            "dst": facts.callee,
            "dcontext": "from-trunk" if inbound else "from-internal",
            "channel": f"SIP/{facts.caller if not inbound else 'trunk'}-{facts.seq:08x}",
            "dstchannel": f"SIP/{facts.answered_by}-{facts.seq + 1:08x}"
            if facts.answered_by
            else "",
            "lastapp": "Queue" if facts.queue else "Dial",
            "duration": int(facts.duration),
            "billsec": int(facts.billable),
            "disposition": STATUS_WORDS[facts.outcome],
            "amaflags": 3,
            "accountcode": "",
            "uniqueid": facts.unique_id,
            "userfield": "",
            "recordingfile": f"{facts.unique_id}.wav" if facts.recorded else "",
        }

    def recording(self, ident: str) -> bytes | None:
        facts = find(self.scenario, unique_id_of(ident))
        if facts is None or not facts.recorded:
            return None
        return wav_bytes(facts.billable, seed=facts.seq)


RECORDING_TYPE = WAV_TYPE


def unique_id_of(reference: str) -> str:
    """A recording reference as the family gives it: a unique id, or a file name ending in
    one (``in-201-0501234567-20260101-120000-1767261600.12.wav``)."""
    if not reference.lower().endswith(".wav"):
        return reference
    return reference[: -len(".wav")].rsplit("-", 1)[-1]


def recording_of(scenario: Scenario, reference: str) -> bytes | None:
    """The audio of a recorded call by its unique id or file name (None: no such recording)."""
    facts = find(scenario, unique_id_of(reference))
    if facts is None or not facts.recorded:
        return None
    return wav_bytes(facts.billable, seed=facts.seq)
