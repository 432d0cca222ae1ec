"""The vendor extras in the console, each on the one ladder (policy, confirmation naming the
target, send once): ``f`` toggles the selected flow lamps of the BLF board, ``Z`` resets the
selected queues' statistics, ``B`` / ``X`` reboot / unregister the selected peers (every peer:
``:reboot PBX all``, typed ALL or the PBX's name), ``C`` a campaign, ``k`` a queue callback."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from pbxtui.model import (
    ACTION_LABELS,
    ALL_PEERS,
    Action,
    BlfLamp,
    Call,
    CampaignControl,
    FlowStateWord,
    LampKind,
    Peer,
    Queue,
    QueueCallback,
    QueueReset,
    RebootPeer,
    SetFlow,
    UnregisterPeer,
    flow_toggled,
)
from pbxtui.ui.flows.base import Flow
from pbxtui.ui.flows.dialing import DialFlow
from pbxtui.ui.flows.host import FlowHost
from pbxtui.ui.flows.runner import ActionRunner
from pbxtui.ui.modals.confirm import Confirmation
from pbxtui.ui.modals.vendor_extras import CampaignModal, QueueCallbackModal, TypedConfirmModal


def _title(verb: str, what: str, requests: Sequence[object], pbxs: Sequence[str]) -> str:
    if len(requests) == 1:
        return f"{verb} this {what} on {pbxs[0]}?"
    return f"{verb} {len(requests)} {what}s on {', '.join(pbxs)}?"


class FlowLampFlow(Flow):
    """``f`` on the BLF board: a lit flow goes out, any other lights (SETFLOW)."""

    def start(self) -> None:
        if not self.ready():
            return
        pane = self.host.active_pane
        lamps = [r for r in pane.targets() if isinstance(r, BlfLamp)]
        flows = [lamp for lamp in lamps if lamp.kind is LampKind.FLOW]
        if pane.pane_id != "blf" or not flows:
            self.host.notify(
                "select a flow lamp on the BLF board (3) first: f sets flows, not extensions",
                severity="warning",
            )
            return
        self.set(
            [
                SetFlow(pbx=f.pbx, flow=f.id, name=f.label, state=flow_toggled(f.state_raw))
                for f in flows
            ]
        )

    def set_by_command(self, pbx: str, flow: str, word: FlowStateWord | None) -> None:
        """``:flow PBX NUMBER [STATE]``: no state toggles the lamp as it is shown now."""
        if not self.ready():
            return
        state = self.host.states.get(pbx)
        lamp = (
            next((la for la in state.lamps() if flow in (la.id, la.label)), None) if state else None
        )
        if word is None and lamp is None:
            self.host.notify(f"no flow lamp {flow!r} on {pbx} is shown", severity="warning")
            return
        number, name = (lamp.id, lamp.label) if lamp is not None else (flow, "")
        state_word = word or flow_toggled(lamp.state_raw if lamp else "")
        self.set([SetFlow(pbx=pbx, flow=number, name=name, state=state_word)])

    def set(self, requests: list[SetFlow]) -> None:
        admitted = self.admit(requests)
        if not admitted:
            return
        pbxs = sorted({r.pbx for r in admitted})
        confirmation = Confirmation(
            title=_title("Set", "flow", admitted, pbxs),
            targets=tuple(f"{r.pbx}: {r.describe_target()}" for r in admitted),
            verb="Set",
        )
        self.confirm(admitted, confirmation)


class QueueResetFlow(Flow):
    """``Z`` on the queues table: reset the selected queues' statistics (QUEUERESET)."""

    def start(self) -> None:
        if not self.ready():
            return
        queues = [r for r in self.host.active_pane.targets() if isinstance(r, Queue)]
        if not queues:
            self.host.notify("select a queue in the queues table (5) first", severity="warning")
            return
        requests = self.admit([QueueReset(pbx=q.pbx, queue=q) for q in queues])
        if not requests:
            return
        pbxs = sorted({r.pbx for r in requests})
        confirmation = Confirmation(
            title=_title("Reset the statistics of", "queue", requests, pbxs),
            targets=tuple(f"{r.pbx}: {r.describe_target()}" for r in requests),
            verb="Reset",
            type_to_confirm=self.protected(requests),
            note="Answered, abandoned and the other counts start again at 0: it cannot be undone.",
        )
        self.confirm(requests, confirmation)


