"""Rich styles for table cells, taken from the current Textual theme's variables.

Table cells are Rich renderables, so they cannot use ``$success`` directly; this resolves the
theme variables into styles once per theme (and again when the operator switches theme).
No colour is written here: every one comes from the theme.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from rich.style import Style
from textual.color import Color, ColorParseError

from pbxtui.model import AgentState, HealthState, LineState
from pbxtui.ui.format import Level


def _color(variables: Mapping[str, str], name: str) -> Style:
    value = variables.get(name, "")
    try:
        return Style(color=Color.parse(value).rich_color)
    except (ColorParseError, ValueError):
        return Style()


@dataclass(frozen=True)
class Palette:
    ok: Style = field(default_factory=Style)
    warn: Style = field(default_factory=Style)
    alert: Style = field(default_factory=Style)
    accent: Style = field(default_factory=Style)
    info: Style = field(default_factory=Style)
    muted: Style = field(default_factory=lambda: Style(dim=True))
    stale: Style = field(default_factory=lambda: Style(dim=True, italic=True))
    bold: Style = field(default_factory=lambda: Style(bold=True))

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> Palette:
        return cls(
            ok=_color(variables, "success"),
            warn=_color(variables, "warning"),
            alert=_color(variables, "error"),
            accent=_color(variables, "accent"),
            info=_color(variables, "text-primary"),
        )

    def level(self, value: Level) -> Style | None:
        if value is Level.ALERT:
            return self.alert + self.bold
        if value is Level.WARN:
            return self.warn + self.bold
        return None

    def line_state(self, state: LineState) -> Style | None:
        return {
            LineState.IDLE: self.ok,
            LineState.RINGING: self.warn + self.bold,
            LineState.BUSY: self.alert,
            LineState.UNAVAILABLE: self.muted,
            LineState.UNKNOWN: self.muted,
        }[state]

    def agent_state(self, state: AgentState) -> Style | None:
        return {
            AgentState.AVAILABLE: self.ok,
            AgentState.BUSY: self.info,
            AgentState.PAUSED: self.warn,
            AgentState.UNAVAILABLE: self.muted,
        }[state]

    def health(self, state: HealthState) -> Style:
        return {
            HealthState.OK: self.ok,
            HealthState.DEGRADED: self.warn + self.bold,
            HealthState.DOWN: self.alert + self.bold,
            HealthState.STARTING: self.muted,
        }[state]
