"""The words every layer shares: what can be polled, what can be done, what a PBX offers.

Drivers declare their ``Capabilities`` in these words, the engine's policy checks requests
against them, and the console and the CLI name them to the operator; none of them needs to
import another's module for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Resource(StrEnum):
    """A live list the engine polls."""

    CALLS = "calls"
    EXTENSIONS = "extensions"
    PEERS = "peers"
    BLF = "blf"
    QUEUES = "queues"
    AGENTS = "agents"


class Action(StrEnum):
    """Something an operator asks a PBX to do. A driver offers a subset of them."""

    HANGUP = "hangup"
    TRANSFER = "transfer"
    ATTENDED_TRANSFER = "attended_transfer"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    CLICK2CALL = "click2call"
    SCHEDULED_CALL = "scheduled_call"
    CALLBACK = "callback"
    CALL_IVR = "call_ivr"
    PHONEBOOK = "phonebook"
    QUEUE_CALLBACK = "queue_callback"
    SET_FLOW = "set_flow"
    QUEUE_RESET = "queue_reset"
    CAMPAIGN = "campaign"
    PEER_REBOOT = "peer_reboot"
    PEER_UNREGISTER = "peer_unregister"
    VOICEMAIL_DELETE = "voicemail_delete"


class Step(StrEnum):
    """What a request does, when that is more than its capability (the audit's word).

    Completing or cancelling an attended transfer needs the ATTENDED_TRANSFER capability but
    is a step of its own in the audit log and in the in-flight guard.
    """

    TRANSFER_COMPLETE = "attended_transfer_complete"
    TRANSFER_CANCEL = "attended_transfer_cancel"


ACTION_LABELS: dict[Action, str] = {
    Action.HANGUP: "hang up",
    Action.TRANSFER: "blind transfer",
    Action.ATTENDED_TRANSFER: "attended transfer",
    Action.PAUSE: "agent pause",
    Action.UNPAUSE: "agent unpause",
    Action.CLICK2CALL: "click2call",
    Action.SCHEDULED_CALL: "scheduled call",
    Action.CALLBACK: "callback (number masking)",
    Action.CALL_IVR: "IVR call",
    Action.PHONEBOOK: "phone directory",
    Action.QUEUE_CALLBACK: "queue callback",
    Action.SET_FLOW: "flow state",
    Action.QUEUE_RESET: "queue statistics reset",
    Action.CAMPAIGN: "campaign control",
    Action.PEER_REBOOT: "peer reboot",
    Action.PEER_UNREGISTER: "peer unregister",
    Action.VOICEMAIL_DELETE: "delete voicemail message",
}

DESTRUCTIVE_ACTIONS = frozenset(
    {
        Action.HANGUP,
        Action.TRANSFER,
        Action.ATTENDED_TRANSFER,
        Action.QUEUE_RESET,
        Action.PEER_REBOOT,
        Action.PEER_UNREGISTER,
        Action.VOICEMAIL_DELETE,
    }
)
"""Actions that end or move a live call, wipe figures, drop phones off the PBX or destroy
something for good: a protected PBX asks for its name to be typed."""

READ_ACTIONS = frozenset({Action.PHONEBOOK})
"""Actions that change nothing on the PBX: allowed in read-only mode."""


class Click2CallOption(StrEnum):
    """Optional click2call settings; a driver says which of them its API honours."""

    CALLER_ID = "caller_id"
    TIMEOUT = "timeout"
    REVERSE = "reverse"


@dataclass(frozen=True)
class Capabilities:
    resources: frozenset[Resource]
    actions: frozenset[Action]
    click2call_options: frozenset[Click2CallOption] = frozenset()
    """Which optional click2call settings reach the PBX; the others are refused, not dropped."""

    def supports(self, what: Resource | Action) -> bool:
        return what in self.resources or what in self.actions

    def lacks(self) -> tuple[Action, ...]:
        """Every action this API does not offer, in the vocabulary's order."""
        return tuple(a for a in Action if a not in self.actions)
