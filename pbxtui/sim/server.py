"""Serving simulators over real HTTP on loopback, in the caller's event loop.

One uvicorn server per simulated PBX, each bound to a free port on 127.0.0.1 chosen by the
OS (a pre-bound socket, so there is no race between choosing a port and using it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"


def _bound_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: without it, Nagle plus delayed ACKs add ~40 ms per
    # request on a kept-alive loopback connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((LOOPBACK, port))
    sock.set_inheritable(True)
    return sock


@asynccontextmanager
async def serve(
    apps: Mapping[str, ASGIApp], *, ports: Mapping[str, int] | None = None
) -> AsyncIterator[dict[str, int]]:
    """Serve each app on its own loopback port; yields ``{name: port}``."""
    servers: list[tuple[Any, asyncio.Task[None], socket.socket]] = []
    bound: dict[str, int] = {}
    try:
        for name, app in apps.items():
            sock = _bound_socket((ports or {}).get(name, 0))
            bound[name] = sock.getsockname()[1]
            config = uvicorn.Config(
                app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
            )
            server = uvicorn.Server(config)
            server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
            # uvicorn would take SIGINT and SIGTERM for the last server started; the process
            # that serves them (the demo's console, `pbxtui sim`) owns its signals.
            server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
            task = asyncio.create_task(server.serve(sockets=[sock]))
            servers.append((server, task, sock))
        for server, task, _ in servers:
            # uvicorn exposes readiness only as a flag.
            while not server.started and not task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            if task.done():
                task.result()
        yield bound
    finally:
        for server, _, _ in servers:
            server.should_exit = True
            server.force_exit = True
        for _, task, sock in servers:
            try:
                await asyncio.wait_for(task, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:  # a server that failed while stopping must not hide the cause
                logging.getLogger("pbxtui.sim").exception("simulator server failed")
            finally:
                sock.close()
