"""The console: health strip, six live panes, a status line, the `/` and `:` prompt, footer.

Engine updates arrive as one coalesced ``EngineChanged`` message at a time; while a modal is
open nothing is repainted, and the newest state is applied when it closes. Only the visible
pane is rendered; the others catch up when shown. Actions open a typed modal naming the
exact target and run on the snapshot taken when it opened, in a worker, through
``engine.perform`` (which checks read-only and capabilities, and audits).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Label, TabbedContent, TabPane

from pbxtui.drivers.base import ACTION_LABELS, READ_ACTIONS, Action, Capabilities, Resource
from pbxtui.engine.actions import ActionOutcome, ActionRequest, ActionStatus
from pbxtui.engine.changes import Change, ChangeKind, agent_label
from pbxtui.engine.state import PbxState
from pbxtui.model import Agent, BlfLamp, Call, DirectoryEntry, Extension, PbxHealth, Record
from pbxtui.ui.commands import Command, CommandError, ConsoleCommands, parse_command
from pbxtui.ui.consult import Consultation, consultation_leg, transferer_leg, transferer_of
from pbxtui.ui.flights import InFlight
from pbxtui.ui.format import MASK_MIN_DIGITS, describe_call, mask_text, one_line
from pbxtui.ui.modals.click2call import Click2CallChoice, Click2CallForm, Click2CallModal
from pbxtui.ui.modals.confirm import Confirmation, ConfirmModal
from pbxtui.ui.modals.consult import ConsultChoice, ConsultModal
from pbxtui.ui.modals.destination import DestinationForm, DestinationModal
from pbxtui.ui.modals.extras import (
    CallbackChoice,
    CallbackModal,
    DirectoryModal,
    IvrChoice,
    IvrModal,
)
from pbxtui.ui.modals.help import HelpModal
from pbxtui.ui.modals.pause import PauseModal
from pbxtui.ui.modals.picker import PbxPicker
from pbxtui.ui.palette import Palette
from pbxtui.ui.session import Session
from pbxtui.ui.updates import EngineChanged, EngineReady, EngineStopped
from pbxtui.ui.views import ViewContext
from pbxtui.ui.widgets.health import HealthStrip
from pbxtui.ui.widgets.keyed_table import KeyedTable
from pbxtui.ui.widgets.panes import (
    PANES,
    EventsPane,
    Pane,
    QueuesPane,
)
from pbxtui.ui.widgets.text import TextLines

logger = logging.getLogger("pbxtui.ui")

CALL_PANES = ("calls", "extensions", "blf")
MIN_RENDER_SPACING = 0.5
MAX_RENDER_SPACING = 2.0


def placeholder_state(name: str, kind: str, *, read_only: bool, protected: bool) -> PbxState:
    """What is shown for a PBX before the engine is open: STARTING, every resource pending."""
    return PbxState(
        name=name,
        kind=kind,
        capabilities=Capabilities(frozenset(Resource), frozenset()),
        health=PbxHealth(pbx=name, kind=kind, read_only=read_only, protected=protected),
    )


class ConsoleScreen(Screen[None]):
    COMMANDS = {ConsoleCommands}

    BINDINGS = [
        Binding("1", "pane('calls')", "Calls", show=False),
        Binding("2", "pane('extensions')", "Extensions", show=False),
        Binding("3", "pane('blf')", "BLF", show=False),
        Binding("4", "pane('peers')", "Peers", show=False),
        Binding("5", "pane('queues')", "Queues", show=False),
        Binding("6", "pane('events')", "Events", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("h", "hangup", "Hangup"),
        Binding("t", "transfer", "Xfer"),
        Binding("T", "attended", "Att.xfer", show=False),
        Binding("P", "pause", "Pause"),
        Binding("U", "unpause", "Unpause"),
        Binding("c", "click2call", "Call"),
        Binding("b", "callback", "Callback", show=False),
        Binding("i", "ivr", "IVR call", show=False),
        Binding("D", "directory", "Directory", show=False),
        Binding("space", "mark", "Mark"),
        Binding("slash", "filter", "Filter"),
        Binding("colon", "command", "Cmd"),
        Binding("p", "pick_pbxs", "PBXs"),
        Binding("L", "longest", "Longest", show=False),
        Binding("s", "cycle_sort", "Sort", show=False),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("escape", "escape", "Clear", show=False),
        Binding("q", "quit", "Quit"),
    ]

    KEY_HELP: ClassVar[dict[str, str]] = {
        "pane('calls')": "Calls: every live call on every PBX shown",
        "pane('extensions')": "Extensions: state, registration, latency, current call",
        "pane('blf')": "BLF board: lamps by PBX; arrows pick one and show its call",
        "pane('peers')": "Peers and trunks: unregistered ones stand out",
        "pane('queues')": "Queues and agents (Tab moves between the two tables)",
        "pane('events')": "Events: what changed, and every action with its result",
        "help": "this help",
        "hangup": "hang up the selected (or marked) calls, after a confirmation naming them",
        "transfer": "blind transfer of the selected call (pick a destination)",
        "attended": "attended transfer: consult, then T again to complete or cancel",
        "pause": "pause the selected (or marked) agents, with a reason",
        "unpause": "unpause the selected (or marked) agents",
        "click2call": "click2call: ring an extension, then connect it to a number "
        "(dialup: caller id, timeout, reverse, schedule)",
        "callback": "callback (number masking): the PBX connects two numbers",
        "ivr": "IVR call: the PBX calls a number and plays announcements",
        "directory": "the PBX's phone directory: type to filter, Enter to call an entry",
        "mark": "mark / unmark the row (one action then applies to every marked row)",
        "filter": "filter the current table by text in any column (Esc clears)",
        "command": "command mode, e.g. :calls hq  :agents paused  :pbx all",
        "pick_pbxs": "choose which PBXs the panes show",
        "longest": "longest first: calls by duration, queues by wait, agents by pause",
        "cycle_sort": "sort by the next column",
        "reverse_sort": "reverse the sort order",
        "refresh": "poll the shown PBXs now",
        "escape": "clear the marks, then the filter",
        "quit": "quit (no prompt)",
    }

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session
        config = session.config
        self.states: dict[str, PbxState] = {
            p.name: placeholder_state(
                p.name,
                p.kind,
                read_only=session.read_only or p.read_only,
                protected=p.protected,
            )
            for p in config.pbx
        }
        self.shown_pbxs: tuple[str, ...] = tuple(self.states)
        self.palette = Palette()
        self.panes: dict[str, Pane] = {cls.pane_id: cls() for cls in PANES}
        self.in_flight: dict[int, InFlight] = {}
        self._flight_ids = itertools.count(1)
        self.consultations: dict[str, Consultation] = {}
        self._prompt_mode = ""
        self._stale_panes: set[str] = set(self.panes)
        self._pending = False
        self._stopped = ""
        self._next_render = 0.0
        self._last_render = 0.0
        self._render_timer: Timer | None = None

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HealthStrip(id="health")
        with TabbedContent(initial="calls", id="tabs"):
            for number, (pane_id, pane) in enumerate(self.panes.items(), start=1):
                with TabPane(f"{number} {pane.title}", id=pane_id):
                    yield pane
        yield TextLines(id="status")
        with Horizontal(id="prompt-bar"):
            yield Label("/", id="prompt-label")
            yield Input(id="prompt", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#prompt-bar").display = False
        self.query_one("#prompt", Input).cursor_blink = not self.app.is_headless
        self.palette = Palette.from_variables(self.app.get_css_variables())
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        self.set_interval(1.0, self._tick, name="tick")
        if self.session.engine is not None:
            self._engine_ready()
        self.render_all()
        self.active_pane.focus_main()

    def _theme_changed(self, theme: Theme) -> None:
        self.palette = Palette.from_variables(self.app.get_css_variables())
        self._stale_panes = set(self.panes)
        self.render_all()

    # -- state -----------------------------------------------------------------------------
    @property
    def active_pane(self) -> Pane:
        active = self.query_one("#tabs", TabbedContent).active or "calls"
        return self.panes[active]

    @property
    def is_active(self) -> bool:
        return self.app.screen is self

    def now(self) -> datetime:
        return self.session.clock()

    def context(self) -> ViewContext:
        return ViewContext(
            now=self.now(),
            pbxs={n: self.states[n] for n in self.shown_pbxs if n in self.states},
            palette=self.palette,
            thresholds=self.session.config.settings.thresholds,
            mask=self.session.mask,
        )

    def on_engine_ready(self, message: EngineReady) -> None:
        self._engine_ready()

    def _engine_ready(self) -> None:
        engine = self.session.engine
        if engine is None:
            return
        self.states.update(engine.state())
        self._stale_panes = set(self.panes)
        if self.is_active:
            self.render_all()

    def on_engine_stopped(self, message: EngineStopped) -> None:
        self._stopped = message.reason
        self.notify(message.reason, title="Engine stopped", severity="error", timeout=30)

    def on_engine_changed(self, message: EngineChanged) -> None:
        if not self.is_active:
            self._pending = True
            return
        self.apply_updates()

    def on_screen_resume(self) -> None:
        if self._pending or self.session.buffer.pending:
            self.apply_updates()
        else:
            self._tick()

    def apply_updates(self) -> None:
        """Take everything buffered and repaint once (never while a modal is open).

        Repaints are at least ``MIN_RENDER_SPACING`` apart, and twice what the last one cost,
        so many PBXs answering at once, or a huge fleet (10k calls), cannot keep the event loop
        busy repainting: keys stay responsive, and what arrives meanwhile is merged into the
        next repaint. (A DataTable repaints every visible cell after any change.)
        """
        wait = self._next_render - time.monotonic()
        if wait > 0:
            if self._render_timer is None:
                self._render_timer = self.set_timer(wait, self._deferred_render)
            return
        started = time.perf_counter()
        self._pending = False
        states, changes = self.session.buffer.take()
        self.states.update(states)
        events = self.panes["events"]
        if changes and isinstance(events, EventsPane):
            events.add(changes)
        self._stale_panes = set(self.panes)
        self.render_all()
        cost = time.perf_counter() - started
        self._last_render = time.monotonic()
        spacing = min(MAX_RENDER_SPACING, max(MIN_RENDER_SPACING, 2 * cost))
        self._next_render = self._last_render + spacing

    def _deferred_render(self) -> None:
        self._render_timer = None
        if self.is_active:
            self.apply_updates()
        else:
            self._pending = True

    def add_event(self, pbx: str, text: str) -> None:
        """An event the console itself produced (no engine was involved)."""
        events = self.panes["events"]
        if isinstance(events, EventsPane):
            change = Change(at=self.now(), pbx=pbx, kind=ChangeKind.ACTION, text=text)
            events.add([change])
            self._stale_panes.add("events")

    def render_all(self) -> None:
        """Show the newest state: the health strip and the visible pane (if it is behind)."""
        ctx = self.context()
        self._show_health(ctx)
        pane = self.active_pane
        if pane.pane_id in self._stale_panes:
            pane.show(ctx)
            self._stale_panes.discard(pane.pane_id)
        self._show_status()

    def _show_health(self, ctx: ViewContext) -> None:
        self.query_one(HealthStrip).show(
            self.states,
            ctx.now,
            self.palette,
            read_only=self.session.read_only,
            mask=self.session.mask,
        )

    def _tick(self) -> None:
        """Once a second: durations and ages move on, without polling and without re-sorting."""
        if self.is_active:
            ctx = self.context()
            self._show_health(ctx)
            if time.monotonic() - self._last_render >= MIN_RENDER_SPACING:
                self.active_pane.tick(ctx)
            if self.in_flight:
                self._show_status()

    def _show_status(self) -> None:
        pane = self.active_pane
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(pane.status())
        names = self.session.pbx_names
        if len(self.shown_pbxs) < len(names):
            text.append(
                f"   PBXs: {', '.join(self.shown_pbxs)} ({len(self.shown_pbxs)} of {len(names)})",
                self.palette.accent,
            )
        for consultation in self.consultations.values():
            text.append(
                f"   attended transfer on {consultation.pbx}: {consultation.transferer} → "
                f"{self._number(consultation.destination)} — T to complete or cancel",
                self.palette.warn,
            )
        if self.in_flight:
            now = time.monotonic()
            for flight in self.in_flight.values():
                text.append(f"   {self._text(flight.describe(now))}", self.palette.warn)
        self.query_one("#status", TextLines).update(text)

    def _number(self, value: str) -> str:
        return mask_text(value) if self.session.mask else value

    def _text(self, value: str) -> str:
        return mask_text(one_line(value)) if self.session.mask else one_line(value)

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        self._stale_panes.add(self.active_pane.pane_id)
        self.render_all()
        if not self._prompt_mode:
            self.active_pane.focus_main()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        table = event.data_table
        if isinstance(table, KeyedTable):
            table.set_sort(str(event.column_key.value))
            self._show_status()

    @on(DataTable.RowHighlighted)
    def _row_moved(self) -> None:
        self._show_status()

    # -- navigation ------------------------------------------------------------------------
    def action_pane(self, pane_id: str) -> None:
        self.query_one("#tabs", TabbedContent).active = pane_id

    def action_mark(self) -> None:
        pane = self.active_pane
        if pane.toggle_mark():
            pane.show(self.context())
            self._show_status()

    def action_escape(self) -> None:
        if self._prompt_mode:
            self._close_prompt(clear=self._prompt_mode == "filter")
            return
        pane = self.active_pane
        if not pane.clear_marks():
            if not pane.needle:
                return
            pane.set_needle("")
        pane.show(self.context())
        self._show_status()

    def action_cycle_sort(self) -> None:
        section = self.active_pane.active
        if section is not None:
            section.table.cycle_sort()
            self._show_status()

    def action_reverse_sort(self) -> None:
        section = self.active_pane.active
        if section is not None:
            section.table.set_sort(section.table.sort_column, not section.table.sort_reverse)
            self._show_status()

    def action_longest(self) -> None:
        pane = self.active_pane
        section = pane.active
        if section is None:
            return
        column = {"calls": "duration", "queues": "longest", "agents": "paused"}.get(
            section.builder.name
        )
        if column is None:
            self.notify("longest-first sorts calls, queues and paused agents", severity="warning")
            return
        section.table.set_sort(column, reverse=True)
        section.table.move_cursor(row=0)  # what the operator is looking for: select it
        self._show_status()

    def action_refresh(self) -> None:
        engine = self.session.engine
        if engine is None:
            self.notify("still connecting", severity="warning")
            return
        for name in self.shown_pbxs:
            engine.refresh(name)
        self.notify("polling now", timeout=2)

    def action_quit(self) -> None:
        self.app.exit()

    def action_help(self) -> None:
        rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        for binding in [*self.BINDINGS, *self.app.BINDINGS]:
            if not isinstance(binding, Binding) or binding.action in seen:
                continue
            seen.add(binding.action)
            description = self.KEY_HELP.get(binding.action, binding.description)
            rows.append((self.app.get_key_display(binding), description))
        rows += [
            ("↑ ↓ PgUp PgDn", "move in the current table"),
            ("tab", "next table (queues → agents) / next widget"),
            ("click a header", "sort by that column (again: reverse)"),
            ("ctrl+p", "command palette: every action, searchable"),
        ]
        self.app.push_screen(HelpModal(rows))

    def action_pick_pbxs(self) -> None:
        labels = {name: f"{name} ({state.kind})" for name, state in self.states.items()}
        self.app.push_screen(
            PbxPicker(list(self.states), self.shown_pbxs, labels), self._pbxs_picked
        )

    def _pbxs_picked(self, chosen: tuple[str, ...] | None) -> None:
        if chosen is not None:
            self.show_pbxs(chosen)

    def show_pbxs(self, names: Iterable[str]) -> None:
        wanted = set(names)
        self.shown_pbxs = tuple(n for n in self.states if n in wanted) or tuple(self.states)
        self._stale_panes = set(self.panes)
        self.render_all()

    # -- the prompt: / filter and : commands ----------------------------------------------
    def action_filter(self) -> None:
        self._open_prompt("filter", self.active_pane.needle)

    def action_command(self) -> None:
        self._open_prompt("command", "")

    def _open_prompt(self, mode: str, value: str) -> None:
        self._prompt_mode = mode
        bar = self.query_one("#prompt-bar")
        bar.display = True
        self.query_one("#prompt-label", Label).update("/" if mode == "filter" else ":")
        prompt = self.query_one("#prompt", Input)
        prompt.placeholder = (
            "filter: text in any column (Esc clears)"
            if mode == "filter"
            else "calls hq · agents paused · pbx all · help"
        )
        prompt.value = value
        prompt.focus()

    def _close_prompt(self, *, clear: bool = False) -> None:
        mode, self._prompt_mode = self._prompt_mode, ""
        self.query_one("#prompt-bar").display = False
        if clear and mode == "filter":
            self.active_pane.set_needle("")
            self.active_pane.show(self.context())
        self.active_pane.focus_main()
        self._show_status()

    @on(Input.Changed, "#prompt")
    def _prompt_changed(self, event: Input.Changed) -> None:
        if self._prompt_mode == "filter":
            pane = self.active_pane
            pane.set_needle(event.value.strip())
            pane.show(self.context())
            self._show_status()

    @on(Input.Submitted, "#prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        mode = self._prompt_mode
        self._close_prompt()
        if mode == "command":
            self.run_command(event.value)

    def run_command(self, text: str) -> None:
        try:
            command = parse_command(text, self.session.pbx_names)
        except CommandError as exc:
            self.notify(str(exc), title="Command", severity="error")
            return
        self.execute(command)

    def execute(self, command: Command) -> None:
        kind = command.kind
        if kind == "pane":
            if command.pbxs is not None:
                self.show_pbxs(command.pbxs)
            self.action_pane(command.pane)
            pane = self.panes[command.pane]
            if isinstance(pane, QueuesPane) and command.section == "agents":
                self.call_after_refresh(pane.focus_agents)
            name = command.section if isinstance(pane, QueuesPane) else None
            if name is None and pane.sections:
                name = pane.sections[0].builder.name
            pane.set_needle(command.needle or "", name)
            self._stale_panes.add(pane.pane_id)
            self.call_after_refresh(self.render_all)
        elif kind == "pbx":
            if command.pbxs is None:
                self.action_pick_pbxs()
            else:
                self.show_pbxs(command.pbxs)
        elif kind == "quit":
            self.app.exit()
        elif kind == "refresh":
            engine = self.session.engine
            if engine is not None:
                for name in command.pbxs or self.shown_pbxs:
                    engine.refresh(name)
        elif kind == "directory":
            self.action_directory(command.pbxs[0] if command.pbxs else "")
        elif kind == "help":
            self.action_help()
        elif kind == "theme":
            if command.arg not in self.app.available_themes:
                known = ", ".join(sorted(self.app.available_themes))
                self.notify(f"no theme {command.arg!r} (known: {known})", severity="error")
            else:
                self.app.theme = command.arg
        elif kind == "sort":
            target = self.active_pane.active
            if target is None:
                return
            specs = [c for c in target.table.column_specs if c.sortable]
            keys = {c.key: c.key for c in specs} | {c.label.lower(): c.key for c in specs}
            column = keys.get(command.arg)
            if column is None:
                self.notify(
                    f"no column {command.arg!r} here (columns: {', '.join(keys)})", severity="error"
                )
                return
            target.table.set_sort(column, command.reverse)
            self._show_status()
        elif kind == "filter":
            pane = self.active_pane
            pane.set_needle(command.needle or "")
            pane.show(self.context())
            self._show_status()

    # -- the command palette ---------------------------------------------------------------
    def palette_commands(self) -> list[tuple[str, str, str]]:
        commands = [
            ("Hang up", "hang up the selected (or marked) calls, after confirming", "hangup"),
            ("Blind transfer", "send the selected call to another number", "transfer"),
            ("Attended transfer", "consult a destination, then complete or cancel", "attended"),
            ("Pause agent", "pause the selected (or marked) agents with a reason", "pause"),
            ("Unpause agent", "unpause the selected (or marked) agents", "unpause"),
            ("Click2call", "connect an extension to a number", "click2call"),
            ("Scheduled call", "click2call at a later time, with retries", "scheduled_call"),
            ("Callback (number masking)", "the PBX connects two numbers", "callback"),
            ("IVR call", "call a number and play announcements to it", "ivr"),
            ("Phone directory", "the PBX's directory; Enter calls an entry", "directory"),
            ("Mark row", "mark or unmark the row under the cursor", "mark"),
            ("Filter", "filter the current table by text", "filter"),
            ("Command", "type a : command (e.g. calls hq)", "command"),
            ("Choose PBXs", "which PBXs the panes show", "pick_pbxs"),
            ("Show all PBXs", "every configured PBX", "show_all"),
            ("Sort longest first", "longest calls / waits / pauses first", "longest"),
            ("Sort by next column", "cycle the sort column", "cycle_sort"),
            ("Reverse sort", "flip the sort order", "reverse_sort"),
            ("Refresh now", "poll the shown PBXs now", "refresh"),
            ("Help", "every key and command", "help"),
            ("Quit", "leave pbxtui", "quit"),
        ]
        for number, pane in enumerate(self.panes.values(), start=1):
            commands.append((f"Go to {pane.title}", f"pane {number}", f"pane('{pane.pane_id}')"))
        for name in self.states:
            commands.append(
                (f"Show only {name}", f"hide the other PBXs ({name})", f"only('{name}')")
            )
        return commands

    def action_show_all(self) -> None:
        self.show_pbxs(self.states)

    def action_only(self, name: str) -> None:
        self.show_pbxs([name])

    # -- actions: gates ----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("hangup", "transfer", "attended"):
            return self.active_pane.pane_id in CALL_PANES
        if action in ("pause", "unpause"):
            return self.active_pane.pane_id == "queues"
        return True

    def _ready(self) -> bool:
        if self.session.engine is None:
            if self._stopped:
                self.notify(f"no engine: {self._stopped}; restart pbxtui", severity="error")
            else:
                self.notify(
                    "still connecting to the PBXs: try again in a moment", severity="warning"
                )
            return False
        return True

    def _refusal(self, action: Action, pbx: str) -> str:
        """Why ``action`` cannot go to ``pbx`` (the engine refuses it the same way)."""
        engine = self.session.engine
        label = ACTION_LABELS[action]
        if engine is None:
            return "still connecting"
        if engine.is_read_only(pbx) and action not in READ_ACTIONS:
            return f"{pbx} is read-only: {label} refused"
        if not self.states[pbx].capabilities.supports(action):
            return f"{label} is not supported by {pbx}'s API"
        return ""

    def _split(self, action: Action, requests: Sequence[ActionRequest]) -> list[ActionRequest]:
        """Requests that may go on; refused ones are sent straight to the engine, which
        refuses them again, audits the attempt and says why (no confirmation is asked for an
        action that will not be carried out)."""
        allowed: list[ActionRequest] = []
        refused: list[ActionRequest] = []
        for request in requests:
            if self._busy(action, request.key):
                label = ACTION_LABELS[action]
                self.notify(
                    f"{label} already in flight on {request.pbx}: wait for its result",
                    severity="warning",
                )
                continue
            (refused if self._refusal(action, request.pbx) else allowed).append(request)
        if refused:
            self._send(refused)
        return allowed

    def _protected(self, requests: Iterable[ActionRequest]) -> tuple[str, ...]:
        return tuple(sorted({r.pbx for r in requests if self.session.protected(r.pbx)}))

    # -- actions: targets ------------------------------------------------------------------
    def _calls_of(self, records: Iterable[Record]) -> list[Call]:
        calls: list[Call] = []
        for record in records:
            call = self._call_of(record)
            if call is not None and call.key not in {c.key for c in calls}:
                calls.append(call)
        return calls

    def _call_of(self, record: Record) -> Call | None:
        if isinstance(record, Call):
            return record
        state = self.states.get(record.pbx)
        if state is None:
            return None
        if isinstance(record, Extension):
            by_id = {c.id: c for c in state.calls()}
            if record.call_id in by_id:
                return by_id[record.call_id]
            number = record.number
        elif isinstance(record, BlfLamp):
            number = record.extension
        else:
            return None
        if not number:
            return None
        return next((c for c in state.calls() if number in (c.extension, c.callee, c.caller)), None)

    def _describe(self, call: Call) -> str:
        return describe_call(call, self.now(), mask=self.session.mask)

    def _selected_calls(self) -> list[Call]:
        pane = self.active_pane
        if pane.pane_id not in CALL_PANES:
            self.notify("call actions work on the Calls, Extensions and BLF panes (1, 2, 3)")
            return []
        calls = self._calls_of(pane.targets())
        if not calls:
            what = "call" if pane.pane_id == "calls" else "extension or lamp on a call"
            self.notify(f"select a {what} first", severity="warning")
        return calls

    # -- actions: hang up ------------------------------------------------------------------
    def action_hangup(self) -> None:
        if not self._ready():
            return
        calls = self._selected_calls()
        requests = self._split(
            Action.HANGUP, [ActionRequest(Action.HANGUP, c.pbx, call=c) for c in calls]
        )
        if not requests:
            return
        count = len(requests)
        pbxs = sorted({r.pbx for r in requests})
        title = (
            f"Hang up this call on {pbxs[0]}?"
            if count == 1
            else f"Hang up {count} calls on {', '.join(pbxs)}?"
        )
        confirmation = Confirmation(
            title=title,
            targets=tuple(self._describe(r.call) for r in requests if r.call is not None),
            verb="Hang up",
            type_to_confirm=self._protected(requests),
        )
        self.app.push_screen(ConfirmModal(confirmation), partial(self._confirmed, tuple(requests)))

    def _confirmed(self, requests: tuple[ActionRequest, ...], ok: bool | None) -> None:
        if ok:
            self._send(requests)

    # -- actions: transfers ----------------------------------------------------------------
    def _extension_choices(self, pbx: str) -> tuple[tuple[str, str], ...]:
        state = self.states.get(pbx)
        if state is None:
            return ()
        choices = {e.number: e.name for e in state.extensions()}
        for lamp in state.lamps():
            if lamp.extension and lamp.extension not in choices:
                choices[lamp.extension] = lamp.label
        for queue in state.queues():
            choices.setdefault(queue.id, f"queue {queue.name}".strip())
        return tuple(sorted(choices.items(), key=lambda kv: (len(kv[0]), kv[0])))

    def _one_call(self, action: Action) -> Call | None:
        calls = self._selected_calls()
        if len(calls) > 1:
            self.notify(
                f"{ACTION_LABELS[action]} works on one call at a time: unmark the others (Esc)",
                severity="warning",
            )
            return None
        return calls[0] if calls else None

    def action_transfer(self) -> None:
        if not self._ready():
            return
        call = self._one_call(Action.TRANSFER)
        if call is None:
            return
        if not self._split(Action.TRANSFER, [ActionRequest(Action.TRANSFER, call.pbx, call=call)]):
            return
        form = DestinationForm(
            title=f"Blind transfer on {call.pbx}",
            target=self._describe(call),
            verb="Transfer",
            choices=self._extension_choices(call.pbx),
            type_to_confirm=call.pbx if self.session.protected(call.pbx) else "",
        )
        self.app.push_screen(DestinationModal(form), partial(self._transfer_to, call))

    def _transfer_to(self, call: Call, destination: str | None) -> None:
        if destination:
            self._send(
                [ActionRequest(Action.TRANSFER, call.pbx, call=call, destination=destination)]
            )

    def action_attended(self) -> None:
        if not self._ready():
            return
        pane = self.active_pane
        selected = self._calls_of(pane.targets())
        consultation = self._consultation_for(selected)
        if consultation is not None:
            self._ask_consult(consultation)
            return
        call = self._one_call(Action.ATTENDED_TRANSFER)
        if call is None:
            return
        if not self._split(
            Action.ATTENDED_TRANSFER, [ActionRequest(Action.ATTENDED_TRANSFER, call.pbx, call=call)]
        ):
            return
        form = DestinationForm(
            title=f"Attended transfer on {call.pbx}",
            target=self._describe(call),
            verb="Consult",
            choices=self._extension_choices(call.pbx),
            type_to_confirm=call.pbx if self.session.protected(call.pbx) else "",
            note=(
                "The caller holds while the extension consults the destination; "
                "then complete or cancel (T)."
            ),
        )
        self.app.push_screen(DestinationModal(form), partial(self._consult, call))

    def _consultation_for(self, calls: Sequence[Call]) -> Consultation | None:
        if not self.consultations:
            return None
        keys = {c.key for c in calls}
        for consultation in self.consultations.values():
            if consultation.key in keys:
                return consultation
        for consultation in self.consultations.values():
            state = self.states.get(consultation.pbx)
            if state is not None and (
                consultation_leg(consultation, state.calls()) in calls
                or transferer_leg(consultation, state.calls()) in calls
            ):
                return consultation
        return next(iter(self.consultations.values())) if len(self.consultations) == 1 else None

    def _consult(self, call: Call, destination: str | None) -> None:
        if not destination:
            return
        state = self.states.get(call.pbx)
        before = frozenset(c.key for c in state.calls()) if state else frozenset()
        consultation = Consultation(
            pbx=call.pbx,
            original=call,
            destination=destination,
            transferer=transferer_of(call),
            before=before,
            started=self.now(),
        )
        request = ActionRequest(
            Action.ATTENDED_TRANSFER, call.pbx, call=call, destination=destination
        )
        self._send([request], after=partial(self._consult_started, consultation))

    def _consult_started(
        self, consultation: Consultation, outcomes: Sequence[ActionOutcome]
    ) -> None:
        if outcomes and outcomes[0].ok:
            self.consultations[consultation.key] = consultation
            self._show_status()

    def _ask_consult(self, consultation: Consultation) -> None:
        description = (
            f"{consultation.pbx}: {consultation.transferer or 'the extension'} is consulting "
            f"{self._number(consultation.destination)}\n"
            f"held: {self._describe(consultation.original)}"
        )
        self.app.push_screen(
            ConsultModal(description), partial(self._consult_decided, consultation)
        )

    def _consult_decided(self, consultation: Consultation, choice: ConsultChoice | None) -> None:
        if choice is None:
            return
        state = self.states.get(consultation.pbx)
        calls = state.calls() if state else ()
        if choice == "complete":
            leg = transferer_leg(consultation, calls)
            what = "the transferer's leg"
        else:
            leg = consultation_leg(consultation, calls)
            what = "the consultation call"
        if leg is None:
            self.notify(
                f"cannot find {what} on {consultation.pbx} any more: the transfer may have ended",
                severity="warning",
            )
            self.consultations.pop(consultation.key, None)
            self._show_status()
            return
        request = ActionRequest(Action.HANGUP, consultation.pbx, call=leg)
        self._send([request], after=partial(self._consult_finished, consultation, choice))

    def _consult_finished(
        self, consultation: Consultation, choice: str, outcomes: Sequence[ActionOutcome]
    ) -> None:
        if outcomes and outcomes[0].ok:
            self.consultations.pop(consultation.key, None)
            done = "completed" if choice == "complete" else "cancelled"
            self.notify(f"{consultation.pbx}: attended transfer {done}")
            self._show_status()

    # -- actions: agents -------------------------------------------------------------------
    def _selected_agents(self) -> list[Agent]:
        pane = self.active_pane
        agents = [r for r in pane.targets() if isinstance(r, Agent)]
        if not agents:
            hint = (
                " (Tab moves to the agents table)" if isinstance(pane, QueuesPane) else " (pane 5)"
            )
            self.notify(f"select an agent in the agents table first{hint}", severity="warning")
        return agents

    def action_pause(self) -> None:
        if not self._ready():
            return
        agents = self._selected_agents()
        requests = self._split(
            Action.PAUSE, [ActionRequest(Action.PAUSE, a.pbx, agent=a) for a in agents]
        )
        if not requests:
            return
        targets = [f"{r.pbx}: {agent_label(r.agent)}" for r in requests if r.agent is not None]
        modal = PauseModal(targets, self.session.config.settings.pause_reasons)
        self.app.push_screen(modal, partial(self._paused, tuple(requests)))

    def _paused(self, requests: tuple[ActionRequest, ...], reason: str | None) -> None:
        if reason is None:
            return
        self._send([replace(r, reason=reason) for r in requests])

    def action_unpause(self) -> None:
        if not self._ready():
            return
        agents = self._selected_agents()
        requests = self._split(
            Action.UNPAUSE, [ActionRequest(Action.UNPAUSE, a.pbx, agent=a) for a in agents]
        )
        if not requests:
            return
        if len(requests) == 1:
            self._send(requests)
            return
        confirmation = Confirmation(
            title=f"Unpause {len(requests)} agents?",
            targets=tuple(
                f"{r.pbx}: {agent_label(r.agent)}" for r in requests if r.agent is not None
            ),
            verb="Unpause",
        )
        self.app.push_screen(ConfirmModal(confirmation), partial(self._confirmed, tuple(requests)))

    # -- actions: click2call ---------------------------------------------------------------
    def action_click2call(self) -> None:
        if not self._ready():
            return
        record = self.active_pane.current()
        pbx, source, destination = self._click2call_prefill(record)
        if self.session.mask and len(destination) >= MASK_MIN_DIGITS:
            destination = ""  # privacy mode: a caller's number is never shown in full
        allowed = self._allowed(Action.CLICK2CALL)
        if pbx and pbx not in allowed:
            reason = self._refusal(Action.CLICK2CALL, pbx)
            self.notify(reason, severity="warning")
            self.add_event(
                pbx,
                f"{pbx}: click2call refused in the console: {reason}",
            )
            pbx = ""
        elif not allowed:
            self._say_unsupported(Action.CLICK2CALL)
        if not allowed:
            return
        self._open_click2call(pbx or allowed[0], source, destination)

    def _open_click2call(self, pbx: str, source: str, destination: str) -> None:
        allowed = self._allowed(Action.CLICK2CALL)
        if not allowed:
            return
        extensions = {n: tuple(num for num, _ in self._extension_choices(n)) for n in allowed}
        scheduling = frozenset(n for n in allowed if not self._refusal(Action.SCHEDULED_CALL, n))
        form = Click2CallForm(
            allowed,
            pbx if pbx in allowed else allowed[0],
            source,
            destination,
            extensions,
            scheduling=scheduling,
            now=self.now().astimezone(),
        )
        self.app.push_screen(Click2CallModal(form), self._click2call_chosen)

    def _click2call_prefill(self, record: Record | None) -> tuple[str, str, str]:
        if record is None:
            return "", "", ""
        if isinstance(record, Call):
            external = record.caller if record.caller and record.caller != record.extension else ""
            return record.pbx, record.extension, external
        if isinstance(record, Extension):
            return record.pbx, record.number, ""
        if isinstance(record, BlfLamp):
            return record.pbx, record.extension, ""
        if isinstance(record, Agent):
            return record.pbx, record.extension, ""
        return record.pbx, "", ""

    def _click2call_chosen(self, choice: Click2CallChoice | None) -> None:
        if choice is None:
            return
        request = ActionRequest(choice.action, choice.pbx, click2call=choice.click2call)
        self._send([request])

    def action_scheduled_call(self) -> None:
        """Click2call on a PBX whose API schedules calls (the extra fields are shown)."""
        if not self._ready():
            return
        allowed = self._allowed(Action.SCHEDULED_CALL)
        if not allowed:
            self._say_unsupported(Action.SCHEDULED_CALL)
            return
        record = self.active_pane.current()
        pbx, source, destination = self._click2call_prefill(record)
        if pbx not in allowed:
            pbx, source, destination = allowed[0], "", ""
        if self.session.mask and len(destination) >= MASK_MIN_DIGITS:
            destination = ""  # privacy mode: a caller's number is never shown in full
        self._open_click2call(pbx, source, destination)

    # -- actions: vendor extras ------------------------------------------------------------
    def _allowed(self, action: Action) -> tuple[str, ...]:
        return tuple(n for n in self.shown_pbxs if not self._refusal(action, n))

    def _say_unsupported(self, action: Action, pbxs: Iterable[str] | None = None) -> None:
        """No shown PBX can do ``action``: say why, for each (the console's own refusal)."""
        reasons = [self._refusal(action, n) for n in (pbxs or self.shown_pbxs)]
        reasons = [r for r in reasons if r]
        text = "\n".join(reasons[:6]) or f"{ACTION_LABELS[action]}: no PBX shown"
        self.notify(text, severity="warning")
        for pbx in pbxs or self.shown_pbxs:
            reason = self._refusal(action, pbx)
            if reason:
                self.add_event(
                    pbx, f"{pbx}: {ACTION_LABELS[action]} refused in the console: {reason}"
                )

    def _extra_target(self, action: Action) -> tuple[str, tuple[str, ...]] | None:
        """The PBX to preselect and the PBXs that can do ``action``; None (said why) if none.

        The selected row's PBX is preferred; if it cannot, that is said, like click2call."""
        allowed = self._allowed(action)
        record = self.active_pane.current()
        pbx = record.pbx if record is not None else ""
        if pbx and pbx not in allowed:
            self._say_unsupported(action, [pbx])
            pbx = ""
        elif not allowed:
            self._say_unsupported(action)
        if not allowed:
            return None
        return (pbx or allowed[0]), allowed

    def _selected_number(self) -> str:
        """An external number on the selected call, to prefill (never in privacy mode)."""
        record = self.active_pane.current()
        if isinstance(record, Call) and not self.session.mask:
            _pbx, _source, external = self._click2call_prefill(record)
            return external
        return ""

    def action_callback(self) -> None:
        if not self._ready():
            return
        target = self._extra_target(Action.CALLBACK)
        if target is None:
            return
        pbx, allowed = target
        modal = CallbackModal(allowed, pbx, self._selected_number())
        self.app.push_screen(modal, self._callback_chosen)

    def _callback_chosen(self, choice: CallbackChoice | None) -> None:
        if choice is None:
            return
        request = ActionRequest(
            Action.CALLBACK, choice.pbx, number1=choice.number1, number2=choice.number2
        )
        self._send([request])

    def action_ivr(self) -> None:
        if not self._ready():
            return
        target = self._extra_target(Action.CALL_IVR)
        if target is None:
            return
        pbx, allowed = target
        self.app.push_screen(IvrModal(allowed, pbx, self._selected_number()), self._ivr_chosen)

    def _ivr_chosen(self, choice: IvrChoice | None) -> None:
        if choice is None:
            return
        self._send([ActionRequest(Action.CALL_IVR, choice.pbx, ivr=choice.ivr)])

    def action_directory(self, pbx: str = "") -> None:
        """Fetch the phone directory (through the engine: audited) and show it."""
        if not self._ready():
            return
        if pbx:
            reason = self._refusal(Action.PHONEBOOK, pbx)
            if reason:
                self._say_unsupported(Action.PHONEBOOK, [pbx])
                return
        else:
            target = self._extra_target(Action.PHONEBOOK)
            if target is None:
                return
            pbx = target[0]
        if self._busy(Action.PHONEBOOK, ""):
            self.notify("the phone directory is already being fetched", severity="warning")
            return
        request = ActionRequest(Action.PHONEBOOK, pbx)
        self._send([request], after=partial(self._directory_fetched, pbx))

    def _directory_fetched(self, pbx: str, outcomes: Sequence[ActionOutcome]) -> None:
        if not outcomes or not outcomes[0].ok:
            return  # the failure was notified already
        entries = outcomes[0].entries
        shown = {e.number: self._number(e.number) for e in entries} if self.session.mask else None
        self.app.push_screen(DirectoryModal(pbx, entries, shown), self._directory_chosen)

    def _directory_chosen(self, entry: DirectoryEntry | None) -> None:
        if entry is None:
            return
        if self._refusal(Action.CLICK2CALL, entry.pbx):
            self._say_unsupported(Action.CLICK2CALL, [entry.pbx])
            if not self._allowed(Action.CLICK2CALL):
                return
        number = entry.number
        if self.session.mask and len(number) >= MASK_MIN_DIGITS:
            number = ""  # privacy mode: a number is never shown in full
            self.notify("privacy mode: type the number to call", severity="warning")
        self._open_click2call(entry.pbx, "", number)

    # -- sending ---------------------------------------------------------------------------
    def _busy(self, action: Action, key: str) -> bool:
        return any(
            f.request.action is action and f.request.key == key for f in self.in_flight.values()
        )

    def _send(
        self,
        requests: Sequence[ActionRequest],
        after: Callable[[Sequence[ActionOutcome]], None] | None = None,
    ) -> None:
        engine = self.session.engine
        if engine is None or not requests:
            return
        started = time.monotonic()
        ids: list[int] = []
        for request in requests:
            flight_id = next(self._flight_ids)
            self.in_flight[flight_id] = InFlight(request, started)
            ids.append(flight_id)
        self._show_status()
        self.run_worker(
            self._perform(engine, tuple(requests), tuple(ids), after),
            group="actions",
            exit_on_error=False,
        )

    async def _perform(
        self,
        engine: Any,
        requests: tuple[ActionRequest, ...],
        ids: tuple[int, ...],
        after: Callable[[Sequence[ActionOutcome]], None] | None,
    ) -> None:
        """Never raises: whatever an action does, the console keeps running."""
        try:
            outcomes: list[ActionOutcome] = list(
                await asyncio.gather(*(engine.perform(r) for r in requests))
            )
        except Exception:
            logger.exception("an action failed unexpectedly")
            self.notify("the action failed unexpectedly (see the log)", severity="error")
            outcomes = []
        finally:
            for flight_id in ids:
                self.in_flight.pop(flight_id, None)
        try:
            self._report(outcomes)
            if after is not None:
                after(outcomes)
            self._show_status()
        except Exception:
            logger.exception("showing an action's result failed")
            self.notify("showing the action's result failed (see the log)", severity="error")

    def _report(self, outcomes: Sequence[ActionOutcome]) -> None:
        if not outcomes:
            return
        if len(outcomes) == 1:
            outcome = outcomes[0]
            request = outcome.request
            title = f"{request.pbx}: {request.label}"
            if outcome.ok:
                self.notify(
                    self._text(f"{request.summary()}: {outcome.message}"), title=title, timeout=4
                )
            else:
                severity: SeverityLevel = (
                    "error" if outcome.status is ActionStatus.FAILED else "warning"
                )
                self.notify(
                    self._text(outcome.message or outcome.status.value),
                    title=f"{title} {outcome.status.value}",
                    severity=severity,
                    timeout=10,
                )
            return
        ok = [o for o in outcomes if o.ok]
        failed = [o for o in outcomes if not o.ok]
        label = outcomes[0].request.label
        lines = [f"{len(ok)} of {len(outcomes)} done"]
        lines += [
            self._text(f"{o.request.pbx}: {o.request.describe_target()}: {o.message}")
            for o in failed[:8]
        ]
        if len(failed) > 8:
            lines.append(f"… and {len(failed) - 8} more (see Events)")
        self.notify(
            "\n".join(lines),
            title=label,
            severity="error" if failed else "information",
            timeout=10 if failed else 4,
        )
