"""The console as a separate process on a pseudo-terminal, against load servers in another:
CPU, memory, event-loop stalls, poll timeouts, key press → frame, and the request budget."""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from benchmarks.keystrokes import (
    CHANNEL,
    calls_shown,
    p50_p99,
    poll_timeouts,
    press_keys,
    stalls,
    type_filter,
)
from benchmarks.processes import ROOT, LoadServer, Meter, isolated_env
from benchmarks.profiling import Profiler
from benchmarks.report import Figure, mb, ms, share, within
from benchmarks.terminal import Terminal
from pbxtui.config import load_config
from pbxtui.loop_probe import ENV as LOOP_PROBE_ENV

PBXTUI = str(ROOT / ".venv" / "bin" / "pbxtui")
SIZE = (160, 45)
ASSUMED_BUDGET = 20.0  # requests a second: the dialup kind's documented default


def console(
    server: LoadServer, workdir: Path, config: Path | None = None, *, probe: bool = False
) -> Terminal:
    """The console on a pseudo-terminal; with ``probe``, the loop-lag probe on (where the
    stalls are read: the probe wakes the loop 100 times a second)."""
    extra = {LOOP_PROBE_ENV: str(workdir / "loop-lag.jsonl")} if probe else {}
    env = isolated_env(workdir, **extra)
    return Terminal([PBXTUI, "--config", str(config or server.config)], size=SIZE, env=env)


def app_log(workdir: Path) -> Path:
    return workdir / "xdg_state_home" / "pbxtui" / "pbxtui.log"


def wait_for_calls(term: Terminal, expected: int, timeout: float) -> float | None:
    """Seconds until the Calls pane counts most of the calls the load server carries."""
    enough = max(1, int(expected * 0.9))
    at = term.wait(lambda v: bool(CHANNEL.search(v.text)) and calls_shown(v) >= enough, timeout)
    return None if at is None else at - term.started


# -- the demo's fleet: CPU at rest, and the request budget under `r` ---------------------------
@dataclass(frozen=True)
class DemoPlan:
    cpu_seconds: float = 20.0
    settle_seconds: float = 5.0
    refresh_seconds: float = 10.0


def _window(
    profiler: Profiler | None, pid: int, seconds: float, name: str
) -> AbstractContextManager[None]:
    return nullcontext() if profiler is None else profiler.during(pid, seconds, name)


