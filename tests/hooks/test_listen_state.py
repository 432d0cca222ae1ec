"""``pbxtui listen --state``: besides each event's line, one JSON line per change of the state
the pushes make (the engine's versioned update messages), so a script sees what a push did."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner

from pbxtui.cli import main
from pbxtui.model import CallState
from pbxtui.model.messages import UpdateMessage
from tests.hooks.conftest import PBXS, TOKEN, WAIT
from tests.hooks.test_listen_cli import CONFIG, Lines

OUTSIDE = "0501234567"


def test_each_push_is_its_event_line_then_the_state_it_made(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CONFIG)
    (tmp_path / "config.toml").chmod(0o600)
    (tmp_path / "contacts.csv").write_text("number,name,id\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "pbxtui", "--config", "config.toml", "listen", "--state"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LISTEN_TEST_TOKEN": TOKEN},
    )
    assert process.stdout is not None and process.stderr is not None
    out, err = Lines(process.stdout), Lines(process.stderr)
    try:
        url = err.until("listening on ").split("listening on ", 1)[1].split(",", 1)[0]
        answered = {"event": "queue_answer", "uniqueid": "w1", "agent": "105"}
        with httpx.Client(base_url=url, params={"token": TOKEN}, timeout=WAIT) as client:
            assert client.get("/hook/cc/events", params=answered | {"remote_number": OUTSIDE})
            event, state = json.loads(out.next()), json.loads(out.next())
            assert (event["pbx"], event["route"], event["call_id"]) == ("cc", "events", "w1")
            assert (state["type"], state["schema_version"], state["pbx"]) == ("update", 1, "cc")
            first = UpdateMessage.model_validate(state).to_update()  # read back as published
            (call,) = first.state.calls()
            assert (call.caller, call.state, call.extension) == (OUTSIDE, CallState.UP, "105")
            assert first.state.health.pushes == 1 and first.seq > 0
            assert [c["source"] for c in state["changes"]] == ["push"]

            wrong = client.get("/hook/cc/events", params=answered | {"token": "wrong"})
            assert wrong.status_code == 401
            refused = UpdateMessage.model_validate_json(out.next()).to_update()
            assert refused.state.health.push_refusals == 1 and refused.seq > first.seq
            assert refused.state.health.last_push_refusal == "wrong token"
            assert len(refused.state.calls()) == 1 and refused.changes == ()  # nothing else

            ended = answered | {"event": "queue_answer_end", "duration": "61"}
            assert client.get("/hook/cc/events", params=ended).status_code == 200
            assert json.loads(out.next())["kind"] == "call_ended"
            last = UpdateMessage.model_validate_json(out.next()).to_update()
            assert last.state.calls() == () and last.seq > refused.seq
        process.send_signal(signal.SIGINT)
        assert process.wait(WAIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)
    for line in out.seen + err.seen:
        assert TOKEN not in line and "CANARY" not in line


def test_a_port_in_use_is_one_line_and_exit_1_with_the_state_too(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path.write_text(PBXS + f'[webhooks]\nlisten = "127.0.0.1:{port}"\n')
        result = CliRunner().invoke(main, ["--config", str(path), "listen", "--state"])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.stderr
