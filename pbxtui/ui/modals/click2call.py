"""Click2call: connect any extension to any number, on a PBX whose API offers it.

The optional fields a PBX's API honours appear for it (caller id, first-leg timeout,
reverse); for one that schedules calls, "schedule for" with its retries too, and a scheduled
time turns the request into a scheduled call. Submitting returns the request; the flow then
asks for a confirmation naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from pbxtui.model import Click2Call, Click2CallOption, PlaceCall, ScheduleCall
from pbxtui.ui.modals._form import form_footer, no_blink, number_problem
from pbxtui.ui.modals.guard import GuardedModal

SCHEDULE_FORMAT = "%Y-%m-%d %H:%M"
TIMEOUT_RANGE = (1, 300)
MAX_RETRY_RANGE = (0, 20)
RETRY_TIME_RANGE = (1, 86400)


@dataclass(frozen=True)
class Click2CallForm:
    pbxs: tuple[str, ...]
    """The PBXs that can place the call (API offers it, not read-only)."""
    pbx: str
    source: str = ""
    destination: str = ""
    extensions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Extension numbers per PBX, for type-ahead on the source."""
    scheduling: frozenset[str] = frozenset()
    """The PBXs among ``pbxs`` whose API schedules calls (SCHEDULED_CALL)."""
    options: Mapping[str, frozenset[Click2CallOption]] = field(default_factory=dict)
    """The optional settings each PBX's API honours (the others are not offered)."""
    now: datetime | None = None
    """Local wall-clock time, to refuse a schedule in the past (None: not checked)."""
    caller_id_notes: Mapping[str, str] = field(default_factory=dict)
    """Per PBX, what setting a caller id costs there (CloudPlus: the call is not recorded),
    shown as soon as one is typed."""


def _int_problem(what: str, value: str, bounds: tuple[int, int]) -> tuple[int | None, str]:
    if not value:
        return None, ""
    low, high = bounds
    if not value.isdigit() or not low <= int(value) <= high:
        return None, f"the {what} must be a whole number from {low} to {high}"
    return int(value), ""


