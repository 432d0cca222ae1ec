"""The fault matrix (issue 9): every vendor kind against every fault, each cell asserting a
specific reason on the broken PBX, ``check`` and ``snapshot`` exiting 1, the healthy PBX
beside it never held up, memory bounded, no event-loop stall, and recovery without restart.

The cells of one fault run at once, one kind each (they share nothing but the event loop, as
PBXs in one console do); the two faults that cost memory run one cell at a time, so what is
measured is what one console pays. ``matrix.py`` says how a cell runs, ``doc.py`` how the
table in ``docs/fault-matrix.md`` is written and kept true.
"""

from __future__ import annotations

import anyio
import pytest

from pbxtui import headless
from tests.faults import doc
from tests.faults.matrix import FAULTS, KINDS, CellResult, Env, Fault, run_cell
from tests.faults.watch import STALL_LIMIT, LoopWatch, watching

MIB = 1024 * 1024
MEMORY_LIMIT = 64 * MIB
HEAVY_MEMORY_LIMIT = 224 * MIB
"""Six requests in flight, each cut at 32 MiB (the calls list's limit), and 32 MiB besides."""
HOLD_UP_LIMIT = 0.5

GROUPS: list[tuple[Fault, tuple[str, ...]]] = [
    (fault, (kind,)) if fault.heavy else (fault, KINDS)
    for fault in FAULTS
    for kind in (KINDS if fault.heavy else KINDS[:1])
]


def _id(group: tuple[Fault, tuple[str, ...]]) -> str:
    fault, kinds = group
    return fault.slug if len(kinds) > 1 else f"{fault.slug}-{kinds[0]}"


def problems(result: CellResult, watch: LoopWatch) -> list[str]:
    """What is wrong with one cell ([] when it held everything)."""
    fault, found = result.fault, []
    words = fault.expected(result.kind).lower()
    if result.state not in fault.states:
        found.append(f"health {result.state.value}, expected one of {fault.states}")
    if words not in result.calls_reason.lower():
        found.append(f"calls reason {result.calls_reason!r} lacks {words!r}")
    if words not in result.check_reason.lower():
        found.append(f"check reason {result.check_reason!r} lacks {words!r}")
    wrong = {r: label for r, label in result.labels.items() if label not in ("", fault.label)}
    if wrong or not result.labels.get("calls"):
        found.append(f"error kinds {result.labels}, expected {fault.label!r}")
    internal = [r for r in result.reasons.values() if "internal error" in r.lower()]
    if internal:
        found.append(f"internal errors shown: {internal}")
    if result.check_exit != headless.EXIT_FAILED or not result.check_good:
        found.append(f"check exit {result.check_exit}, healthy PBX ok: {result.check_good}")
    strays = [e for e in result.snapshot_errors if not e.startswith("bad ")]
    if result.snapshot_exit != headless.EXIT_FAILED or strays:
        found.append(f"snapshot exit {result.snapshot_exit}, errors {result.snapshot_errors}")
    held = result.worst_hold_up(watch)
    if held > HOLD_UP_LIMIT:
        found.append(f"the healthy PBX was held up {held:.2f} s beyond its interval")
    if result.recovered_after < 0 or not result.healthy_again:
        found.append("did not recover")
    if not doc.writing():
        committed = doc.committed_rows().get(doc.key(fault, result.kind))
        seen = doc.row(result)
        if committed != seen:
            found.append(
                f"docs/fault-matrix.md says\n  {committed}\nthis run saw\n  {seen}\n"
                "(if the change is meant: make faults-doc)"
            )
    return [f"{result.kind}, {fault.name}: {p}" for p in found]


def loop_problems(fault: Fault, watch: LoopWatch) -> list[str]:
    found = []
    stall = watch.worst_stall
    if stall is not None and stall.stall > STALL_LIMIT:
        found.append(f"the event loop stalled {stall.stall * 1000:.0f} ms")
    limit = HEAVY_MEMORY_LIMIT if fault.heavy else MEMORY_LIMIT
    if watch.memory_growth > limit:
        found.append(f"memory grew {watch.memory_growth / MIB:.0f} MiB (limit {limit / MIB:.0f})")
    return [f"{fault.name}: {p}" for p in found]


SOLO = pytest.mark.solo
"""The faults that cost memory and time on the event loop are measured alone: ``make test``
runs them after the rest, with no other test process beside them (on two cores, a third
worker's load stretched a 32 MiB answer's decompression past the stall limit)."""


@pytest.mark.parametrize(
    "group",
    [pytest.param(g, marks=SOLO) if g[0].heavy else g for g in GROUPS],
    ids=[_id(g) for g in GROUPS],
)
async def test_fault_matrix(group: tuple[Fault, tuple[str, ...]], env: Env) -> None:
    fault, kinds = group
    results: dict[str, CellResult] = {}

    opened: list[str] = []

    async with watching() as watch:

        def started(kind: str) -> None:
            opened.append(kind)
            if len(opened) == len(kinds):
                watch.begin()

        async def cell(kind: str, seed: int) -> None:
            results[kind] = await run_cell(
                kind, fault, env, seed=seed, started=lambda: started(kind)
            )

        async with anyio.create_task_group() as cells:
            for seed, kind in enumerate(kinds):
                cells.start_soon(cell, kind, 10 * seed + 1)
    found = loop_problems(fault, watch)
    for kind in kinds:
        found += problems(results[kind], watch)
    assert not found, "\n".join(found)
    if doc.writing():
        doc.COLLECTED += [(results[kind], watch) for kind in kinds]


def test_the_committed_table_has_every_cell_once_in_order() -> None:
    keys = [row.rsplit(" |", 4)[0] for row in doc.committed_table()]
    keys = ["| " + " | ".join(row.split(" | ")[:3]).removeprefix("| ") + " |" for row in keys]
    assert keys == [doc.key(f, k) for f in FAULTS for k in KINDS]
