"""Serving the receiver: where it listens, and a clear error when it cannot."""

from __future__ import annotations

import socket

import httpx
import pytest

from pbxtui.config import parse_config
from pbxtui.hooks import HookServerError, serve_hooks
from pbxtui.model.push import PushEvent
from tests.hooks.conftest import PBXS, Collected, hook_config


async def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = hook_config(listen=f"127.0.0.1:{port}")
        with pytest.raises(HookServerError) as info:
            async with serve_hooks(config, Collected().sink):
                pass
    message = str(info.value)
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in message
    assert 'set another listen = "HOST:PORT"' in message


async def test_without_a_webhooks_table_the_receiver_is_off() -> None:
    polled_only = PBXS[: PBXS.index('[[pbx]]\nname = "cc"')]
    with pytest.raises(HookServerError, match=r"no \[webhooks\] table"):
        async with serve_hooks(parse_config(polled_only), Collected().sink):
            pass


async def test_its_port_is_free_again_once_it_stopped() -> None:
    events = Collected()
    async with serve_hooks(hook_config(), events.sink) as first:
        port = first.port
    config = hook_config(listen=f"127.0.0.1:{port}")
    async with serve_hooks(config, events.sink) as again, httpx.AsyncClient() as client:
        assert again.port == port
        response = await client.get(
            f"{again.url}/hook/ist/call_start?chan=x&token=CANARY-hook-t0ken"
        )
        assert response.status_code == 200


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
async def test_it_listens_on_ipv6_too() -> None:
    config = parse_config(PBXS + '[webhooks]\nlisten = "[::1]:0"\n')
    events = Collected()
    async with serve_hooks(config, events.sink) as server, httpx.AsyncClient() as client:
        assert server.url.startswith("http://[::1]:")
        response = await client.get(f"{server.url}/hook/ist/call_start?chan=v6")
        assert response.status_code == 200  # ::1 is loopback: allowed without a token
        event: PushEvent = await events.next()
    assert event.call_id == "v6"


async def test_a_sink_that_fails_loses_only_that_event() -> None:
    events = Collected()

    async def flaky(event: PushEvent) -> None:
        if event.call_id == "boom":
            raise RuntimeError("the state could not take it")
        await events.sink(event)

    async with serve_hooks(hook_config(), flaky) as server, httpx.AsyncClient() as client:
        for chan in ("boom", "after"):
            url = f"{server.url}/hook/ist/call_start?chan={chan}&token=CANARY-hook-t0ken"
            assert (await client.get(url)).status_code == 200
        assert (await events.next()).call_id == "after"
