"""The keys the screen answers now, on one line at the bottom: what Textual's ``Footer``
shows, drawn by one widget.

The ``Footer`` composes a widget per key again whenever the bindings may have changed (a
dialog opened or closed, the cursor moved onto a row another action applies to), and each
time the screen is laid out anew: over a 10,000-call console, opening and closing help cost
~140 ms of CPU, ~20 ms without it (measured in process). Here the line is drawn again only
when the keys it shows, or whether each is enabled, changed.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

DIM = Style(dim=True)
KeyRow = tuple[str, str, str, bool]
"""(key, key as shown, description, enabled)."""


class KeyBar(Widget):
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .key-bar--palette {
        color: $foreground 20%;
    }
    """
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--palette"}
    ALLOW_SELECT = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: tuple[KeyRow, ...] = ()
        self._palette: KeyRow | None = None
        self._spans: list[tuple[int, int, str]] = []
        """Where each key is drawn (start, end, key), for a click."""

    @property
    def rows(self) -> tuple[KeyRow, ...]:
        return self._rows

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        rows: list[KeyRow] = []
        seen: set[str] = set()
        palette: KeyRow | None = None
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if binding.key == self.app.COMMAND_PALETTE_BINDING and self.app.ENABLE_COMMAND_PALETTE:
                palette = self._row(binding, enabled)
                continue
            if not binding.show or binding.action in seen:  # one key per action, as Footer
                continue
            seen.add(binding.action)
            rows.append(self._row(binding, enabled))
        if tuple(rows) != self._rows or palette != self._palette:
            self._rows, self._palette = tuple(rows), palette
            self.refresh()

    def _row(self, binding: Binding, enabled: bool) -> KeyRow:
        return (binding.key, self.app.get_key_display(binding), binding.description, enabled)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        text_style = self.get_component_rich_style("key-bar--description")
        line = Text(no_wrap=True, overflow="crop", end="")
        self._spans = []
        for key, shown, description, enabled in self._rows:
            start = len(line)
            line.append(shown, key_style if enabled else key_style + DIM)
            line.append(f" {description}", text_style if enabled else text_style + DIM)
            self._spans.append((start, len(line), key))
            line.append(" ")
        if self._palette is not None:
            key, shown, description, _ = self._palette
            tail = Text(no_wrap=True, end="")
            tail.append("▏", self.get_component_rich_style("key-bar--palette"))
            tail.append(shown, key_style)
            tail.append(f" {description} ", text_style)
            room = self.size.width - len(line) - len(tail)
            if room >= 0:
                line.append(" " * room)
                self._spans.append((len(line), len(line) + len(tail), key))
                line.append_text(tail)
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
