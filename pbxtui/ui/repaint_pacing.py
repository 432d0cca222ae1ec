"""When the console repaints after engine updates, and which PBXs each slice of a repaint
brings up to date: the timing rules alone, with no widget and no timer (the console screen
keeps those), so they can be read and tested on their own.

* Repaints are at least ``MIN_RENDER_SPACING`` apart and ``RENDER_COST_FACTOR`` times what the
  last one cost (never more than ``MAX_RENDER_SPACING``): many PBXs answering at once cannot
  keep the event loop busy, and what arrives meanwhile is merged into the next repaint.
* What a PBX pushed waits at most ``PUSH_RENDER_SPACING`` after the last repaint.
* A repaint brings ``RENDER_SLICE`` PBXs up to date, the next ones ``SLICE_GAP`` later, the
  oldest news first: a key or a tick waits for one slice, not for the whole repaint.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from pbxtui.model import PbxState

MIN_RENDER_SPACING = 0.25
"""Repaints after engine updates are at least this far apart (updates between merge)."""
MAX_RENDER_SPACING = 1.0
RENDER_COST_FACTOR = 4
"""...and at least this many times what the last one cost: the console stays idle most of
the time whatever the fleet, so keys are answered at once."""
PUSH_RENDER_SPACING = 0.05
"""...but what a PBX pushed waits at most this long after the last repaint: a webhook is
news (a caller ringing now), and shows in Events within 100 ms of arrival."""
RENDER_SLICE = 4
"""PBXs brought up to date per slice of a repaint; the rest follow ``SLICE_GAP`` later. At NOC
scale twenty PBXs answering within one spacing cost 25-35 ms to paint at once (measured): in
slices of four, a key or a tick waits for one slice (~7 ms), not the whole repaint."""
SLICE_GAP = 0.002


@dataclass
class RepaintPacing:
    """The states waiting to be painted, and when the next repaint may come."""

    backlog: dict[str, PbxState] = field(default_factory=dict)
    """Each PBX's newest state not painted yet, the oldest news first."""
    next_render: float = 0.0
    last_render: float = 0.0
    cost: float = 0.0
    """Seconds the slices of the repaint in progress have cost so far."""

    def due(self, *, pushed: bool) -> float:
        """The monotonic time the next repaint may start (sooner for pushed news)."""
        if pushed:
            return min(self.next_render, self.last_render + PUSH_RENDER_SPACING)
        return self.next_render

    def begin(self, states: dict[str, PbxState]) -> None:
        """A repaint starts with these newest states: each goes to the back of the backlog
        (a PBX that changed again is news after the ones still waiting)."""
        for name, state in states.items():
            self.backlog.pop(name, None)
            self.backlog[name] = state
        self.cost = 0.0

    def next_slice(self) -> dict[str, PbxState]:
        """The states the next slice paints, taken off the backlog."""
        names = list(itertools.islice(self.backlog, RENDER_SLICE))
        return {name: self.backlog.pop(name) for name in names}

    def painted(self, cost: float, now: float) -> None:
        """A slice cost ``cost`` seconds and ended at ``now``: the spacing counts every slice
        of the repaint, as if it had been one."""
        self.cost += cost
        self.last_render = now
        spacing = min(MAX_RENDER_SPACING, max(MIN_RENDER_SPACING, RENDER_COST_FACTOR * self.cost))
        self.next_render = now + spacing
