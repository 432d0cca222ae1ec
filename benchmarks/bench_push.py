"""A pushed event's way to the screen: webhook sent → its line in the Events pane. Asserts
nothing; prints figures next to the issue's target (within 100 ms of arrival).

``.venv/bin/python benchmarks/bench_push.py`` (``--pushes N``). The whole console in this
process (Textual's headless driver) on the demo fleet: every simulator polled over real HTTP
once a second and pushing its own webhooks, the Events pane shown. Each measured push is a
While1 ``queue_answer`` sent over real HTTP to the console's receiver, timed from the moment
the request is sent to the Events table holding its line (checked every millisecond), at a
random moment between repaints. The same run is made with pushes held behind the repaint
throttle like any poll (``PUSH_RENDER_SPACING`` set to the polls' spacing): the "before".
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the checkout's root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from pbxtui.hooks import HookServer
from pbxtui.launch import console_app
from pbxtui.sim.fleet import running_demo
from pbxtui.ui import repaint_pacing
from pbxtui.ui.widgets.live_table import LiveTable

TARGET_MS = 100.0
CHECK_EVERY = 0.001


async def measure(pushes: int, *, seed: int) -> list[float]:
    """Milliseconds from each push sent to its line in Events."""
    rng = random.Random(seed)
    async with running_demo(poll_interval=1.0, timeout=3.0) as demo:
        servers: list[HookServer] = []
        heard = asyncio.Event()

        def listening(server: HookServer) -> None:
            servers.append(server)
            demo.send_hooks_to(server.url)
            heard.set()

        app = console_app(demo.config, on_hooks_listening=listening)
        async with app.run_test(size=(160, 45)) as pilot:
            await heard.wait()
            await pilot.press("6")
            events = app.screen_stack[0].query_one("#table-events", LiveTable)
            await asyncio.sleep(3.0)  # every PBX polled and pushing: a console at work
            token = demo.token
            figures: list[float] = []
            async with httpx.AsyncClient(base_url=servers[0].url) as client:
                for n in range(pushes):
                    await asyncio.sleep(rng.uniform(0.2, 1.2))  # anywhere between repaints
                    marker = f"9{seed:02d}{n:06d}"
                    params = {
                        "event": "queue_answer",
                        "uniqueid": f"bench.{seed}.{n}",
                        "remote_number": marker,
                        "agent": "105",
                        "token": token,
                    }
                    started = time.perf_counter()
                    await client.get("/hook/bucharest/events", params=params)
                    # looked at every millisecond: the table has no "row added" signal
                    while not any(marker in " ".join(events.row_plain(k)) for k in events.keys):  # noqa: ASYNC110
                        await asyncio.sleep(CHECK_EVERY)
                    figures.append((time.perf_counter() - started) * 1000)
        return figures


def line(label: str, figures: list[float]) -> str:
    figures = sorted(figures)
    p95 = figures[max(0, int(len(figures) * 0.95) - 1)]
    verdict = "pass" if p95 <= TARGET_MS else "FAIL"
    return (
        f"{label:<38} n={len(figures):<3} p50 {statistics.median(figures):6.1f} ms"
        f"  p95 {p95:6.1f} ms  max {figures[-1]:6.1f} ms  (target p95 ≤ {TARGET_MS:g} ms: "
        f"{verdict})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pushes", type=int, default=40)
    args = parser.parse_args(argv)
    # One event loop per console, as each console process has.
    now = asyncio.run(measure(args.pushes, seed=1))
    repaint_pacing.PUSH_RENDER_SPACING = repaint_pacing.MIN_RENDER_SPACING
    before = asyncio.run(measure(args.pushes, seed=2))
    print(f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(line("push → Events (pushes cut the throttle)", now))
    print(line("push → Events (held like a poll)", before))


if __name__ == "__main__":
    main()
