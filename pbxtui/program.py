"""The ``pbxtui`` program: what a process of its own does before its commands are imported
(tests invoke ``pbxtui.cli.main`` in theirs and leave the process alone)."""

from __future__ import annotations

import sys

HTTPX_CLI = "httpx._main"
"""httpx's command-line client, which pbxtui never runs. httpx imports it whenever click,
rich and pygments are installed (they are: click and Textual's rich bring them), and with it
pygments and rich's progress bars and syntax highlighting: importing httpx took 153 ms with
it and 75 ms without, measured, on every start. A ``None`` in ``sys.modules`` makes that one
import fail, and httpx then defines a stub ``httpx.main`` in its place, as it does where the
client's dependencies are missing (``httpx/__init__.py``, httpx 0.28)."""


def run() -> None:
    sys.modules.setdefault(HTTPX_CLI, None)  # type: ignore[arg-type]
    from pbxtui.tls import start_building

    start_building()  # beside the imports below: about 30 ms off every start
    from pbxtui.heap import tune_collector

    tune_collector()
    from pbxtui.cli import main

    main()


if __name__ == "__main__":
    run()
