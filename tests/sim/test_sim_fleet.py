"""The fleet with webhooks: every simulator sends to one receiver at /hook/<name>, and the
config written for it carries the push-only PBX, [webhooks] and [lookup]."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

import anyio
import httpx
import pytest

from pbxtui.sim import SimulatedPbx
from pbxtui.sim.crm import SimulatedCrm
from pbxtui.sim.fleet import (
    PUSH_FLEET,
    FleetHooks,
    build_fleet,
    describe,
    running_fleet,
    serving_fleet,
)
from pbxtui.sim.server import serve
from tests.sim.conftest import WAIT, Recorder, advance

TOKEN = "fleet-hook-token-9"


async def test_every_simulator_sends_to_its_own_route_of_one_receiver() -> None:
    recorder = Recorder()
    sims = build_fleet(PUSH_FLEET)
    async with serve({"recorder": recorder.app}) as ports:
        hooks = FleetHooks(f"http://127.0.0.1:{ports['recorder']}", TOKEN)
        async with serving_fleet(sims, hooks=hooks) as fleet:
            senders = [sim for sim in fleet.sims if sim.hooks is not None]
            assert {s.kind for s in senders} == {"dialup", "iexpbx", "while1"}
            for sim in senders:
                advance(sim, 10 * 60)
            names = {sim.name for sim in senders}
            await recorder.wait_for(lambda seen: {s.path.split("/")[2] for s in seen} >= names)
    for seen in recorder.seen:
        pbx = next(sim for sim in sims if sim.name == seen.path.split("/")[2])
        assert seen.params["token"] == TOKEN
        assert (
            seen.route
            in {
                "dialup": {"incoming", "end_call"},
                "iexpbx": {"call_start", "hangup"},
                "while1": {"caller_data", "events"},
            }[pbx.kind]
        )


async def test_the_push_config_names_the_receiver_the_crm_and_the_push_only_pbx() -> None:
    crm = SimulatedCrm(token="crm-secret-1")
    hooks = FleetHooks("http://127.0.0.1:8899", TOKEN)
    async with serving_fleet(build_fleet(PUSH_FLEET), hooks=hooks, crm=crm) as fleet:
        pushed = tomllib.loads(fleet.config_toml(push=True))
        polled = tomllib.loads(fleet.config_toml())
        lines = "\n".join(describe(fleet))
    entries = {entry["name"]: entry for entry in pushed["pbx"]}
    assert entries["bucharest"] == {"name": "bucharest", "kind": "while1"}
    assert pushed["webhooks"]["listen"] == "127.0.0.1:8899"
    assert pushed["webhooks"]["token"] == TOKEN
    assert pushed["lookup"]["url"] == crm.url(fleet.ports["crm"])
    assert pushed["lookup"]["token"] == "crm-secret-1"
    assert "bucharest" not in {entry["name"] for entry in polled["pbx"]}
    assert "webhooks" not in polled and "lookup" not in polled
    # What `pbxtui sim` prints names every address and no secret.
    for secret in (TOKEN, "crm-secret-1", *_credentials(fleet.sims)):
        assert secret not in lines
    assert "http://127.0.0.1:8899/hook/branch" in lines


def _credentials(sims: list[SimulatedPbx]) -> list[str]:
    keys = ("key", "pass", "password")
    return [str(sim.credentials[key]) for sim in sims for key in keys if key in sim.credentials]


async def test_a_fleet_without_push_config_still_parses_as_before() -> None:
    async with running_fleet(build_fleet(PUSH_FLEET)) as (config, sims, _):
        assert [p.name for p in config.pbx] == [s.name for s in sims if s.polled]


@pytest.mark.parametrize(
    ("root", "url", "listen"),
    [
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787/hook/hq", "127.0.0.1:8787"),
        ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/hook/hq", "127.0.0.1:8787"),
        ("http://10.0.0.5:9000/hook", "http://10.0.0.5:9000/hook/hq", "10.0.0.5:9000"),
        ("http://pbx-hooks.local/hook/", "http://pbx-hooks.local/hook/hq", "pbx-hooks.local:80"),
    ],
)
def test_hook_urls_are_the_receivers_routes(root: str, url: str, listen: str) -> None:
    hooks = FleetHooks(root, "t")
    assert hooks.url_for("hq") == url
    assert hooks.listen == listen


async def test_pbxtui_sim_sends_every_webhook_to_the_url_given(tmp_path: Path) -> None:
    """The command as an operator runs it: its IEXPBX's call start, made by an action on its
    API, reaches the receiver with the token; the config it writes carries both tokens."""
    recorder = Recorder()
    config_path = tmp_path / "sim.toml"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_STATE_HOME": str(tmp_path)}
    async with serve({"recorder": recorder.app}) as ports:
        root = f"http://127.0.0.1:{ports['recorder']}"
        command = [sys.executable, "-m", "pbxtui", "sim", "--hooks", root]
        command += ["--hooks-token", TOKEN, "--write-config", str(config_path)]
        async with await anyio.open_process(command, env=env) as process:
            try:
                printed = await _until_serving(process)
                config = tomllib.loads(config_path.read_text(encoding="utf-8"))
                istanbul = next(p for p in config["pbx"] if p["name"] == "istanbul")
                async with httpx.AsyncClient() as client:
                    answer = await client.get(
                        istanbul["url"],
                        params={
                            "username": istanbul["username"],
                            "password": istanbul["password"],
                            "action": "callnumber",
                            "internal": "101",
                            "number": "0501234567",
                        },
                    )
                    assert answer.json()[0]["success"] is True, answer.text
                await recorder.wait_for(
                    lambda seen: any(s.path == "/hook/istanbul/call_start" for s in seen)
                )
            finally:
                process.kill()
    start = next(s for s in recorder.seen if s.path == "/hook/istanbul/call_start")
    assert start.params["called"] == "0501234567" and start.params["token"] == TOKEN
    assert TOKEN not in printed
    assert f"{root}/hook/bucharest" in printed and "while1" in printed
    assert config["webhooks"]["token"] == TOKEN
    assert config["lookup"]["token"] and config["lookup"]["token"] not in printed
    assert config_path.stat().st_mode & 0o077 == 0


async def _until_serving(process: anyio.abc.Process) -> str:
    assert process.stdout is not None
    printed = b""
    with anyio.fail_after(WAIT):
        async for chunk in process.stdout:
            printed += chunk
            if b"serving; Ctrl-C stops" in printed:
                return printed.decode()
    raise AssertionError(f"pbxtui sim stopped: {printed.decode()}")
