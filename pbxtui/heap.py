"""A long-running process's heap and Python's garbage collector (the console's, a collector's).

A full collection walks every object the collector tracks, and the event loop waits
meanwhile. At NOC scale (10,000 calls, each poll of a PBX making its calls anew) full
collections came every second or two and took 150-250 ms: keys went unanswered that long.
These keep them short and rare:

* the live tables' rows are plain tuples of strings and numbers, which the collector does
  not track (``pbxtui.ui.cells``);
* the lines the console paints are freed by reference counting, not left in cycles for a
  full collection to find (``pbxtui.ui.strip_cycles``: 2 MB a minute of garbage before);
* what the console builds at start-up (modules, classes, Textual's widgets and styles: some
  70,000 objects that live as long as the process) is moved out of its sight once the first
  frame is up (``gc.freeze``);
* a full collection waits for ``FULL_COLLECTION_EVERY`` collections of the middle
  generation instead of 10: the calls of one poll die within a second or two, most of them
  before they get that old. Measured (benchmarks/bench_table.py, keys): event-loop stalls
  p99 92 → 36 ms at 50. At NOC scale a full collection walks some 200,000 objects and holds
  the loop 120-180 ms; at 200, one comes every minute or two instead of every 20 s;
* a young collection waits for ``YOUNG_COLLECTION_EVERY`` allocations instead of 700.
  Decoding a poll's answers allocates megabytes of dicts a second, almost all freed by
  reference counting, and a collection walks what survived since the last one. Measured in
  the NOC console (20 PBXs, 10,000 calls, 45 s each): at 700, 3,200 young collections and
  6 full ones (150-200 ms each, as often as the middle generation fills); at 10,000, young
  ones of 12-16 ms and middle ones of 40-56 ms (up to 141 ms), which the keys waited for;
  at 2,000, young 2.7 ms and middle 21 ms on average, 2 full ones. The engine alone: CPU 94
  → 71 % of a core against the interpreter's defaults.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 200
YOUNG_COLLECTION_EVERY = 2_000


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
