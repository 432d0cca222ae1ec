"""``pbxtui listen`` as a new user runs it: one JSON line per accepted request on standard
output; a refused one prints nothing there, one line on standard error, never the token."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest
from click.testing import CliRunner

from pbxtui.cli import main
from pbxtui.hooks.listen import event_line
from pbxtui.model.push import PushEvent, PushKind
from tests.hooks.conftest import PBXS, TOKEN, WAIT

CONFIG = (
    PBXS
    + """
[webhooks]
listen = "127.0.0.1:0"
token = { env = "LISTEN_TEST_TOKEN" }
allow_from = ["127.0.0.1"]
trusted_proxies = ["127.0.0.1"]

[contacts]
csv = "contacts.csv"
"""
)


class Lines:
    """A pipe's lines as they come, read in a thread (a pipe has no timeout of its own)."""

    def __init__(self, pipe: IO[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe: IO[str]) -> None:
        for line in pipe:
            self.lines.put(line.rstrip("\n"))

    def next(self) -> str:
        line = self.lines.get(timeout=WAIT)
        self.seen.append(line)
        return line

    def until(self, text: str) -> str:
        while text not in (line := self.next()):
            pass
        return line


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[tuple[str, Lines, Lines, subprocess.Popen[str]]]:
    (tmp_path / "config.toml").write_text(CONFIG)
    (tmp_path / "config.toml").chmod(0o600)
    (tmp_path / "contacts.csv").write_text("number,name,id\n0501234567,Dana Levi,12345\n")
    env = {**os.environ, "LISTEN_TEST_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "pbxtui", "--config", str(tmp_path / "config.toml"), "listen"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        url = err.until("listening on ").split("listening on ", 1)[1].split(" ", 1)[0]
        yield url, out, err, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)


def test_each_accepted_request_is_one_json_line_and_refused_ones_none(
    listener: tuple[str, Lines, Lines, subprocess.Popen[str]],
) -> None:
    url, out, err, process = listener
    with httpx.Client(base_url=url, params={"token": TOKEN}, timeout=WAIT) as client:
        accepted = [
            client.get("/hook/branch/incoming", params={"callid": "c1", "ext": "101"}),
            client.post("/hook/branch/end_call", data={"ivruniqueid": "u1", "status": "BUSY"}),
            client.get("/hook/ist/call_start", params={"chan": "SIP/1", "caller": "0212"}),
            client.post("/hook/ist/hangup", json={"chan": "SIP/1", "callstatus": "ANSER"}),
            client.get("/hook/cc/events", params={"event": "dial_answer", "uniqueid": "w1"}),
            client.get("/hook/cc/caller_data", params={"telephone": "+972501234567"}),
        ]
        refused = [
            client.get("/hook/ist/call_start", params={"token": "wrong", "chan": "x"}),
            client.get(
                "/hook/ist/call_start",
                params={"chan": "x"},
                headers={"X-Forwarded-For": "10.9.9.9"},
            ),
            client.post("/hook/ist/call_start", content=b"chan=" + b"x" * 10_000_000),
            client.get("/hook/nowhere/call_start", params={"chan": "x"}),
        ]
        marker = client.get("/hook/ist/call_start", params={"chan": "MARKER"})
    assert [r.status_code for r in accepted] == [200] * 6
    assert accepted[-1].json()["name"] == "Dana Levi"  # the contacts file answers caller data
    assert [r.status_code for r in refused] == [401, 403, 413, 404]
    assert marker.status_code == 200
    lines = [json.loads(out.next()) for _ in range(7)]
    assert [(e["pbx"], e["route"]) for e in lines] == [
        ("branch", "incoming"),
        ("branch", "end_call"),
        ("ist", "call_start"),
        ("ist", "hangup"),
        ("cc", "events"),
        ("cc", "caller_data"),
        ("ist", "call_start"),
    ]
    assert lines[-1]["call_id"] == "MARKER"  # nothing refused came out in between
    assert [PushEvent.model_validate(e).kind for e in lines[:2]] == [
        PushKind.CALL_RINGING,
        PushKind.CALL_ENDED,
    ]
    said = [err.until("refused") for _ in refused]
    assert [line.split(" ")[2] for line in said] == ["401", "403", "413", "404"]
    process.send_signal(signal.SIGINT)
    assert process.wait(WAIT) == 0
    for line in out.seen + err.seen:
        assert TOKEN not in line and "CANARY" not in line


def test_without_a_webhooks_table_it_says_what_to_add(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(PBXS[: PBXS.index('[[pbx]]\nname = "cc"')])
    result = CliRunner().invoke(main, ["--config", str(path), "listen"])
    assert result.exit_code == 2
    assert "no [webhooks] table" in result.stderr and 'listen = "127.0.0.1:8787"' in result.stderr


def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path.write_text(PBXS + f'[webhooks]\nlisten = "127.0.0.1:{port}"\n')
        result = CliRunner().invoke(main, ["--config", str(path), "listen"])
        bad = CliRunner().invoke(main, ["--config", str(path), "listen", "--listen", "nowhere"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.stderr
    assert bad.exit_code == 2 and 'expected "HOST:PORT"' in bad.stderr


def test_masked_numbers_keep_identifiers() -> None:
    event = PushEvent(
        pbx="cc",
        kind=PushKind.CALL_RINGING,
        route="caller_data",
        call_id="0501234567.12",
        caller="0501234567",
        callee="201",
        raw={"telephone": "0501234567"},
    )
    line = json.loads(event_line(event, mask=True))
    assert (line["caller"], line["callee"], line["raw"]) == (
        "050*****67",
        "201",
        {"telephone": "050*****67"},
    )
    assert line["call_id"] == "050*****67.12"  # a number shown elsewhere is masked in it too
    assert json.loads(event_line(event)) == event.model_dump(mode="json")
