"""The ``pbxtui`` program: what a process of its own does before its commands are imported
(tests invoke ``pbxtui.cli.main`` in theirs and leave the process alone)."""

from __future__ import annotations


def run() -> None:
    from pbxtui.tls import start_building

    start_building()  # beside the imports below: about 30 ms off every start
    from pbxtui.heap import tune_collector

    tune_collector()
    from pbxtui.cli import main

    main()


if __name__ == "__main__":
    run()
