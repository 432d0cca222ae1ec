"""Live-table figures at NOC scale, printed next to their targets. Asserts nothing.

``.venv/bin/python benchmarks/bench_table.py`` (``--quick`` for a small run, ``--only NAME``
for one scenario). Four scenarios, each in this process with Textual's headless driver:

* ``table``: the live table alone, 10,000 rows, 10 % of them changing per update: bringing it
  up to date against clearing and refilling the same table, and against a DataTable
  ``clear()`` + ``add_rows`` (what the panes used before), in the same run.
* ``pane``: the Calls pane, 10,000 calls over 20 PBXs: a poll where 10 % of the calls changed
  (and every duration moved on, as drivers report them) against clearing and rebuilding the
  same pane; CPU time from handing the pane the state to the frame being composed.
* ``keys``: the whole console over 10,000 calls changing 10 % a second (every PBX's poll
  lands once a second, one PBX every 50 ms): key press → the next frame composed, p50/p99,
  for cursor keys, ``/`` typing and dialogs; event-loop stalls; console CPU. The polls are
  made in this process as they land (as a driver would make them); their CPU is not counted.
* ``idle``: the demo fleet served by ``pbxtui sim`` in another process, the real console
  polling it: the console's CPU over 20 s; then the same engine updates replayed to a
  console with no engine: the share of it that is painting.

``--console`` opens the console itself on the terminal over the keys scenario's load.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import gc
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the checkout's root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from benchmarks.scenario_pane import bench_config
from pbxtui.config import Config
from pbxtui.heap import freeze_long_lived
from pbxtui.model import (
    Action,
    ActionOutcome,
    ActionRequest,
    ActionStatus,
    Call,
    CallState,
    Capabilities,
    Direction,
    EngineUpdate,
    HealthState,
    PbxHealth,
    PbxState,
    Resource,
    ResourceState,
)
from pbxtui.ui.cells import Cell, cell, num_cell
from pbxtui.ui.widgets.columns import Column
from pbxtui.ui.widgets.live_table import LiveTable

CAPABILITIES = Capabilities(frozenset({Resource.CALLS}), frozenset({Action.HANGUP}))
COLUMNS = (
    Column("pbx", "PBX", 10),
    Column("channel", "Channel", 26),
    Column("caller", "Caller", 14),
    Column("callee", "Callee", 14),
    Column("state", "State", 8),
    Column("duration", "Duration", 9),
)


@dataclass(frozen=True)
class Plan:
    rows: int = 10_000
    pbxs: int = 20
    churn: float = 0.10
    rounds: int = 5
    key_seconds: float = 20.0
    """How long the keys scenario runs (the polls keep landing meanwhile)."""
    idle_seconds: float = 20.0
    warm_up: float = 2.0
    """Seconds the keys scenario runs before it measures (every PBX has polled twice)."""


QUICK = Plan(rows=600, pbxs=4, rounds=2, key_seconds=3.0, idle_seconds=3.0)
SMOKE = Plan(rows=120, pbxs=2, rounds=1, key_seconds=0.5, idle_seconds=0.5, warm_up=0.3)
"""The test suite's run: every scenario, tiny, to keep them working (figures meaningless)."""


