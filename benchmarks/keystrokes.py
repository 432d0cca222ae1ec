"""What an operator does at the console, and how long each key takes to show on screen.

Each probe writes one key and waits for the frame that shows its effect, judged from the
screen alone (so it holds whatever widget draws the table): the cursor row moved (the one
line with its own background moved), a dialog's text appeared, the status line's count of
marks or its sort column changed, the filter prompt shows what was typed.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import percentile
from benchmarks.terminal import Terminal, View

HELP_TEXT = "Esc or ? closes"
HANGUP_TEXT = "Hang up this call"
MARKED = re.compile(r"\b\d+ marked\b")
SORTED_BY = re.compile(r"sorted by (\S+)")
CHANNEL = re.compile(r"\b(?:PJSIP|SIP|IAX2|Local)/\S")
CALL_COUNT = re.compile(r"\b(\d+)(?: of \d+)? calls\b")
GAP = 0.2  # seconds between probes: an operator's pace, not a benchmark's
START_ROW = 3
"""The row each cycle of keys starts on (see ``press_keys``)."""


def sorted_by(view: View) -> str:
    found = SORTED_BY.search(view.text)
    return found.group(1) if found else ""


def calls_shown(view: View) -> int:
    found = CALL_COUNT.search(view.text)
    return int(found.group(1)) if found else 0


def prompt_shows(needle: str) -> Callable[[View], bool]:
    pattern = re.compile(r"^/\s*" + re.escape(needle) + r"$")
    return lambda view: any(pattern.match(line.strip()) for line in view.lines[-4:])


@dataclass(frozen=True)
class Probe:
    key: str
    kind: str
    """What the figure groups it under: "cursor", "dialog", "status"; "" is not timed."""
    shown: Callable[[View, View], bool]
    """Given the screen before the key and now: does it show the key's effect?"""
    colours: bool = False


CYCLE: tuple[Probe, ...] = (
    Probe("down", "cursor", lambda was, now: now.highlighted() != was.highlighted(), True),
    Probe("up", "cursor", lambda was, now: now.highlighted() != was.highlighted(), True),
    Probe("?", "dialog", lambda was, now: now.has(HELP_TEXT)),
    Probe("escape", "", lambda was, now: not now.has(HELP_TEXT)),
    Probe("h", "dialog", lambda was, now: now.has(HANGUP_TEXT)),
    Probe("escape", "", lambda was, now: not now.has(HANGUP_TEXT)),
    Probe("space", "status", lambda was, now: bool(MARKED.search(now.text))),
    Probe("escape", "", lambda was, now: not MARKED.search(now.text)),
    Probe("s", "status", lambda was, now: sorted_by(now) not in ("", sorted_by(was))),
    Probe("L", "status", lambda was, now: sorted_by(now) == "Duration"),
)


@dataclass
class KeyTimes:
    """Seconds from key to frame, by kind; a key whose effect never showed counts as its
    timeout (and in ``missed``)."""

    times: dict[str, list[float]] = field(default_factory=dict)
    missed: int = 0

    def add(self, kind: str, seconds: float | None, timeout: float) -> None:
        if seconds is None:
            self.missed += 1
        self.times.setdefault(kind, []).append(timeout if seconds is None else seconds)

    def all(self, kinds: Sequence[str] | None = None) -> list[float]:
        return [t for k, ts in self.times.items() if kinds is None or k in kinds for t in ts]


def press_keys(term: Terminal, cycles: int, timeout: float, *, deadline: float) -> KeyTimes:
    """``cycles`` rounds of moving, opening and closing dialogs, marking and sorting."""
    result = KeyTimes()
    for _ in range(cycles):
        # Each cycle from a few rows down, untimed: the cursor follows its call, so on the
        # first row an "up" after a "down" cannot move when the call above ended meanwhile
        # (seen: 1.7 s, or never), and after the sorts at a cycle's end the call may sit on
        # the window's last line, where "down" scrolls the rows under a cursor that stays.
        term.press("g", lambda view: True, 1)
        for _ in range(START_ROW):
            term.press("down", lambda view: True, 1)
        time.sleep(GAP)
        for probe in CYCLE:
            if time.monotonic() > deadline:
                return result
            was = term.view(colours=probe.colours)
            seconds = term.press(
                probe.key,
                lambda now, p=probe, w=was: p.shown(w, now),  # type: ignore[misc]
                timeout,
                colours=probe.colours,
            )
            if probe.kind:
                result.add(probe.kind, seconds, timeout)
            time.sleep(GAP)
    return result


def type_filter(term: Terminal, text: str, timeout: float) -> KeyTimes:
    """``/`` then ``text`` one character at a time, each until the prompt shows it; Esc."""
    result = KeyTimes()
    was = term.view()
    opened = term.press(
        "/",
        lambda now: any(
            line.strip().startswith("/") and line not in was.lines for line in now.lines[-4:]
        ),
        timeout,
    )
    result.add("open", opened, timeout)
    for typed in range(1, len(text) + 1):
        time.sleep(GAP / 2)
        seconds = term.press(text[typed - 1], prompt_shows(text[:typed]), timeout)
        result.add("typing", seconds, timeout)
    term.press("escape", lambda now: not prompt_shows(text)(now), timeout)
    time.sleep(GAP)
    return result


@dataclass(frozen=True)
class Stalls:
    samples: int
    p99: float
    """seconds"""
    worst: float


def stalls(path: Path, since: float, until: float) -> Stalls:
    """The loop-lag probe's samples (``pbxtui.loop_probe``) between two ``time.time()``s."""
    samples, lags = 0, []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                second = json.loads(line)
            except ValueError:
                continue  # the line being written
            if since <= second["t"] <= until:
                samples += second["n"]
                lags += [lag / 1000 for lag in second["lags_ms"]]
    if not samples:
        return Stalls(0, math.nan, math.nan)
    # Samples under the probe's floor were not listed: they count as no lag.
    listed = sorted(lags, reverse=True)
    rank = math.ceil(0.01 * samples)
    p99 = listed[rank - 1] if rank <= len(listed) else 0.0
    return Stalls(samples, p99, max(listed, default=0.0))


def poll_timeouts(log: Path) -> int:
    """Polls the console's engine gave up on for want of an answer (from its log)."""
    if not log.exists():
        return 0
    text = log.read_text(encoding="utf-8", errors="replace")
    return sum(1 for line in text.splitlines() if "poll failed" in line and "no answer" in line)


def p50_p99(values: Sequence[float]) -> tuple[float, float]:
    return percentile(values, 0.5), percentile(values, 0.99)
