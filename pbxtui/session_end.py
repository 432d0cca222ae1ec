"""The console leaves when its terminal goes away or it is told to stop.

When an SSH session drops or a tmux server is killed, the kernel hangs up the terminal and
sends SIGHUP to the session's leader only. A leader that is not a shell passing it on
(``make demo``, a wrapper script) leaves the console with no signal at all and a terminal
that reads as end of file forever; Textual's input thread then spins on it. So the
terminal itself is watched: a thread waits in ``poll`` for the hangup, at no cost until it
comes. SIGHUP and SIGTERM stop the console the same way, through ``App.exit``, so the
terminal is given back and the exit status says which (128 + the signal's number).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator

import anyio

STOPPING_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
SERVING_SIGNALS = (signal.SIGINT, signal.SIGTERM)
HANGUP_STATUS = 128 + signal.SIGHUP
"""The console's exit status when its terminal went away (or SIGHUP came)."""
_GONE = select.POLLHUP | select.POLLERR | select.POLLNVAL


def _wait_for_hangup(terminal: int, wake: int, on_hangup: Callable[[], None]) -> None:
    poller = select.poll()
    poller.register(terminal, 0)  # no input events: only a hangup or an error wakes it
    poller.register(wake, select.POLLIN)
    while True:
        for fd, events in poller.poll():
            if fd == wake:
                return
            if events & _GONE:
                on_hangup()
                return


@contextlib.contextmanager
def leaving_with_the_terminal(stop: Callable[[int], None]) -> Iterator[None]:
    """While open, ``stop(128 + signal)`` is called in the running loop on SIGHUP or
    SIGTERM, or when the terminal on standard input hangs up (reported as SIGHUP)."""
    loop = asyncio.get_running_loop()
    stopped = False

    def stop_once(signum: int) -> None:
        nonlocal stopped
        if not stopped:
            stopped = True
            stop(128 + signum)

    for signum in STOPPING_SIGNALS:
        loop.add_signal_handler(signum, stop_once, signum)
    watched: tuple[threading.Thread, int, int] | None = None
    if sys.stdin is not None and sys.stdin.isatty():
        wake_read, wake_write = os.pipe()
        watcher = threading.Thread(
            target=_wait_for_hangup,
            args=(
                sys.stdin.fileno(),
                wake_read,
                lambda: loop.call_soon_threadsafe(stop_once, signal.SIGHUP),
            ),
            name="pbxtui-terminal-watch",
            daemon=True,
        )
        watcher.start()
        watched = (watcher, wake_read, wake_write)
    try:
        yield
    finally:
        for signum in STOPPING_SIGNALS:
            loop.remove_signal_handler(signum)
        if watched is not None:
            watcher, wake_read, wake_write = watched
            os.write(wake_write, b"x")
            watcher.join()
            os.close(wake_read)
            os.close(wake_write)


async def serve_until_stopped(serve: Callable[[], Awaitable[int | None]]) -> int:
    """Await ``serve()`` (a command that serves until told to stop) until it returns, or
    until SIGINT (Ctrl-C) or SIGTERM cancels it where it waits; 0 then. A KeyboardInterrupt
    raised wherever the interpreter happened to be could leave its shutdown waiting (seen
    once, on a loaded machine)."""
    code = 0
    async with anyio.create_task_group() as group:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(*SERVING_SIGNALS) as signals:
                async for _ in signals:
                    group.cancel_scope.cancel()
                    return

        async def serving() -> None:
            nonlocal code
            code = await serve() or 0
            group.cancel_scope.cancel()

        group.start_soon(stop_on_signal)
        group.start_soon(serving)
    return code
