"""``P`` pause (with a reason) and ``U`` unpause the selected (or marked) queue agents."""

from __future__ import annotations

from functools import partial

from pbxtui.model import PauseAgent, UnpauseAgent, agent_label
from pbxtui.ui.flows.base import Flow
from pbxtui.ui.flows.targets import selected_agents
from pbxtui.ui.modals.confirm import Confirmation
from pbxtui.ui.modals.pause import PauseModal


class PauseFlow(Flow):
    def start(self) -> None:
        if not self.ready():
            return
        agents = selected_agents(self.host)
        requests = self.admit([PauseAgent(pbx=a.pbx, agent=a) for a in agents])
        if not requests:
            return
        targets = [f"{r.pbx}: {agent_label(r.agent)}" for r in requests]
        reasons = self.host.session.config.settings.pause_reasons
        self.host.push(PauseModal(targets, reasons), partial(self._reason, tuple(requests)))

    def _reason(self, requests: tuple[PauseAgent, ...], reason: str | None) -> None:
        # The pause dialog names the agents and the reason: choosing is the confirmation.
        if reason is not None:
            self.send([r.model_copy(update={"reason": reason}) for r in requests])


class UnpauseFlow(Flow):
    def start(self) -> None:
        if not self.ready():
            return
        agents = selected_agents(self.host)
        requests = self.admit([UnpauseAgent(pbx=a.pbx, agent=a) for a in agents])
        if not requests:
            return
        count = len(requests)
        confirmation = Confirmation(
            title="Unpause this agent?" if count == 1 else f"Unpause {count} agents?",
            targets=tuple(f"{r.pbx}: {agent_label(r.agent)}" for r in requests),
            verb="Unpause",
        )
        self.confirm(requests, confirmation)
