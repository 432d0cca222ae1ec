"""``Enter`` on a row: every normalized field of the record, the vendor's own words beside
them (the only place on screen they are shown), its unique ids, and the records the engine
linked it to (an extension's or a lamp's call by ``call_id``, a call's extensions, an agent's
queue). Numbers are masked in privacy mode; the view scrolls and fits 80x24."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from pbxtui.model import Agent, BlfLamp, Call, Extension, PbxState, Peer, Record
from pbxtui.ui.format import format_duration, mask_text, one_line
from pbxtui.ui.views import peer_word

MAX_VALUE = 200
NONE = "—"

UNIQUE_ID = re.compile(r"\d{9,}\.\d+")
"""An Asterisk unique id (``1741944400.12``: epoch seconds and a sequence): not a phone
number, so privacy mode leaves it whole — it is what ties a call to the PBX's own logs."""

LABELS = {
    "id": "id",
    "state_raw": "vendor's word",
    "status_raw": "vendor's status",
    "unique_id": "unique id",
    "bridged_channel": "other leg's channel",
    "bridged_unique_id": "other leg's unique id",
    "call_id": "call id",
    "caller_name": "caller name",
    "callee_name": "callee name",
    "backend_link": "CRM link",
    "observed_at": "observed at",
    "latency_ms": "latency",
    "queue_id": "queue id",
    "pause_reason": "pause reason",
    "paused_since": "paused since",
    "longest_wait": "longest wait",
    "agents_available": "agents available",
    "agents_busy": "agents busy",
    "agents_paused": "agents paused",
    "agents_total": "agents",
    "service_level": "service level",
}
"""Field → how the view names it (other fields: their name with spaces)."""

SECONDS = frozenset({"duration", "longest_wait"})


@dataclass(frozen=True)
class Details:
    title: str
    sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    """(heading, ((field, value), ...)) — the record first, then what it is linked to."""
    link: str = ""
    """The caller's page in the CRM (the call's, or the linked call's ``backend_link``)."""


def _text(value: str, *, mask: bool) -> str:
    text = one_line(value)[:MAX_VALUE]
    if not text:
        return NONE
    if mask and not UNIQUE_ID.fullmatch(text):
        return mask_text(text)
    return text


def _value(name: str, value: object, *, mask: bool) -> str:
    """One field as shown; only text is masked (a date or a count is no phone number)."""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return NONE
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if name in SECONDS and isinstance(value, int):
        return f"{format_duration(value)} ({value} s)"
    if name == "latency_ms" and isinstance(value, int):
        return f"{value} ms"
    if name == "service_level" and isinstance(value, float):
        return f"{value:.0f} %"
    if isinstance(value, tuple | list):
        return _text(", ".join(str(v) for v in value), mask=mask)
    return _text(str(value), mask=mask)


def _fields(record: Record, *, mask: bool, now: datetime | None) -> tuple[tuple[str, str], ...]:
    rows: list[tuple[str, str]] = []
    for name in type(record).model_fields:
        value = getattr(record, name)
        if name == "duration" and isinstance(record, Call) and now is not None:
            value = record.duration_now(now)
        rows.append((LABELS.get(name, name.replace("_", " ")), _value(name, value, mask=mask)))
        if name == "name" and isinstance(record, Peer):
            rows.append(("state", peer_word(record.registered)))  # a peer's normalized word
    return tuple(rows)


def _linked(record: Record, state: PbxState | None) -> list[tuple[str, Record]]:
    """What the engine joined ``record`` to, on its own PBX (calls by ``call_id``, never by
    matching numbers); an extension, a lamp or an agent also shows its extension's record."""
    if state is None:
        return []
    found: list[tuple[str, Record]] = []
    calls = {c.id: c for c in state.calls()}
    if isinstance(record, Extension | BlfLamp) and record.call_id in calls:
        found.append(("its call", calls[record.call_id]))
    if isinstance(record, Call):
        found += [
            (f"extension {e.number} (on this call)", e)
            for e in state.extensions()
            if e.call_id == record.id
        ]
    if isinstance(record, BlfLamp | Agent) and record.extension:
        extension = next((e for e in state.extensions() if e.number == record.extension), None)
        if extension is not None:
            found.append((f"extension {record.extension}", extension))
    if isinstance(record, Agent) and record.queue_id:
        queue = next((q for q in state.queues() if q.id == record.queue_id), None)
        if queue is not None:
            found.append((f"queue {queue.name or queue.id}", queue))
    return found


def details_of(
    record: Record, state: PbxState | None, *, mask: bool, now: datetime | None = None
) -> Details:
    """``now``: durations as of then (else as the PBX reported them at ``observed at``)."""
    kind = type(record).__name__.lower()
    sections = [(f"{kind} on {record.pbx}", _fields(record, mask=mask, now=now))]
    linked = _linked(record, state)
    sections += [(heading, _fields(other, mask=mask, now=now)) for heading, other in linked]
    calls = [record] + [other for _, other in linked]
    link = next((c.backend_link for c in calls if isinstance(c, Call) and c.backend_link), "")
    return Details(
        title=f"{record.pbx}: {kind} {_text(record.id, mask=mask)}",
        sections=tuple(sections),
        link=one_line(link),
    )


class DetailModal(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
        Binding("c", "copy_link", "Copy CRM link", show=False),
    ]

    def __init__(self, details: Details) -> None:
        super().__init__(classes="modal")
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog details"):
            yield Label(self.details.title, classes="title", markup=False)
            with VerticalScroll(id="details-body"):
                for heading, rows in self.details.sections:
                    yield Label(heading, classes="heading", markup=False)
                    yield Static(_grid(rows), classes="fields")
            copy = " · c copies the CRM link" if self.details.link else ""
            yield Static(f"↑ ↓ PgUp PgDn scroll{copy} · Esc or Enter closes", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#details-body", VerticalScroll).focus()  # the arrows scroll it

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy_link(self) -> None:
        """The CRM link to the clipboard: OSC 52, so it reaches the operator's own machine
        over SSH too (where the terminal allows it)."""
        if not self.details.link:
            self.notify("this record has no CRM link", severity="warning")
            return
        self.app.copy_to_clipboard(self.details.link)
        self.notify("CRM link copied")


def _grid(rows: Sequence[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in rows:
        grid.add_row(Text(name), Text(value))  # vendor text is never read as markup
    return grid