class Click2CallModal(GuardedModal[PlaceCall | ScheduleCall | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, form: Click2CallForm) -> None:
        super().__init__(classes="modal")
        self.form = form

    def compose(self) -> ComposeResult:
        form = self.form
        with VerticalScroll(classes="dialog"):
            yield Label("Click2call", classes="title")
            yield Static(
                "The PBX rings the source first, then connects it to the destination.",
                classes="note",
            )
            yield Label("PBX:")
            yield Select(
                [(name, name) for name in form.pbxs],
                value=self._initial_pbx,
                allow_blank=False,
                id="pbx",
                compact=True,
            )
            yield Label("From (extension):")
            yield Input(
                value=form.source,
                placeholder="e.g. 201",
                suggester=self._suggester(form.pbx),
                id="source",
                compact=True,
            )
            yield Label("To (number):")
            yield Input(
                value=form.destination,
                placeholder="e.g. 0501234567",
                id="destination",
                compact=True,
            )
            with Horizontal(classes="pair", id="optional"):
                with Vertical(id="caller-id-field"):
                    yield Label("Caller id (optional):")
                    yield Input(placeholder="number shown", id="caller_id", compact=True)
                    yield Static("", id="caller-id-note", classes="warning")
                with Vertical(id="timeout-field"):
                    yield Label("First-leg timeout, s (1-300):")
                    yield Input(placeholder="20", id="timeout", compact=True)
            yield Checkbox("Reverse (ring the destination first)", id="reverse")
            with Vertical(id="extras"):
                yield Label("Schedule for (YYYY-MM-DD HH:MM local, optional):")
                yield Input(placeholder="e.g. 2025-03-14 17:30", id="scheduled_at", compact=True)
                with Horizontal(classes="pair"):
                    with Vertical():
                        yield Label("Max retry (0-20):")
                        yield Input(placeholder="default", id="max_retry", compact=True)
                    with Vertical():
                        yield Label("Retry time, s:")
                        yield Input(placeholder="default", id="retry_time", compact=True)
                    with Vertical():
                        yield Label("Ident:")
                        yield Input(placeholder="organisation", id="ident", compact=True)
            yield from form_footer("Next", "Enter to continue, Esc to cancel")

    @property
    def _initial_pbx(self) -> str:
        form = self.form
        return form.pbx if form.pbx in form.pbxs else form.pbxs[0]

    def _suggester(self, pbx: str) -> SuggestFromList:
        return SuggestFromList(self.form.extensions.get(pbx, ()), case_sensitive=False)

    def on_mount(self, event: events.Mount) -> None:
        no_blink(*self.query(Input), headless=self.app.is_headless)
        self._show_extras(self._initial_pbx)
        target = "#destination" if self.form.source else "#source"
        self.query_one(target, Input).focus()

    def _honours(self, pbx: str, option: Click2CallOption) -> bool:
        return option in self.form.options.get(pbx, frozenset())

    def _show_extras(self, pbx: str) -> None:
        caller_id = self._honours(pbx, Click2CallOption.CALLER_ID)
        timeout = self._honours(pbx, Click2CallOption.TIMEOUT)
        self.query_one("#caller-id-field").display = caller_id
        self.query_one("#timeout-field").display = timeout
        self.query_one("#optional").display = caller_id or timeout
        self.query_one("#reverse").display = self._honours(pbx, Click2CallOption.REVERSE)
        self.query_one("#extras").display = pbx in self.form.scheduling
        self._caller_id_note(pbx)

    def _caller_id_note(self, pbx: str) -> None:
        note = self.form.caller_id_notes.get(pbx, "") if self._value("#caller_id") else ""
        widget = self.query_one("#caller-id-note", Static)
        widget.update(note)
        widget.display = bool(note)

    @on(Input.Changed, "#caller_id")
    def _caller_id_changed(self) -> None:
        self._caller_id_note(str(self.query_one("#pbx", Select).value))

    @on(Select.Changed, "#pbx")
    def _pbx_changed(self, event: Select.Changed) -> None:
        self.query_one("#source", Input).suggester = self._suggester(str(event.value))
        self._show_extras(str(event.value))

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _shown_value(self, pbx: str, option: Click2CallOption, selector: str) -> str:
        return self._value(selector) if self._honours(pbx, option) else ""

    def _options(self, pbx: str, source: str, destination: str) -> tuple[Click2Call | None, str]:
        """Every field this PBX shows, validated (a hidden field counts as empty)."""
        caller_id = self._shown_value(pbx, Click2CallOption.CALLER_ID, "#caller_id")
        problem = number_problem("caller id", caller_id) if caller_id else ""
        timeout, timeout_problem = _int_problem(
            "first-leg timeout",
            self._shown_value(pbx, Click2CallOption.TIMEOUT, "#timeout"),
            TIMEOUT_RANGE,
        )
        scheduling = pbx in self.form.scheduling
        max_retry, retry_problem = _int_problem(
            "max retry", self._value("#max_retry") if scheduling else "", MAX_RETRY_RANGE
        )
        retry_time, time_problem = _int_problem(
            "retry time", self._value("#retry_time") if scheduling else "", RETRY_TIME_RANGE
        )
        problem = problem or timeout_problem or retry_problem or time_problem
        if problem:
            return None, problem
        ident = self._value("#ident") if scheduling else ""
        when_text = self._value("#scheduled_at") if scheduling else ""
        scheduled_at: datetime | None = None
        if when_text:
            try:
                scheduled_at = datetime.strptime(when_text, SCHEDULE_FORMAT)
            except ValueError:
                return None, "schedule for: use YYYY-MM-DD HH:MM, e.g. 2025-03-14 17:30"
            now = self.form.now
            if now is not None and scheduled_at <= now.replace(tzinfo=None):
                return None, "schedule for: that time has passed"
        elif max_retry is not None or retry_time is not None or ident:
            return None, "max retry, retry time and ident apply only to a scheduled call"
        options = Click2Call(
            source=source,
            destination=destination,
            caller_id=caller_id,
            timeout=timeout,
            reverse=self.query_one("#reverse", Checkbox).value
            and self._honours(pbx, Click2CallOption.REVERSE),
            scheduled_at=scheduled_at,
            max_retry=max_retry,
            retry_time=retry_time,
            ident=ident,
        )
        return options, ""

    @on(Input.Submitted)
    @on(Button.Pressed, "#confirm")
    def action_submit(self) -> None:
        if not self.armed():
            return
        pbx = str(self.query_one("#pbx", Select).value)
        source = self._value("#source")
        destination = self._value("#destination")
        problem = number_problem("source", source) or number_problem("destination", destination)
        dial: Click2Call | None = None
        if not problem:
            dial, problem = self._options(pbx, source, destination)
        if problem or dial is None:
            self.query_one("#error", Static).update(problem)
            return
        request = (
            ScheduleCall(pbx=pbx, dial=dial)
            if dial.scheduled_at is not None
            else PlaceCall(pbx=pbx, dial=dial)
        )
        problem = (
            request.problem(self.form.now)
            if isinstance(request, ScheduleCall)
            else request.problem()
        )
        if problem:
            self.query_one("#error", Static).update(problem)
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
