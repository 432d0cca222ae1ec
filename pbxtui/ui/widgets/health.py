"""The health strip: one badge per PBX (name, kind, state, latency, data age, last error)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text

from pbxtui.model import HealthState, PbxHealth, PbxState, SourceHealth
from pbxtui.ui.format import format_age, mask_text, seconds_since, truncate
from pbxtui.ui.palette import Palette
from pbxtui.ui.widgets.text import LineText

ERROR_WIDTH = 46
REFUSAL_WIDTH = 30
SEPARATOR = "   "


def badge(state: PbxState, now: datetime, palette: Palette, *, mask: bool = False) -> Text:
    """``● hq pbxcloud ok 23 ms 1s`` or ``● eu pbxcloud DOWN 12s: timeout: no answer…``; a
    push-only PBX ``● cc while1 push-only · last event 4s ago``; refused webhooks
    ``· 3 refused · wrong token`` after any."""
    health = state.health
    style = palette.health(health.state)
    text = Text(no_wrap=True, end="")
    text.append("○ " if health.state is HealthState.STARTING else "● ", style)
    text.append(state.name, palette.bold)
    text.append(f" {state.kind} ", palette.muted)
    if health.push_only and health.state is not HealthState.DOWN:
        _push_only(text, health, now, palette)
    else:
        _polled(text, health, now, palette, mask=mask)
    _pushes(text, health, palette, mask=mask)
    return text


def _flags(text: Text, health: PbxHealth, palette: Palette) -> None:
    if health.read_only:
        text.append(" RO", palette.accent + palette.bold)
    if health.protected:
        text.append(" PROT", palette.warn)
    if not health.tls_verified:
        text.append(" TLS verification OFF", palette.alert)


def _push_only(text: Text, health: PbxHealth, now: datetime, palette: Palette) -> None:
    """What is known of a PBX with no API to poll is when it last pushed something."""
    text.append("push-only", palette.health(health.state))
    _flags(text, health, palette)
    age = seconds_since(health.last_push, now)
    heard = f"last event {format_age(age)} ago" if age is not None else "no event yet"
    text.append(f" · {heard}", palette.muted)


def _polled(text: Text, health: PbxHealth, now: datetime, palette: Palette, *, mask: bool) -> None:
    style = palette.health(health.state)
    word = health.state.value
    text.append(
        word.upper() if health.state in (HealthState.DOWN, HealthState.DEGRADED) else word, style
    )
    _flags(text, health, palette)
    if health.state is HealthState.STARTING:
        text.append(" waiting for the first answer…", palette.muted)
        return
    if health.state is HealthState.OK and health.latency_ms is not None:
        text.append(f" {health.latency_ms} ms", palette.muted)
    age = seconds_since(health.last_ok, now)
    if health.state is HealthState.OK:
        text.append(f" {format_age(age)}", palette.muted)
        return
    if health.last_error:
        reason = mask_text(health.last_error) if mask else health.last_error
        text.append(" " + truncate(reason, ERROR_WIDTH), style)
    if health.push_only:
        return  # its error is why nothing is heard: there is no data to be old
    stale = f" (data {format_age(age)} old)" if age is not None else " (no data yet)"
    text.append(stale, palette.stale)


def _pushes(text: Text, health: PbxHealth, palette: Palette, *, mask: bool) -> None:
    """A misconfigured sender is seen here: requests refused, and the last one's reason; and
    a receiver that cannot listen, on a polled PBX that also pushes."""
    if health.push_error and not health.push_only:
        reason = mask_text(health.push_error) if mask else health.push_error
        text.append(" · webhooks off: " + truncate(reason, ERROR_WIDTH), palette.warn)
    if health.push_refusals:
        reason = mask_text(health.last_push_refusal) if mask else health.last_push_refusal
        said = f" · {health.push_refusals} refused"
        if reason:
            said += f" · {truncate(reason, REFUSAL_WIDTH)}"
        text.append(said, palette.warn)


def source_badge(health: SourceHealth, palette: Palette, *, mask: bool = False) -> Text:
    """``● names lookup DOWN: http://crm…: HTTP 500``: a source beside the PBXs, once."""
    style = palette.health(health.state)
    text = Text(no_wrap=True, end="")
    text.append("● ", style)
    text.append(health.name, palette.bold)
    text.append(" lookup ", palette.muted)
    text.append(health.state.value.upper(), style)
    if health.last_error:
        reason = mask_text(health.last_error) if mask else health.last_error
        text.append(" " + truncate(reason, ERROR_WIDTH), style)
    return text


def failing_source(states: Mapping[str, PbxState]) -> SourceHealth | None:
    """The names lookup's health when it is failing (every PBX carries the same one)."""
    for state in states.values():
        names = state.health.names
        if names is not None:
            return names if names.state is not HealthState.OK else None
    return None


MOVING = frozenset({"latency_ms", "last_ok", "last_push", "pushes", "consecutive_failures"})
"""What moves on with every poll or push: brought up to date once a second (``HealthStrip.show``
with ``moving``), not at every repaint; all else is shown as soon as it changes."""


def _standing(states: Mapping[str, PbxState]) -> list[tuple[object, ...]]:
    return [
        tuple(v for k, v in s.health.__dict__.items() if k not in MOVING) for s in states.values()
    ]


class HealthStrip(LineText):
    """Badges packed into as many lines as the terminal width needs."""

    DEFAULT_CSS = """
    HealthStrip { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._badges: list[Text] = []
        self._prefix: Text | None = None
        self._packed: tuple[int, Text] | None = None
        self._shown: list[tuple[object, ...]] | None = None

    def show(
        self,
        states: Mapping[str, PbxState],
        now: datetime,
        palette: Palette,
        *,
        read_only: bool = False,
        mask: bool = False,
        moving: bool = True,
    ) -> None:
        """Show ``states``' badges; with ``moving`` false (a repaint between two seconds),
        only if something other than the figures that move on with every poll changed: at
        20 PBXs, the strip was made again at every repaint for its latencies and ages."""
        standing = [(read_only, mask, palette), *_standing(states)]
        if not moving and standing == self._shown:
            return
        self._shown = standing
        badges = [badge(s, now, palette, mask=mask) for s in states.values()]
        source = failing_source(states)
        if source is not None:
            badges.append(source_badge(source, palette, mask=mask))
        prefix = None
        if read_only:
            prefix = Text("READ-ONLY", style=palette.alert + palette.bold, end="")
        if badges != self._badges or prefix != self._prefix:
            width = self.size.width or 80
            lines_before = self._line_count(width)
            self._badges, self._prefix, self._packed = badges, prefix, None
            self.changed(layout=self._line_count(width) != lines_before)

    def plain(self) -> str:
        return self._lines(10_000).plain

    def text_for(self, width: int) -> Text:
        if self._packed is None or self._packed[0] != width:
            self._packed = (width, self._lines(width))
        return self._packed[1]

    def _line_count(self, width: int) -> int:
        return self.text_for(width).plain.count("\n") + 1

    def _lines(self, width: int) -> Text:
        items = ([self._prefix] if self._prefix else []) + self._badges
        lines: list[Text] = []
        current = Text(no_wrap=True, end="")
        for item in items:
            if current.cell_len and current.cell_len + len(SEPARATOR) + item.cell_len > width:
                lines.append(current)
                current = Text(no_wrap=True, end="")
            if current.cell_len:
                current.append(SEPARATOR)
            current.append_text(item)
        if current.cell_len or not lines:
            lines.append(current)
        for line in lines:
            line.truncate(max(1, width), overflow="ellipsis")
        return Text("\n", no_wrap=True, end="").join(lines)
