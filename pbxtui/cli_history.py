"""Call history and media as headless commands: ``history``, ``recording`` and ``voicemail``
(the History screen and the downloads' port are the console's side of the same engine).

``register`` is given the CLI module itself (its helpers and options), as ``cli_extras``'s
is, so that neither imports the other at import time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pbxtui import headless
from pbxtui.config import ConfigError
from pbxtui.model import Action
from pbxtui.model.history import MAX_LIMIT, EndStatus

if TYPE_CHECKING:
    from pbxtui.cli import Options

Decorator = Callable[[Any], Any]


def _when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    from pbxtui.headless_history import parse_when

    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _history_progress() -> Callable[[Any, int], None]:
    def show(page: Any, count: int) -> None:
        done = round(page.progress * 100)
        click.echo(
            f"\r\x1b[Kreading {page.pbx}'s history: {done:3d}%, {count} calls", nl=False, err=True
        )

    return show


def _validation_reason(exc: ValueError) -> str:
    """A pydantic error as one line: what is wrong with the query."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in errors())
    return str(exc)


class _DownloadBar:
    """A progress bar on standard error for a download (click's, once the size is known; a
    running count of bytes when the PBX did not say)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0
        self.counted = False

    def __call__(self, progress: Any) -> None:
        if progress.total:
            if self.bar is None:
                self.bar = click.progressbar(
                    length=progress.total, label=self.label, file=sys.stderr, show_pos=False
                )
                self.bar.__enter__()
            self.bar.update(progress.received - self.shown)
            self.shown = progress.received
        elif progress.received:
            self.counted = True
            kib = progress.received // 1024
            click.echo(f"\r\x1b[K{self.label}: {kib} KiB", nl=False, err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
        elif self.counted:
            click.echo("\r\x1b[K", nl=False, err=True)


output_option = click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False, writable=False),
    help="The file to write (replaced whole once the download is complete).",
)


def register(cli: Any) -> None:
    """Add the history and media commands to ``cli.main``, built with ``cli``'s helpers."""
    pbx_argument: Decorator = cli.pbx_argument
    yes_option: Decorator = cli.yes_option
    confirm_pbx_option: Decorator = cli.confirm_pbx_option
    global_options: Decorator = cli.global_options
    pass_options: Decorator = cli.pass_options
    _load, _fail, _run = cli._load, cli._fail, cli._run
    _setup_logging, _perform = cli._setup_logging, cli._perform

    @click.command()
    @pbx_argument
    @click.option(
        "--since",
        default="24h",
        show_default=True,
        callback=_when,
        help="From when: 2h, 1d, today, 2026-11-23 14:00 (local) or ISO with an offset.",
    )
    @click.option("--until", default=None, callback=_when, help="Until when (default: now).")
    @click.option("--number", default="", help="Only calls with this number (any party).")
    @click.option(
        "--status",
        "statuses",
        multiple=True,
        type=click.Choice([s.value for s in EndStatus if s is not EndStatus.UNKNOWN]),
        help="Only calls that ended so (repeatable).",
    )
    @click.option("--min-duration", type=click.IntRange(0, None), help="Only calls this long (s).")
    @click.option("--limit", type=click.IntRange(1, MAX_LIMIT), help="At most N calls, the newest.")
    @click.option("--json", "as_json", is_flag=True, help="Print the normalized records as JSON.")
    @click.option("--csv", "as_csv", is_flag=True, help="Print the records as CSV (with a header).")
    @global_options
    @pass_options
    def history(
        options: Options,
        pbx: str,
        since: datetime,
        until: datetime | None,
        number: str,
        statuses: tuple[str, ...],
        min_duration: int | None,
        limit: int | None,
        as_json: bool,
        as_csv: bool,
    ) -> None:
        """PBX's call history, newest first: who called whom, how it ended, how long, recorded.

        Read from the PBX's CDR API (exit 1 if it has none, or it failed: what was read is still
        printed, and the reason goes to standard error).
        """
        from pbxtui import headless_history as hh
        from pbxtui.model.history import HistoryQuery

        if as_json and as_csv:
            _fail("choose one of --json and --csv")
        _setup_logging(to_file=False)
        config = _load(options)
        try:
            config.get(pbx)
            query = HistoryQuery(
                since=since,
                until=until,
                number=number,
                statuses=frozenset(EndStatus(s) for s in statuses),
                min_duration=min_duration,
                limit=limit,
            )
        except ConfigError as exc:
            _fail(str(exc))
            return
        except ValueError as exc:
            _fail(_validation_reason(exc))
            return
        progress = _history_progress() if sys.stderr.isatty() else None
        result = _run(lambda: hh.read_history(config, pbx, query, progress=progress))
        if progress is not None:
            click.echo("\r\x1b[K", nl=False, err=True)
        mask = options.mask(config)
        if as_json:
            click.echo(headless.pretty_json(hh.history_document(result, mask=mask)))
        elif as_csv:
            click.echo(hh.history_csv(result, mask=mask), nl=False)
        else:
            click.echo(hh.format_history(result, mask=mask))
        for note in result.notes:
            click.echo(f"pbxtui: note: {note}", err=True)
        if result.error:
            click.echo(f"pbxtui: {headless.one_line(result.error)}", err=True)
            sys.exit(headless.EXIT_FAILED)

    def _fetch(fetch: Callable[[Any], Coroutine[Any, Any, Any]], label: str) -> None:
        """Run a download with a progress bar when standard error is a terminal (nothing
        otherwise), say what it wrote or why not, and exit with its code."""
        bar = _DownloadBar(label) if sys.stderr.isatty() else None
        try:
            result = _run(lambda: fetch(bar))
        except ConfigError as exc:
            _fail(str(exc))
            return
        finally:
            if bar is not None:
                bar.close()
        click.echo(
            result.text if result.code == headless.EXIT_OK else f"pbxtui: {result.text}",
            err=result.code != headless.EXIT_OK,
        )
        sys.exit(result.code)

    @click.command()
    @pbx_argument
    @click.argument("recording")
    @output_option
    @global_options
    @pass_options
    def recording(options: Options, pbx: str, recording: str, output: Path | None) -> None:
        """Download RECORDING of PBX to a file: the recording reference `history` shows.

        Streamed to disk (written whole, or not at all), with a progress bar at a terminal.
        """
        from pbxtui import headless_media as hm

        if output is None:
            _fail("say where to write it: -o FILE")
            return
        _setup_logging(to_file=False)
        config = _load(options)
        target = output

        async def fetch(bar: Any) -> Any:
            return await hm.fetch_recording(
                config, pbx, recording, target, progress=bar, read_only=options.read_only
            )

        _fetch(fetch, f"recording {recording}")

    @click.command()
    @pbx_argument
    @click.option("--mailbox", default="", help="List this mailbox's messages.")
    @click.option("--get", "get_message", default="", metavar="MSG", help="Download message MSG.")
    @output_option
    @click.option(
        "--delete", "delete_message", default="", metavar="MSG", help="Delete message MSG."
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the listing as JSON.")
    @yes_option
    @confirm_pbx_option
    @global_options
    @pass_options
    def voicemail(
        options: Options,
        pbx: str,
        mailbox: str,
        get_message: str,
        output: Path | None,
        delete_message: str,
        as_json: bool,
        yes: bool,
        confirm_pbx: str,
    ) -> None:
        """PBX's voicemail: the mailboxes, a mailbox's messages (--mailbox), a message to a
        file (--get MSG -o FILE), or a message deleted for good (--delete MSG, confirmed)."""
        from pbxtui import headless_media as hm
        from pbxtui.model import DeleteVoicemail

        if get_message and delete_message:
            _fail("choose one of --get and --delete")
        if get_message and output is None:
            _fail("say where to write the message: --get MSG -o FILE")
        if output is not None and not get_message:
            _fail("-o applies only to --get MSG")
        if delete_message:
            request = DeleteVoicemail(pbx=pbx, message=delete_message, mailbox=mailbox)
            _perform(
                options,
                pbx,
                Action.VOICEMAIL_DELETE,
                headless.fixed_request(request),
                yes=yes,
                confirm_pbx=confirm_pbx,
                target=delete_message,
            )
            return
        _setup_logging(to_file=False)
        config = _load(options)
        if get_message:
            assert output is not None
            target = output

            async def fetch(bar: Any) -> Any:
                return await hm.fetch_voicemail(
                    config, pbx, get_message, target, progress=bar, read_only=options.read_only
                )

            _fetch(fetch, f"voicemail message {get_message}")
            return
        mask = options.mask(config)
        try:
            listing = _run(
                lambda: hm.list_voicemail(
                    config, pbx, mailbox, read_only=options.read_only, mask=mask
                )
            )
        except ConfigError as exc:
            _fail(str(exc))
            return
        if listing.code != headless.EXIT_OK:
            _fail(listing.text, listing.code)
        if as_json and listing.document is not None:
            click.echo(headless.pretty_json(listing.document))
        else:
            click.echo(listing.text)

    cli.main.add_command(history)
    cli.main.add_command(recording)
    cli.main.add_command(voicemail)
