"""Recordings of the dialup.php family: GlobalEx's recording link, or the CloudPlus panel.

GlobalEx (globalex-switchboard.txt, "Encode link for recording"): the end-call webhook's (and
cdr.php's) ``record`` is a file name; a link built from it "allows direct access to playing
and downloading the file", by a code "provided when license activation". That code is the
config's ``recording_link``: a URL (or a path on the dialup.php host) with ``{record}`` (the
name, URL-quoted) or ``{record_b64}`` (the name in URL-safe base64) in it (INFERENCE: the
encoding is not published). The link carries no credential.

CloudPlus: the panel's ``/admin/?menu=monitoring&action=download`` with a session logged into
as the panel user (``cloudplus_panel``); ``id`` is the call's unique id (what the panel's
reports give), ``file`` a recording's file name (what cdr.php and the webhooks give). A
session that expired answers the login form: logged into again, once.

The family has no voicemail API.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

from pbxtui.config import DialupConfig
from pbxtui.drivers.base import AuthRefused, BadAnswer, Driver
from pbxtui.drivers.cloudplus_panel import PanelSession
from pbxtui.drivers.download import Asked, download
from pbxtui.drivers.http import VendorHttp
from pbxtui.drivers.media import NoMedia, reference
from pbxtui.model.media import Downloaded, ProgressListener

DOWNLOAD_PATH = "admin/"
FILE_NAME_RE = re.compile(r"\.(wav|gsm|mp3|ogg|wav49|sln)$", re.IGNORECASE)
NOT_FOUND = ("file not found", "not found", "no such file")


def link_for(template: str, base_url: str, record: str) -> str:
    """The recording link of ``record`` from the config's template (see the docstring)."""
    encoded = base64.urlsafe_b64encode(record.encode()).decode()
    filled = template.replace("{record_b64}", quote(encoded, safe="")).replace(
        "{record}", quote(record, safe="")
    )
    return urljoin(base_url, filled)


class DialupMedia(NoMedia):
    def __init__(self, driver: Driver) -> None:
        super().__init__(driver)
        config = driver.config
        if not isinstance(config, DialupConfig):
            raise TypeError("DialupMedia needs a dialup driver")
        self.config: DialupConfig = config
        self.panel: PanelSession | None = None
        if config.panel_user is not None and config.panel_pass is not None:
            self.panel = PanelSession(
                pbx=config.name,
                base_url=config.panel_endpoint,
                user=config.panel_user,
                password=config.panel_pass,
                client=driver.http.client,
                timeout=config.timeout,
                budget=driver.budget,
            )
            self.panel_http = VendorHttp(
                pbx=config.name,
                url=config.panel_endpoint + DOWNLOAD_PATH,
                client=driver.http.client,
                timeout=config.timeout,
                budget=driver.budget,
            )

    def recording_support(self) -> str:
        ways = []
        if self.config.recording_link:
            ways.append("the recording link (by the call's record file name)")
        if self.panel is not None:
            ways.append("the panel's monitoring download (by unique id or file name)")
        return "; ".join(ways)

    def _explain(self, said: str) -> Exception | None:
        lowered = said.lower()
        if any(lowered.startswith(words) for words in NOT_FOUND):
            return BadAnswer(self.name, f'answered "{said[:60]}": the PBX has no such recording')
        if lowered.startswith(("you need to login", "restricted access")):
            return AuthRefused(self.name, f'refused the recording: "{said[:60]}"')
        return None

    async def download_recording(
        self, recording: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded:
        ident = reference(self.name, recording, "recording")
        link = self.config.recording_link
        by_file = FILE_NAME_RE.search(ident) is not None
        if link and (by_file or self.panel is None):
            return await self._by_link(link, ident, destination, on_progress)
        if self.panel is not None:
            return await self._by_panel(ident, by_file, destination, on_progress)
        raise self.unsupported(
            "call recordings (set recording_link, GlobalEx's link for recordings, or the "
            "panel's login: panel_user and panel_pass)"
        )

    async def _by_link(
        self, template: str, record: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded:
        url = link_for(template, self.config.url, record)
        parts = urlsplit(url)
        http = VendorHttp(
            pbx=self.name,
            url=f"{parts.scheme}://{parts.netloc}{parts.path}",
            client=self.driver.http.client,
            timeout=self.config.timeout,
            budget=self.driver.budget,
        )
        params = dict(_query(parts.query))
        asked = Asked(http, params, f"the recording {record}")
        return await download(asked, destination, on_progress, explain=self._explain)

    async def _by_panel(
        self, ident: str, by_file: bool, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded:
        panel = self.panel
        assert panel is not None
        params = {"menu": "monitoring", "action": "download", ("file" if by_file else "id"): ident}
        asked = Asked(self.panel_http, params, f"the recording {ident}")
        if panel.logins == 0:
            await panel.login(after=0)
        try:
            return await download(asked, destination, on_progress, explain=self._explain)
        except AuthRefused:
            # The session expired (a login form, or a redirect to it): log in again, once.
            await panel.login(after=panel.logins)
            return await download(asked, destination, on_progress, explain=self._explain)


def _query(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)
