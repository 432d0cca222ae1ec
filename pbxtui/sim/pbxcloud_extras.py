"""The PBX Cloud simulator's extras: SETFLOW, QUEUERESET, CAMPAIGN, REBOOT, UNREGISTER,
COUNTCHANNELS and ``INFO balance``, over the scenario, each recorded in
``scenario.received``.

Their answers are undocumented, as HANGUP's are: they use the simulator's acknowledgement
style (``Success|…|``, the DIAL-style JSON, or nothing, by ``Quirks.ack_style``). What the
documentation does say is kept: SETFLOW's four states, "start and stop can affect only
on-demand campaigns", ``ALL`` for every peer, a balance as a bare number (A-65). Campaigns are
not listed by any documented request ("you need to get it on the URL for the editing
campaign"), so the simulator has no list of them either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pbxtui.model.requests import ALL_PEERS, CAMPAIGN_VERBS, FLOW_STATES
from pbxtui.sim.pbxcloud import Answer
from pbxtui.sim.scenario import SimQueueStats

if TYPE_CHECKING:
    from pbxtui.sim.pbxcloud import PbxCloudSim

REBOOT_SECONDS = 20.0  # a rebooted phone is unregistered this long, then registers again


@dataclass
class SimCampaign:
    id: str
    name: str
    on_demand: bool = True
    state: Literal["running", "stopped", "paused"] = "stopped"


DEFAULT_CAMPAIGNS = (
    SimCampaign("12", "Renewals"),
    SimCampaign("14", "Winter promo", on_demand=False, state="running"),
)

# What each verb needs, and what it leaves: pause a running one, resume a paused one.
CAMPAIGN_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "start": (("stopped",), "running"),
    "stop": (("running", "paused"), "stopped"),
    "pause": (("running",), "paused"),
    "resume": (("paused",), "running"),
}


class CloudExtras:
    def __init__(self, sim: PbxCloudSim, balance: str = "123.45") -> None:
        self.sim = sim
        self.scenario = sim.scenario
        self.balance = balance
        self.campaigns = {
            c.id: SimCampaign(c.id, c.name, c.on_demand, c.state) for c in DEFAULT_CAMPAIGNS
        }
        self.flow_values: dict[str, str] = {}
        self.rebooting: dict[str, float] = {}  # extension → when it registers again

    def operations(self) -> dict[str, Callable[[Mapping[str, str]], Answer]]:
        return {
            "SETFLOW": self.setflow,
            "QUEUERESET": self.queuereset,
            "CAMPAIGN": self.campaign,
            "REBOOT": self.reboot,
            "UNREGISTER": self.unregister,
            "COUNTCHANNELS": self.countchannels,
        }

    def settle(self) -> None:
        """Rebooted phones whose time is up register again."""
        now = self.scenario.now
        for number, until in list(self.rebooting.items()):
            if until <= now:
                del self.rebooting[number]
                ext = self.scenario.extensions.get(number)
                if ext is not None and not ext.registered:
                    ext.registered = True
                    self.scenario.version += 1

    # -- SETFLOW ----------------------------------------------------------------------------------
    def setflow(self, params: Mapping[str, str]) -> Answer:
        number = params.get("number", "")
        state = params.get("state", "").upper()
        value = params.get("value", "")
        self.scenario.received.append(("set_flow", number))
        if not number:
            return Answer.text("No flow number specified")
        if state and state not in FLOW_STATES:
            return Answer.text(f"Error|Invalid state {state[:20]}|")
        flow = self.scenario.flows.get(number)
        if flow is None:
            return self.sim.ack("NO_FLOW", False)
        if state:
            flow.state = state
            flow.changed = self.scenario.now
            self.scenario.version += 1
        if value:
            self.flow_values[number] = value
        return self.sim.ack("SETFLOW", True)

    # -- QUEUERESET -------------------------------------------------------------------------------
    def queuereset(self, params: Mapping[str, str]) -> Answer:
        queue_id = params.get("queueid", "")
        self.scenario.received.append(("queue_reset", queue_id))
        if not queue_id:
            return Answer.text("No queue specified")
        queue = self.scenario.queues.get(queue_id)
        if queue is None:
            return self.sim.ack("NO_QUEUE", False)
        queue.stats = SimQueueStats()
        self.scenario.version += 1
        return self.sim.ack("QUEUERESET", True)

    # -- CAMPAIGN ---------------------------------------------------------------------------------
    def campaign(self, params: Mapping[str, str]) -> Answer:
        ident = params.get("campaign", "")
        verb = params.get("action", "").lower()
        self.scenario.received.append(("campaign", f"{ident}:{verb}"))
        if not ident:
            return Answer.text("No campaign specified")
        if verb not in CAMPAIGN_VERBS:
            return Answer.text("Error|Invalid action|")
        campaign = self.campaigns.get(ident)
        if campaign is None:
            return self.sim.ack("NO_CAMPAIGN", False)
        if verb in ("start", "stop") and not campaign.on_demand:
            return self.sim.ack("NOT_ON_DEMAND", False)
        allowed, after = CAMPAIGN_MOVES[verb]
        if campaign.state not in allowed:
            return Answer.text(f"Error|Campaign is {campaign.state}|")
        campaign.state = after  # type: ignore[assignment]
        return self.sim.ack("CAMPAIGN", True)

    # -- REBOOT, UNREGISTER -----------------------------------------------------------------------
    def _peers(self, params: Mapping[str, str], action: str) -> list[str] | None:
        """The extensions named (every one for ALL), or None for an unknown peer."""
        peer = params.get("peer", "")
        self.scenario.received.append((action, peer))
        if peer.upper() == ALL_PEERS:
            return [n for n, e in self.scenario.extensions.items() if e.registered]
        number = self.sim.strip_tenant(peer)
        return [number] if number in self.scenario.extensions else None

    def reboot(self, params: Mapping[str, str]) -> Answer:
        if not params.get("peer"):
            return Answer.text("No peer specified")
        numbers = self._peers(params, "reboot")
        if numbers is None:
            return self.sim.ack("NO_PEER", False)
        for number in numbers:
            self.scenario.hangup_extension(number)
            self.scenario.extensions[number].registered = False
            self.rebooting[number] = self.scenario.now + REBOOT_SECONDS
        self.scenario.version += 1
        return self.sim.ack("REBOOT", True)

    def unregister(self, params: Mapping[str, str]) -> Answer:
        if not params.get("peer"):
            return Answer.text("No peer specified")
        numbers = self._peers(params, "unregister")
        if numbers is None:
            return self.sim.ack("NO_PEER", False)
        for number in numbers:
            self.scenario.extensions[number].registered = False
        self.scenario.version += 1
        return self.sim.ack("UNREGISTER", True)

    # -- COUNTCHANNELS, INFO balance --------------------------------------------------------------
    def countchannels(self, params: Mapping[str, str]) -> Answer:
        """Channels per node and their total; only that node's total with ``nodename``."""
        legs = sum(len(call.legs) for call in self.scenario.calls.values())
        nodes = {node: (legs if node == self.sim.nodename else 0) for node in self.sim.nodes}
        wanted = params.get("nodename", "")
        if wanted:
            count = nodes.get(wanted, 0)
            return Answer(str(count), str(count))
        counts = {**nodes, "total": sum(nodes.values())}
        plain = "".join(f"{node}:{count}|" for node, count in counts.items())
        return Answer.data(counts, plain)

    def info_balance(self, params: Mapping[str, str]) -> Answer:
        """A bare number whatever the format (A-65)."""
        return Answer(self.balance, self.balance)
