"""What an IEXPBX pushes (iexpbx-api.txt, "Data Sharing via Webhook"): a URL called when a
call starts (``caller={src}&called={dst}&chan={chanid}``) and when it hangs up
(``chan={chanid}&callstatus{status}&callduration={duration}``).

The hang-up template on the vendor's page has no ``=`` after ``callstatus``, so a PBX set up
from it sends ``callstatusANSER``: that is the default here, and ``callstatus_equals`` sends
``callstatus=ANSER``. The statuses are the page's: ``ANSER`` (sic), ``BUSY``, ``NOANSWER``,
``CANCEL``, ``CONGESTION``. ``chan`` is the call's channel as ``activecalls`` lists it, so a
receiver can match a hook with the polled row; ``callduration`` counts from the call's start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pbxtui.sim.hooks import HookQuirks, HookRequest, Param
from pbxtui.sim.scenario import CallEvent, CallEventKind, EndCause, SimCall

Parties = Callable[[SimCall], tuple[str, str]]


@dataclass
class IexHookQuirks(HookQuirks):
    callstatus_equals: bool = False  # the page's template: callstatus{status}, no "="
    answered_word: str = "ANSER"  # (sic), as the page spells it


def hangup_status(cause: EndCause, quirks: IexHookQuirks) -> str:
    return {
        EndCause.COMPLETED: quirks.answered_word,
        EndCause.HUNG_UP: "CANCEL",
        EndCause.ABANDONED: "CANCEL",  # the caller hung up before anyone answered
        EndCause.NO_ANSWER: "NOANSWER",
        EndCause.BUSY: "BUSY",
        EndCause.CONGESTION: "CONGESTION",
    }[cause]


class IexPbxFeed:
    """The scenario's call events as IEXPBX's webhooks."""

    def __init__(self, parties: Parties, quirks: IexHookQuirks | None = None) -> None:
        self.parties = parties  # (src, dst) as activecalls shows them
        self.quirks: IexHookQuirks = quirks or IexHookQuirks()

    def requests(self, event: CallEvent) -> list[HookRequest]:
        call = event.call
        if event.kind is CallEventKind.STARTED:
            return [self.call_start(call)]
        if event.kind is CallEventKind.ENDED:
            return [HookRequest("hangup", self.hangup(call, event.at))]
        if event.kind is CallEventKind.FAILED:  # it started too, if only for a moment
            return [self.call_start(call), HookRequest("hangup", self.hangup(call, event.at))]
        return []

    def call_start(self, call: SimCall) -> HookRequest:
        channel = call.legs[0].channel

        def params() -> list[Param]:
            # Read when sent: an action's call learns what it is (an IVR call, a callback)
            # only once the scenario has made it.
            src, dst = self.parties(call)
            return [("caller", src), ("called", dst), ("chan", channel)]

        return HookRequest("call_start", params)

    def hangup(self, call: SimCall, ended: float) -> list[Param]:
        status = hangup_status(call.end_cause or EndCause.HUNG_UP, self.quirks)
        bare = not self.quirks.callstatus_equals and self.quirks.encoding != "json"
        return [
            ("chan", call.legs[0].channel),
            (f"callstatus{status}", None) if bare else ("callstatus", status),
            ("callduration", str(max(0, int(ended - call.started)))),
        ]
