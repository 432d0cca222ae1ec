"""``t`` blind transfer and ``T`` attended transfer of the selected call.

Both pick a destination, then confirm naming the call and the destination. An attended
transfer then waits, on the PBX and in the engine's book, for its second step: ``T`` on the
held call (or on any row while one is pending) offers to complete or cancel it, from this
console or from one started later.
"""

from __future__ import annotations

from functools import partial

from pbxtui.model import (
    Action,
    AttendedTransfer,
    BlindTransfer,
    Call,
    CancelTransfer,
    CompleteTransfer,
    Consultation,
)
from pbxtui.ui.flows.base import Flow
from pbxtui.ui.flows.targets import calls_of, one_call
from pbxtui.ui.modals.confirm import Confirmation
from pbxtui.ui.modals.consult import ConsultChoice, ConsultModal
from pbxtui.ui.modals.destination import DestinationForm, DestinationModal

CONSULT_NOTE = (
    "The caller holds while the extension consults the destination; then complete or cancel it (T)."
)


class BlindTransferFlow(Flow):
    action = Action.TRANSFER
    verb = "Transfer"
    title = "Blind transfer"

    def start(self) -> None:
        if not self.ready():
            return
        call = one_call(self.host, self.action)
        if call is None:
            return
        if not self.admit([self.request(call, "")]):
            return
        form = DestinationForm(
            title=f"{self.title} on {call.pbx}",
            target=self.host.describe(call),
            verb="Next",
            choices=self.host.extension_choices(call.pbx),
            note=CONSULT_NOTE if self.action is Action.ATTENDED_TRANSFER else "",
            check=lambda destination: self.request(call, destination).problem(),
        )
        self.host.push(DestinationModal(form), partial(self._chosen, call))

    def request(self, call: Call, destination: str) -> BlindTransfer | AttendedTransfer:
        return BlindTransfer(pbx=call.pbx, call=call, destination=destination)

    def _chosen(self, call: Call, destination: str | None) -> None:
        if not destination:
            return
        request = self.request(call, destination)
        label = dict(self.host.extension_choices(call.pbx)).get(destination, "")
        named = f"{self.host.number(destination)} {label}".rstrip()
        confirmation = Confirmation(
            title=f"{self.title} this call on {call.pbx} to {named}?",
            targets=(self.host.describe(call), f"→ {named}"),
            verb=self.verb,
            type_to_confirm=self.protected([request]),
        )
        self.confirm([request], confirmation)


class AttendedTransferFlow(BlindTransferFlow):
    action = Action.ATTENDED_TRANSFER
    verb = "Consult"
    title = "Attended transfer"

    def request(self, call: Call, destination: str) -> BlindTransfer | AttendedTransfer:
        return AttendedTransfer(pbx=call.pbx, call=call, destination=destination)

    def start(self) -> None:
        if not self.ready():
            return
        pending = self.pending_for_selection()
        if pending is not None:
            self.offer(pending)
            return
        super().start()

    def pending(self) -> list[Consultation]:
        return [c for name in self.host.shown_pbxs for c in self.host.states[name].consultations]

    def pending_for_selection(self) -> Consultation | None:
        """The pending consultation of the selected call; the only one pending, else."""
        pending = self.pending()
        if not pending:
            return None
        selected = calls_of(self.host.active_pane.targets(), self.host.states)
        keys = {c.key for c in selected}
        unique = {c.unique_id for c in selected if c.unique_id}
        for consultation in pending:
            held = consultation.held
            if held.key in keys or (held.unique_id and held.unique_id in unique):
                return consultation
        return pending[0] if len(pending) == 1 else None

    def offer(self, consultation: Consultation) -> None:
        c = consultation
        description = (
            f"{c.pbx}: {c.transferer or 'the extension'} is consulting "
            f"{self.host.number(c.destination)}\nheld: {self.host.describe(c.held)}"
        )
        self.host.push(ConsultModal(description), partial(self._decided, consultation))

    def _decided(self, consultation: Consultation, choice: ConsultChoice | None) -> None:
        if choice is None:
            return
        kind = CompleteTransfer if choice == "complete" else CancelTransfer
        request = kind(pbx=consultation.pbx, consultation=consultation)
        protected = self.protected([request])
        if protected:
            verb = "Complete" if choice == "complete" else "Cancel consult"
            confirmation = Confirmation(
                title=f"{request.label.capitalize()} on {consultation.pbx}?",
                targets=(request.describe_target(),),
                verb=verb,
                type_to_confirm=protected,
            )
            self.confirm([request], confirmation)
            return
        self.send([request])
