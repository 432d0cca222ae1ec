"""Placing calls: ``c`` click2call (scheduled where the API can), ``b`` callback, ``i`` IVR
call, and ``D`` the phone directory (Enter on an entry dials it). Every form is pre-filled
from the selected row and followed by a confirmation naming what will ring."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pbxtui.model import (
    Action,
    ActionOutcome,
    Callback,
    DirectoryEntry,
    FetchDirectory,
    IvrCallRequest,
    PlaceCall,
    ScheduleCall,
)
from pbxtui.ui.flows.base import Flow
from pbxtui.ui.flows.host import FlowHost
from pbxtui.ui.flows.runner import ActionRunner
from pbxtui.ui.flows.targets import Prefill, prefill
from pbxtui.ui.format import MASK_MIN_DIGITS
from pbxtui.ui.modals.click2call import Click2CallForm, Click2CallModal
from pbxtui.ui.modals.confirm import Confirmation
from pbxtui.ui.modals.extras import CallbackModal, DirectoryModal, IvrModal

# What a caller id costs, by brand: CloudPlus does not record a call whose caller id was
# set (SetCID), as its document and a real client say (vendor-notes §7).
CALLER_ID_NOTES = {
    "cloudplus": "CloudPlus does not record a call with a caller id set: leave it empty to "
    "have the call recorded",
}


def caller_id_note(host: FlowHost, pbx: str) -> str:
    known = {p.name: p for p in host.session.config.pbx}
    brand = getattr(known.get(pbx), "brand", "")
    return CALLER_ID_NOTES.get(str(brand), "")


class DialFlow(Flow):
    """What every dialling flow shares: the PBX to preselect, the confirmation."""

    def selection(self) -> Prefill:
        return prefill(self.host.active_pane.current(), mask=self.host.session.mask)

    def target(self, action: Action) -> tuple[Prefill, tuple[str, ...]] | None:
        """The pre-fill (on a PBX that can) and the PBXs that can do ``action``; None, said
        why, when none can. A selected row on a PBX that cannot is said too."""
        chosen = self.selection()
        allowed = self.allowed(action)
        if chosen.pbx and chosen.pbx not in allowed:
            self.say_unsupported(action, [chosen.pbx])
            chosen = Prefill()
        elif not allowed:
            self.say_unsupported(action)
        if not allowed:
            return None
        return (chosen if chosen.pbx else Prefill(allowed[0])), allowed

    def confirm_call(self, request: PlaceCall | ScheduleCall | Callback | IvrCallRequest) -> None:
        host = self.host
        title = {
            "click2call": f"Place this call on {request.pbx}?",
            "scheduled_call": f"Schedule this call on {request.pbx}?",
            "callback": f"Connect these numbers through {request.pbx}?",
            "call_ivr": f"Place this IVR call on {request.pbx}?",
        }[request.kind]
        confirmation = Confirmation(
            title=title,
            targets=(host.text(request.summary()),),
            verb="Call",
            note=self.note(request),
        )
        self.confirm([request], confirmation)

    def note(self, request: PlaceCall | ScheduleCall | Callback | IvrCallRequest) -> str:
        match request:
            case PlaceCall(dial=dial) | ScheduleCall(dial=dial):
                first = dial.destination if dial.reverse else dial.source
                cost = caller_id_note(self.host, request.pbx) if dial.caller_id else ""
                return f"{self.host.number(first)} rings first." + (f" {cost}." if cost else "")
            case Callback(number1=number1):
                return f"{self.host.number(number1)} is called first; neither sees the other."
            case IvrCallRequest(ivr=ivr) if ivr.announcements:
                return "Announcements: " + ", ".join(ivr.announcements)
        return ""


class Click2CallFlow(DialFlow):
    action = Action.CLICK2CALL

    def start(self) -> None:
        if not self.ready():
            return
        target = self.target(self.action)
        if target is not None:
            chosen, _ = target
            self.open(chosen.pbx, chosen.internal, chosen.external)

    def open(self, pbx: str, source: str, destination: str) -> None:
        allowed = self.allowed(Action.CLICK2CALL)
        if not allowed:
            return
        engine = self.engine
        options = {n: engine.capabilities(n).click2call_options for n in allowed} if engine else {}
        form = Click2CallForm(
            allowed,
            pbx if pbx in allowed else allowed[0],
            source,
            destination,
            {n: tuple(num for num, _ in self.host.extension_choices(n)) for n in allowed},
            scheduling=frozenset(n for n in allowed if not self.refusal(Action.SCHEDULED_CALL, n)),
            options=options,
            now=self.host.now().astimezone(),
            caller_id_notes={n: note for n in allowed if (note := caller_id_note(self.host, n))},
        )
        self.host.push(Click2CallModal(form), self._chosen)

    def _chosen(self, request: PlaceCall | ScheduleCall | None) -> None:
        if request is not None:
            self.confirm_call(request)


class ScheduledCallFlow(Click2CallFlow):
    """Click2call on a PBX whose API schedules calls (the palette's "Scheduled call")."""

    action = Action.SCHEDULED_CALL


class CallbackFlow(DialFlow):
    def start(self) -> None:
        if not self.ready():
            return
        target = self.target(Action.CALLBACK)
        if target is None:
            return
        chosen, allowed = target
        # The outside party is called first, then connected to the extension on the row.
        first, second = (
            (chosen.external, chosen.internal)
            if chosen.external
            else (
                chosen.internal,
                "",
            )
        )
        self.host.push(CallbackModal(allowed, chosen.pbx, first, second), self._chosen)

    def _chosen(self, request: Callback | None) -> None:
        if request is not None:
            self.confirm_call(request)


class IvrFlow(DialFlow):
    def start(self) -> None:
        if not self.ready():
            return
        target = self.target(Action.CALL_IVR)
        if target is None:
            return
        chosen, allowed = target
        number = chosen.external or chosen.internal
        self.host.push(IvrModal(allowed, chosen.pbx, number), self._chosen)

    def _chosen(self, request: IvrCallRequest | None) -> None:
        if request is not None:
            self.confirm_call(request)


class DirectoryFlow(DialFlow):
    """Fetch the directory (through the engine: audited), show it, dial the entry chosen."""

    def __init__(self, host: FlowHost, runner: ActionRunner, dial: Click2CallFlow) -> None:
        super().__init__(host, runner)
        self.dial = dial

    def start(self, pbx: str = "") -> None:
        if not self.ready():
            return
        if pbx:
            if self.refusal(Action.PHONEBOOK, pbx):
                self.say_unsupported(Action.PHONEBOOK, [pbx])
                return
        else:
            target = self.target(Action.PHONEBOOK)
            if target is None:
                return
            pbx = target[0].pbx
        request = FetchDirectory(pbx=pbx)
        if self.runner.busy(request):
            self.host.notify("the phone directory is already being fetched", severity="warning")
            return
        self.send([request], after=partial(self._fetched, pbx))

    def _fetched(self, pbx: str, outcomes: Sequence[ActionOutcome]) -> None:
        if not outcomes or not outcomes[0].ok:
            return  # the failure was notified already
        entries = outcomes[0].entries
        shown = (
            {e.number: self.host.number(e.number) for e in entries}
            if self.host.session.mask
            else None
        )
        self.host.push(DirectoryModal(pbx, entries, shown), self._chosen)

    def _chosen(self, entry: DirectoryEntry | None) -> None:
        if entry is None:
            return
        if self.refusal(Action.CLICK2CALL, entry.pbx):
            self.say_unsupported(Action.CLICK2CALL, [entry.pbx])
            if not self.allowed(Action.CLICK2CALL):
                return
        number = entry.number
        if self.host.session.mask and sum(ch.isdigit() for ch in number) >= MASK_MIN_DIGITS:
            number = ""  # privacy mode: a number is never shown in full
            self.host.notify("privacy mode: type the number to call", severity="warning")
        self.dial.open(entry.pbx, "", number)
