"""The console's heap and Python's garbage collector.

A full collection walks every object the collector tracks, and the event loop waits
meanwhile. At NOC scale (10,000 calls, each poll of a PBX making its calls anew) full
collections came every second or two and took 150-250 ms: keys went unanswered that long.
Three things keep them short and rare:

* the live tables' rows are plain tuples of strings and numbers, which the collector does
  not track (``pbxtui.ui.cells``);
* what the console builds at start-up (modules, classes, Textual's widgets and styles: some
  70,000 objects that live as long as the process) is moved out of its sight once the first
  frame is up (``gc.freeze``);
* a full collection waits for ``FULL_COLLECTION_EVERY`` collections of the middle
  generation instead of 10: the calls of one poll die within a second or two, most of them
  before they get that old. Measured (benchmarks/bench_table.py, keys): event-loop stalls
  p99 92 → 36 ms.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 50


def freeze_long_lived() -> None:
    """Collect once, have the collector ignore every object alive now, and make full
    collections rarer (see the module docstring).

    Called once the console is up, on a real terminal only: a test process starts many
    consoles, and what one of them left frozen would never be collected.
    """
    gc.collect()
    gc.freeze()
    young, middle, _old = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
