"""The History screen: what just happened, on every PBX shown or one, read on demand.

The history is read in a worker, every PBX at once (``history_load``), and its pages are
shown as they come, with each PBX's progress (``reading hq… 1,200 rows, day 3 of 7``) and,
for a PBX whose history fails, the reason while the others list. Rows are built once per
record and shown by the live table, which paints only the lines on screen, so 100,000 calls
scroll as 100 do. ``/`` filters (every key after it goes to the prompt, however fast, as on
the console), ``s``/``S`` sort, ``Enter`` shows every field, ``e`` exports the rows shown to
CSV, ``R`` downloads the selected call's recording through the media port, ``Esc``/``q``
go back to the console.

The screen knows only the model's ports: ``HistorySource`` and ``MediaSource``.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label, ProgressBar

from pbxtui.model.history import CdrRecord, HistoryPage, HistoryQuery, HistorySource
from pbxtui.model.media import DownloadProgress, MediaError, MediaSource
from pbxtui.ui.format import mask_text
from pbxtui.ui.history_details import history_details
from pbxtui.ui.history_export import ExportError, check_destination, write_csv
from pbxtui.ui.history_link import FinishedCall
from pbxtui.ui.history_load import PbxProgress, read_all
from pbxtui.ui.history_rows import COLUMNS, SORT, HistoryRows
from pbxtui.ui.modals.details import DetailModal
from pbxtui.ui.modals.help import show_help
from pbxtui.ui.modals.save_as import SaveAsModal
from pbxtui.ui.palette import Palette
from pbxtui.ui.widgets.key_bar import KeyBar
from pbxtui.ui.widgets.live_table import LiveTable
from pbxtui.ui.widgets.text import TextLines

FILTER_DELAY = 0.1
SLICE_SECONDS = 0.03
"""How long arriving rows may hold the event loop at a time."""
SLICE_ROWS = 500
"""The filter is applied this long after the last key typed in it (typing stays instant)."""
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class HistoryRequest:
    """What the History screen reads: these PBXs, this query; ``focus``: the finished call
    whose row the cursor goes to once it is read."""

    pbxs: tuple[str, ...]
    query: HistoryQuery
    focus: FinishedCall | None = None

    def again(self, now: datetime) -> HistoryRequest:
        """The same request read again: up to ``now``, the range as long as it was."""
        since, until = self.query.bounds(now)
        moved = self.query.model_copy(update={"since": now - (until - since), "until": now})
        return HistoryRequest(self.pbxs, moved, self.focus)


@dataclass
class PagesArrived(Message):
    """Pages are waiting in the screen's inbox (one message however many)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, PagesArrived)


@dataclass
class _Inbox:
    pages: deque[tuple[str, HistoryPage | None]] = field(default_factory=deque)
    taken: int = 0
    """Records of the first page already shown."""
    posted: bool = False


def kib(size: int) -> str:
    return f"{size / 1024:,.1f} KiB" if size < 1024 * 1024 else f"{size / 1048576:,.1f} MiB"


class HistoryScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q", "back", "Back", show=False),
        Binding("enter", "details", "Details"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("e", "export", "Export CSV"),
        Binding("R", "recording", "Recording"),
        Binding("r", "reload", "Reload", show=False),
        Binding("question_mark", "help", "Help"),
    ]

    KEY_HELP: ClassVar[dict[str, str]] = {
        "back": "back to the console (Esc first clears the filter)",
        "details": "every field of the selected call, the vendor's own status word",
        "filter": "filter the calls by text in any column (Esc clears)",
        "cycle_sort": "sort by the next column (or click a header)",
        "reverse_sort": "reverse the sort order",
        "export": "export the calls shown (filtered, sorted) to a CSV file",
        "recording": "download the selected call's recording, with a progress bar",
        "reload": "read the history again",
        "help": "this help",
    }

    def __init__(
        self,
        request: HistoryRequest,
        source: HistorySource,
        media: MediaSource | None,
        *,
        zone: tzinfo | None,
        clock: Callable[[], datetime],
        mask: bool = False,
        kinds: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.request = request
        self.source = source
        self.media = media
        self.zone = zone
        self.clock = clock
        self.now = clock()
        self.mask = mask
        self.kinds = kinds or {}
        self.rows = HistoryRows(zone, Palette(), mask=mask)
        self.progress: dict[str, PbxProgress] = {}
        self.needle = ""
        self._typed = ""
        self._filter_timer: Timer | None = None
        self._prompt_open = False
        self._inbox = _Inbox()
        self._focused = False
        self.downloading = False
        self.table = LiveTable(COLUMNS, sort_column=SORT, reverse=True, id="table-history")

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TextLines(id="history-title")
        yield TextLines(id="history-progress")
        yield self.table
        yield TextLines(id="history-status")
        with Horizontal(id="download-bar"):
            yield Label("", id="download-label")
            yield ProgressBar(id="download", show_eta=False)
        with Horizontal(id="history-prompt-bar"):
            yield Label("/", id="history-prompt-label")
            yield Input(id="history-prompt", compact=True, placeholder="filter: text in any column")
        yield KeyBar(id="keys")

    def on_mount(self) -> None:
        self.query_one("#history-prompt-bar").display = False
        self.query_one("#download-bar").display = False
        self.query_one("#history-prompt", Input).cursor_blink = not self.app.is_headless
        self.rows.restyle(Palette.from_variables(self.app.get_css_variables()))
        self.table.now = self.now
        self.table.prefer("pbx", max((len(p) for p in self.request.pbxs), default=3))
        self._show_title()
        self.load()
        self.table.focus()

    # -- keys ------------------------------------------------------------------------------
    def take_key(self, event: events.Key) -> bool:
        """As on the console: from the `/` on, every key goes to the prompt, however fast."""
        if self.app.screen is not self:
            return False
        prompt = self.query_one("#history-prompt", Input)
        if self._prompt_open:
            if self.focused is not prompt:
                self.set_focus(prompt)
            return False
        if event.key == "slash":
            self.open_prompt()
            return True
        return False

    # -- reading ---------------------------------------------------------------------------
    def load(self) -> None:
        """(Re)read the history: the rows so far go, every PBX starts again."""
        self.workers.cancel_group(self, "history")
        self._inbox = _Inbox()
        self.rows.built.clear()
        self.table.clear()
        self._focused = False
        self.progress = {pbx: PbxProgress(pbx) for pbx in self.request.pbxs}
        self._show_progress()
        self._show_status()
        self.run_worker(self._read(), group="history", exit_on_error=False)

    async def _read(self) -> None:
        inbox = self._inbox
        await read_all(
            self.source,
            self.request.pbxs,
            self.request.query,
            lambda pbx, page: self._arrived(inbox, pbx, page),
        )

    def _arrived(self, inbox: _Inbox, pbx: str, page: HistoryPage | None) -> None:
        if inbox is not self._inbox:
            return  # a read that was replaced
        inbox.pages.append((pbx, page))
        if not inbox.posted:
            inbox.posted = True
            self.post_message(PagesArrived())

    def on_pages_arrived(self, message: PagesArrived) -> None:
        """Show what arrived, ``SLICE_SECONDS`` of work at a time: the rest is taken after
        the keys and repaints queued meanwhile, so a burst of 100,000 calls never freezes
        the screen."""
        inbox = self._inbox
        deadline = time.perf_counter() + SLICE_SECONDS
        added: list[str] = []
        while inbox.pages and time.perf_counter() < deadline:
            pbx, page = inbox.pages[0]
            progress = self.progress.setdefault(pbx, PbxProgress(pbx))
            if page is None:
                progress.done = True
                inbox.pages.popleft()
                continue
            chunk = page.records[inbox.taken : inbox.taken + SLICE_ROWS]
            new = self.rows.add(chunk)
            self.table.update(HistoryRows.matching(new, self.needle))
            added += new
            inbox.taken += len(chunk)
            if inbox.taken >= len(page.records):
                progress.took(page)
                inbox.pages.popleft()
                inbox.taken = 0
        if inbox.pages:
            # Still posted: the rest comes next turn. Posted from the loop, not from here: a
            # message posted now would be taken at once, with no other task let in between.
            asyncio.get_running_loop().call_soon(self.post_message, PagesArrived())
        else:
            inbox.posted = False
        self._focus_call(added)
        self._show_progress()
        self._show_status()

    @property
    def reading(self) -> bool:
        return any(not p.done for p in self.progress.values())

    def _focus_call(self, new: Iterable[str]) -> None:
        wanted = self.request.focus
        if wanted is None or self._focused:
            return
        for key in new:
            record = self.rows.record(key)
            if record is not None and wanted.matches(record):
                self._focused = True
                try:
                    position = self.table.get_row_index(key)
                except KeyError:  # hidden by the filter: the filter goes, the call shows
                    self._typed = ""
                    self.set_needle("")
                    position = self.table.get_row_index(key)
                self.table.move_cursor(row=position)
                return
        if not self.reading:
            self._focused = True
            self.notify(
                f"that call is not in {wanted.pbx}'s history yet: a PBX may list a call a "
                "little after it ends (r reads again)",
                severity="warning",
            )

    # -- what is shown ---------------------------------------------------------------------
    def _number(self, value: str) -> str:
        return mask_text(value) if self.mask else value

    def _show_title(self) -> None:
        query = self.request.query
        since = query.since.astimezone(self.zone).strftime("%Y-%m-%d %H:%M")
        until = (
            query.until.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if query.until else "now"
        )
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append("History · ", "bold")
        text.append(f"{', '.join(self.request.pbxs)} · {since} → {until}")
        if query.number:
            text.append(f" · number {self._number(query.number)}")
        if self.request.focus is not None:
            call = self.request.focus.call
            text.append(f" · the call {self._number(call.caller)} → {self._number(call.callee)}")
        self.query_one("#history-title", TextLines).update(text)

    def _show_progress(self) -> None:
        palette = self.rows.palette
        styles = {"info": palette.muted, "alert": palette.alert}
        since, until = self.request.query.bounds(self.now)
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        for i, progress in enumerate(self.progress.values()):
            level, line = progress.line(since, until)
            if i:
                text.append("\n")
            text.append(line, styles.get(level))
        self.query_one("#history-progress", TextLines).update(text)

    def _show_status(self) -> None:
        table = self.table
        parts = [f"showing {table.row_count:,} of {len(self.rows):,} calls"]
        spec = next((c for c in COLUMNS if c.key == table.sort_column), None)
        if spec is not None:
            parts.append(f"sorted by {spec.label} {'▼' if table.sort_reverse else '▲'}")
        if self.needle:
            parts.append(f"filter “{self.needle}”")
        if self.reading:
            parts.append("reading…")
        self.query_one("#history-status", TextLines).update(" · ".join(parts))

    @on(LiveTable.Sorted)
    @on(LiveTable.Highlighted)
    def _table_moved(self) -> None:
        self._show_status()

    @on(LiveTable.Selected)
    def _row_clicked(self) -> None:
        self.action_details()

    def current(self) -> CdrRecord | None:
        key = self.table.current_key
        return self.rows.record(key) if key is not None else None

    # -- the filter ------------------------------------------------------------------------
    def action_filter(self) -> None:
        self.open_prompt()

    def open_prompt(self) -> None:
        """Show the prompt and focus it now (not on the next refresh: see take_key)."""
        self._prompt_open = True
        self.query_one("#history-prompt-bar").display = True
        prompt = self.query_one("#history-prompt", Input)
        prompt.value = self.needle
        self._typed = self.needle
        self.set_focus(prompt)

    def close_prompt(self, *, clear: bool = False) -> None:
        self._prompt_open = False
        self.query_one("#history-prompt-bar").display = False
        if clear:
            self._typed = ""
        self._apply_filter()
        self.table.focus()

    @on(Input.Changed, "#history-prompt")
    def _prompt_changed(self, event: Input.Changed) -> None:
        if not self._prompt_open:
            return
        self._typed = event.value.strip()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self._apply_filter)

    @on(Input.Submitted, "#history-prompt")
    def _prompt_submitted(self) -> None:
        self.close_prompt()

    def _apply_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        self.set_needle(self._typed)

    def set_needle(self, needle: str) -> None:
        if needle != self.needle:
            self.needle = needle
            self.table.apply(HistoryRows.matching(self.rows.built, needle))
        self._show_status()

    # -- actions ---------------------------------------------------------------------------
    def action_back(self) -> None:
        if self._prompt_open:
            self.close_prompt(clear=True)
        elif self.needle:
            self._typed = ""
            self.set_needle("")
        else:
            self.app.pop_screen()

    def action_cycle_sort(self) -> None:
        self.table.cycle_sort()
        self._show_status()

    def action_reverse_sort(self) -> None:
        self.table.set_sort(self.table.sort_column, not self.table.sort_reverse)
        self._show_status()

    def action_reload(self) -> None:
        self.now = self.clock()
        self.request = self.request.again(self.now)
        self._show_title()
        self.load()

    def action_details(self) -> None:
        record = self.current()
        if record is None:
            self.notify("select a call first", severity="warning")
            return
        self.app.push_screen(DetailModal(history_details(record, self.zone, mask=self.mask)))

    def action_help(self) -> None:
        rows = [
            (self.app.get_key_display(b), self.KEY_HELP.get(b.action, b.description))
            for b in self.BINDINGS
            if isinstance(b, Binding) and b.key != "q"
        ]
        rows += [("↑ ↓ PgUp PgDn g G", "move"), ("q", "back to the console")]
        show_help(self.app, rows)

    # -- export ----------------------------------------------------------------------------
    def action_export(self) -> None:
        records = self.shown_records()
        if not records:
            self.notify("no calls shown: nothing to export", severity="warning")
            return
        stamp = self.now.strftime("%Y%m%d-%H%M%S")
        suggested = Path.cwd() / f"pbxtui-history-{stamp}.csv"
        note = (
            f"{len(records):,} calls as shown (filter and order), the same columns as "
            "`pbxtui history --csv`, a header line first."
        )
        if self.mask:
            note += " Numbers are masked, as on screen."

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._export(path, records)

        self.app.push_screen(
            SaveAsModal("Export the calls shown to CSV", suggested, note, check_destination),
            chosen,
        )

    def shown_records(self) -> list[CdrRecord]:
        found = (self.rows.record(key) for key in self.table.keys)
        return [r for r in found if r is not None]

    @work(group="export", exit_on_error=False)
    async def _export(self, path: Path, records: list[CdrRecord]) -> None:
        # 100,000 rows take a second to write: off the event loop, the screen stays live.
        try:
            size = await asyncio.to_thread(write_csv, path, records, self.zone, mask=self.mask)
        except ExportError as exc:
            self.notify(str(exc), title="Export", severity="error")
            return
        self.notify(f"{len(records):,} calls saved to {path} ({kib(size)})", title="Export")

    # -- recordings ------------------------------------------------------------------------
    def recording_refusal(self, record: CdrRecord | None) -> str:
        """Why ``R`` cannot fetch ``record``'s recording ("" when it can)."""
        if record is None:
            return "select a call first"
        if not record.recording:
            return f"this call has no recording on {record.pbx}"
        if self.media is None or not self.media.recording_support(record.pbx):
            return f"{record.pbx} offers no recordings through its API"
        if self.downloading:
            return "a recording is downloading: wait for it to finish"
        return ""

    def action_recording(self) -> None:
        record = self.current()
        why = self.recording_refusal(record)
        if why or record is None:
            self.notify(why, title="Recording", severity="warning")
            return
        ext = ".gsm" if self.kinds.get(record.pbx) == "iexpbx" else ".wav"
        name = SAFE_NAME.sub("_", f"{record.pbx}-{record.id}").strip("_") + ext
        assert self.media is not None
        note = f"{record.pbx}: {self.media.recording_support(record.pbx)}"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._download(record, path)

        self.app.push_screen(
            SaveAsModal("Save the call's recording", Path.cwd() / name, note, check_destination),
            chosen,
        )

    @work(group="download", exit_on_error=False)
    async def _download(self, record: CdrRecord, path: Path) -> None:
        media = self.media
        if media is None:
            return
        self.downloading = True
        bar = self.query_one("#download", ProgressBar)
        label = self.query_one("#download-label", Label)
        bar.update(total=None, progress=0)
        label.update(f"recording of {record.pbx} {record.id} → {path.name}  ")
        self.query_one("#download-bar").display = True

        def moved(progress: DownloadProgress) -> None:
            bar.update(total=progress.total, progress=progress.received)
            label.update(f"recording of {record.pbx} {record.id}: {kib(progress.received)}  ")

        try:
            done = await media.download_recording(record.pbx, record.recording, path, moved)
        except MediaError as exc:
            self._failed(record, str(exc))
            return
        except Exception as exc:  # a defect in the media source: said, never a crash
            self.log.error(f"recording download failed: {exc!r}")
            self._failed(record, f"unexpected {type(exc).__name__} (details in the log)")
            return
        finally:
            self.downloading = False
        bar.update(total=max(done.size, 1), progress=max(done.size, 1))
        kind = f", {done.content_type}" if done.content_type else ""
        label.update(f"recording saved: {done.path} ({kib(done.size)}{kind})  ")
        self.notify(f"saved to {done.path} ({kib(done.size)}{kind})", title="Recording")

    def _failed(self, record: CdrRecord, reason: str) -> None:
        self.notify(reason, title="Recording", severity="error")
        label = self.query_one("#download-label", Label)
        label.update(f"recording of {record.pbx} {record.id}: failed  ")
