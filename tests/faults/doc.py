"""``docs/fault-matrix.md``: the matrix as the tests see it, written by them, never by hand.

The first table (one row per cell: what the broken PBX shows, and ``check``) is what every
run must see again: each cell compares its row with the committed file and fails on any
difference, so the file cannot drift from the code. The figures after it (updates, hold-ups,
stalls, memory) differ from run to run; they are those of the run that wrote the file.

``make faults-doc`` rewrites the file (``PBXTUI_WRITE_FAULT_MATRIX=docs/fault-matrix.md``).
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tests.faults.matrix import (
    BAD_TIMEOUT,
    FAULTS,
    INTERVAL,
    KINDS,
    CellResult,
    Fault,
    normalized,
)
from tests.faults.watch import STALL_LIMIT, LoopWatch

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "fault-matrix.md"
WRITE_ENV = "PBXTUI_WRITE_FAULT_MATRIX"
MIB = 1024 * 1024

HEADER = (
    "| fault | made by | kind | health | error | the reason on its calls | `check` says |",
    "|---|---|---|---|---|---|---|",
)
FIGURES_HEADER = (
    "| fault | kind | healthy PBX's calls updates | longest hold-up | recovered after "
    "| worst stall | latest wake-up | memory growth |",
    "|---|---|---:|---:|---:|---:|---:|---:|",
)


def row(result: CellResult) -> str:
    fault = result.fault
    cells = (
        fault.name,
        fault.how,
        result.kind,
        result.state.value,
        result.labels.get("calls", ""),
        normalized(result.calls_reason),
        normalized(result.check_reason),
    )
    return "| " + " | ".join(cells) + " |"


def key(fault: Fault, kind: str) -> str:
    return f"| {fault.name} | {fault.how} | {kind} |"


def committed_table() -> list[str]:
    """The rows of the committed file's first table, in order."""
    if not DOC.exists():
        return []
    text = DOC.read_text(encoding="utf-8")
    _, found, rest = text.partition("\n".join(HEADER) + "\n")
    return rest.split("\n\n", 1)[0].splitlines() if found else []


def committed_rows() -> dict[str, str]:
    """The committed table's rows, by their first three columns."""
    rows = {}
    if DOC.exists():
        for line in DOC.read_text(encoding="utf-8").splitlines():
            for fault in FAULTS:
                for kind in KINDS:
                    if line.startswith(key(fault, kind) + " "):
                        rows[key(fault, kind)] = line
    return rows


@dataclass
class Figures:
    result: CellResult
    watch: LoopWatch

    def line(self) -> str:
        result, watch = self.result, self.watch
        stall = watch.worst_stall
        cells = (
            result.fault.name,
            result.kind,
            str(len(result.good_during_fault)),
            f"{max(0.0, result.worst_hold_up(watch)) * 1000:.0f} ms",
            f"{result.recovered_after:.2f} s",
            f"{(stall.stall if stall else 0.0) * 1000:.0f} ms",
            f"{watch.worst_late * 1000:.0f} ms",
            f"{watch.memory_growth / MIB:.0f} MiB",
        )
        return "| " + " | ".join(cells) + " |"


INTRO = f"""# The fault matrix

Every vendor kind against every fault a PBX, a proxy or the network can throw at the
console. Written by the tests in `tests/faults/` (`make faults-doc`), never by hand: every
`make test` run compares each cell with its row below and fails on a difference.

Each cell is one console (the real engine, polling every {INTERVAL:g} s) watching two PBXs of
one kind over real HTTP on 127.0.0.1: one meeting the fault (request timeout
{BAD_TIMEOUT:g} s; 1.5 s for the slow answer, 5 s for the 50 MB body and the gzip bomb, which are
about size), one healthy beside it. While the fault lasts, `check` and `snapshot
--json` run too (in-process, each on an event loop of its own, as a separate command's
would be). Every cell asserts:

- **a specific reason on that PBX**: every resource it polls fails with the error kind shown,
  the reason on its calls and `check`'s line hold the fault's own words (below), and none
  says "internal error";
- **`check` exits 1** (the healthy PBX passes it) and **`snapshot --json` exits 1**, its
  errors all on the broken PBX (`tests/faults/test_commands.py` runs the real commands too);
- **the healthy PBX keeps updating at its rate**: its calls keep coming, and no gap between
  two of them exceeds its interval, its own poll's time and the event loop's own lateness
  by more than 0.5 s;
- **memory stays bounded**: the resident set grows by at most 64 MiB, or for a 50 MB body
  and a gzip bomb (run alone) 224 MiB (six requests in flight, each cut at the 32 MiB limit
  of the calls list, and 32 MiB besides), while the console reads them; a real
  `snapshot --json` and `check` on a gzip bomb stay under 300 MB whole;
- **the event loop never stalls over {STALL_LIMIT * 1000:.0f} ms**: a probe sleeps 10 ms again
  and again; lateness while the operating system ran other work (the process's threads
  ready, waiting for a CPU, as Linux counts it) is not the console's, everything else is;
- **recovery without restart**: the fault clears and the same engine reads the broken PBX's
  calls again by itself (its next poll after the back-off), then all of it after an `r`.

Reasons are shown with what changes from run to run replaced: ports, sizes, and where a
truncated answer was cut.
"""


def render(results: list[tuple[CellResult, LoopWatch]]) -> str:
    by_key = {key(r.fault, r.kind): r for r, _ in results}
    lines = [INTRO, *HEADER]
    for fault in FAULTS:
        for kind in KINDS:
            lines.append(row(by_key[key(fault, kind)]))
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    cpus = os.cpu_count() or 0
    lines += [
        "",
        "## Figures of the run that wrote this file",
        "",
        f"{stamp}, {cpus} CPUs, Python {platform.python_version()}. These differ from run to "
        "run and are not compared. Cells of one fault ran at once (but the 50 MB body and "
        "the gzip bomb, one kind at a time), so the stall, wake-up and memory figures are "
        "those of the whole run of that fault. The hold-up is the longest gap between two "
        "calls updates of the healthy PBX, less its interval, its poll's own time and the "
        "event loop's lateness meanwhile (0 ms: never held up).",
        "",
        *FIGURES_HEADER,
    ]
    order = {key(f, k): i for i, (f, k) in enumerate((f, k) for f in FAULTS for k in KINDS)}
    for result, watch in sorted(results, key=lambda rw: order[key(rw[0].fault, rw[0].kind)]):
        lines.append(Figures(result, watch).line())
    return "\n".join(lines) + "\n"


COLLECTED: list[tuple[CellResult, LoopWatch]] = []
"""The cells run in this session, when the file is being written."""


def writing() -> bool:
    return bool(os.environ.get(WRITE_ENV))


def write_if_complete() -> str:
    """Write the file when every cell ran; returns what was done, for the terminal."""
    if not writing():
        return ""
    seen = {key(r.fault, r.kind) for r, _ in COLLECTED}
    wanted = {key(f, k) for f in FAULTS for k in KINDS}
    if seen != wanted:
        return f"fault matrix: {len(wanted - seen)} cells did not pass; the file is unchanged"
    target = Path(os.environ[WRITE_ENV])
    target = target if target.is_absolute() else ROOT / target
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(COLLECTED), encoding="utf-8")
    return f"fault matrix: wrote {target.relative_to(ROOT)} ({len(COLLECTED)} cells)"
