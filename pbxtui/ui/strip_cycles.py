"""Painted lines freed by reference counting, not left in cycles for the garbage collector.

Textual's ``Strip.divide`` caches its answer in the strip it divides, and where the cut is
the strip's own length that answer is ``[self]``; ``Strip.crop_extend`` caches ``self`` the
same way when asked for the whole strip. The compositor divides every line it paints at the
regions' edges, so every line painted across the whole width (all of the console's) became
a cycle: freed only by a full collection, which pbxtui makes rare on purpose
(``pbxtui.heap``). At NOC scale that was 2 MB a minute, for as long as the console ran.

The two methods are wrapped to answer those cases without caching (the answer is the strip
itself either way, so nothing is lost); every other case is Textual's own, cached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import SimpleNamespace

from rich.style import Style
from textual.strip import Strip

original = SimpleNamespace(divide=Strip.divide, crop_extend=Strip.crop_extend)
"""Textual's own methods, as they were before ``install``."""


def install() -> None:
    """Wrap the two methods (once; later calls do nothing)."""
    if Strip.divide is not original.divide:
        return

    def divide(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        # Textual keeps the cuts within the strip before anything else; done once here.
        length = self.cell_length
        kept = [cut for cut in cuts if cut <= length]
        if kept == [length]:
            return [self]
        return original.divide(self, kept)  # type: ignore[no-any-return]

    def crop_extend(self: Strip, start: int, end: int, style: Style | None) -> Strip:
        if start == 0 and end == self.cell_length:
            return self
        return original.crop_extend(self, start, end, style)  # type: ignore[no-any-return]

    Strip.divide = divide  # type: ignore[method-assign]
    Strip.crop_extend = crop_extend  # type: ignore[method-assign]
