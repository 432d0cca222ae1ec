"""The demo wires what the PBXs push: its config has a receiver on a free loopback port with
a token made up for the run, the push-only While1 PBX and ``[lookup]`` at the simulated CRM;
once the receiver listens, the simulators send their webhooks to it (over real HTTP)."""

from __future__ import annotations

import anyio
import httpx

from pbxtui.engine import Engine
from pbxtui.hooks import HookServer
from pbxtui.model import EngineUpdate
from pbxtui.sim.fleet import CRM_NAME, running_demo
from pbxtui.sources import sources_for
from tests.hooks.conftest import WAIT


async def test_the_demo_config_has_the_receiver_the_while1_pbx_and_the_crm() -> None:
    async with running_demo(poll_interval=1.0) as demo:
        config = demo.config
        assert [(p.name, p.kind) for p in config.pbx] == [
            ("hq", "pbxcloud"),
            ("istanbul", "iexpbx"),
            ("branch", "dialup"),
            ("eu", "pbxcloud"),
            ("bucharest", "while1"),
        ]
        hooks = config.webhooks
        assert hooks is not None and (hooks.host, hooks.port) == ("127.0.0.1", 0)
        assert hooks.token is not None and hooks.token.get_secret_value() == demo.token
        assert len(demo.token) >= 20
        assert config.lookup is not None
        assert config.lookup.url.startswith(f"http://127.0.0.1:{demo.fleet.ports[CRM_NAME]}/")
        senders = [s for s in demo.fleet.sims if s.hooks is not None]
        assert {s.name for s in senders} == {"istanbul", "branch", "bucharest"}
        assert not any(s.hooks.enabled for s in senders if s.hooks)  # silent until told
        async with httpx.AsyncClient() as client:  # the CRM answers with the demo's token
            token = config.lookup.token.get_secret_value() if config.lookup.token else ""
            answer = await client.get(
                config.lookup.url, params={"telephone": "0501234567", "token": token}
            )
        assert answer.status_code == 200 and "name" in answer.json()


async def test_the_demo_simulators_push_to_the_receiver_the_engine_serves() -> None:
    async with running_demo(poll_interval=1.0, timeout=3.0) as demo:
        servers: list[HookServer] = []

        def listening(server: HookServer) -> None:
            servers.append(server)
            demo.send_hooks_to(server.url)

        pushed: dict[str, anyio.Event] = {"polled": anyio.Event(), "while1": anyio.Event()}

        def on_update(update: EngineUpdate) -> None:
            for change in update.changes:
                if change.source == "push":
                    kind = "while1" if change.pbx == "bucharest" else "polled"
                    pushed[kind].set()

        sources = sources_for(demo.config, on_listening=listening)
        async with Engine(demo.config, sources=sources) as engine, anyio.create_task_group() as tg:
            engine.subscribe(on_update)
            tg.start_soon(engine.run)
            with anyio.fail_after(WAIT * 3):  # the scenarios' calls come every few seconds
                for event in pushed.values():
                    await event.wait()
            (server,) = servers
            assert server.port != 0
            for sim in demo.fleet.sims:
                if sim.hooks is not None:
                    assert sim.hooks.url == f"{server.url}/hook/{sim.name}"
            for name, state in engine.state().items():
                assert state.health.push_refusals == 0, name  # the simulators have the token
            assert engine.state()["bucharest"].health.push_only
            tg.cancel_scope.cancel()
