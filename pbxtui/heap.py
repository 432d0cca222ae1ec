"""A long-running process's heap and Python's garbage collector (the console's, a collector's).

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
  p99 92 → 36 ms;
* a young collection waits for ``YOUNG_COLLECTION_EVERY`` allocations instead of 700.
  Decoding a poll's answers allocates megabytes of dicts and strings a second, almost all
  freed by reference counting; at 700 the collector ran some 90 times a second over them.
  Measured (the engine alone over 20 PBXs and 10,000 calls): time in the collector 6.0 →
  1.2 s in 25 s, CPU 94 → 71 % of a core with the other two settings.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 50
YOUNG_COLLECTION_EVERY = 10_000


def freeze_long_lived() -> None:
    """Collect once, have the collector ignore every object alive now, and make full
    collections rarer (see the module docstring).

    Called once the console is up, on a real terminal only: a test process starts many
    consoles, and what one of them left frozen would never be collected.
    """
    gc.collect()
    gc.freeze()
    tune_collector()


def tune_collector() -> None:
    """Young and full collections as rare as the module docstring says: for every command
    the ``pbxtui`` program runs (a 10,000-call ``snapshot`` spent an eighth of its time in
    the collector), not for a process that merely imports pbxtui (a test run)."""
    _young, middle, _old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, FULL_COLLECTION_EVERY)
