"""Where the console's time goes: py-spy sampling it during a CPU window (``--profile DIR``).

Optional: py-spy is not a dependency (``pip install py-spy`` into the venv). Each window
leaves ``DIR/<name>.txt`` (py-spy's collapsed stacks, one ``frame;frame;… count`` a line,
for ``flamegraph.pl`` or speedscope) and a summary printed after the figures: the functions
the most CPU samples were in (inclusive), and where the samples ended (self).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

RATE = 100  # samples a second
FRAME = re.compile(r"^(?P<function>.*) \((?P<path>.*?)(?::\d+)?\)$")
ROOTS = ("/site-packages/", "/lib/python3.11/", "/lib/python3.12/", "/lib/python3.13/")
WAITING = ("(selectors.py", "(threading.py", "(queue.py")
"""A sample that ends in one of these is a thread waiting, not working: left out."""
OUTER = ("(click/", "(asyncio/", "(anyio/_core/_eventloop.py", "(anyio/_backends/", "<module>")
"""The program's outer layers (the command line, the event loop): in every sample."""


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


@dataclass
class Profiler:
    directory: Path
    summaries: dict[str, list[str]] = field(default_factory=dict)

    @contextmanager
    def during(self, pid: int, seconds: float, name: str) -> Iterator[None]:
        """Sample ``pid`` for ``seconds`` while the body runs (the body's own window)."""
        tool = py_spy()
        if tool is None:
            self.summaries[name] = ["py-spy is not installed: pip install py-spy"]
            yield
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        out = self.directory / f"{name}.txt"
        argv = [tool, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds)))]
        argv += ["--rate", str(RATE), "--format", "raw", "--nonblocking", "--full-filenames"]
        argv += ["-o", str(out)]
        spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            yield
        finally:
            try:
                _, errors = spy.communicate(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                spy.kill()
                _, errors = spy.communicate()
        if spy.returncode != 0 or not out.exists():
            self.summaries[name] = [f"py-spy failed: {(errors or '').strip()[-200:]}"]
            return
        self.summaries[name] = summarise(out)

    def report(self) -> str:
        lines = []
        for name, summary in self.summaries.items():
            lines.append(f"== where the time goes: {name} ({self.directory / name}.txt)")
            lines += [f"  {line}" for line in summary]
        return "\n".join(lines)


def _short(frame: str) -> str:
    """``func (pbxtui/ui/views.py)``: no line number (a function counts once), no machine path."""
    found = FRAME.match(frame)
    if found is None:
        return frame
    path = found.group("path")
    for root in ROOTS:
        if root in path:
            path = path.rsplit(root, 1)[1]
            break
    else:
        if "/pbxtui/" in path:
            path = "pbxtui/" + path.split("/pbxtui/", 1)[1]
    return f"{found.group('function')} ({path})"


def summarise(path: Path, top: int = 12) -> list[str]:
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(frame) for frame in stack.split(";")]
        if any(mark in frames[-1] for mark in WAITING):
            continue
        total += count
        leaf[frames[-1]] += count
        for frame in set(frames):
            if not any(mark in frame for mark in OUTER) and "(pbxtui/cli.py" not in frame:
                inclusive[frame] += count
    if not total:
        return ["no samples (the process was idle)"]
    ours = [(f, n) for f, n in inclusive.most_common() if "(pbxtui/" in f][:top]
    lines = [f"{total} samples of work; in pbxtui's code (inclusive):"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in ours]
    lines.append("anywhere (inclusive):")
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top // 2)]
    lines.append("where the samples ended (self):")
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in leaf.most_common(top // 2)]
    return lines