def demo_console(
    server: LoadServer,
    workdir: Path,
    plan: DemoPlan,
    profiler: Profiler | None = None,
    beside: Beside | None = None,
) -> list[Figure]:
    """The demo fleet's figures; with ``beside``, the console follows a collector (its CPU
    judged), else it polls the PBXs itself (its CPU shown for comparison only). The request
    budget is judged either way: whoever polls must keep it."""
    workdir.mkdir(parents=True, exist_ok=True)
    how = "a console following the collector" if beside else "one console polling itself"
    title = f"the demo's fleet (4 PBXs, ~60 calls), {how}, each process its own"
    budget_title = f"request budget: pressing r 10 times a second (demo fleet, {how})"
    figures: list[Figure] = []
    names = list(server.ports)
    others = {name: Meter(pid) for name, pid in (beside.pids if beside else {}).items()}
    with console(server, workdir, beside.config if beside else None) as term:
        shown = wait_for_calls(term, max(1, server.calls // 2), 60)
        time.sleep(plan.settle_seconds)
        meter = Meter(term.pid)
        with _window(profiler, term.pid, plan.cpu_seconds, "demo-console"):
            start = meter.sample()
            others_start = {name: m.sample() for name, m in others.items()}
            wall_start = time.time()
            time.sleep(plan.cpu_seconds)
            end = meter.sample()
            others_end = {name: m.sample() for name, m in others.items()}
        wall_end = time.time()
        cpu = meter.cpu_between(start, end) if start and end else math.nan
        judged = Figure(
            title,
            f"console CPU over {plan.cpu_seconds:g} s",
            share(cpu),
            "≤ 5 % of a core",
            within(cpu, 0.05),
            cpu,
        )
        figures.append(judged if beside else _for_comparison(judged))
        for name, m in others.items():
            a, b = others_start[name], others_end[name]
            used = m.cpu_between(a, b) if a and b else math.nan
            figures.append(
                Figure(
                    title,
                    f"  {name} CPU, same window (its own process)",
                    share(used),
                    "",
                    None,
                    used,
                )
            )
        normal = {n: _rate(server.arrivals(n), wall_start, wall_end) for n in names}
        pressed_start = time.time()
        until = time.monotonic() + plan.refresh_seconds
        while time.monotonic() < until:
            term.send("r")
            time.sleep(0.1)
        pressed_end = time.time()
        time.sleep(1.0)  # requests the last presses caused
        pressed = {n: server.arrivals(n) for n in names}
    if shown is None:
        figures.append(Figure(title, "calls shown", "never", "within 60 s", False))
    budgets = _budgets(server.config)
    for name in names:
        peak = _peak(pressed[name], pressed_start, pressed_end + 1.0)
        mean = _rate(pressed[name], pressed_start, pressed_end)
        budget, assumed = budgets.get(name, (ASSUMED_BUDGET, True))
        figures.append(
            Figure(
                budget_title,
                f"{name}: requests/s, normal → pressing r (peak 1 s)",
                f"{normal[name]:.1f} → {mean:.1f} ({peak:.0f})",
                f"≤ {budget:g}/s" + (" (assumed)" if assumed else ""),
                peak <= budget,
                peak,
            )
        )
    return figures


def _budgets(config_path: Path) -> dict[str, tuple[float, bool]]:
    """Each PBX's request budget from the config, or the assumed default where its kind
    has none (``True`` then)."""
    config = load_config(config_path)
    found: dict[str, tuple[float, bool]] = {}
    for pbx in config.pbx:
        budget = getattr(pbx, "requests_per_second", None)
        found[pbx.name] = (float(budget), False) if budget else (ASSUMED_BUDGET, True)
    return found


def _rate(arrivals: list[float], start: float, end: float) -> float:
    inside = sum(1 for t in arrivals if start <= t < end)
    return inside / (end - start) if end > start else math.nan


def _peak(arrivals: list[float], start: float, end: float) -> float:
    """The most requests in any one-second window between ``start`` and ``end``."""
    inside = sorted(t for t in arrivals if start <= t < end)
    best, low = 0, 0
    for high, t in enumerate(inside):
        while t - inside[low] >= 1.0:
            low += 1
        best = max(best, high - low + 1)
    return float(best)


# -- NOC scale: 20 PBXs, 10,000 calls ----------------------------------------------------------
@dataclass(frozen=True)
class NocPlan:
    cpu_seconds: float = 60.0
    settle_seconds: float = 15.0
    key_cycles: int = 4
    key_timeout: float = 30.0
    filter_text: str = "0501"
    soak_seconds: float = 600.0
    """How long the console runs in all (memory is judged from ``memory_from`` to the end)."""
    memory_from: float = 120.0
    first_data_timeout: float = 120.0


@dataclass(frozen=True)
class Beside:
    """Processes that work for the console (a collector, the broker), metered beside it;
    ``config``: the console's (``[broker]``), ``log``: where poll timeouts are said."""

    config: Path
    log: Path
    pids: dict[str, int]


def noc_console(
    server: LoadServer,
    workdir: Path,
    plan: NocPlan,
    title: str,
    profiler: Profiler | None = None,
    beside: Beside | None = None,
    judged: bool = True,
) -> list[Figure]:
    """The NOC figures of one console; ``judged=False``: shown for comparison only."""
    workdir.mkdir(parents=True, exist_ok=True)
    figures: list[Figure] = []
    server_meter = Meter(server.pid, every=5.0).start()
    others = {
        name: Meter(pid, every=5.0).start() for name, pid in (beside.pids if beside else {}).items()
    }
    with console(server, workdir, beside.config if beside else None, probe=True) as term:
        meter = Meter(term.pid, every=1.0).start()
        shown = wait_for_calls(term, server.calls, plan.first_data_timeout)
        figures.append(
            Figure(
                title,
                "time until the Calls pane shows the fleet's calls",
                "never" if shown is None else ms(shown),
                "(context)",
                None if shown is not None else False,
                shown,
            )
        )
        time.sleep(plan.settle_seconds)
        watched_from = time.time()
        with _window(profiler, term.pid, plan.cpu_seconds, "noc-console"):
            start = meter.sample()
            others_start = {name: m.sample() for name, m in others.items()}
            time.sleep(plan.cpu_seconds)
            end = meter.sample()
            others_end = {name: m.sample() for name, m in others.items()}
        cpu = meter.cpu_between(start, end) if start and end else math.nan
        others_cpu = {
            name: m.cpu_between(a, b)
            if (a := others_start[name]) and (b := others_end[name])
            else math.nan
            for name, m in others.items()
        }
        deadline = time.monotonic() + max(60.0, plan.key_cycles * 10 * plan.key_timeout / 3)
        keys = press_keys(term, plan.key_cycles, plan.key_timeout, deadline=deadline)
        typed = type_filter(term, plan.filter_text, plan.key_timeout)
        rows = calls_shown(term.view())
        remaining = plan.soak_seconds - (time.monotonic() - term.started)
        if remaining > 0:
            time.sleep(remaining)
        watched_to = time.time()
        ran = time.monotonic() - term.started
        meter.stop()
    server_meter.stop()
    for m in others.values():
        m.stop()
    figures.append(
        Figure(
            title,
            f"console CPU (process time over {plan.cpu_seconds:g} s)",
            share(cpu),
            "≤ 20 % of a core",
            within(cpu, 0.20),
            cpu,
        )
    )
    for name, used in others_cpu.items():
        figures.append(
            Figure(
                title, f"  {name} CPU, same window (its own process)", share(used), "", None, used
            )
        )
    moves = keys.all(["cursor", "dialog", "status"])
    p50, p99 = p50_p99(moves)
    figures.append(
        Figure(
            title,
            f"key → frame, cursor/dialog/mark/sort keys ({len(moves)}) p50 / p99",
            f"{ms(p50)} / {ms(p99)}",
            "p99 ≤ 100 ms",
            within(p99, 0.100),
            p99,
        )
    )
    for kind in ("cursor", "dialog", "status"):
        k50, k99 = p50_p99(keys.times.get(kind, []))
        figures.append(
            Figure(title, f"  of which {kind} keys p50 / p99", f"{ms(k50)} / {ms(k99)}", "", None)
        )
    t50, t99 = p50_p99(typed.all(["open", "typing"]))
    figures.append(
        Figure(
            title,
            f"key → frame, / and typing a filter ({len(typed.all())}) p50 / p99",
            f"{ms(t50)} / {ms(t99)}",
            "p99 ≤ 100 ms",
            within(t99, 0.100),
            t99,
        )
    )
    missed = keys.missed + typed.missed
    figures.append(
        Figure(
            title,
            f"keys whose effect never showed (within {plan.key_timeout:g} s)",
            str(missed),
            "0",
            missed == 0,
            float(missed),
        )
    )
    lag = stalls(workdir / "loop-lag.jsonl", watched_from, watched_to)
    figures.append(
        Figure(
            title,
            f"event-loop stalls p99 / max ({lag.samples} samples)",
            f"{ms(lag.p99)} / {ms(lag.worst)}",
            "≤ 50 ms",
            within(lag.p99, 0.050),
            lag.p99,
        )
    )
    timeouts = poll_timeouts(beside.log if beside else app_log(workdir))
    figures.append(
        Figure(
            title,
            f"polls timed out in {ran:.0f} s (the server answers at once)",
            str(timeouts),
            "0",
            timeouts == 0,
            float(timeouts),
        )
    )
    figures += _memory(meter, term.started + plan.memory_from, title, ran)
    load_cpu = _mean_cpu(server_meter)
    figures.append(
        Figure(
            title,
            "load server CPU (its own process; context)",
            share(load_cpu),
            "",
            None,
            load_cpu,
        )
    )
    figures.append(Figure(title, "calls in the Calls pane after the keys", str(rows), "", None))
    if not judged:
        figures = [_for_comparison(f) for f in figures]
    return figures


def _for_comparison(figure: Figure) -> Figure:
    """``figure`` shown beside its target but not judged (it counts in no total)."""
    if figure.passed is None:
        return figure
    verdict = "would pass" if figure.passed else "would fail"
    target = f"{figure.target} ({verdict})" if figure.target else ""
    return dataclasses.replace(figure, target=target, passed=None)


def _memory(meter: Meter, since: float, title: str, ran: float) -> list[Figure]:
    samples = meter.samples
    peak = max((s.rss for s in samples), default=0)
    late = [s for s in samples if s.at >= since]
    figures = [
        Figure(
            title,
            "memory: peak RSS",
            mb(peak),
            "≤ 250 MB",
            peak <= 250e6 if peak else None,
            float(peak),
        )
    ]
    if len(late) >= 4:
        quarter = max(1, len(late) // 4)
        first = statistics.mean(s.rss for s in late[:quarter])
        last = statistics.mean(s.rss for s in late[-quarter:])
        drift = last - first
        span = f"minute {(since - meter.samples[0].at) / 60:.0f} to {ran / 60:.0f}"
        figures.append(
            Figure(
                title,
                f"memory: drift from {span} (first vs last quarter)",
                f"{drift / 1e6:+.1f} MB",
                "flat (within ±10 MB)",
                abs(drift) <= 10e6,
                drift,
            )
        )
    else:
        figures.append(
            Figure(title, "memory: drift", "run too short to judge", "flat (full run)", None)
        )
    return figures


def _mean_cpu(meter: Meter) -> float:
    samples = meter.samples
    if len(samples) < 2:
        return math.nan
    return meter.cpu_between(samples[0], samples[-1])
