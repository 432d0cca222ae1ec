"""``h``: hang up the selected (or marked) calls, after a confirmation naming each."""

from __future__ import annotations

from pbxtui.model import Hangup
from pbxtui.ui.flows.base import Flow
from pbxtui.ui.flows.targets import selected_calls
from pbxtui.ui.modals.confirm import Confirmation


class HangupFlow(Flow):
    def start(self) -> None:
        if not self.ready():
            return
        calls = selected_calls(self.host)
        requests = self.admit([Hangup(pbx=c.pbx, call=c) for c in calls])
        if not requests:
            return
        pbxs = sorted({r.pbx for r in requests})
        title = (
            f"Hang up this call on {pbxs[0]}?"
            if len(requests) == 1
            else f"Hang up {len(requests)} calls on {', '.join(pbxs)}?"
        )
        confirmation = Confirmation(
            title=title,
            targets=tuple(self.host.describe(r.call) for r in requests),
            verb="Hang up",
            type_to_confirm=self.protected(requests),
        )
        self.confirm(requests, confirmation)
