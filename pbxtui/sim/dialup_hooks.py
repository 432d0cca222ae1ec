"""What a GlobalEx switchboard pushes (globalex-switchboard.txt, "API ALERTS"): the
incoming-call alert when an extension rings, and the end-call event for every call.

The vendor's own texts disagree on names, and both spellings are behind switches: the
incoming alert's template writes ``target={taqrget}``, and the end-call parameter table
misspells three of the URL template's names (``ivruniqeid``, ``callerextention``,
``queuid``); the template's spelling is the default. ``status`` takes the documented words
(``ANSWER``, ``NO ANSWER``, ``BUSY``, ``CONGESTION``) or, switched, those seen from senders of
the same field set (``NOANSWER``, ``ABANDONE``). A sender may retry an end-call: switched on,
each is sent again, unchanged, so a receiver's dedupe on ``ivruniqueid`` can be seen to work.

Ids: ``callid`` and ``ivruniqueid`` are the call's first leg's unique id: the one the status
API reports as an inbound call's ``BridgedUniqueid`` on the ringing extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pbxtui.sim.hooks import HookQuirks, HookRequest, Param
from pbxtui.sim.scenario import CallEvent, CallEventKind, EndCause, Scenario, SimCall

# The parameter table's spelling of the URL template's names.
TABLE_SPELLING = {
    "ivruniqueid": "ivruniqeid",
    "callerextension": "callerextention",
    "queueid": "queuid",
}
STATUS_WORDS: dict[str, dict[EndCause, str]] = {
    "documented": {
        EndCause.COMPLETED: "ANSWER",
        EndCause.HUNG_UP: "NO ANSWER",
        EndCause.ABANDONED: "NO ANSWER",
        EndCause.NO_ANSWER: "NO ANSWER",
        EndCause.BUSY: "BUSY",
        EndCause.CONGESTION: "CONGESTION",
    },
    "observed": {
        EndCause.COMPLETED: "ANSWER",
        EndCause.HUNG_UP: "NOANSWER",
        EndCause.ABANDONED: "ABANDONE",
        EndCause.NO_ANSWER: "NOANSWER",
        EndCause.BUSY: "BUSY",
        EndCause.CONGESTION: "CONGESTION",
    },
}


@dataclass
class DialupHookQuirks(HookQuirks):
    target_spelling: Literal["target", "taqrget"] = "target"
    end_call_names: Literal["template", "table"] = "template"
    status_words: Literal["documented", "observed"] = "documented"
    end_call_retries: int = 0  # each end-call sent this many more times


class GlobalExFeed:
    """The scenario's call events as GlobalEx's webhooks."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        org: str,
        did: str,
        domain: str = "127.0.0.1",
        quirks: DialupHookQuirks | None = None,
    ) -> None:
        self.scenario = scenario
        self.org = org
        self.did = did
        self.domain = domain
        self.quirks: DialupHookQuirks = quirks or DialupHookQuirks()

    def requests(self, event: CallEvent) -> list[HookRequest]:
        if event.kind is CallEventKind.RINGING:
            return [HookRequest("incoming", self.incoming(event.call, event.extension))]
        if event.kind in (CallEventKind.ENDED, CallEventKind.FAILED):
            copies = 1 + max(0, self.quirks.end_call_retries)
            return [HookRequest("end_call", self.end_call(event.call, event.at), copies=copies)]
        return []

    def incoming(self, call: SimCall, extension: str) -> list[Param]:
        caller, target = self._parties(call)
        return [
            ("callid", call.linked_id),
            ("ext", extension),
            ("caller", caller),
            (self.quirks.target_spelling, target),
        ]

    def end_call(self, call: SimCall, ended: float) -> list[Param]:
        caller, target = self._parties(call)
        scenario = self.scenario
        queue = scenario.queues.get(call.queue)
        cause = call.end_cause or EndCause.HUNG_UP
        talked: int | None = None  # billable seconds, for an answered call
        if cause is EndCause.COMPLETED and call.answered is not None:
            talked = max(0, int(ended - call.answered))
        inbound = call.direction == "inbound" and not call.originate_id
        reached = call.extension if inbound else target
        params: list[Param] = [
            ("caller", caller),
            ("target", target),
            ("time", str(int(call.started))),
            ("duration", str(max(0, int(ended - call.started)))),
            ("ivruniqueid", call.linked_id),
            ("type", "Incoming" if inbound else "Outgoing"),
            ("status", STATUS_WORDS[self.quirks.status_words][cause]),
            ("targetextension", reached if reached in scenario.extensions else ""),
            ("callerextension", caller if caller in scenario.extensions else ""),
            ("did", self.did if inbound else ""),
            ("queueid", queue.id if queue else ""),
            ("queuename", queue.name if queue else ""),
            ("record", "" if talked is None else self._recording(call, caller, target)),
            ("dialtime", str(talked or 0)),
            ("domain", self.domain),
            ("domain_name", self.org),
        ]
        if self.quirks.end_call_names == "table":
            params = [(TABLE_SPELLING.get(k, k), v) for k, v in params]
        return params

    def _parties(self, call: SimCall) -> tuple[str, str]:
        """(caller, target): who called and the number dialled (an inbound call's is the
        PBX's DID; the extension it reaches is ``ext`` or ``targetextension``)."""
        if call.originate_id:  # the scenario keeps a click2call's two ends reversed
            return call.callee, call.caller
        if call.direction == "inbound":
            return call.caller, self.did
        return call.caller, call.callee

    @staticmethod
    def _recording(call: SimCall, caller: str, target: str) -> str:
        """A recording's file name, in the ``in-…``/``out-…`` form Asterisk GUIs write."""
        prefix = {"inbound": "in", "outbound": "out"}.get(call.direction, "internal")
        stamp = datetime.fromtimestamp(call.started, UTC).strftime("%Y%m%d-%H%M%S")
        return f"{prefix}-{target}-{caller}-{stamp}-{call.linked_id}.wav"
