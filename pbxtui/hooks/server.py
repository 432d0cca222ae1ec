"""The receiver served by uvicorn inside the caller's event loop (the console's, or
``pbxtui listen``'s), on the address of ``[webhooks] listen``."""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import uvicorn

from pbxtui.config import Config
from pbxtui.contacts import CallerDataProvider
from pbxtui.hooks.app import HookReceiver
from pbxtui.hooks.caller_data import CallerDataService
from pbxtui.hooks.delivery import Delivery, Sink
from pbxtui.hooks.stats import HookStats

MAX_CONNECTIONS = 256
"""Connections served at once; past it uvicorn answers 503 rather than queue without end."""
STOP_SECONDS = 5.0


class HookServerError(Exception):
    """The receiver cannot run (the port is taken, the address is not this machine's)."""


@dataclass(frozen=True)
class HookServer:
    host: str
    port: int
    stats: HookStats

    @property
    def url(self) -> str:
        """``http://127.0.0.1:8787`` (an IPv6 address in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def _bind(host: str, port: int, listen: str) -> socket.socket:
    address = "127.0.0.1" if host == "localhost" else host
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # A restarted receiver may take its port back at once (SO_REUSEADDR never lets two
        # listen on one port on Linux or macOS: "in use" is still said).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and ipaddress.ip_address(address).is_unspecified:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # "[::]" hears IPv4 too
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        raise HookServerError(_bind_failure(listen, exc)) from None
    sock.set_inheritable(True)
    return sock


def _bind_failure(listen: str, exc: OSError) -> str:
    why = {
        errno.EADDRINUSE: "the port is in use (another pbxtui console or `pbxtui listen`?)",
        errno.EADDRNOTAVAIL: "this machine has no such address",
        errno.EACCES: "permission denied (ports below 1024 need privileges)",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return f'[webhooks] cannot listen on {listen}: {why}: set another listen = "HOST:PORT"'


@asynccontextmanager
async def serve_hooks(
    config: Config,
    sink: Sink,
    *,
    stats: HookStats | None = None,
    contacts: CallerDataProvider | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[HookServer]:
    """Serve the receiver while the context is open; yields where it listens. Raises
    ``HookServerError`` when it cannot listen."""
    hooks = config.webhooks
    if hooks is None:
        raise HookServerError("the config has no [webhooks] table: the receiver is off")
    stats = stats if stats is not None else HookStats()
    sock = _bind(hooks.host, hooks.port, hooks.listen)
    delivery = Delivery(sink)
    receiver = HookReceiver(config, delivery, stats, CallerDataService(contacts), clock=clock)
    server = uvicorn.Server(
        uvicorn.Config(
            receiver,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            server_header=False,
            # X-Forwarded-For is believed only from the proxies named (uvicorn would trust
            # 127.0.0.1 by default, letting any local process pose as an allowed sender).
            proxy_headers=bool(hooks.trusted_proxies),
            forwarded_allow_ips=list(hooks.trusted_proxies) or None,
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=5,
        )
    )
    # uvicorn would take SIGINT and SIGTERM for itself; the console and ``pbxtui listen``
    # own their signals, and stop the receiver by leaving ``serve_hooks``.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    stopped = anyio.Event()

    async def run() -> None:
        try:
            await server.serve(sockets=[sock])
        finally:
            stopped.set()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(delivery.run)
            group.start_soon(run)
            # uvicorn says it is serving only by a flag
            while not server.started and not stopped.is_set():  # noqa: ASYNC110
                await anyio.sleep(0.005)
            if stopped.is_set():
                raise HookServerError(f"[webhooks] the receiver on {hooks.listen} did not start")
            host, port = sock.getsockname()[:2]
            try:
                yield HookServer(str(host), int(port), stats)
            finally:
                server.should_exit = True
                with anyio.move_on_after(STOP_SECONDS, shield=True):
                    await stopped.wait()
                group.cancel_scope.cancel()
    finally:
        sock.close()
