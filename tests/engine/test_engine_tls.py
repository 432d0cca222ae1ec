"""A PBX whose TLS certificate is not verified says so in its health, wherever it is shown."""

from __future__ import annotations

from typing import Any


async def test_health_says_when_tls_is_not_verified(
    make_config: Any, make_engine: Any, running: Any, wait_until: Any
) -> None:
    config = make_config("hq", "lab", lab__verify_tls=False)
    async with running(make_engine(config)) as engine:
        assert engine.state()["lab"].health.tls_verified is False
        await wait_until(lambda: all(s.health.last_ok for s in engine.state().values()))
        health = {name: state.health for name, state in engine.state().items()}
    assert health["lab"].tls_verified is False and health["hq"].tls_verified is True
    assert health["lab"].model_dump(mode="json")["tls_verified"] is False  # snapshot --json
