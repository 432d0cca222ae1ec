"""A simulated While1 Voice PBX: a live call scenario with no polling API of its own.

A While1 Voice PBX is never asked anything; it does the asking (vendor-notes §4,
while1voice-caller-data.txt). For each inbound call it calls the caller-data webservice,
``GET <url>/caller_data?telephone=…&dnid=…&token=…``, and reads the JSON answer: nine keys
(``id``, ``name``, ``queue_position``, ``direct_line``, ``backend_link``,
``route_identifier``, ``outbound_number``, ``language``, ``external_id``), any of them
``null``, or the older page's first six. Each answer is checked and kept (``answers``): what
form it had, what was wrong with it, how long it took. And it sends its "Send Events",
``GET <url>/events?event=…``, expecting an empty 200:

==========================  ==============================================================
``queue_answer``            an agent answers a queue call
``call_forward_answer``     a forwarded call is answered (a share of queue calls, and a
                            call answered again after a transfer)
``dial_answer``             an outbound call is answered (``direction=OUT``)
``queue_answer_end``        an answered inbound call ends
``outgoing_end``            an answered outbound call ends
``missed_calls``            an inbound call nobody answered, with ``queue_hold_time``,
                            ``fail_reason`` and ``explain_reason``
==========================  ==============================================================

Every event carries ``direction``, ``project_id``, ``agent``, ``remote_number``,
``telephone``, ``dnid``, ``dnid_identifier``, ``contact_id`` (the ``id`` its caller-data
answer gave), ``queue`` and ``uniqueid``; an end also carries ``duration`` (seconds talked:
INFERENCE, the page lists no end-event fields of its own). Internal calls send nothing.

Its HTTP app serves only the control endpoints: ``/_sim/hooks`` (where to send, as every
simulator) and ``/_sim/while1`` (the caller-data answers it got).
"""

from __future__ import annotations

import json
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.faults import Faults
from pbxtui.sim.hooks import HookEmitter, HookQuirks, HookReply, HookRequest, Param, did_for
from pbxtui.sim.scenario import (
    CallEvent,
    CallEventKind,
    EndCause,
    Scenario,
    ScenarioSpec,
    SimCall,
    asterisk_channel,
)

PATH = "/_sim/while1"
CALLER_DATA_KEYS = (
    "id",
    "name",
    "queue_position",
    "direct_line",
    "backend_link",
    "route_identifier",
    "outbound_number",
    "language",
    "external_id",
)
LEGACY_KEYS = CALLER_DATA_KEYS[:6]  # the older page's answer
EVENTS = (
    "queue_answer",
    "queue_answer_end",
    "dial_answer",
    "call_forward_answer",
    "missed_calls",
    "outgoing_end",
)
FORWARD_SHARE = 0.15  # queue calls answered on a forwarded line
ANSWERS_KEPT = 500
CONTACTS_KEPT = 2000

DEFAULT_SPEC = ScenarioSpec(
    seed=55,
    extensions=10,
    first_extension=100,
    queues=(("sales-queue", "Sales"), ("support-queue", "Support")),
    flows=(),
    queue_share=1.0,  # a contact centre: every inbound call is queued
    calls_per_minute=4.0,
    stuck_call_seconds=None,
)
FAIL_REASONS: dict[EndCause, tuple[str, str]] = {
    EndCause.ABANDONED: ("queue_hangup", "The caller hung up while waiting in the queue"),
    EndCause.HUNG_UP: ("hangup", "The call was hung up before anyone answered"),
}

Form = Literal["full", "legacy", "invalid", "no_answer"]


@dataclass
class While1Quirks(HookQuirks):
    caller_data_url: str = ""  # the caller-data webservice; "": <url>/caller_data
    caller_data: bool = True  # ask it about each inbound call
    events: bool = True  # send the Send Events
    project_id: str = "1"


@dataclass(frozen=True)
class CallerDataAnswer:
    """One caller-data request and what came of it."""

    telephone: str
    dnid: str
    form: Form
    data: dict[str, Any] = field(default_factory=dict)
    problem: str = ""
    status: int | None = None
    elapsed_ms: float = 0.0

    @property
    def name(self) -> str | None:
        name = self.data.get("name")
        return name if isinstance(name, str) else None


