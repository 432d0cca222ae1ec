"""IEXPBX recordings: ``action=record&id=<CDR id or channel id>``, answered as binary .gsm audio
(vendor-notes §3). A refusal comes in the usual ``{success, message}`` JSON envelope. IEXPBX
has no voicemail in its API."""

from __future__ import annotations

from pathlib import Path

from pbxtui.config import IexPbxConfig
from pbxtui.drivers.base import AuthRefused, BadAnswer, Driver
from pbxtui.drivers.download import Asked, download
from pbxtui.drivers.iexpbx import looks_like_auth_refusal
from pbxtui.drivers.iexpbx_rows import parse_envelope
from pbxtui.drivers.media import NoMedia, reference
from pbxtui.drivers.reading import Unreadable
from pbxtui.model.media import Downloaded, ProgressListener


class IexPbxMedia(NoMedia):
    def __init__(self, driver: Driver) -> None:
        super().__init__(driver)
        if not isinstance(driver.config, IexPbxConfig):
            raise TypeError("IexPbxMedia needs an IEXPBX driver")
        self.config: IexPbxConfig = driver.config

    def recording_support(self) -> str:
        return "record (by the CDR id; .gsm audio)"

    def _explain(self, said: str) -> Exception | None:
        try:
            envelope = parse_envelope(said)
        except (Unreadable, ValueError):
            return None
        message = envelope.message or "success is false, with no reason given"
        if looks_like_auth_refusal(message):
            return AuthRefused(self.name, f"refused the credentials: {message}")
        return BadAnswer(self.name, f"refused record: {message}")

    async def download_recording(
        self, recording: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded:
        ident = reference(self.name, recording, "recording")
        params = {
            "username": self.config.username,
            "password": self.config.password.get_secret_value(),
            "action": "record",
            "id": ident,
        }
        asked = Asked(self.driver.http, params, f"the recording {ident}")
        return await download(asked, destination, on_progress, explain=self._explain)
