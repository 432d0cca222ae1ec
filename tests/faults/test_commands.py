"""A few cells of the matrix through the real commands, each in a process of its own: the exit
code, the reason printed, and the whole process's peak memory on the answers that cost it."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import pytest

from pbxtui.sim.faults import gzip_bomb
from pbxtui.sim.fleet import running_fleet
from tests.faults.matrix import simulator

MB = 1000 * 1000
PEAK_LIMIT = 300 * MB
"""The issue's bound on the console with a 1 GiB gzip bomb on one PBX."""
# pbxtui's own entry point, reporting the process's peak resident set on its way out. VmHWM,
# not getrusage's ru_maxrss: Linux keeps ru_maxrss across exec, so a child of a big pytest
# worker would report the worker's peak as its own.
RUN = (
    "import atexit, re, sys\n"
    "def peak():\n"
    "    status = open('/proc/self/status').read()\n"
    "    kib = re.search(r'VmHWM:\\s+(\\d+)', status).group(1)\n"
    "    sys.stderr.write(f'peak-rss-kib={kib}\\n')\n"
    "atexit.register(peak)\n"
    "from pbxtui.cli import main\n"
    "main(prog_name='pbxtui')\n"
)
CASES = [
    ("pbxcloud", {"gzip_bomb": True}, "check", "answer larger than 16 MiB"),
    ("iexpbx", {"gzip_bomb": True}, "snapshot", "answer larger than"),
    ("pbxcloud", {"huge": 50.0}, "snapshot", "answer larger than"),
    ("dialup", {"auth_refused": True}, "check", "You need to login first!"),
    ("iexpbx", {"login_page_200": True}, "check", "answered a login page"),
]


@pytest.mark.parametrize(
    ("kind", "fault", "command", "words"),
    CASES,
    ids=[f"{c[2]}-{c[0]}-{next(iter(c[1]))}" for c in CASES],
)
async def test_the_command_fails_naming_the_fault_within_its_memory(
    kind: str, fault: dict[str, object], command: str, words: str, tmp_path: Path
) -> None:
    gzip_bomb()
    bad, good = simulator(kind, "bad", 1), simulator(kind, "good", 2)
    bad.faults.update(fault)
    config = tmp_path / "config.toml"
    async with running_fleet([bad, good], write_config=config, timeout=5.0):
        args = [sys.executable, "-c", RUN, "--config", str(config), command]
        args += ["--json"] if command == "snapshot" else []
        done = await anyio.run_process(args, check=False)
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 1, (out, err)
    assert words in out + err
    assert "Traceback" not in err
    if command == "check":
        assert "good" in out and "1 of 2 PBX failed: bad" in err
    else:
        said = err.splitlines()[:-1]
        assert said and all(line.startswith("pbxtui: bad ") for line in said), err
    peak = int(err.rsplit("peak-rss-kib=", 1)[1].split()[0]) * 1024
    assert peak < PEAK_LIMIT, f"{command} peaked at {peak / MB:.0f} MB"