def read_caller_data(reply: HookReply) -> tuple[Form, dict[str, Any], str]:
    """(form, data, problem) of a caller-data answer, checked as a careful PBX would."""
    if reply.status is None:
        return "no_answer", {}, reply.error
    if reply.status != 200:
        return "invalid", {}, f"HTTP {reply.status}"
    if reply.content_type.split(";")[0].strip().lower() != "application/json":
        return "invalid", {}, f"Content-Type {reply.content_type or 'missing'}"
    try:
        data = json.loads(reply.body)
    except ValueError:
        return "invalid", {}, "not JSON"
    if not isinstance(data, dict):
        return "invalid", {}, "not a JSON object"
    missing = [key for key in CALLER_DATA_KEYS if key not in data]
    form: Form = "full" if not missing else "legacy"
    if any(key in LEGACY_KEYS for key in missing):
        return "invalid", data, "missing " + ", ".join(missing)
    wrong = [key for key in CALLER_DATA_KEYS if key in data and not _valid(key, data[key])]
    if wrong:
        return "invalid", data, "wrong type: " + ", ".join(wrong)
    return form, data, ""


def _valid(key: str, value: Any) -> bool:
    if value is None:
        return True
    if key == "id":
        return isinstance(value, int | str) and not isinstance(value, bool)
    if key == "queue_position":
        number = value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(value, str) and value.isdigit():
            number = int(value)
        return number is not None and 0 <= number <= 100
    return isinstance(value, str)


