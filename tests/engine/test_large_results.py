"""Large answers are parsed, diffed and joined off the event loop, with the same result."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from pbxtui.config import parse_config
from pbxtui.drivers.base import OFF_LOOP_BYTES, OFF_LOOP_ROWS
from pbxtui.drivers.pbxcloud import PbxCloudDriver
from pbxtui.engine import engine as engine_module
from pbxtui.model import Call, CallState, Resource


async def test_a_large_parse_runs_in_a_worker_thread_and_a_small_one_inline() -> None:
    config = parse_config(
        '[[pbx]]\nname = "hq"\nkind = "pbxcloud"\nurl = "http://hq.invalid/p.php"\n'
        'tenant = "T"\nkey = "k-123456"\n'
    ).pbx[0]
    async with httpx.AsyncClient() as client:
        driver = PbxCloudDriver(config, client)
        main = threading.current_thread()
        assert await driver.off_loop(threading.current_thread, size=100) is main
        assert await driver.off_loop(threading.current_thread, size=OFF_LOOP_BYTES) is not main
        assert await driver.off_loop(threading.current_thread, rows=OFF_LOOP_ROWS) is not main


async def test_thousands_of_calls_publish_the_same_joined_state(
    make_config: Any, make_engine: Any, fakes: Any, monkeypatch: Any
) -> None:
    threads: list[str] = []
    prepare = engine_module.Engine._prepare

    def watched(self: Any, *args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return prepare(self, *args)

    monkeypatch.setattr(engine_module.Engine, "_prepare", watched)
    engine = make_engine(make_config("hq"))
    async with engine:
        calls = [
            Call(pbx="hq", id=f"c{i}", channel=f"SIP/{i}-1", state=CallState.UP, duration=i)
            for i in range(OFF_LOOP_ROWS + 500)
        ]
        fakes["hq"].data[Resource.CALLS] = calls
        updates = []
        engine.subscribe(updates.append)
        states = await engine.poll_once(resources=[Resource.CALLS])
    assert len(states["hq"].calls()) == OFF_LOOP_ROWS + 500
    assert updates[-1].state is states["hq"]
    assert threads and threads[-1] != threading.main_thread().name
