"""The console: health strip, six live panes, a status line, the `/` and `:` prompt, footer.

The screen composes the panes, repaints them from engine state, and dispatches keys: every
action is a flow of its own (``pbxtui.ui.flows``) on the one shared ladder, and the engine's
policy decides what may be sent. Engine updates arrive as one coalesced ``EngineChanged``
message at a time; while a modal is open nothing is repainted, and the newest state is
applied when it closes. Only the visible pane is rendered; the others catch up when shown.

Keys are routed when they arrive (``take_key``): once `/` or `:` is pressed every following
key goes to the prompt, however fast it comes, and a key typed here never lands on a dialog
that opened after it (``pbxtui.ui.keys``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.widgets import Input, Label, TabbedContent, TabPane

from pbxtui.model import (
    Call,
    Capabilities,
    Change,
    ChangeKind,
    PbxHealth,
    PbxState,
    Resource,
)
from pbxtui.model.history import HistoryQuery
from pbxtui.model.port import YieldsToInput
from pbxtui.ui.call_index import CallIndex
from pbxtui.ui.commands import (
    PALETTE_ACTIONS,
    ConsoleCommands,
)
from pbxtui.ui.flows.agents import PauseFlow, UnpauseFlow
from pbxtui.ui.flows.dialing import (
    CallbackFlow,
    Click2CallFlow,
    DirectoryFlow,
    IvrFlow,
    ScheduledCallFlow,
)
from pbxtui.ui.flows.extras import (
    CampaignFlow,
    FlowLampFlow,
    PeerFlow,
    QueueCallbackFlow,
    QueueResetFlow,
)
from pbxtui.ui.flows.hangup import HangupFlow
from pbxtui.ui.flows.runner import ActionRunner
from pbxtui.ui.flows.transfer import AttendedTransferFlow, BlindTransferFlow
from pbxtui.ui.format import describe_call, mask_text, one_line
from pbxtui.ui.history_link import FinishedCall
from pbxtui.ui.modals.details import DetailModal, details_of
from pbxtui.ui.modals.health_detail import HealthModal, health_lines
from pbxtui.ui.modals.help import show_help
from pbxtui.ui.modals.picker import PbxPicker
from pbxtui.ui.palette import Palette
from pbxtui.ui.repaint_pacing import SLICE_GAP, RepaintPacing
from pbxtui.ui.screens.availability import ACTION_NEEDS, Availability
from pbxtui.ui.screens.command_mode import CommandMode
from pbxtui.ui.screens.history import HistoryRequest, HistoryScreen
from pbxtui.ui.session import Session
from pbxtui.ui.updates import EngineChanged, EngineReady, EngineStopped
from pbxtui.ui.views import ViewContext
from pbxtui.ui.widgets.health import HealthStrip
from pbxtui.ui.widgets.key_bar import KeyBar
from pbxtui.ui.widgets.live_table import LiveTable
from pbxtui.ui.widgets.panes import PANES, CallsPane, EventsPane, Pane
from pbxtui.ui.widgets.text import TextLines

T = TypeVar("T")

FILTER_DELAY = 0.1
"""The filter is applied this long after the last key typed in it (typing stays instant)."""
HISTORY_DEFAULT_RANGE = timedelta(days=1)
"""What ``H`` reads when not told: the last day."""


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
        Binding("enter", "details", "Details", show=False),
        Binding("h", "hangup", "Hangup"),
        Binding("t", "transfer", "Xfer"),
        Binding("T", "attended", "Att.xfer", show=False),
        Binding("P", "pause", "Pause"),
        Binding("U", "unpause", "Unpause"),
        Binding("c", "click2call", "Call"),
        Binding("b", "callback", "Callback", show=False),
        Binding("i", "ivr", "IVR call", show=False),
        Binding("D", "directory", "Directory", show=False),
        Binding("f", "flow", "Flow", show=False),
        Binding("Z", "queue_reset", "Reset queue", show=False),
        Binding("B", "reboot_peer", "Reboot", show=False),
        Binding("X", "unregister_peer", "Unregister", show=False),
        Binding("C", "campaign", "Campaign", show=False),
        Binding("k", "queue_callback", "Queue callback", show=False),
        Binding("H", "history", "History"),
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
        "details": "details of the selected row: every field, the vendor's own words",
        "hangup": "hang up the selected (or marked) calls, after a confirmation naming them",
        "transfer": "blind transfer of the selected call (pick a destination, confirm)",
        "attended": "attended transfer: consult, then T again to complete or cancel",
        "pause": "pause the selected (or marked) agents, with a reason",
        "unpause": "unpause the selected (or marked) agents",
        "click2call": "click2call: ring an extension, then connect it to a number",
        "callback": "callback (number masking): the PBX connects two numbers",
        "ivr": "IVR call: the PBX calls a number and plays announcements",
        "flow": "BLF board: toggle the selected flow lamp (or :flow PBX NUMBER STATE)",
        "queue_reset": "reset the selected queue's statistics, confirmed naming it",
        "reboot_peer": "reboot the selected (or marked) peers; every peer: :reboot PBX all",
        "unregister_peer": "unregister the selected peers; every peer: :unregister PBX all",
        "campaign": "start, stop, pause or resume a call campaign (by its id)",
        "queue_callback": "queue callback: the PBX calls a number back when an agent is free",
        "directory": "the PBX's phone directory: type to filter, Enter to call an entry",
        "history": "call history of the PBXs shown (on a recently ended call: its row)",
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
        self.states: dict[str, PbxState] = {
            p.name: placeholder_state(
                p.name,
                p.kind,
                read_only=session.read_only or p.read_only,
                protected=p.protected,
            )
            for p in session.config.pbx
        }
        self.shown_pbxs: tuple[str, ...] = tuple(self.states)
        self.palette = Palette()
        self.panes: dict[str, Pane] = {cls.pane_id: cls() for cls in PANES}
        self.runner = ActionRunner(self)
        self.available = Availability(self)
        self.commands = CommandMode(self)
        self.hangup_flow = HangupFlow(self, self.runner)
        self.transfer_flow = BlindTransferFlow(self, self.runner)
        self.attended_flow = AttendedTransferFlow(self, self.runner)
        self.pause_flow = PauseFlow(self, self.runner)
        self.unpause_flow = UnpauseFlow(self, self.runner)
        self.click2call_flow = Click2CallFlow(self, self.runner)
        self.scheduled_flow = ScheduledCallFlow(self, self.runner)
        self.callback_flow = CallbackFlow(self, self.runner)
        self.ivr_flow = IvrFlow(self, self.runner)
        self.directory_flow = DirectoryFlow(self, self.runner, self.click2call_flow)
        self.flow_flow = FlowLampFlow(self, self.runner)
        self.queue_reset_flow = QueueResetFlow(self, self.runner)
        self.reboot_flow = PeerFlow(self, self.runner, reboot=True)
        self.unregister_flow = PeerFlow(self, self.runner, reboot=False)
        self.campaign_flow = CampaignFlow(self, self.runner)
        self.queue_callback_flow = QueueCallbackFlow(self, self.runner)
        self._prompt_mode = ""
        self._stale_panes: set[str] = set(self.panes)
        self._pending = False
        self._pacing = RepaintPacing()
        """PBX states taken from the buffer and not yet shown, and when to show them."""
        self._slice_timer: asyncio.TimerHandle | None = None
        self._render_timer: asyncio.TimerHandle | None = None
        self._render_due = 0.0
        self._filter_timer: Timer | None = None
        self._typed_filter = ""
        self.call_index = CallIndex()
        self._bindings_key: tuple[object, ...] = ()

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
        yield KeyBar(id="keys")

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

    def on_unmount(self) -> None:
        for pending in (self._render_timer, self._slice_timer):
            if pending is not None:
                pending.cancel()

    def _theme_changed(self, theme: Theme) -> None:
        self.palette = Palette.from_variables(self.app.get_css_variables())
        self._stale_panes = set(self.panes)
        self.render_all()

    # -- what flows need (FlowHost) --------------------------------------------------------
    @property
    def active_pane(self) -> Pane:
        active = self.query_one("#tabs", TabbedContent).active or "calls"
        return self.panes[active]

    @property
    def is_active(self) -> bool:
        return self.app.screen is self

    def now(self) -> datetime:
        return self.session.clock()

    def push(self, screen: Screen[T], done: Callable[[T | None], None]) -> None:
        self.app.push_screen(screen, done)

    def start(self, work: Coroutine[Any, Any, None]) -> None:
        self.run_worker(work, group="actions", exit_on_error=False)

    def number(self, value: str) -> str:
        return mask_text(value) if self.session.mask else value

    def text(self, value: str) -> str:
        return mask_text(one_line(value)) if self.session.mask else one_line(value)

    def describe(self, call: Call) -> str:
        return describe_call(call, self.now(), mask=self.session.mask)

    def extension_choices(self, pbx: str) -> tuple[tuple[str, str], ...]:
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

    def add_event(self, pbx: str, text: str) -> None:
        events_pane = self.panes["events"]
        if isinstance(events_pane, EventsPane):
            change = Change(at=self.now(), pbx=pbx, kind=ChangeKind.ACTION, text=text, ok=False)
            events_pane.add([change])
            self._stale_panes.add("events")

    # -- keys ------------------------------------------------------------------------------
    def take_key(self, event: events.Key) -> bool:
        """See the module docstring: the prompt takes every key from the `/` or `:` on."""
        if not self.is_active:
            return False
        prompt = self.query_one("#prompt", Input)
        if self._prompt_mode:
            if self.focused is not prompt:
                self.set_focus(prompt)
            return False
        if isinstance(self.focused, Input):
            return False
        if event.key in ("slash", "colon"):
            self.open_prompt("filter" if event.key == "slash" else "command")
            return True
        action = self._binding_action(event.key)
        if action is None or action not in ACTION_NEEDS:
            return False
        # The footer dims an action the selected row's PBX cannot do, and Textual then runs
        # no binding: the key still says why. On a pane it does not apply to it is only said;
        # elsewhere the flow runs, so the policy's refusal is audited and told.
        why = self.available.wrong_pane(action)
        if why:
            self.notify(why, severity="warning")
            return True
        if self.why_not(action):
            getattr(self, f"action_{action}")()
            return True
        return False

    def _binding_action(self, key: str) -> str | None:
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and key in binding.key.split(","):
                return binding.action
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.available.check(action)

    def why_not(self, action: str) -> str:
        return self.available.why_not(action)

    def _bindings_may_have_changed(self) -> None:
        # What the footer shows, not the row's PBX: a footer is rebuilt (a layout of the
        # screen) when this changes, and a cursor crossing PBXs that can do the same
        # actions changes nothing in it.
        key = (self.active_pane.pane_id, *(self.available.check(a) for a in ACTION_NEEDS))
        if key != self._bindings_key:
            self._bindings_key = key
            self.refresh_bindings()

    # -- state -----------------------------------------------------------------------------
    def context(self) -> ViewContext:
        return ViewContext(
            now=self.now(),
            pbxs={n: self.states[n] for n in self.shown_pbxs if n in self.states},
            palette=self.palette,
            thresholds=self.session.config.settings.thresholds,
            mask=self.session.mask,
            calls=self.call_index,
        )

    def on_engine_ready(self, message: EngineReady) -> None:
        self._engine_ready()

    def _engine_ready(self) -> None:
        engine = self.session.engine
        if engine is None:
            return
        self.states.update(engine.state())
        self._stale_panes = set(self.panes)
        self.refresh_bindings()
        if self.is_active:
            self.render_all()

    def on_engine_stopped(self, message: EngineStopped) -> None:
        self.session.stopped = message.reason
        self.notify(message.reason, title="Engine stopped", severity="error", timeout=30)

    def on_engine_changed(self, message: EngineChanged) -> None:
        if not self.is_active:
            self._pending = True
            return
        self.apply_updates()

    def on_screen_resume(self) -> None:
        if self._pending or self.session.buffer.pending or self._pacing.backlog:
            # The console comes back as it was first, and what changed meanwhile is painted
            # a frame later: closing a dialog is not held up by the repaint it missed.
            self.call_after_refresh(self._apply_if_active)
        else:
            self._tick()

    def _apply_if_active(self) -> None:
        if self.is_active:
            self.apply_updates()
        else:
            self._pending = True

    def apply_updates(self) -> None:
        """Take everything buffered and repaint once (never while a modal is open), when
        the pacing allows (``pbxtui.ui.repaint_pacing``): a repaint costs what changed (rows
        are rebuilt per changed record, lines repainted per changed line), so it comes
        promptly, but never so often that many PBXs answering at once keep the loop busy."""
        due = self._pacing.due(pushed=self.session.buffer.pushed)
        wait = due - time.monotonic()
        if wait > 0:
            if self._render_timer is None or due < self._render_due:
                if self._render_timer is not None:
                    self._render_timer.cancel()
                self._render_timer = self._soon(wait, self._deferred_render)
                self._render_due = due
            return
        started = time.perf_counter()
        self._pending = False
        states, changes = self.session.buffer.take()
        calls = self.panes["calls"]
        if changes and isinstance(calls, CallsPane):
            calls.recent_spec.recent.note(self.states, changes)  # as they were last shown
        events_pane = self.panes["events"]
        if changes and isinstance(events_pane, EventsPane):
            events_pane.add(changes)
        self._pacing.begin(states)
        self._render_slice(started)

    def _render_slice(self, started: float | None = None) -> None:
        """Bring the next slice of PBXs up to date and repaint; the next slice is due
        ``SLICE_GAP`` later, so what waits (a key) goes in between."""
        started = time.perf_counter() if started is None else started
        self._paint_undisturbed()
        self.states.update(self._pacing.next_slice())
        self._stale_panes = set(self.panes)
        self.render_all()
        self._pacing.painted(time.perf_counter() - started, time.monotonic())
        if self._pacing.backlog and self._slice_timer is None:
            # One chain of slices: a repaint that comes meanwhile joins it.
            self._slice_timer = self._soon(SLICE_GAP, self._next_slice)

    def _soon(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """``callback`` on this screen's message queue ``delay`` seconds from now, as
        ``set_timer`` would, on the event loop's own timer: ``set_timer`` starts a task for
        every timer, and at 20 PBXs updating the repaints asked for tens of them a second
        (3 % of the console's samples)."""
        return asyncio.get_running_loop().call_later(delay, self.call_later, callback)

    def _paint_undisturbed(self) -> None:
        """A repaint starts: an engine in a thread of this process gives way until its frame
        is drawn (on a terminal only: headless, under Pilot, no frame is waited for)."""
        engine = self.session.engine
        if isinstance(engine, YieldsToInput) and not self.app.is_headless:
            self.call_after_refresh(engine.painting())

    def _next_slice(self) -> None:
        self._slice_timer = None
        if not self._pacing.backlog:
            return
        if self.is_active:
            self._render_slice()
        else:
            self._pending = True

    def _deferred_render(self) -> None:
        self._render_timer = None
        self._apply_if_active()

    def render_all(self) -> None:
        """Show the newest state: the health strip and the visible pane (if it is behind)."""
        ctx = self.context()
        self._show_health(ctx, moving=False)  # latencies and ages: at the next tick
        pane = self.active_pane
        if pane.pane_id in self._stale_panes:
            pane.show(ctx)
            self._stale_panes.discard(pane.pane_id)
        self.show_status()

    def _show_health(self, ctx: ViewContext, *, moving: bool = True) -> None:
        self.query_one(HealthStrip).show(
            self.states,
            ctx.now,
            self.palette,
            read_only=self.session.read_only,
            mask=self.session.mask,
            moving=moving,
        )

    def _tick(self) -> None:
        """Once a second: durations and ages move on, without polling and without re-sorting."""
        if self.is_active:
            self._paint_undisturbed()
            ctx = self.context()
            self._show_health(ctx)
            self.active_pane.tick(ctx)
            if self.runner.in_flight:
                self.show_status()

    def show_status(self) -> None:
        pane = self.active_pane
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        text.append(pane.status())
        names = self.session.pbx_names
        if len(self.shown_pbxs) < len(names):
            text.append(
                f"   PBXs: {', '.join(self.shown_pbxs)} ({len(self.shown_pbxs)} of {len(names)})",
                self.palette.accent,
            )
        for consultation in self.attended_flow.pending():
            text.append(
                f"   attended transfer on {consultation.pbx}: "
                f"{consultation.transferer or '?'} → {self.number(consultation.destination)}"
                " — T to complete or cancel",
                self.palette.warn,
            )
        for line in self.runner.describe(time.monotonic()):
            text.append(f"   {self.text(line)}", self.palette.warn)
        self.query_one("#status", TextLines).update(text)
        self._bindings_may_have_changed()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        self._stale_panes.add(self.active_pane.pane_id)
        self.render_all()
        if not self._prompt_mode:
            self.active_pane.focus_main()

    @on(LiveTable.Sorted)
    @on(LiveTable.Highlighted)
    def _table_moved(self) -> None:
        self.show_status()

    # -- navigation ------------------------------------------------------------------------
    def action_pane(self, pane_id: str) -> None:
        self.query_one("#tabs", TabbedContent).active = pane_id

    def action_mark(self) -> None:
        if self.active_pane.toggle_mark():
            self.show_status()

    def action_escape(self) -> None:
        if self._prompt_mode:
            self.close_prompt(clear=self._prompt_mode == "filter")
            return
        pane = self.active_pane
        if not pane.clear_marks():
            if not pane.needle:
                return
            pane.set_needle("")
        pane.show(self.context())
        self.show_status()

    def action_cycle_sort(self) -> None:
        section = self.active_pane.active
        if section is not None:
            section.table.cycle_sort()
            self.show_status()

    def action_reverse_sort(self) -> None:
        section = self.active_pane.active
        if section is not None:
            section.table.set_sort(section.table.sort_column, not section.table.sort_reverse)
            self.show_status()

    def action_longest(self) -> None:
        section = self.active_pane.active
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
        self.show_status()

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
            rows.append(
                (
                    self.app.get_key_display(binding),
                    description + self.available.support(binding.action),
                )
            )
        rows += [
            ("↑ ↓ PgUp PgDn", "move in the current table"),
            ("tab", "next table (queues → agents) / next widget"),
            ("click a header", "sort by that column (again: reverse)"),
            ("ctrl+p", "command palette: every action, searchable"),
            ("on History (H)", "/ filter · s S sort · ⏎ details · e CSV · R recording · esc back"),
        ]
        show_help(self.app, rows)

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

    def action_show_all(self) -> None:
        self.show_pbxs(self.states)

    def action_only(self, name: str) -> None:
        self.show_pbxs([name])

    @on(LiveTable.Selected)
    def _row_selected(self) -> None:
        self.action_details()

    def action_details(self) -> None:
        finished = self._finished_call()
        if finished is not None:
            self.open_history(focus=finished)
            return
        record = self.active_pane.current()
        if record is None:
            self.notify("select a row first", severity="warning")
            return
        state = self.states.get(record.pbx)
        self.app.push_screen(
            DetailModal(details_of(record, state, mask=self.session.mask, now=self.now()))
        )

    # -- history ---------------------------------------------------------------------------
    def _finished_call(self) -> FinishedCall | None:
        pane = self.active_pane
        return pane.finished_call() if isinstance(pane, CallsPane) else None

    def action_history(self) -> None:
        self.open_history(focus=self._finished_call())

    def open_history(
        self,
        *,
        pbxs: Iterable[str] | None = None,
        number: str = "",
        since: datetime | None = None,
        focus: FinishedCall | None = None,
    ) -> None:
        """The History screen: of ``pbxs`` (default: those shown), ``number`` since ``since``
        (default: a day); or around the finished call ``focus``, with its row selected."""
        source = self.session.history
        if source is None:
            self.notify(self.session.no_history, severity="warning")
            return
        if self.session.engine is None:
            self.notify("still connecting", severity="warning")
            return
        try:
            if focus is not None:
                names: tuple[str, ...] = (focus.pbx,)
                query = focus.query(self.now())
            else:
                # Up to the console's now, not an open range: the clock the rows are shown
                # by is the one the range is read by (``r`` on History moves it on).
                now = self.now()
                names = tuple(pbxs) if pbxs is not None else self.shown_pbxs
                query = HistoryQuery(
                    since=since or now - HISTORY_DEFAULT_RANGE, until=now, number=number
                )
        except ValidationError as exc:
            reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            self.notify(reason, title="History", severity="error")
            return
        request = HistoryRequest(names, query, focus)
        kinds = {name: state.kind for name, state in self.states.items()}
        self.app.push_screen(
            HistoryScreen(
                request,
                source,
                self.session.media,
                zone=self.now().tzinfo,
                clock=self.now,
                mask=self.session.mask,
                kinds=kinds,
            )
        )

    # -- actions: each is a flow -----------------------------------------------------------
    def action_hangup(self) -> None:
        self.hangup_flow.start()

    def action_transfer(self) -> None:
        self.transfer_flow.start()

    def action_attended(self) -> None:
        self.attended_flow.start()

    def action_pause(self) -> None:
        self.pause_flow.start()

    def action_unpause(self) -> None:
        self.unpause_flow.start()

    def action_click2call(self) -> None:
        self.click2call_flow.start()

    def action_scheduled_call(self) -> None:
        self.scheduled_flow.start()

    def action_callback(self) -> None:
        self.callback_flow.start()

    def action_ivr(self) -> None:
        self.ivr_flow.start()

    def action_directory(self, pbx: str = "") -> None:
        self.directory_flow.start(pbx)

    def action_flow(self) -> None:
        self.flow_flow.start()

    def action_queue_reset(self) -> None:
        self.queue_reset_flow.start()

    def action_reboot_peer(self) -> None:
        self.reboot_flow.start()

    def action_unregister_peer(self) -> None:
        self.unregister_flow.start()

    def action_campaign(self) -> None:
        self.campaign_flow.start()

    def action_queue_callback(self) -> None:
        self.queue_callback_flow.start()

    def show_health(self, pbx: str) -> None:
        state = self.states.get(pbx)
        if state is None:
            return
        lines = health_lines(state.health, self.now())
        self.app.push_screen(HealthModal(pbx, [self.text(line) for line in lines]))

    # -- the prompt: / filter and : commands ----------------------------------------------
    def action_filter(self) -> None:
        self.open_prompt("filter")

    def action_command(self) -> None:
        self.open_prompt("command")

    def open_prompt(self, mode: str) -> None:
        """Show the prompt and focus it now (not on the next refresh: see take_key)."""
        self._prompt_mode = mode
        # In the footer's row, as a command line: the panes keep their size, so opening the
        # prompt repaints one line, not a relaid-out screen of 10,000-call panes.
        self.query_one(KeyBar).display = False
        self.query_one("#prompt-bar").display = True
        self.query_one("#prompt-label", Label).update("/" if mode == "filter" else ":")
        prompt = self.query_one("#prompt", Input)
        prompt.placeholder = (
            "filter: text in any column (Esc clears)"
            if mode == "filter"
            else "calls hq · agents paused · pbx all · help"
        )
        prompt.value = self.active_pane.needle if mode == "filter" else ""
        self.set_focus(prompt)

    def close_prompt(self, *, clear: bool = False, focus: bool = True) -> None:
        mode, self._prompt_mode = self._prompt_mode, ""
        self.query_one("#prompt-bar").display = False
        self.query_one(KeyBar).display = True
        if clear and mode == "filter":
            self._typed_filter = ""
            self._apply_filter()
        elif self._filter_timer is not None:
            self._apply_filter()  # what was typed is what is shown once the prompt closes
        if focus:
            self.active_pane.focus_main()
        self.show_status()

    @on(Input.Changed, "#prompt")
    def _prompt_changed(self, event: Input.Changed) -> None:
        """Typing shows at once; the rows follow ``FILTER_DELAY`` after the last key."""
        if self._prompt_mode == "filter":
            self._typed_filter = event.value.strip()
            if self._filter_timer is not None:
                self._filter_timer.stop()
            self._filter_timer = self.set_timer(FILTER_DELAY, self._apply_filter)

    def _apply_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        pane = self.active_pane
        if pane.needle != self._typed_filter:
            pane.set_needle(self._typed_filter)
            pane.show(self.context())
        self.show_status()

    def _focus_shown_pane(self) -> None:
        """After a command: the focus in the pane shown (the agents table after :agents)."""
        focused = self.focused
        if self._prompt_mode or isinstance(focused, Input):
            return
        pane = self.active_pane
        if focused is None or pane not in focused.ancestors:
            pane.focus_main()

    @on(Input.Submitted, "#prompt")
    def _prompt_submitted(self, event: Input.Submitted) -> None:
        mode = self._prompt_mode
        # A command may change pane: focusing the old pane's table first would make the tabs
        # switch back to it. The pane shown after the command gets the focus.
        self.close_prompt(focus=mode != "command")
        if mode == "command":
            self.commands.run(event.value)
            self.call_after_refresh(self._focus_shown_pane)

    # -- the command palette ---------------------------------------------------------------
    async def palette_run(self, action: str) -> None:
        if action in ACTION_NEEDS:
            getattr(self, f"action_{action}")()  # the flow says why if it cannot
        else:
            await self.run_action(action)

    def palette_commands(self) -> list[tuple[str, str, str]]:
        commands = []
        for name, help_text, action in PALETTE_ACTIONS:
            why = self.why_not(action)
            commands.append((name, f"{help_text} — {why}" if why else help_text, action))
        for number, pane in enumerate(self.panes.values(), start=1):
            commands.append((f"Go to {pane.title}", f"pane {number}", f"pane('{pane.pane_id}')"))
        for name in self.states:
            commands.append(
                (f"Show only {name}", f"hide the other PBXs ({name})", f"only('{name}')")
            )
        return commands
