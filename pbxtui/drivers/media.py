"""Recordings and voicemail of one PBX: a query protocol beside the driver (like history's),
never on the poll loop and not an action, except deleting a voicemail message.

Each vendor's media reader (``*_media.py``) is found by the driver's kind (``media_for``), so
a driver module stays about its live API. A PBX whose API offers something not says so
plainly: ``recording_support``/``voicemail_support`` are "" and the calls raise NotSupported.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from pbxtui.drivers.base import BadAnswer, Driver, NotSupported
from pbxtui.model import ActionResult
from pbxtui.model.media import Downloaded, ProgressListener
from pbxtui.model.voicemail import Mailbox, VoicemailMessage

# kind → "module:Class" of its media reader (a kind not listed has no media at all).
MEDIA: dict[str, str] = {
    "pbxcloud": "pbxtui.drivers.pbxcloud_media:PbxCloudMedia",
    "iexpbx": "pbxtui.drivers.iexpbx_media:IexPbxMedia",
    "dialup": "pbxtui.drivers.dialup_media:DialupMedia",
}


class MediaReader(Protocol):
    def recording_support(self) -> str:
        """How recordings are fetched, in words ("" when this PBX's API offers none)."""
        ...

    async def download_recording(
        self, recording: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded: ...

    def voicemail_support(self) -> str:
        """How voicemail is read, in words ("" when this PBX's API offers none)."""
        ...

    async def mailboxes(self) -> list[Mailbox]: ...

    async def voicemail_messages(self, mailbox: str) -> list[VoicemailMessage]: ...

    async def download_voicemail(
        self, message: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded: ...

    async def delete_voicemail(self, message: str) -> ActionResult: ...


class NoMedia:
    """The reader of a PBX whose API has neither recordings nor voicemail (or one of them,
    as a base class: a reader overrides what its API offers)."""

    def __init__(self, driver: Driver) -> None:
        self.driver = driver
        self.name = driver.name

    def unsupported(self, what: str) -> NotSupported:
        driver = self.driver
        return NotSupported(
            driver.name, f"not supported by {driver.name}'s API ({driver.vendor}): {what}"
        )

    def recording_support(self) -> str:
        return ""

    async def download_recording(
        self, recording: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded:
        raise self.unsupported("call recordings")

    def voicemail_support(self) -> str:
        return ""

    async def mailboxes(self) -> list[Mailbox]:
        raise self.unsupported("voicemail")

    async def voicemail_messages(self, mailbox: str) -> list[VoicemailMessage]:
        raise self.unsupported("voicemail")

    async def download_voicemail(
        self, message: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded:
        raise self.unsupported("voicemail")

    async def delete_voicemail(self, message: str) -> ActionResult:
        raise self.unsupported("voicemail")


def media_for(driver: Driver) -> MediaReader:
    """A media reader for ``driver``'s PBX (the engine keeps one per PBX)."""
    target = MEDIA.get(driver.kind)
    if target is None:
        return NoMedia(driver)
    module_name, _, class_name = target.partition(":")
    reader: MediaReader = getattr(importlib.import_module(module_name), class_name)(driver)
    return reader


def reference(pbx: str, value: str, what: str) -> str:
    """A recording or message reference as given, stripped; an empty one is refused before
    anything is sent (the PBX would only answer "No id specified")."""
    value = value.strip()
    if not value:
        raise BadAnswer(pbx, f"no {what} id given: say which one to fetch")
    return value