class While1Feed:
    """The scenario's calls as a While1 Voice PBX's requests."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        did: str,
        did_identifier: str = "Main line",
        quirks: While1Quirks | None = None,
    ) -> None:
        self.scenario = scenario
        self.did = did
        self.did_identifier = did_identifier
        self.quirks: While1Quirks = quirks or While1Quirks()
        self.rng = random.Random(scenario.spec.seed * 31 + 7)
        self.answers: deque[CallerDataAnswer] = deque(maxlen=ANSWERS_KEPT)
        self.forms: Counter[str] = Counter()
        self.event_problems: Counter[str] = Counter()  # "queue_answer: HTTP 500", ...
        self._contacts: dict[int, str] = {}  # call id → the contact id its answer gave
        self._open: dict[int, str] = {}  # answered calls → "IN" | "OUT"

    def requests(self, event: CallEvent) -> list[HookRequest]:
        call = event.call
        if call.direction == "internal" or call.consult_of is not None or call.id < 0:
            return []  # a customer's calls only; failed attempts send nothing documented
        if event.kind is CallEventKind.STARTED:
            return self._started(call)
        if not self.quirks.events:
            return []
        if event.kind is CallEventKind.ANSWERED:
            return [self._answered(call)]
        if event.kind is CallEventKind.ENDED:
            return self._ended(call, event.at)
        return []

    # -- caller data ----------------------------------------------------------------------
    def _started(self, call: SimCall) -> list[HookRequest]:
        if call.direction != "inbound" or call.originate_id or not self.quirks.caller_data:
            return []
        telephone, dnid = call.caller, self.did

        def record(reply: HookReply) -> None:
            form, data, problem = read_caller_data(reply)
            elapsed = reply.elapsed * 1000
            self.answers.append(
                CallerDataAnswer(telephone, dnid, form, data, problem, reply.status, elapsed)
            )
            self.forms[form] += 1
            if data.get("id") is not None and form != "invalid":
                self._remember(call.id, str(data["id"]))

        params: list[Param] = [("telephone", telephone), ("dnid", dnid)]
        url = self.quirks.caller_data_url
        return [HookRequest("caller_data", params, url=url, on_reply=record)]

    def _remember(self, call_id: int, contact: str) -> None:
        self._contacts[call_id] = contact
        while len(self._contacts) > CONTACTS_KEPT:
            del self._contacts[next(iter(self._contacts))]

    # -- send events ----------------------------------------------------------------------
    def _answered(self, call: SimCall) -> HookRequest:
        inbound = call.direction == "inbound" and not call.originate_id
        if call.id in self._open:  # answered again, after a transfer
            name = "call_forward_answer"
        elif inbound and call.queue:
            forwarded = self.rng.random() < FORWARD_SHARE
            name = "call_forward_answer" if forwarded else "queue_answer"
        else:
            name = "dial_answer"
        self._open[call.id] = "IN" if inbound else "OUT"
        return self._event(name, call)

    def _ended(self, call: SimCall, ended: float) -> list[HookRequest]:
        direction = self._open.pop(call.id, None)
        inbound = call.direction == "inbound" and not call.originate_id
        if direction is None and call.answered is not None:  # answered before we listened
            direction = "IN" if inbound else "OUT"
        talked = {"duration": str(max(0, int(ended - (call.answered or ended))))}
        if direction == "IN":
            return [self._event("queue_answer_end", call, talked)]
        if direction == "OUT":
            return [self._event("outgoing_end", call, talked)]
        if inbound:
            cause = call.end_cause or EndCause.HUNG_UP
            reason, explain = FAIL_REASONS.get(cause, ("no_answer", "Nobody answered"))
            missed = {
                "queue_hold_time": str(max(0, int(ended - call.started))),
                "fail_reason": reason,
                "explain_reason": explain,
            }
            return [self._event("missed_calls", call, missed)]
        return []  # an outbound call never answered: no event of While1's tells it

    def _event(self, name: str, call: SimCall, extra: dict[str, str] | None = None) -> HookRequest:
        inbound = call.direction == "inbound" and not call.originate_id
        remote = call.caller if inbound else call.callee
        fixed: dict[str, str] = {
            "direction": "IN" if inbound else "OUT",
            "project_id": self.quirks.project_id,
            "agent": call.extension,
            "remote_number": remote,
            "telephone": remote,
            "dnid": self.did,
            "dnid_identifier": self.did_identifier,
            "queue": call.queue,
            "uniqueid": call.linked_id,
        }
        call_id = call.id

        def params() -> list[Param]:
            # The contact id is read when sent: the caller-data answer may come in between.
            contact = self._contacts.get(call_id, "")
            pairs = [("event", name), *fixed.items(), ("contact_id", contact)]
            return [*pairs, *(extra or {}).items()]

        return HookRequest("events", params, on_reply=self._expect_empty(name))

    def _expect_empty(self, name: str) -> Callable[[HookReply], None]:
        def check(reply: HookReply) -> None:
            if reply.status is None:
                self.event_problems[f"{name}: {reply.error}"] += 1
            elif reply.status != 200:
                self.event_problems[f"{name}: HTTP {reply.status}"] += 1
            elif reply.body.strip():
                self.event_problems[f"{name}: a body where none is expected"] += 1

        return check

    def status(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "caller_data": dict(self.forms),
            "answers": [asdict(answer) for answer in list(self.answers)[-20:]],
            "event_problems": dict(self.event_problems),
        }


def build(
    name: str,
    *,
    spec: ScenarioSpec | None = None,
    faults: Faults | None = None,
    quirks: While1Quirks | None = None,
    hooks_url: str = "",
    hooks_token: str = "",
    did: str | None = None,
) -> SimulatedPbx:
    """A simulated While1 Voice PBX; silent until it has ``hooks_url``
    (``<receiver>/hook/<name>``)."""
    scenario = (spec or DEFAULT_SPEC).scenario(channel_namer=asterisk_channel("SIP"))
    feed = While1Feed(scenario, did=did or did_for(scenario.spec.seed, "021"), quirks=quirks)
    hooks = HookEmitter(scenario, feed, url=hooks_url, token=hooks_token)

    async def answers(request: Request) -> JSONResponse:
        return JSONResponse(feed.status())

    app = Starlette(routes=[Route(PATH, answers, methods=["GET"])])
    return SimulatedPbx(
        name=name,
        kind="while1",
        scenario=scenario,
        faults=faults or Faults(),
        app=hooks.control(app),
        path=PATH,
        credentials={},
        quirks=feed.quirks,
        extra={"feed": feed},
        hooks=hooks,
        polled=False,
    )
