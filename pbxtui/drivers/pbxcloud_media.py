"""PBX Cloud (MiRTA ``proxyapi.php``) recordings and voicemail.

Recordings: ``reqtype=INFO&info=recording&id=<unique id or originate id>`` (pbx-cloud-api.txt;
vendor-notes §7), answered as an ``audio/*`` body; without an id the PBX answers ``No id
specified``, and an id it has no recording for gets 0 bytes.

Voicemail: ``reqtype=VOICEMAIL`` with ``action`` ``list`` (the mailboxes), ``messages``
(``mailbox``), ``message`` (``msgid``: the file) and ``delete`` (``msgid``), as the syntax
index lists them. The answers were never published: rows are read under the names of
Asterisk's ODBC voicemail tables (``voicemail_users``: ``mailbox``, ``fullname``;
``voicemail_messages``: ``id``, ``mailboxuser``, ``callerid``, ``origtime``, ``duration``,
``dir``), with PHP's positional duplicates ignored, as every MiRTA DB listing has them
(INFERENCE); a delete is acknowledged like the other actions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pbxtui.config import PbxCloudConfig
from pbxtui.drivers.base import AuthRefused, BadAnswer, Driver
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.download import Asked, download
from pbxtui.drivers.http import asking
from pbxtui.drivers.media import NoMedia, reference
from pbxtui.drivers.pbxcloud import AUTH_TEXTS, PbxCloudDriver
from pbxtui.drivers.reading import Fields, Layouts, Unreadable, int_of, rows_of
from pbxtui.model import ActionResult
from pbxtui.model.media import Downloaded, ProgressListener
from pbxtui.model.voicemail import Mailbox, VoicemailMessage

NO_ID = "no id specified"
NO_ROWS = frozenset({"", "]", "[]", "null", "{}"})
CALLER_RE = re.compile(r'^\s*"?([^"<]*?)"?\s*<([^>]*)>\s*$')  # "Name" <number>

MAILBOX_FIELDS = Fields(
    {
        "mailbox": ("mailbox", "vm_mailbox", "box"),
        "name": ("fullname", "vm_fullname", "name"),
        "new": ("newmessages", "new", "inbox", "unread"),
        "old": ("oldmessages", "old", "read"),
    }
)
MESSAGE_FIELDS = Fields(
    {
        "id": ("id", "msgid", "msg_id", "vm_id"),
        "mailbox": ("mailboxuser", "mailbox", "vm_mailbox"),
        "callerid": ("callerid", "caller", "cid"),
        "time": ("origtime", "time", "date"),
        "duration": ("duration", "length"),
        "folder": ("dir", "folder"),
    }
)


class PbxCloudMedia(NoMedia):
    def __init__(self, driver: Driver) -> None:
        super().__init__(driver)
        if not isinstance(driver, PbxCloudDriver) or not isinstance(driver.config, PbxCloudConfig):
            raise TypeError("PbxCloudMedia needs a PBX Cloud driver")
        self.cloud = driver
        self.config: PbxCloudConfig = driver.config

    def _params(self, reqtype: str, **params: str) -> dict[str, str]:
        return {
            "reqtype": reqtype,
            "tenant": self.config.tenant,
            **params,
            "key": self.config.key.get_secret_value(),
        }

    def _explain(self, said: str) -> Exception | None:
        lowered = said.lower()
        if any(words in lowered for words in AUTH_TEXTS):
            return AuthRefused(self.name, f'refused the API key or tenant: "{said[:80]}"')
        if lowered.startswith(NO_ID):
            return BadAnswer(self.name, 'answered "No id specified": give the call\'s unique id')
        return None

    # -- recordings ---------------------------------------------------------------------------
    def recording_support(self) -> str:
        return "INFO recording (by the call's unique id or originate id)"

    async def download_recording(
        self, recording: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded:
        ident = reference(self.name, recording, "recording")
        asked = Asked(
            self.cloud.http,
            self._params("INFO", info="recording", id=ident),
            f"the recording {ident}",
        )
        return await download(asked, destination, on_progress, explain=self._explain)

    # -- voicemail ----------------------------------------------------------------------------
    def voicemail_support(self) -> str:
        return "VOICEMAIL (list, messages, message, delete)"

    async def _listing(self, what: str, **params: str) -> list[Mapping[str, Any]]:
        response = await self.cloud._send("VOICEMAIL", **params)
        body = self.cloud._screen(response, what)
        if body in NO_ROWS:
            return []
        explained = self._explain(body) if len(body) < 200 else None
        if explained is not None:
            raise explained
        data = self.cloud._json(body, what, NO_ROWS)
        try:
            return rows_of(data, "mailbox", what, "row")
        except Unreadable as exc:
            raise BadAnswer(self.name, f"answered {what} unreadably: {exc}") from None

    async def mailboxes(self) -> list[Mailbox]:
        rows = await self._listing("the voicemail boxes", action="list")
        layouts = Layouts(MAILBOX_FIELDS)
        boxes = []
        for position, row in enumerate(rows):
            layout = layouts.of(row)
            where = f"mailbox {position + 1}"
            try:
                number = layout.text(row, "mailbox", where)
                if not number:
                    continue
                boxes.append(
                    Mailbox(
                        pbx=self.name,
                        mailbox=number,
                        name=layout.text(row, "name", where),
                        new=_count(layout.text(row, "new", where)),
                        old=_count(layout.text(row, "old", where)),
                    )
                )
            except Unreadable as exc:
                raise BadAnswer(
                    self.name, f"answered the voicemail boxes unreadably: {exc}"
                ) from None
        return boxes

    async def voicemail_messages(self, mailbox: str) -> list[VoicemailMessage]:
        box = reference(self.name, mailbox, "mailbox")
        rows = await self._listing(f"the messages of mailbox {box}", action="messages", mailbox=box)
        layouts = Layouts(MESSAGE_FIELDS)
        messages = []
        for position, row in enumerate(rows):
            layout = layouts.of(row)
            where = f"message {position + 1}"
            try:
                ident = layout.text(row, "id", where)
                if not ident:
                    continue
                name, number = _caller(layout.text(row, "callerid", where))
                messages.append(
                    VoicemailMessage(
                        pbx=self.name,
                        id=ident,
                        mailbox=layout.text(row, "mailbox", where) or box,
                        caller=number,
                        caller_name=name,
                        received=_epoch(layout.text(row, "time", where)),
                        duration=_count(layout.text(row, "duration", where)),
                        folder=_folder(layout.text(row, "folder", where)),
                    )
                )
            except Unreadable as exc:
                raise BadAnswer(self.name, f"answered the messages unreadably: {exc}") from None
        return messages

    async def download_voicemail(
        self, message: str, destination: Path, on_progress: ProgressListener | None
    ) -> Downloaded:
        ident = reference(self.name, message, "voicemail message")
        asked = Asked(
            self.cloud.http,
            self._params("VOICEMAIL", action="message", msgid=ident),
            f"voicemail message {ident}",
        )
        return await download(asked, destination, on_progress, explain=self._explain)

    async def delete_voicemail(self, message: str) -> ActionResult:
        ident = reference(self.name, message, "voicemail message")
        with asking("action", Priority.ACTION):
            response = await self.cloud._send("VOICEMAIL", action="delete", msgid=ident)
        return self.cloud._ack(response)


def _count(text: str) -> int | None:
    value = int_of(text)
    return value if value is not None and value >= 0 else None


def _caller(text: str) -> tuple[str, str]:
    """``"Jane Roe" <0501234567>`` → (name, number); a bare number is just the number."""
    match = CALLER_RE.match(text)
    if match is None:
        return "", text
    return match.group(1).strip(), match.group(2).strip()


def _epoch(text: str) -> datetime | None:
    value = int_of(text)
    if value is None or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _folder(text: str) -> str:
    """``/var/spool/asterisk/voicemail/default/201/INBOX`` → ``INBOX``."""
    return text.rstrip("/").rsplit("/", 1)[-1]
