"""Lines painted are freed as soon as they are replaced, not left for a full collection.

Seen in the NOC benchmark: the console's memory grew by some 2 MB a minute, for as long as
it ran. Every line the compositor paints across the whole width was divided "at its own
length" and Textual cached that answer, ``[self]``, in the line itself: each line painted
became a cycle that only the garbage collector's rarest (full) collection frees, and at NOC
scale those come minutes apart (``pbxtui.heap``).
"""

from __future__ import annotations

import gc
from typing import ClassVar

from hypothesis import given
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widget import Widget

import pbxtui.ui.app  # noqa: F401  (what the console imports: the fix comes with it)
from pbxtui.ui.strip_cycles import original


class Ticking(Widget):
    """Paints new text on every line at every refresh, as the Calls pane's durations do."""

    DEFAULT_CSS = "Ticking { height: 1fr; }"
    frame: ClassVar[int] = 0

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        text = f"line {y} frame {Ticking.frame}".ljust(width)[:width]
        return Strip([Segment(text, Style(bold=y % 2 == 0))], width)


class TickingApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Ticking()


def strips_tracked() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Strip)


async def test_repainted_lines_are_freed_without_the_garbage_collector() -> None:
    app = TickingApp()
    async with app.run_test(size=(80, 20)) as pilot:
        widget = app.query_one(Ticking)
        await pilot.pause()
        gc.collect()
        gc.disable()
        try:
            before = strips_tracked()
            for frame in range(30):
                Ticking.frame = frame
                widget.refresh()
                await pilot.pause()
            grown = strips_tracked() - before
        finally:
            gc.enable()
    # 30 frames of 20 lines: 600 lines painted. Without the fix each one stays (with the
    # strips made from it) until a collection; with it, only the lines on screen live.
    assert grown < 100, f"{grown} strips left for the garbage collector after 30 frames"


segments = st.lists(
    st.tuples(st.text(alphabet="ab 日", min_size=1, max_size=6), st.sampled_from([None, "bold"])),
    min_size=1,
    max_size=5,
)


def strip_of(parts: list[tuple[str, str | None]]) -> Strip:
    return Strip([Segment(text, Style.parse(style) if style else None) for text, style in parts])


@given(segments, st.lists(st.integers(min_value=0, max_value=40), max_size=4))
def test_dividing_gives_what_textual_gives(
    parts: list[tuple[str, str | None]], cuts: list[int]
) -> None:
    strip = strip_of(parts)
    whole = [*sorted(set(cuts)), strip.cell_length]
    assert list(strip.divide(whole)) == list(original.divide(strip_of(parts), whole))


@given(segments, st.integers(min_value=0, max_value=20), st.integers(min_value=0, max_value=40))
def test_crop_extend_gives_what_textual_gives(
    parts: list[tuple[str, str | None]], start: int, end: int
) -> None:
    strip, style = strip_of(parts), Style(italic=True)
    assert strip.crop_extend(start, end, style) == original.crop_extend(
        strip_of(parts), start, end, style
    )
    at_length = strip.crop_extend(0, strip.cell_length, style)
    assert at_length == strip
