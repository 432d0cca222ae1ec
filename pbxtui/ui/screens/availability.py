"""Which console actions apply now, on the pane shown and its selected row: what the footer
dims, help and the palette say, and an action key explains."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from pbxtui.model import ACTION_LABELS, Action
from pbxtui.ui.flows.targets import CALL_PANES

if TYPE_CHECKING:
    from pbxtui.ui.screens.console import ConsoleScreen

# Console action → the capability it needs, and the panes it works on (() = any).
ACTION_NEEDS: dict[str, tuple[Action, tuple[str, ...]]] = {
    "hangup": (Action.HANGUP, CALL_PANES),
    "transfer": (Action.TRANSFER, CALL_PANES),
    "attended": (Action.ATTENDED_TRANSFER, CALL_PANES),
    "pause": (Action.PAUSE, ("queues",)),
    "unpause": (Action.UNPAUSE, ("queues",)),
    "click2call": (Action.CLICK2CALL, ()),
    "scheduled_call": (Action.SCHEDULED_CALL, ()),
    "callback": (Action.CALLBACK, ()),
    "ivr": (Action.CALL_IVR, ()),
    "directory": (Action.PHONEBOOK, ()),
    "flow": (Action.SET_FLOW, ("blf",)),
    "queue_reset": (Action.QUEUE_RESET, ("queues",)),
    "reboot_peer": (Action.PEER_REBOOT, ("peers",)),
    "unregister_peer": (Action.PEER_UNREGISTER, ("peers",)),
    "campaign": (Action.CAMPAIGN, ()),
    "queue_callback": (Action.QUEUE_CALLBACK, ()),
}
WRONG_PANE = {
    CALL_PANES: "works on calls: the Calls, Extensions and BLF panes (1, 2, 3)",
    ("queues",): "works on queue agents: press 5, then Tab to the agents table",
    ("blf",): "works on flow lamps: the BLF board (3)",
    ("peers",): "works on peers: the Peers pane (4)",
}
WRONG_PANE_OF = {"queue_reset": "works on queues: the queues table of pane 5"}
"""Where an action's pane says something else than its panes' usual sentence."""


class Availability:
    def __init__(self, screen: ConsoleScreen) -> None:
        self.screen = screen

    def wrong_pane(self, action: str) -> str:
        """Why ``action`` does not apply to the pane shown ("" if it does)."""
        needs = ACTION_NEEDS.get(action)
        if needs is None:
            return ""
        capability, panes = needs
        if not panes or self.screen.active_pane.pane_id in panes:
            return ""
        key = next(
            (b.key for b in self.screen.BINDINGS if isinstance(b, Binding) and b.action == action),
            "",
        )
        where = WRONG_PANE_OF.get(action) or WRONG_PANE[panes]
        return f"{key} ({ACTION_LABELS[capability]}) {where}"

    def why_not(self, action: str) -> str:
        """Why the console action ``action`` cannot run now, on this pane and row ("" if it
        can): the footer dims it, help and the palette say it."""
        needs = ACTION_NEEDS.get(action)
        if needs is None or self.screen.session.engine is None:
            return ""
        capability, _panes = needs
        label = ACTION_LABELS[capability]
        pane = self.screen.active_pane
        wrong = self.wrong_pane(action)
        if wrong:
            return wrong
        if action == "attended" and self.screen.attended_flow.pending():
            return ""
        record = pane.current()
        if record is not None:
            return self.screen.session.engine.refusal(capability, record.pbx)
        if not self.screen.click2call_flow.allowed(capability):
            return f"{label}: no PBX shown offers it"
        return ""

    def support(self, action: str) -> str:
        """`` — hq, eu; not istanbul, branch`` for an action some PBXs shown cannot do."""
        needs = ACTION_NEEDS.get(action)
        engine = self.screen.session.engine
        if needs is None or engine is None:
            return ""
        can = [n for n in self.screen.shown_pbxs if not engine.refusal(needs[0], n)]
        cannot = [n for n in self.screen.shown_pbxs if n not in can]
        if not cannot:
            return ""
        if not can:
            return " — no PBX shown offers it"
        return f" — {', '.join(can)}; not {', '.join(cannot)}"

    def check(self, action: str) -> bool | None:
        """True: shown and enabled; None: shown dimmed; False: not this pane's action."""
        needs = ACTION_NEEDS.get(action)
        if needs is None:
            return True
        _capability, panes = needs
        if panes and self.screen.active_pane.pane_id not in panes:
            return False
        return None if self.why_not(action) else True
