"""What came of an attempted action, in the words the audit log, the console and the CLI use."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pbxtui.model.records import ActionResult, Consultation, DirectoryEntry
from pbxtui.model.requests import ActionRequest


class ActionStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    REFUSED = "refused"
    UNSUPPORTED = "unsupported"
    READ_ONLY = "read-only"
    IN_FLIGHT = "in-flight"
    """The same target already has an action in flight: nothing was sent."""
    NOT_CONFIRMED = "not-confirmed"
    """A protected PBX's name was not given to confirm: nothing was sent."""


@dataclass(frozen=True)
class ActionOutcome:
    request: ActionRequest
    status: ActionStatus
    message: str
    """Readable; on failure, the vendor's own reason."""
    result: ActionResult | None = None
    entries: tuple[DirectoryEntry, ...] = ()
    """The directory, for a directory request."""
    consultation: Consultation | None = None
    """The attended transfer now pending, after its first step succeeded."""

    @property
    def ok(self) -> bool:
        return self.status is ActionStatus.OK

    @property
    def sent(self) -> bool:
        """Whether anything reached the PBX (a refusal sends nothing)."""
        return self.status in (ActionStatus.OK, ActionStatus.FAILED)

    def text(self) -> str:
        """``hq: hang up SIP/201-00a1 (…) → ok: Channel Hungup``."""
        message = f": {self.message}" if self.message else ""
        return f"{self.request.pbx}: {self.request.summary()} → {self.status.value}{message}"
