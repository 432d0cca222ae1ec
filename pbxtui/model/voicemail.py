"""Voicemail as the CLI (and later the console) reads it: mailboxes, their messages, a message
downloaded like a recording. Listing and fetching are queries; deleting a message is an action
(``DeleteVoicemail``, through the engine's policy and the audit log)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from pbxtui.model.media import Downloaded, ProgressListener


class Mailbox(BaseModel):
    """One voicemail box and how many messages it holds (None: the PBX did not say)."""

    model_config = ConfigDict(frozen=True)

    pbx: str
    mailbox: str
    name: str = ""
    new: int | None = Field(None, ge=0)
    old: int | None = Field(None, ge=0)


class VoicemailMessage(BaseModel):
    """One message left in a mailbox."""

    model_config = ConfigDict(frozen=True)

    pbx: str
    id: str = Field(description="What fetches or deletes it (the voicemail_messages id)")
    mailbox: str
    caller: str = ""
    caller_name: str = ""
    received: datetime | None = None
    duration: int | None = Field(None, ge=0, description="Seconds")
    folder: str = Field("", description="INBOX (new), Old…, as the PBX says")


class VoicemailSource(Protocol):
    """What a voicemail view needs: the engine (``pbxtui.engine.media``) or a collector."""

    def voicemail_support(self, pbx: str) -> str:
        """How ``pbx``'s voicemail is read, in words; "" when its API offers none."""
        ...

    async def mailboxes(self, pbx: str) -> list[Mailbox]: ...

    async def voicemail_messages(self, pbx: str, mailbox: str) -> list[VoicemailMessage]: ...

    async def download_voicemail(
        self,
        pbx: str,
        message: str,
        destination: Path,
        on_progress: ProgressListener | None = None,
    ) -> Downloaded:
        """Fetch message ``message`` to ``destination`` as ``download_recording`` does."""
        ...
