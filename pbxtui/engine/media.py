"""Recordings and voicemail of the engine's PBXs (the model's ``MediaSource`` and
``VoicemailSource``): queries, run when asked in the asker's task, their requests under the
PBX's request budget at a poll's priority, never on the live poll loop. Every failure is a
``MediaError`` whose text names the PBX and is safe to show (the driver's reason, scrubbed).

Deleting a voicemail message is not here: it is an action (``DeleteVoicemail``), through the
engine's policy, confirmation and audit like a hang-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from pbxtui.config import ConfigError
from pbxtui.drivers.base import DriverError
from pbxtui.drivers.http import asking
from pbxtui.drivers.media import MediaReader, media_for
from pbxtui.engine.engine import Engine
from pbxtui.engine.poller import log_bug
from pbxtui.model.media import Downloaded, MediaError, ProgressListener
from pbxtui.model.voicemail import Mailbox, VoicemailMessage
from pbxtui.redact import scrub

T = TypeVar("T")


class EngineMedia:
    """Recordings and voicemail of an open engine's PBXs."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._readers: dict[str, MediaReader] = {}

    def reader(self, pbx: str) -> MediaReader:
        """The PBX's media reader (one per PBX: the CloudPlus panel's session is kept)."""
        if pbx not in self._readers:
            try:
                driver = self.engine.driver(pbx)
            except ConfigError as exc:
                raise MediaError(str(exc)) from None
            self._readers[pbx] = media_for(driver)
        return self._readers[pbx]

    def recording_support(self, pbx: str) -> str:
        return self.reader(pbx).recording_support()

    def voicemail_support(self, pbx: str) -> str:
        return self.reader(pbx).voicemail_support()

    async def download_recording(
        self,
        pbx: str,
        recording: str,
        destination: Path,
        on_progress: ProgressListener | None = None,
    ) -> Downloaded:
        reader = self.reader(pbx)
        return await self._query(
            pbx,
            "recording",
            lambda: reader.download_recording(recording, destination, on_progress),
        )

    async def mailboxes(self, pbx: str) -> list[Mailbox]:
        reader = self.reader(pbx)
        return await self._query(pbx, "voicemail", reader.mailboxes)

    async def voicemail_messages(self, pbx: str, mailbox: str) -> list[VoicemailMessage]:
        reader = self.reader(pbx)
        return await self._query(pbx, "voicemail", lambda: reader.voicemail_messages(mailbox))

    async def download_voicemail(
        self,
        pbx: str,
        message: str,
        destination: Path,
        on_progress: ProgressListener | None = None,
    ) -> Downloaded:
        reader = self.reader(pbx)
        return await self._query(
            pbx, "voicemail", lambda: reader.download_voicemail(message, destination, on_progress)
        )

    @staticmethod
    async def _query(pbx: str, what: str, run: Callable[[], Awaitable[T]]) -> T:
        try:
            with asking(what):
                return await run()
        except DriverError as exc:
            raise MediaError(str(exc)) from None
        except OSError as exc:  # the destination: a full disk, a folder not writable
            raise MediaError(f"{pbx}: cannot write the file: {exc.strerror or exc}") from None
        except Exception as exc:  # a defect: on record in full; the operator gets a reason
            log_bug(f"{pbx}: fetching {what} failed", exc)
            raise MediaError(
                scrub(f"{pbx}: internal error: {type(exc).__name__}: {exc}")[:300]
            ) from None
