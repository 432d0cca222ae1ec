"""Regenerate ``screenshots/*.svg`` (one per pane) from a running console.

``save_screenshots(app_factory, out_dir)`` drives any app headless; ``demo_screenshots(out_dir)``
serves the demo fleet of simulators on loopback and shoots it. From a checkout::

    python -m pbxtui.screenshots screenshots/
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from pbxtui.launch import console_app
from pbxtui.model import HealthState
from pbxtui.ui.app import PbxApp

PANE_SHOTS: tuple[tuple[str, str], ...] = (
    ("1", "calls"),
    ("2", "extensions"),
    ("3", "blf"),
    ("4", "peers"),
    ("5", "queues"),
    ("6", "events"),
)


async def save_screenshots(
    app_factory: Callable[[], PbxApp],
    out_dir: Path | str,
    *,
    size: tuple[int, int] = (160, 45),
    settle: float = 4.0,
    timeout: float = 30.0,
    panes: Sequence[tuple[str, str]] = PANE_SHOTS,
) -> list[Path]:
    """One SVG per pane, written to ``out_dir`` as ``<pane>.svg``; returns the paths.

    Waits until every PBX has answered (or ``timeout``), then ``settle`` seconds more so the
    event log has something in it, then visits each pane in turn.
    """
    out = Path(out_dir)
    await asyncio.to_thread(out.mkdir, parents=True, exist_ok=True)
    app = app_factory()
    saved: list[Path] = []
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + timeout
        states = app.console_screen.states
        while time.monotonic() < deadline and any(
            s.health.state is HealthState.STARTING for s in states.values()
        ):
            await pilot.pause(0.2)
        await pilot.pause(settle)
        for key, name in panes:
            await pilot.press(key)
            await pilot.pause(0.3)
            # A screen that reads in workers (History) is shown once they are done.
            shown = app.screen
            until = time.monotonic() + timeout
            while time.monotonic() < until and any(
                w.node is shown and w.is_running for w in app.workers
            ):
                await pilot.pause(0.1)
            written = app.save_screenshot(filename=f"{name}.svg", path=str(out))
            saved.append(Path(written))
    return saved


async def demo_screenshots(
    out_dir: Path | str, *, size: tuple[int, int] = (160, 45), settle: float = 4.0
) -> list[Path]:
    """Serve what ``pbxtui --demo`` serves (webhooks, the push-only PBX and the CRM's names
    included) on loopback and save one screenshot per pane, then the History screen's."""
    from pbxtui.sim.fleet import running_demo

    async with running_demo(poll_interval=1.0, timeout=3.0) as demo:
        return await save_screenshots(
            lambda: console_app(
                demo.config, on_hooks_listening=lambda server: demo.send_hooks_to(server.url)
            ),
            out_dir,
            size=size,
            settle=settle,
            panes=(*PANE_SHOTS, ("H", "history")),
        )


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    out_dir = Path(args[0]) if args else Path("screenshots")
    for path in asyncio.run(demo_screenshots(out_dir)):
        print(path)


if __name__ == "__main__":
    main()
