"""The console as an operator sees it: a real process on a pseudo-terminal, its screen kept by
a terminal emulator (pyte), keys written as a terminal would send them.

A reader thread stamps every chunk the console writes as it arrives; another feeds them to
the emulator and, after each, checks the condition a caller is waiting for. ``wait`` returns
when that chunk arrived, so "key press → frame on screen" is measured from writing the key to
the arrival of the bytes that made the screen show its effect.
"""

from __future__ import annotations

import fcntl
import os
import pty
import queue
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pyte

KEYS: dict[str, bytes] = {
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "escape": b"\x1b",
    "enter": b"\r",
    "space": b" ",
}
READ_SIZE = 1 << 16


@dataclass(frozen=True)
class View:
    """What the screen shows: each line's text, and each line's main background colour."""

    lines: tuple[str, ...]
    backgrounds: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def has(self, needle: str) -> bool:
        return any(needle in line for line in self.lines)

    def highlighted(self) -> tuple[tuple[int, str], ...]:
        """The lines whose background no other line has: a cursor row, a header."""
        counts: dict[str, int] = {}
        for bg in self.backgrounds:
            counts[bg] = counts.get(bg, 0) + 1
        return tuple((i, bg) for i, bg in enumerate(self.backgrounds) if counts[bg] == 1)


Condition = Callable[[View], bool]


def _view(screen: pyte.Screen, *, colours: bool) -> View:
    lines = tuple(screen.display)
    if not colours:
        return View(lines, ())
    backgrounds = []
    for y in range(screen.lines):
        row = screen.buffer[y]
        counts: dict[str, int] = {}
        for x in range(screen.columns):
            bg = row[x].bg
            counts[bg] = counts.get(bg, 0) + 1
        backgrounds.append(max(counts, key=counts.__getitem__))
    return View(lines, tuple(backgrounds))


class Terminal:
    """``with Terminal([...]) as term: term.wait(lambda v: v.has("Calls"), 10)``."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        size: tuple[int, int] = (160, 45),
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.columns, self.rows = size
        self._screen = pyte.Screen(self.columns, self.rows)
        self._stream = pyte.ByteStream(self._screen)
        self._lock = threading.Lock()
        self._waiting: tuple[Condition, bool, threading.Event, list[float]] | None = None
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.rows, self.columns, 0, 0))
        environment = dict(os.environ if env is None else env)
        # COLUMNS and LINES win over the terminal's own size (pytest sets them to 80x24).
        environment.update(
            TERM="xterm-256color",
            COLORTERM="truecolor",
            COLUMNS=str(self.columns),
            LINES=str(self.rows),
        )
        environment.pop("NO_COLOR", None)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=environment,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self._master = master
        self.bytes_read = 0
        # The reader must get the interpreter back from the emulator at once to stamp a chunk.
        sys.setswitchinterval(0.001)
        self._chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._emulator = threading.Thread(target=self._emulate, name="emulator", daemon=True)
        self._reader.start()
        self._emulator.start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------
    def _read(self) -> None:
        """Only reads, stamping each chunk as it arrives: the emulator (slow, pure Python)
        runs in ``_emulate``, so a frame is timed when its bytes came, not when the emulator
        got through what the console wrote before it."""
        while True:
            try:
                data = os.read(self._master, READ_SIZE)
            except OSError:
                data = b""
            self._chunks.put((time.monotonic(), data))
            if not data:
                break

    def _emulate(self) -> None:
        while True:
            at, data = self._chunks.get()
            if not data:
                break
            with self._lock:
                self.bytes_read += len(data)
                self._stream.feed(data)
                waiting = self._waiting
                if waiting is not None:
                    condition, colours, done, when = waiting
                    if not done.is_set() and condition(_view(self._screen, colours=colours)):
                        when.append(at)
                        done.set()
        with self._lock:
            if self._waiting is not None:
                self._waiting[2].set()  # the console is gone: nothing more will come

    def view(self, *, colours: bool = False) -> View:
        with self._lock:
            return _view(self._screen, colours=colours)

    def wait(self, condition: Condition, timeout: float, *, colours: bool = False) -> float | None:
        """When the screen first met ``condition`` (``time.monotonic()``), or None on timeout."""
        done = threading.Event()
        when: list[float] = []
        with self._lock:
            if condition(_view(self._screen, colours=colours)):
                return time.monotonic()
            self._waiting = (condition, colours, done, when)
        try:
            done.wait(timeout)
        finally:
            with self._lock:
                self._waiting = None
        return when[0] if when else None

    # -- writing ---------------------------------------------------------------------------
    def send(self, key: str) -> float:
        """Write ``key`` (a name from ``KEYS`` or literal text); returns when it was written."""
        data = KEYS.get(key, key.encode())
        at = time.monotonic()
        os.write(self._master, data)
        return at

    def press(
        self, key: str, condition: Condition, timeout: float, *, colours: bool = False
    ) -> float | None:
        """Seconds from writing ``key`` to the screen meeting ``condition`` (None: never did)."""
        done = threading.Event()
        when: list[float] = []
        with self._lock:
            self._waiting = (condition, colours, done, when)
        sent = self.send(key)
        try:
            done.wait(timeout)
        finally:
            with self._lock:
                self._waiting = None
        return when[0] - sent if when else None

    def close(self, quit_key: str = "q", grace: float = 5.0) -> None:
        if self.process.poll() is None:
            try:
                self.send(quit_key)
                self.process.wait(grace)
            except (OSError, subprocess.TimeoutExpired):
                self.process.terminate()
                try:
                    self.process.wait(grace)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        os.close(self._master)
        self._reader.join(timeout=2)
        self._emulator.join(timeout=10)
