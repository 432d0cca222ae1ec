"""One PBX's health in full (``:health PBX``): state, latency, last error, and the tenant's own
figures where its API gives them (peers and channels per node and in total, the credit left),
as last read (they are read rarely, not on every poll)."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from pbxtui.model import PbxHealth
from pbxtui.ui.format import one_line


def health_lines(health: PbxHealth, now: datetime) -> list[str]:
    lines = [f"state: {health.state.value}"]
    if health.latency_ms is not None:
        lines.append(f"latency: {health.latency_ms} ms")
    if health.last_ok is not None:
        lines.append(f"last good poll: {max(0, int((now - health.last_ok).total_seconds()))} s ago")
    if health.last_error:
        lines.append(f"last error: {one_line(health.last_error)}")
    figures = health.figures
    if figures is not None:
        age = max(0, int((now - figures.read_at).total_seconds()))
        lines.append(f"tenant figures (read {age} s ago):")
        lines += [f"  {line}" for line in figures.lines()]
    else:
        lines.append(
            "tenant figures: none read (PBX Cloud's are read soon after start, then every "
            "5 min; the other vendors' APIs have none)"
        )
    return lines


class HealthModal(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close"), Binding("q", "close", "Close", show=False)]

    def __init__(self, pbx: str, lines: list[str]) -> None:
        super().__init__(classes="modal")
        self.pbx, self.lines = pbx, lines

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Health of {self.pbx}", classes="title")
            yield Static("\n".join(self.lines), markup=False, id="health-lines")
            yield Static("Esc to close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
