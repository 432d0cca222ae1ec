"""``Enter`` on a row: every normalized field of the record, the vendor's own words beside
them, and the record it is linked to (an extension's call, a call's extension)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from pbxtui.model import Agent, BlfLamp, Call, Extension, PbxState, Record
from pbxtui.ui.format import mask_text, one_line

MAX_VALUE = 200


@dataclass(frozen=True)
class Details:
    title: str
    sections: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    """(heading, ((field, value), ...)) — the record first, then what it is linked to."""


def _value(value: object, *, mask: bool) -> str:
    if isinstance(value, Enum):
        text = str(value.value)
    elif isinstance(value, datetime):
        text = value.isoformat(sep=" ", timespec="seconds")
    elif isinstance(value, tuple | list):
        text = ", ".join(str(v) for v in value)
    elif value is None:
        text = "—"
    else:
        text = str(value)
    text = one_line(text)[:MAX_VALUE]
    return mask_text(text) if mask else text


def _fields(record: Record, *, mask: bool) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, _value(getattr(record, name), mask=mask)) for name in type(record).model_fields
    )


def _linked(record: Record, state: PbxState | None) -> list[tuple[str, Record]]:
    if state is None:
        return []
    calls = {c.id: c for c in state.calls()}
    found: list[tuple[str, Record]] = []
    if isinstance(record, Extension | BlfLamp) and record.call_id in calls:
        found.append(("its current call", calls[record.call_id]))
    number = record.extension if isinstance(record, Call | BlfLamp | Agent) else ""
    if number:
        extension = next((e for e in state.extensions() if e.number == number), None)
        if extension is not None and extension is not record:
            found.append((f"extension {number}", extension))
    return found


def details_of(record: Record, state: PbxState | None, *, mask: bool) -> Details:
    kind = type(record).__name__.lower()
    sections = [(f"{kind} on {record.pbx}", _fields(record, mask=mask))]
    sections += [(heading, _fields(r, mask=mask)) for heading, r in _linked(record, state)]
    return Details(
        title=f"{record.pbx}: {kind} {_value(record.id, mask=mask)}", sections=tuple(sections)
    )


class DetailModal(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, details: Details) -> None:
        super().__init__(classes="modal")
        self.details = details

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog details"):
            yield Label(self.details.title, classes="title")
            with VerticalScroll():
                for heading, rows in self.details.sections:
                    yield Label(heading, classes="title")
                    yield Static(_grid(rows))
            yield Static("Esc or Enter closes", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)


def _grid(rows: Sequence[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for name, value in rows:
        grid.add_row(name, value)
    return grid
