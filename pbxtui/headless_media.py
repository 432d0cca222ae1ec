"""``pbxtui recording`` and ``pbxtui voicemail``: media fetched through the engine to a file,
and voicemail listed (no Textual here). Deleting a message is an action: the CLI sends it
through ``headless.act`` like a hang-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pbxtui.config import Config
from pbxtui.engine import Engine
from pbxtui.engine.media import EngineMedia
from pbxtui.headless import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from pbxtui.masking import mask_text
from pbxtui.model.media import Downloaded, MediaError, ProgressListener
from pbxtui.model.voicemail import Mailbox, VoicemailMessage


@dataclass(frozen=True)
class Fetched:
    code: int
    text: str  # for the operator: stdout when code is 0, stderr otherwise
    downloaded: Downloaded | None = None


def _size(size: int) -> str:
    if size < 10 * 1024:
        return f"{size} bytes"
    if size < 10 * 1024 * 1024:
        return f"{size / 1024:.0f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def _usable(destination: Path) -> str:
    """Why ``destination`` cannot be written to, or ""."""
    if destination.is_dir():
        return f"{destination} is a folder: give a file name (-o FILE)"
    if not destination.parent.is_dir():
        return f"the folder of {destination} does not exist"
    return ""


async def fetch_recording(
    config: Config,
    pbx: str,
    recording: str,
    destination: Path,
    *,
    progress: ProgressListener | None = None,
    read_only: bool = False,
) -> Fetched:
    def refused(engine: Engine, media: EngineMedia) -> str:
        if media.recording_support(pbx):
            return ""
        kind = engine.driver(pbx).vendor
        return f"{pbx}: recordings are not supported by {pbx}'s API ({kind})"

    return await _fetch(
        config,
        pbx,
        destination,
        refused,
        lambda media: media.download_recording(pbx, recording, destination, progress),
        read_only=read_only,
    )


async def fetch_voicemail(
    config: Config,
    pbx: str,
    message: str,
    destination: Path,
    *,
    progress: ProgressListener | None = None,
    read_only: bool = False,
) -> Fetched:
    return await _fetch(
        config,
        pbx,
        destination,
        lambda engine, media: _no_voicemail(engine, media, pbx),
        lambda media: media.download_voicemail(pbx, message, destination, progress),
        read_only=read_only,
    )


async def _fetch(
    config: Config,
    pbx: str,
    destination: Path,
    refused: Callable[[Engine, EngineMedia], str],
    download: Callable[[EngineMedia], Awaitable[Downloaded]],
    *,
    read_only: bool,
) -> Fetched:
    """One file fetched through the engine: the destination checked first, the PBX's lack of
    the feature said plainly, a failure said without a traceback."""
    config.get(pbx)  # a clear ConfigError for an unknown name
    problem = _usable(destination)
    if problem:
        return Fetched(EXIT_USAGE, problem)
    async with Engine(config, read_only=read_only) as engine:
        media = EngineMedia(engine)
        refusal = refused(engine, media)
        if refusal:
            return Fetched(EXIT_FAILED, refusal)
        try:
            done = await download(media)
        except MediaError as exc:
            return Fetched(EXIT_FAILED, str(exc))
    return Fetched(EXIT_OK, _wrote(done), done)


def _wrote(done: Downloaded) -> str:
    kind = f", {done.content_type}" if done.content_type else ""
    return f"wrote {done.path} ({_size(done.size)}{kind})"


def _no_voicemail(engine: Engine, media: EngineMedia, pbx: str) -> str:
    if media.voicemail_support(pbx):
        return ""
    return f"{pbx}: voicemail is not supported by {pbx}'s API ({engine.driver(pbx).vendor})"


@dataclass(frozen=True)
class Listing:
    code: int
    text: str
    document: dict[str, Any] | None = None


async def list_voicemail(
    config: Config, pbx: str, mailbox: str = "", *, read_only: bool = False, mask: bool = False
) -> Listing:
    """The mailboxes of ``pbx``, or the messages of one ``mailbox``."""
    config.get(pbx)
    async with Engine(config, read_only=read_only) as engine:
        media = EngineMedia(engine)
        refused = _no_voicemail(engine, media, pbx)
        if refused:
            return Listing(EXIT_FAILED, refused)
        try:
            if mailbox:
                messages = await media.voicemail_messages(pbx, mailbox)
                return Listing(EXIT_OK, format_messages(messages, mask), _doc(messages, mask))
            boxes = await media.mailboxes(pbx)
        except MediaError as exc:
            return Listing(EXIT_FAILED, str(exc))
    return Listing(EXIT_OK, format_mailboxes(boxes), _doc(boxes, mask))


def _doc(rows: list[Mailbox] | list[VoicemailMessage], mask: bool) -> dict[str, Any]:
    items = [row.model_dump(mode="json") for row in rows]
    if mask:
        for item in items:
            if item.get("caller"):
                item["caller"] = mask_text(item["caller"])
    key = "messages" if rows and isinstance(rows[0], VoicemailMessage) else "mailboxes"
    return {key: items}


def format_mailboxes(boxes: list[Mailbox]) -> str:
    if not boxes:
        return "no voicemail boxes"
    lines = [f"{'MAILBOX':<10} {'NEW':>4} {'OLD':>4}  NAME"]
    for box in boxes:
        new = "" if box.new is None else str(box.new)
        old = "" if box.old is None else str(box.old)
        lines.append(f"{box.mailbox:<10} {new:>4} {old:>4}  {box.name}")
    return "\n".join(lines)


def format_messages(messages: list[VoicemailMessage], mask: bool = False) -> str:
    if not messages:
        return "no messages"
    lines = [f"{'ID':<10} {'RECEIVED':<20} {'LENGTH':>6}  {'FOLDER':<8} FROM"]
    for m in messages:
        when = m.received.astimezone().strftime("%Y-%m-%d %H:%M:%S") if m.received else ""
        length = "" if m.duration is None else f"{m.duration}s"
        caller = mask_text(m.caller) if mask else m.caller
        who = f"{caller} ({m.caller_name})" if m.caller_name else caller
        lines.append(f"{m.id:<10} {when:<20} {length:>6}  {m.folder:<8} {who}")
    return "\n".join(lines)
