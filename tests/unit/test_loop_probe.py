"""The hidden loop-lag probe the benchmarks switch on with PBXTUI_LOOP_PROBE."""

from __future__ import annotations

import json
import time
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from pbxtui.loop_probe import ENV, loop_probe


async def test_off_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    async with loop_probe():
        await anyio.lowlevel.checkpoint()
    assert list(tmp_path.iterdir()) == []  # noqa: ASYNC240 (a test's own temporary dir)


async def test_a_blocked_loop_is_seen_late(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "lag.jsonl"
    monkeypatch.setenv(ENV, str(target))
    async with loop_probe():
        await anyio.sleep(0.05)  # the probe is asleep in the loop now
        time.sleep(0.3)  # noqa: ASYNC251 (on purpose: a repaint that holds the event loop)
        with anyio.fail_after(30):
            # The probe writes its first line after its first second: wait for it to be there.
            while not target.exists() or not target.read_text(encoding="utf-8").strip():  # noqa: ASYNC110
                await anyio.sleep(0.05)
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["n"] >= 1
    assert max(lines[0]["lags_ms"]) >= 250  # it woke at least the blocked time late