class PeerFlow(Flow):
    """``B`` reboot / ``X`` unregister the selected (or marked) peers; every peer of a PBX
    from ``:reboot PBX all`` once ALL or the PBX's name is typed."""

    def __init__(self, host: FlowHost, runner: ActionRunner, *, reboot: bool) -> None:
        super().__init__(host, runner)
        self.reboot = reboot
        self.action = Action.PEER_REBOOT if reboot else Action.PEER_UNREGISTER
        self.kind = RebootPeer if reboot else UnregisterPeer

    @property
    def verb(self) -> str:
        return "Reboot" if self.reboot else "Unregister"

    def start(self) -> None:
        if not self.ready():
            return
        peers = [r for r in self.host.active_pane.targets() if isinstance(r, Peer)]
        if not peers:
            self.host.notify("select a peer in the Peers pane (4) first", severity="warning")
            return
        self.confirm_peers(peers)

    def confirm_peers(self, peers: Sequence[Peer]) -> None:
        requests = self.admit([self.kind(pbx=p.pbx, peer=p) for p in peers])
        if not requests:
            return
        pbxs = sorted({r.pbx for r in requests})
        confirmation = Confirmation(
            title=_title(self.verb, "peer", requests, pbxs),
            targets=tuple(f"{r.pbx}: {self.host.text(r.describe_target())}" for r in requests),
            verb=self.verb,
            type_to_confirm=self.protected(requests),
            note="A rebooted phone drops its calls and registers again."
            if self.reboot
            else "The phone is off the PBX until it registers again.",
        )
        self.confirm(requests, confirmation)

    def by_command(self, pbx: str, ident: str) -> None:
        """``:reboot PBX PEER|all``."""
        if not self.ready():
            return
        if ident.upper() == ALL_PEERS:
            self.every_peer(pbx)
            return
        state = self.host.states.get(pbx)
        peers = state.peers() if state is not None else ()
        peer = next((p for p in peers if ident in (p.id, p.name)), None) or next(
            (p for p in peers if p.name.split("-", 1)[0] == ident), None
        )
        if peer is None:
            self.host.notify(f"no peer {ident!r} on {pbx} is shown", severity="warning")
            return
        self.confirm_peers([peer])

    def every_peer(self, pbx: str) -> None:
        request = self.kind(pbx=pbx)
        if not self.admit([request]):
            return
        engine = self.engine
        protected = engine is not None and engine.is_protected(pbx)
        state = self.host.states.get(pbx)
        count = len(state.peers()) if state is not None else 0
        what = f"{ACTION_LABELS[self.action]} of every peer of {pbx} ({count} shown)"
        modal = TypedConfirmModal(
            f"{self.verb} every peer of {pbx}?", what, pbx, protected=protected
        )
        self.host.push(modal, partial(self._typed, request))

    def _typed(self, request: RebootPeer | UnregisterPeer, typed: str | None) -> None:
        if not typed:
            return
        update = {"typed": typed, "confirmed_pbx": typed if typed == request.pbx else ""}
        self.send([request.model_copy(update=update)])


class CampaignFlow(DialFlow):
    """``C``: a campaign by id, then what to do with it, confirmed."""

    def start(self, pbx: str = "", campaign: str = "", verb: str = "") -> None:
        if not self.ready():
            return
        target = self.target(Action.CAMPAIGN)
        if target is None:
            return
        chosen, allowed = target
        modal = CampaignModal(allowed, pbx if pbx in allowed else chosen.pbx, campaign, verb)
        self.host.push(modal, self._chosen)

    def _chosen(self, request: CampaignControl | None) -> None:
        if request is None or not self.admit([request]):
            return
        confirmation = Confirmation(
            title=f"{request.verb.capitalize()} this campaign on {request.pbx}?",
            targets=(request.summary(),),
            verb=request.verb.capitalize(),
        )
        self.confirm([request], confirmation)


class QueueCallbackFlow(DialFlow):
    """``k``: the selected call's outside number on its queue's callback list."""

    def start(self) -> None:
        if not self.ready():
            return
        target = self.target(Action.QUEUE_CALLBACK)
        if target is None:
            return
        chosen, allowed = target
        record = self.host.active_pane.current()
        queue = record.queue if isinstance(record, Call) else ""
        self.host.push(
            QueueCallbackModal(allowed, chosen.pbx, chosen.external, queue), self._chosen
        )

    def _chosen(self, request: QueueCallback | None) -> None:
        if request is None or not self.admit([request]):
            return
        confirmation = Confirmation(
            title=f"Put this number on a callback list of {request.pbx}?",
            targets=(self.host.text(request.summary()),),
            verb="Add",
            note=f"{self.host.number(request.number)} is called back once an agent is free.",
        )
        self.confirm([request], confirmation)
