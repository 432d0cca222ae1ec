"""The console's heap and Python's garbage collector.

A full collection walks every object the collector tracks; at NOC scale it ran every second
or two and stalled the event loop for 150-250 ms each time, keys unanswered meanwhile. Two
things keep it short: the live tables' rows are plain tuples of strings and numbers, which
the collector does not track (``pbxtui.ui.cells``), and what the console builds at start-up
(modules, classes, Textual's widgets and styles: some 70,000 objects that live as long as
the process) is moved out of the collector's sight once the first frame is up.
"""

from __future__ import annotations

import gc


def freeze_long_lived() -> None:
    """Collect once, then have the collector ignore every object alive now (``gc.freeze``).

    Called once the console is up, on a real terminal only: a test process starts many
    consoles, and what one of them left frozen would never be collected.
    """
    gc.collect()
    gc.freeze()
