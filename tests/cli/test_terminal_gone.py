"""The console leaves when its terminal goes away or it is told to stop.

An operator's SSH session drops, or the tmux server is killed: the kernel hangs up the
terminal and sends SIGHUP to the session's leader only. When that leader is not a shell
that passes it on (``make demo``, a wrapper script, ``nohup``), the console sees no signal
at all, just a terminal that has gone. It must leave then, not linger on the jump host.

Each test runs the real ``pbxtui --demo`` on a pseudo-terminal of its own, under a leader
that behaves as ``make`` does: it takes SIGHUP for itself and waits for its child.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import selectors
import signal
import struct
import subprocess
import sys
import termios
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# Only failure guards: every wait below ends as soon as its condition holds.
PAINT_GUARD = 60.0
EXIT_GUARD = 30.0

# A session leader that keeps SIGHUP for itself and waits for the console, as make does.
LEADER = """
import fcntl, signal, subprocess, sys, termios
fcntl.ioctl(0, termios.TIOCSCTTY, 0)
signal.signal(signal.SIGHUP, lambda *_: None)
child = subprocess.Popen([sys.executable, "-m", "pbxtui", "--demo"])
with open(sys.argv[1], "w") as f:
    f.write(str(child.pid))
sys.exit(child.wait())
"""


@dataclass
class Terminal:
    """The operator's end of the pseudo-terminal: drained all along, so the console never
    blocks writing to it."""

    master: int
    seen: bytearray = field(default_factory=bytearray)
    painted: threading.Event = field(default_factory=threading.Event)
    closed: bool = False

    def drain(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self.master, selectors.EVENT_READ)
            while not self.closed:
                if not selector.select(0.2):
                    continue
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                self.seen += chunk
                if b"Calls" in self.seen:
                    self.painted.set()

    def hang_up(self) -> None:
        """What a dropped SSH session or a killed tmux server does to the terminal."""
        self.closed = True
        os.close(self.master)


@dataclass
class Console:
    leader: subprocess.Popen[bytes]
    pid_file: Path
    terminal: Terminal

    @property
    def pid(self) -> int:
        return int(self.pid_file.read_text())

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True


@contextlib.contextmanager
def console_on_a_terminal(tmp_path: Path) -> Iterator[Console]:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    pid_file = tmp_path / "console.pid"
    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER, str(pid_file)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        env=os.environ | {"TERM": "xterm-256color"},
    )
    os.close(slave)
    terminal = Terminal(master)
    drainer = threading.Thread(target=terminal.drain, daemon=True)
    drainer.start()
    console = Console(leader, pid_file, terminal)
    try:
        assert terminal.painted.wait(PAINT_GUARD), "the demo console never painted"
        yield console
    finally:
        if leader.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(leader.pid, signal.SIGKILL)
            leader.wait()
        if not terminal.closed:
            terminal.hang_up()
        drainer.join()


def _exit_of(console: Console) -> int:
    try:
        return console.leader.wait(timeout=EXIT_GUARD)
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"the console was still running {EXIT_GUARD:.0f} s later "
            f"({'alive' if console.alive() else 'gone'}): it never left"
        )


def test_the_console_leaves_when_its_terminal_hangs_up_with_no_signal(tmp_path: Path) -> None:
    with console_on_a_terminal(tmp_path) as console:
        console.terminal.hang_up()
        code = _exit_of(console)
        assert code == 128 + signal.SIGHUP
        assert not console.alive()


def test_sigterm_stops_the_console_and_gives_the_terminal_back(tmp_path: Path) -> None:
    with console_on_a_terminal(tmp_path) as console:
        os.kill(console.pid, signal.SIGTERM)
        code = _exit_of(console)
        assert code == 128 + signal.SIGTERM
        # Textual left the alternate screen: the operator's shell is usable again.
        assert b"\x1b[?1049l" in console.terminal.seen


def test_sighup_stops_the_console_cleanly(tmp_path: Path) -> None:
    """A shell that passes the hangup on (bash, for its jobs) sends SIGHUP to the console
    itself: it leaves as for a hangup, with the hangup's status."""
    with console_on_a_terminal(tmp_path) as console:
        os.kill(console.pid, signal.SIGHUP)
        code = _exit_of(console)
        assert code == 128 + signal.SIGHUP
        assert b"\x1b[?1049l" in console.terminal.seen
