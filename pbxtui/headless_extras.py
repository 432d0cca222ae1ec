"""The vendor extras' requests as the headless commands build them, from the state just
polled: the queue, the peer or the flow lamp named on the command line."""

from __future__ import annotations

from pbxtui.engine import Engine
from pbxtui.headless import Builder, _unreadable, echo
from pbxtui.model import (
    ALL_PEERS,
    ActionRequest,
    FlowStateWord,
    PbxState,
    Peer,
    QueueReset,
    RebootPeer,
    Resource,
    SetFlow,
    UnregisterPeer,
    flow_toggled,
)


def find_peer(state: PbxState, ident: str) -> Peer | None:
    """The peer named ``ident``: its name (``201-ACME``) or, failing that, its number."""
    peers = state.peers()
    exact = next((p for p in peers if ident in (p.id, p.name)), None)
    if exact is not None:
        return exact
    return next((p for p in peers if p.name.split("-", 1)[0] == ident), None)


def peer_requests(ident: str, *, reboot: bool, typed: str) -> Builder:
    """Reboot or unregister one peer, or every peer (``ALL``, with what was typed)."""
    kind = RebootPeer if reboot else UnregisterPeer

    def build(state: PbxState, engine: Engine) -> list[ActionRequest] | str:
        if ident.upper() == ALL_PEERS:
            return [kind(pbx=state.name, typed=typed)]
        peer = find_peer(state, ident)
        if peer is None:
            return f"no peer {echo(ident)} on {state.name} now{_unreadable(state, Resource.PEERS)}"
        return [kind(pbx=state.name, peer=peer)]

    return build


def queue_reset_request(ident: str) -> Builder:
    def build(state: PbxState, engine: Engine) -> list[ActionRequest] | str:
        queue = next((q for q in state.queues() if ident in (q.id, q.name)), None)
        if queue is None:
            why = _unreadable(state, Resource.QUEUES)
            return f"no queue {echo(ident)} on {state.name} now{why}"
        return [QueueReset(pbx=state.name, queue=queue)]

    return build


def flow_request(
    flow: str, state_word: FlowStateWord | None, value: str, *, toggle: bool
) -> Builder:
    """Set a flow; ``toggle``: to the other state of its lamp as polled now."""

    def build(state: PbxState, engine: Engine) -> list[ActionRequest] | str:
        lamp = next((lamp for lamp in state.lamps() if flow in (lamp.id, lamp.label)), None)
        if toggle and lamp is None:
            why = _unreadable(state, Resource.BLF)
            return f"no flow lamp {echo(flow)} on {state.name} now{why}"
        number = lamp.id if lamp is not None else flow
        name = lamp.label if lamp is not None else ""
        word = flow_toggled(lamp.state_raw) if toggle and lamp is not None else state_word
        return [SetFlow(pbx=state.name, flow=number, name=name, state=word, value=value)]

    return build
