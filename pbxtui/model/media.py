"""Recordings and voicemail as the console and the CLI ask for them: a download written to a
file with its progress told, never held whole in memory. The engine implements
``MediaSource``; the UI knows only this protocol."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field


class DownloadProgress(BaseModel):
    """How far a download has come; ``total`` is None when the PBX did not say."""

    model_config = ConfigDict(frozen=True)

    received: int = Field(ge=0)
    total: int | None = Field(default=None, ge=0)


class Downloaded(BaseModel):
    """A finished download: where it is, how big, what the PBX said it was."""

    model_config = ConfigDict(frozen=True)

    path: Path
    size: int = Field(ge=0)
    content_type: str = ""


ProgressListener = Callable[[DownloadProgress], None]


class MediaError(Exception):
    """Why a download or a voicemail request failed, in words an operator reads (no secret)."""


class MediaSource(Protocol):
    """What the History view and the headless commands need to fetch media."""

    def recording_support(self, pbx: str) -> str:
        """How ``pbx``'s recordings are fetched, in words; "" when it offers none."""
        ...

    async def download_recording(
        self,
        pbx: str,
        recording: str,
        destination: Path,
        on_progress: ProgressListener | None = None,
    ) -> Downloaded:
        """Fetch ``recording`` (a ``CdrRecord.recording``) of ``pbx`` to ``destination``,
        atomically (a temporary file beside it, then a rename). Raises ``MediaError``."""
        ...