# -- reporting ---------------------------------------------------------------------------------
@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def figure(self, what: str, value: str, target: str = "", ok: bool | None = None) -> None:
        mark = {True: "ok", False: "MISSED", None: ""}[ok]
        line = f"  {what:<58} {value:>24}   {('target ' + target) if target else '':<16} {mark}"
        self.lines.append(line.rstrip())
        print(self.lines[-1], flush=True)

    def title(self, text: str) -> None:
        self.lines.append(text)
        print(text, flush=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def cpu_and_wall() -> Iterator[list[float]]:
    """Yields a list that holds [cpu seconds, wall seconds] once the block ends."""
    out: list[float] = []
    cpu, wall = time.process_time(), time.perf_counter()
    yield out
    out += [time.process_time() - cpu, time.perf_counter() - wall]


# -- the table alone ---------------------------------------------------------------------------
def table_row(i: int, duration: int) -> list[Cell]:
    return [
        cell(f"pbx{i % 20:02d}"),
        cell(f"PJSIP/{200 + i % 800}-ACME-{i:08x}"),
        cell(f"05{i:08d}"),
        cell(str(200 + i % 800)),
        cell("up"),
        num_cell(duration, f"{duration // 60}:{duration % 60:02d}"),
    ]


def next_round(rows: dict[str, int], rng: random.Random, serial: list[int], churn: float) -> None:
    """``churn`` of the rows change: a third end, a third are new, a third change value."""
    keys = list(rows)
    third = max(1, int(len(keys) * churn) // 3)
    for key in rng.sample(keys, third):
        rows[key] += rng.randint(1, 5)
    for key in rng.sample(keys, third):
        del rows[key]
    for _ in range(third):
        serial[0] += 1
        rows[f"k{serial[0]}"] = 0


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS, sort_column="duration", reverse=True, id="t")
        yield DataTable(id="reference")


async def bench_table(plan: Plan, report: Report) -> None:
    rng = random.Random(plan.rows)
    rows = {f"k{i}": rng.randint(0, 3600) for i in range(plan.rows)}
    serial = [plan.rows]
    app = TableApp()
    async with app.run_test(size=(160, 45)) as pilot:
        table = app.query_one(LiveTable)
        reference = app.query_one("#reference", DataTable)
        for column in COLUMNS:
            reference.add_column(column.label, width=column.width + 1, key=column.key)
        reference.display = False
        table.apply({k: table_row(int(k[1:]), d) for k, d in rows.items()})
        await pilot.pause()
        update, rebuild, datatable = [], [], []
        for _ in range(plan.rounds):
            next_round(rows, rng, serial, plan.churn)
            snapshot = {k: table_row(int(k[1:]), d) for k, d in rows.items()}
            with cpu_and_wall() as spent:
                table.apply(snapshot)
                await pilot.pause()
            update.append(spent[0])
            fresh = {k: table_row(int(k[1:]), d) for k, d in rows.items()}
            with cpu_and_wall() as spent:
                table.apply({})
                table.apply(fresh)
                await pilot.pause()
            rebuild.append(spent[0])
        table.display = False
        reference.display = True
        await pilot.pause()
        for _ in range(plan.rounds):
            with cpu_and_wall() as spent:
                reference.clear()
                reference.add_rows([table_row(int(k[1:]), d) for k, d in rows.items()])
                await pilot.pause()
            datatable.append(spent[0])
    up, re_, dt = (statistics.median(v) for v in (update, rebuild, datatable))
    report.title(f"table: {plan.rows} rows, {plan.churn:.0%} changing per update (CPU to frame)")
    report.figure("update", ms(up))
    report.figure("clear and refill the same table", ms(re_))
    report.figure("DataTable clear() + add_rows (the old panes' way)", ms(dt))
    report.figure("update / clear-and-refill", f"{up / re_:.3f}")
    report.figure("update / DataTable clear + add_rows", f"{up / dt:.3f}", "≤ 0.10", up / dt <= 0.1)


# -- a fleet of calls, as polls report them ------------------------------------------------------
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


class Fleet:
    """Calls over ``plan.pbxs`` PBXs; ``poll`` makes one PBX's next answer, ``churn`` of its
    calls changed (a third ended, a third new, a third answered or held) and every other
    call observed again, as the drivers make them (``Call.observed_again``: the same object
    while its duration agrees with the one it implies, a new one when its clock moved)."""

    def __init__(self, plan: Plan, names: list[str], start: datetime = START) -> None:
        self.plan = plan
        self.names = names
        self.rng = random.Random(8)
        self.serial = 0
        self.calls: dict[str, dict[str, Call]] = {name: {} for name in names}
        self.started: dict[str, datetime] = {}
        for _ in range(plan.rows):
            self._new(self.names[self.serial % len(names)], start, self.rng.randint(0, 3600))

    def _new(self, pbx: str, now: datetime, age: int = 0) -> None:
        self.serial += 1
        tenant = f"T{self.names.index(pbx):02d}"
        ext = str(1000 + self.serial % 400)
        ringing = age < 5
        channel = f"PJSIP/trunk-{tenant}-{self.serial:08x}"
        self.started[channel] = now - timedelta(seconds=age)
        self.calls[pbx][channel] = Call(
            pbx=pbx,
            id=channel,
            channel=channel,
            caller=f"05{self.rng.randrange(10**8):08d}",
            callee=ext,
            state=CallState.RINGING if ringing else CallState.UP,
            state_raw="Ringing" if ringing else "Up",
            duration=age,
            queue="630" if self.serial % 3 == 0 else "",
            direction=Direction.INBOUND,
            extension=ext,
            unique_id=f"1772442000.{self.serial}",
            application="Dial",
            observed_at=now,
        )

    def poll(self, pbx: str, now: datetime) -> None:
        calls = self.calls[pbx]
        changes = int(len(calls) * self.plan.churn)
        third = changes // 3
        for key in self.rng.sample(list(calls), min(third, len(calls))):
            del calls[key]
            del self.started[key]
        for _ in range(third):
            self._new(pbx, now)
        flipped = set(self.rng.sample(list(calls), min(changes - 2 * third, len(calls))))
        for key, call in list(calls.items()):
            # As a PBX reports it: whole seconds since the call's start, on its own clock.
            duration = int((now - self.started[key]).total_seconds())
            if key in flipped:
                up = call.state is CallState.UP
                update: dict[str, object] = {
                    "duration": duration,
                    "observed_at": now,
                    "state": CallState.HELD if up else CallState.UP,
                    "state_raw": "Hold" if up else "Up",
                }
                calls[key] = call.model_copy(update=update)
            else:
                calls[key] = call.observed_again(duration, now)

    def state(self, pbx: str, now: datetime) -> PbxState:
        return PbxState(
            name=pbx,
            kind="pbxcloud",
            capabilities=CAPABILITIES,
            health=PbxHealth(
                pbx=pbx, kind="pbxcloud", state=HealthState.OK, latency_ms=12, last_ok=now
            ),
            resources={
                Resource.CALLS: ResourceState(
                    tuple(self.calls[pbx].values()), fetched_at=now, latency_ms=12
                )
            },
        )

    def states(self, now: datetime, *, empty: bool = False) -> dict[str, PbxState]:
        states = {name: self.state(name, now) for name in self.names}
        if empty:
            return {
                n: PbxState(n, s.kind, s.capabilities, s.health, {Resource.CALLS: ResourceState()})
                for n, s in states.items()
            }
        return states


class FeedEngine:
    """The console's ports over states this benchmark hands it (nothing is sent)."""

    def __init__(self, config: Config, states: dict[str, PbxState]) -> None:
        self.config = config
        self.states = dict(states)
        self.listeners: list[Callable[[EngineUpdate], None]] = []

    @property
    def pbx_names(self) -> list[str]:
        return [p.name for p in self.config.pbx]

    def capabilities(self, name: str) -> Capabilities:
        state = self.states.get(name)
        return state.capabilities if state is not None else CAPABILITIES

    def state(self) -> dict[str, PbxState]:
        return dict(self.states)

    def subscribe(self, listener: Callable[[EngineUpdate], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def push(self, state: PbxState, update: EngineUpdate | None = None) -> None:
        self.states[state.name] = state
        for listener in list(self.listeners):
            listener(update or EngineUpdate(state.name, Resource.CALLS, state, ()))

    def refresh(self, pbx: str | None = None) -> None:
        return None

    def is_read_only(self, pbx: str) -> bool:
        return False

    def is_protected(self, pbx: str) -> bool:
        return False

    def refusal(self, action: Action, pbx: str) -> str:
        return ""

    def in_flight(self, request: ActionRequest) -> bool:
        return False

    async def perform(self, request: ActionRequest) -> ActionOutcome:
        return ActionOutcome(request=request, status=ActionStatus.REFUSED, message="benchmark")


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# -- the Calls pane ------------------------------------------------------------------------------
async def bench_pane(plan: Plan, report: Report) -> None:
    from pbxtui.ui.app import PbxApp

    config = bench_config(plan.pbxs)
    clock = Clock()
    fleet = Fleet(plan, [p.name for p in config.pbx])
    engine = FeedEngine(config, fleet.states(clock.now))
    app = PbxApp(config, engine=engine, clock=clock)
    updates: list[float] = []
    rebuilds: list[float] = []
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.console_screen
        pane = screen.panes["calls"]

        async def show(states: dict[str, PbxState]) -> None:
            screen.states.update(states)
            pane.show(screen.context())
            await pilot.pause()

        await show(fleet.states(clock.now))
        for measured in (updates, rebuilds):
            for _ in range(plan.rounds):
                clock.now += timedelta(seconds=1)
                for name in fleet.names:
                    fleet.poll(name, clock.now)
                states = fleet.states(clock.now)
                empty = fleet.states(clock.now, empty=True)
                with cpu_and_wall() as spent:
                    if measured is rebuilds:
                        await show(empty)
                    await show(states)
                measured.append(spent[0])
    up, re_ = statistics.median(updates), statistics.median(rebuilds)
    report.title(
        f"pane: Calls pane, {plan.rows} calls over {plan.pbxs} PBXs, {plan.churn:.0%} changed"
    )
    report.figure("update after a poll of every PBX (CPU to frame)", ms(up))
    report.figure("clear and rebuild the same pane", ms(re_))
    report.figure("update / clear-and-rebuild", f"{up / re_:.3f}", "≤ 0.10", up / re_ <= 0.1)


# -- keys at 10k rows ----------------------------------------------------------------------------
KEYS: tuple[tuple[str, str], ...] = (
    ("down", "cursor"),
    ("down", "cursor"),
    ("up", "cursor"),
    ("pagedown", "cursor"),
    ("pageup", "cursor"),
    ("G", "cursor"),
    ("g", "cursor"),
    ("space", "mark"),
    ("escape", "mark"),
    ("s", "sort"),
    ("L", "sort"),
    ("slash", "filter"),
    ("0", "filter"),
    ("5", "filter"),
    ("1", "filter"),
    ("escape", "filter"),
    ("question_mark", "dialog"),
    ("escape", "dialog"),
    ("h", "dialog"),
    ("escape", "dialog"),
)


class Frames:
    """Every frame the app composed (``App._display`` is called with every compositor
    update): when, and what the console showed then (``observed``), so a key's frame is the
    first one that shows its effect."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[float] = []
        self.states: list[tuple[object, ...]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None and screen is app.screen:
                self.times.append(time.perf_counter())
                self.states.append(observed(app))

        app._display = display

    def showing(self, since: float, shows: Callable[[tuple[object, ...]], bool]) -> float | None:
        """When the first frame composed after ``since`` whose state ``shows`` was."""
        index = bisect.bisect_left(self.times, since)
        for at, state in zip(self.times[index:], self.states[index:], strict=True):
            if shows(state):
                return at
        return None


def observed(app: Any) -> tuple[object, ...]:
    """What a key can change, as the console exposes it."""
    screen = app.console_screen
    pane = screen.active_pane
    section = pane.active
    table = section.table if section is not None else None
    return (
        id(app.screen),
        table.cursor_row if table is not None else None,
        table.current_key if table is not None else None,
        len(pane.marks),
        table.sort_column if table is not None else None,
        table.sort_reverse if table is not None else None,
        screen.query_one("#prompt").value,
        screen.query_one("#prompt-bar").display,
        pane.needle,
        table.row_count if table is not None else None,
    )


KEY_EFFECT = slice(0, 8)
"""What a key shows at once; the last two (the filter and the rows it lets through) follow
the filter's delay."""


async def press(app: Any, frames: Frames, key: str) -> tuple[float, float]:
    """Send ``key`` as a terminal would; returns (key → handled, key → a frame showing it)."""
    from textual import events

    before = observed(app)[KEY_EFFECT]
    char = {"slash": "/", "space": " ", "question_mark": "?"}.get(
        key, key if len(key) == 1 else None
    )
    event = events.Key(key, char)
    event.set_sender(app)
    started = time.perf_counter()
    app._driver.send_message(event)

    def changed(state: tuple[object, ...]) -> bool:
        return state[KEY_EFFECT] != before

    await until(lambda: changed(observed(app)))
    handled = time.perf_counter()
    await until(lambda: frames.showing(started, changed) is not None)
    frame = frames.showing(started, changed) or time.perf_counter()
    return handled - started, frame - started


def as_on_a_terminal() -> Callable[[], None]:
    """The heap as the console sets it up on a terminal (``freeze_long_lived``; headless, it
    does not); returns what undoes it, so a test process running this is left as it was."""
    threshold = gc.get_threshold()
    freeze_long_lived()

    def thaw() -> None:
        gc.unfreeze()
        gc.set_threshold(*threshold)

    return thaw


class LoopLag:
    """How late a 10 ms sleep wakes up: the event loop's stalls."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self.task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(time.perf_counter() - started - 0.01)


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll the app's state (as a terminal shows it) until ``condition``; False on timeout."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(0.0005)
    return True


async def filter_shown(app: Any, frames: Frames, since: float) -> float:
    """From ``since`` to the first frame showing the rows the prompt's text filters to."""

    def applied(state: tuple[object, ...]) -> bool:
        typed = state[6]
        return isinstance(typed, str) and state[8] == typed.strip()

    await until(lambda: frames.showing(since, applied) is not None)
    frame = frames.showing(since, applied) or time.perf_counter()
    return frame - since


async def bench_keys(plan: Plan, report: Report) -> None:
    from pbxtui.ui.app import PbxApp

    config = bench_config(plan.pbxs)
    base = datetime.now(UTC)
    fleet = Fleet(plan, [p.name for p in config.pbx], start=base)
    engine = FeedEngine(config, fleet.states(base))
    app = PbxApp(config, engine=engine)
    times: dict[str, list[float]] = {}
    lag = LoopLag()
    made = [0.0]  # CPU seconds spent making the polls (the load, not the console)
    async with app.run_test(size=(160, 45)) as pilot:
        frames = Frames(app)
        screen = app.console_screen
        await pilot.pause()
        thaw = as_on_a_terminal()

        async def feed() -> None:
            """One PBX's poll lands every 1/pbxs s: each PBX once a second. Each is made when
            it lands, as a driver would make it (the heap is the console's own)."""
            step = 1 / len(fleet.names)
            due = time.perf_counter()
            while True:
                for name in fleet.names:
                    due += step
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    cpu = time.process_time()
                    at = datetime.now(UTC)
                    fleet.poll(name, at)
                    state = fleet.state(name, at)
                    made[0] += time.process_time() - cpu
                    engine.push(state)

        feeder = asyncio.create_task(feed())
        await asyncio.sleep(plan.warm_up)  # every PBX has polled: the steady state
        lag_task = asyncio.create_task(lag.run())
        made[0] = 0.0
        cpu, wall = time.process_time(), time.perf_counter()
        deadline = wall + plan.key_seconds
        while time.perf_counter() < deadline:
            for key, kind in KEYS:
                if time.perf_counter() >= deadline:
                    break
                pressed = time.perf_counter()
                _, shown = await press(app, frames, key)
                times.setdefault(kind, []).append(shown)
                if kind == "filter" and key != "escape":
                    filtered = await filter_shown(app, frames, pressed)
                    times.setdefault("filter applied", []).append(filtered)
                await asyncio.sleep(0.2)  # an operator's pace
        cpu_used = time.process_time() - cpu - made[0]
        wall_used = time.perf_counter() - wall
        load = made[0] / wall_used
        feeder.cancel()
        lag_task.cancel()
        count = screen.panes["calls"].status()
    thaw()
    report.title(
        f"keys: the console over {plan.rows} calls on {plan.pbxs} PBXs, "
        f"{plan.churn:.0%} changing a second, {plan.key_seconds:.0f} s ({count})"
    )
    every = [t for values in times.values() for t in values]
    for kind, values in times.items():
        p99 = percentile(values, 0.99)
        report.figure(
            f"key → frame, {kind} ({len(values)} keys) p50 / p99",
            f"{ms(percentile(values, 0.5))} / {ms(p99)}",
            "p99 ≤ 100 ms",
            p99 <= 0.1,
        )
    p99 = percentile(every, 0.99)
    report.figure("key → frame, every key p99", ms(p99), "≤ 100 ms", p99 <= 0.1)
    stall = percentile(lag.lags, 0.99)
    report.figure(
        "event-loop stall p99 / max",
        f"{ms(stall)} / {ms(max(lag.lags, default=0))}",
        "≤ 50 ms",
        max(lag.lags, default=0) <= 0.05,
    )
    share = cpu_used / wall_used
    report.figure(
        f"console CPU (making the polls, {load:.1%}, not counted)", f"{share:.1%} of a core"
    )


# -- the demo fleet, idle --------------------------------------------------------------------
async def bench_idle(plan: Plan, report: Report) -> None:
    from pbxtui.launch import console_app
    from pbxtui.model import HealthState

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sim.toml"
        sims = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pbxtui",
            "sim",
            "--write-config",
            str(path),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                if path.exists() and path.stat().st_size:
                    break
                await asyncio.sleep(0.05)
            from pbxtui.config import load_config

            config = load_config(path)
            os.environ.setdefault("PBXTUI_AUDIT_LOG", str(Path(folder) / "audit.jsonl"))
            app = console_app(config)
            async with app.run_test(size=(160, 45)) as pilot:
                screen = app.console_screen
                for _ in range(400):
                    if all(
                        s.health.state is not HealthState.STARTING for s in screen.states.values()
                    ):
                        break
                    await pilot.pause(0.05)
                thaw = as_on_a_terminal()
                await pilot.pause(1.0)
                recorded: list[tuple[float, EngineUpdate]] = []
                app.engine.subscribe(lambda u: recorded.append((time.perf_counter(), u)))
                initial = app.engine.state()
                cpu, wall = time.process_time(), time.perf_counter()
                await asyncio.sleep(plan.idle_seconds)
                cpu_used = time.process_time() - cpu
                wall_used = time.perf_counter() - wall
                count = screen.panes["calls"].status()
        finally:
            sims.terminate()
            await sims.wait()
        thaw()
        painting = await replay(config, initial, recorded, wall, wall_used)
    share = cpu_used / wall_used
    report.title(f"idle: the demo fleet in another process, {plan.idle_seconds:.0f} s ({count})")
    report.figure(
        "console CPU (polling, parsing and painting)",
        f"{share:.1%} of a core",
        "≤ 5 %",
        share <= 0.05,
    )
    report.figure(
        f"  of which painting: the same {len(recorded)} updates replayed",
        f"{painting:.1%} of a core",
    )


async def replay(
    config: Config,
    initial: dict[str, PbxState],
    recorded: list[tuple[float, EngineUpdate]],
    started: float,
    seconds: float,
) -> float:
    """The console alone: ``recorded`` engine updates handed to it at the times they came,
    no engine polling. Returns the share of a core it used."""
    from pbxtui.ui.app import PbxApp

    engine = FeedEngine(config, initial)
    app = PbxApp(config, engine=engine)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.pause()
        await pilot.pause(1.0)
        cpu, wall = time.process_time(), time.perf_counter()
        for at, update in recorded:
            delay = (at - started) - (time.perf_counter() - wall)
            if delay > 0:
                await asyncio.sleep(delay)
            engine.push(update.state, update)
        await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - wall)))
        return (time.process_time() - cpu) / (time.perf_counter() - wall)


