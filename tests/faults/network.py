"""Faults below HTTP, each switched off without restarting the console that meets it.

- **connection refused**: the PBX's port is bound but not listening; clearing it serves the
  simulator on that very socket (no other process can take the port meanwhile);
- **connect timeout**: the port listens but its accept queue is full, so a new connection's
  handshake never completes; clearing it serves the simulator on that socket;
- **DNS failure**: the PBX is named under ``.invalid`` (RFC 6761: never resolves), and the
  real resolver fails on it; clearing it makes the name resolve to the loopback address, as a
  DNS record appearing would;
- **TLS certificate failure**: the simulator is served over TLS with a certificate from a CA
  the console does not trust (``verify_tls = true``); clearing it puts a certificate from a
  trusted CA in its place, on the same listening socket.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import trustme
import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    return sock


@contextmanager
def full_backlog(sock: socket.socket) -> Iterator[None]:
    """``sock`` listening with its accept queue full: new handshakes never complete."""
    sock.listen(0)
    fillers = []
    try:
        for _ in range(8):  # the queue holds a little more than the backlog asked
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(sock.getsockname())
            fillers.append(filler)
        yield
    finally:
        for filler in fillers:
            filler.close()


class Server:
    """One uvicorn server on a socket of ours, in this event loop."""

    def __init__(self, app: ASGIApp, sock: socket.socket, certificate: Path | None) -> None:
        options: dict[str, Any] = {}
        if certificate is not None:
            options = {"ssl_certfile": str(certificate), "ssl_keyfile": str(certificate)}
        config = uvicorn.Config(
            app, log_level="critical", access_log=False, lifespan="off", **options
        )
        self.server = uvicorn.Server(config)
        self.server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
        self.sock = sock
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        # uvicorn tells readiness only by a flag.
        while not self.server.started and not self.task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        if self.task.done():
            self.task.result()

    def use_certificate(self, certificate: Path) -> None:
        """Later handshakes present this certificate (the context is read per handshake)."""
        context = self.server.config.ssl
        assert isinstance(context, ssl.SSLContext)
        context.load_cert_chain(str(certificate))

    async def stop(self) -> None:
        if self.task is None:
            return
        self.server.should_exit = self.server.force_exit = True
        try:
            await asyncio.wait_for(self.task, timeout=5)
        except (TimeoutError, asyncio.CancelledError):
            self.task.cancel()


@asynccontextmanager
async def serving(
    app: ASGIApp, sock: socket.socket, *, certificate: Path | None = None, now: bool = True
) -> AsyncIterator[Server]:
    server = Server(app, sock, certificate)
    if now:
        await server.start()
    try:
        yield server
    finally:
        await server.stop()
        sock.close()


class Certificates:
    """A trusted CA (written to the file the console's TLS context trusts) and a rogue one."""

    def __init__(self, directory: Path) -> None:
        self.trusted_ca, self.rogue_ca = trustme.CA(), trustme.CA()
        self.bundle = directory / "trusted-ca.pem"
        self.trusted_ca.cert_pem.write_to_path(str(self.bundle))
        self.good = directory / "good.pem"
        self.bad = directory / "rogue.pem"
        for ca, path in ((self.trusted_ca, self.good), (self.rogue_ca, self.bad)):
            cert = ca.issue_cert(LOOPBACK, "localhost")
            cert.private_key_and_cert_chain_pem.write_to_path(str(path))


class Resolver:
    """``socket.getaddrinfo`` where a name under ``.invalid`` fails as the system resolver
    fails it ("Name or service not known"), until it is made to resolve to the loopback
    address. The failure is answered here, not asked of the machine's name server: RFC 6761
    says such a name never resolves, and a name server slow to say so would make the cell
    time out instead (seen here: lookups queued behind a slow one passed the 1 s timeout)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.resolvable: set[str] = set()
        real: Callable[..., Any] = socket.getaddrinfo

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(host, bytes):
                host = host.decode("ascii", "replace")
            if host in self.resolvable:
                host = LOOPBACK
            elif isinstance(host, str) and host.endswith(".invalid"):
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real(host, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