SCENARIOS = {"table": bench_table, "pane": bench_pane, "keys": bench_keys, "idle": bench_idle}


async def run(plan: Plan, names: list[str] | None = None) -> Report:
    import textual

    report = Report()
    report.title(
        f"bench_table: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Textual {textual.__version__}"
    )
    for name in names or list(SCENARIOS):
        await SCENARIOS[name](plan, report)
    return report


async def console(plan: Plan) -> None:
    """The console itself on this terminal, over the keys scenario's load (10,000 calls, 10 %
    changing a second): to see for yourself. ``q`` quits."""
    from pbxtui.ui.app import PbxApp

    config = bench_config(plan.pbxs)
    fleet = Fleet(plan, [p.name for p in config.pbx], start=datetime.now(UTC))
    engine = FeedEngine(config, fleet.states(datetime.now(UTC)))
    app = PbxApp(config, engine=engine)

    async def feed() -> None:
        while True:
            for name in fleet.names:
                await asyncio.sleep(1 / len(fleet.names))
                at = datetime.now(UTC)
                fleet.poll(name, at)
                engine.push(fleet.state(name, at))

    feeder = asyncio.create_task(feed())
    try:
        await app.run_async()
    finally:
        feeder.cancel()


async def main(argv: list[str] | None = None) -> Report | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small, short run")
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    parser.add_argument(
        "--console", action="store_true", help="open the console over the 10,000-call load"
    )
    args = parser.parse_args(argv)
    if args.console:
        await console(Plan())
        return None
    return await run(QUICK if args.quick else Plan(), args.only)


if __name__ == "__main__":
    asyncio.run(main())
