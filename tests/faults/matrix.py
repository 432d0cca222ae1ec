"""The fault matrix: every vendor kind against every fault, and what a cell observes.

A cell is one console (a live ``Engine``) polling two PBXs of one vendor kind over real HTTP:
``bad``, which meets the fault, and ``good`` beside it. While the fault lasts the cell also
runs ``check`` and ``snapshot`` in-process, as separate commands would. Then the fault clears
and the same engine, never restarted, must bring ``bad`` back. What a cell saw is a
``CellResult``; ``test_fault_matrix.py`` says what it must be.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from pbxtui import headless
from pbxtui.config import Config, parse_config
from pbxtui.engine import Engine
from pbxtui.model import EngineUpdate, HealthState, PbxState, Resource
from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.scenario import ScenarioSpec
from tests.conftest import toml_config
from tests.faults.network import (
    LOOPBACK,
    Certificates,
    Resolver,
    bound_socket,
    full_backlog,
    serving,
)
from tests.faults.watch import LoopWatch

T = TypeVar("T")

KINDS = ("pbxcloud", "iexpbx", "dialup")
INTERVAL = 0.2
"""Both PBXs' poll interval, seconds."""
BAD_TIMEOUT = 1.0
HEAVY_TIMEOUT = 5.0
"""For the huge answers: reading 32 MiB on a busy machine may take a second, and what these
cells are about is size, not time."""
GOOD_TIMEOUT = 5.0
"""The healthy PBX's request timeout: long, so a busy test machine never fails it."""
RATE = 200.0
"""Requests per second for both: the budget must not be what paces the healthy PBX."""
GOOD_UPDATES = 3
"""The healthy PBX's calls updates the fault phase waits for, at least."""
WAIT = 30.0
"""The longest any condition of a cell is waited for before the cell fails."""


@dataclass(frozen=True)
class Fault:
    slug: str
    name: str
    how: str
    """How it is made, for the table."""
    label: str
    """The kind of error every resource of the broken PBX must show."""
    words: str
    """Words the reason on the broken PBX's calls and the ``check`` line must contain."""
    sim: dict[str, Any] = field(default_factory=dict)
    """Simulator faults (``pbxtui.sim.faults``) to switch on."""
    network: str = ""
    """A fault below HTTP (``network.py``): refused, backlog, dns, tls."""
    timeout: float = BAD_TIMEOUT
    heavy: bool = False
    """Costs memory: run alone, never beside another cell."""
    words_by_kind: dict[str, str] = field(default_factory=dict)
    states: tuple[HealthState, ...] = (HealthState.DOWN,)

    def expected(self, kind: str) -> str:
        return self.words_by_kind.get(kind, self.words)


FAULTS: tuple[Fault, ...] = (
    Fault(
        "refused",
        "connection refused",
        "the port bound but not listening",
        "unreachable",
        "connection refused",
        network="refused",
    ),
    Fault(
        "dns",
        "DNS failure",
        "a host name under `.invalid`",
        "unreachable",
        "unknown host",
        network="dns",
    ),
    Fault(
        "connect-timeout",
        "connect timeout",
        "a listening port whose accept queue is full",
        "timeout",
        "cannot connect within",
        network="backlog",
    ),
    Fault("read-timeout", "read timeout", "`hang`", "timeout", "no answer within", {"hang": True}),
    Fault(
        "slow",
        "20 s slow answer",
        "`slow` (20 s, a piece a second; timeout 1.5 s)",
        "timeout",
        "answer not complete within",
        {"slow": 20.0},
        timeout=1.5,
    ),
    Fault("http-500", "HTTP 500", "`http_500`", "bad answer", "HTTP 500", {"http_500": True}),
    Fault("http-502", "HTTP 502", "`http_502`", "bad answer", "HTTP 502", {"http_502": True}),
    Fault(
        "http-503",
        "HTTP 503",
        "`http_503` (with `Retry-After: 1`)",
        "bad answer",
        "HTTP 503",
        {"http_503": True},
    ),
    Fault("html", "HTML error page, HTTP 200", "`html`", "bad answer", "HTML page", {"html": True}),
    Fault(
        "login-page",
        "login page, HTTP 200",
        "`login_page_200`",
        "auth refused",
        "login page",
        {"login_page_200": True},
    ),
    Fault(
        "truncated", "truncated JSON", "`truncated`", "bad answer", "truncated", {"truncated": True}
    ),
    Fault(
        "wrong-types",
        "wrong types",
        "`wrong_types` (lists and strings become numbers)",
        "bad answer",
        "JSON number",
        {"wrong_types": True},
        words_by_kind={"dialup": "when asked for"},
        states=(HealthState.DOWN, HealthState.DEGRADED),
    ),
    Fault(
        "nulls",
        "nulls",
        "`nulls` (every value in an object null)",
        "bad answer",
        "",
        {"nulls": True},
        words_by_kind={
            "pbxcloud": "names its channel",
            "iexpbx": "JSON null",
            "dialup": "without an extension status",
        },
        states=(HealthState.DOWN, HealthState.DEGRADED),
    ),
    Fault(
        "empty", "empty body, HTTP 200", "`empty_200`", "bad answer", "empty", {"empty_200": True}
    ),
    Fault(
        "huge",
        "50 MB body",
        "`huge` (50 MiB, streamed)",
        "bad answer",
        "answer larger than",
        {"huge": 50.0},
        heavy=True,
        timeout=HEAVY_TIMEOUT,
    ),
    Fault(
        "gzip-bomb",
        "gzip bomb",
        "`gzip_bomb` (1 MiB unpacking to 1 GiB)",
        "bad answer",
        "answer larger than",
        {"gzip_bomb": True},
        heavy=True,
        timeout=HEAVY_TIMEOUT,
    ),
    Fault(
        "redirect",
        "redirect",
        "`redirect` (302 to a login page)",
        "auth refused",
        "redirected to a login page",
        {"redirect": True},
    ),
    Fault(
        "redirect-loop",
        "redirect loop",
        "`redirect_loop` (302 to itself)",
        "bad answer",
        "redirect loop",
        {"redirect_loop": True},
    ),
    Fault(
        "tls",
        "TLS certificate failure",
        "TLS with a certificate from a CA not trusted",
        "unreachable",
        "certificate verify failed",
        network="tls",
    ),
    Fault(
        "auth-refused",
        "the vendor's auth-refused text",
        "`auth_refused`",
        "auth refused",
        "refused",
        {"auth_refused": True},
    ),
)
BY_SLUG = {fault.slug: fault for fault in FAULTS}


@dataclass
class CellResult:
    kind: str
    fault: Fault
    state: HealthState = HealthState.STARTING
    calls_reason: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    """The error kind of every resource of ``bad`` while the fault lasted ("" if it read)."""
    reasons: dict[str, str] = field(default_factory=dict)
    check_exit: int = -1
    check_reason: str = ""
    check_good: bool = False
    snapshot_exit: int = -1
    snapshot_errors: list[str] = field(default_factory=list)
    good_updates: list[tuple[float, int]] = field(default_factory=list)
    """(monotonic time, latency ms) of each successful calls poll of ``good``."""
    fault_end: float = 0.0
    recovered_after: float = -1.0
    """Seconds from the fault clearing to ``bad``'s calls reading again, by themselves."""
    healthy_again: bool = False

    @property
    def good_during_fault(self) -> list[tuple[float, int]]:
        return [u for u in self.good_updates if u[0] <= self.fault_end]

    def worst_hold_up(self, watch: LoopWatch) -> float:
        """The longest the healthy PBX waited between two calls updates beyond its interval,
        its own poll's time, and the time the event loop woke late meanwhile."""
        worst = 0.0
        updates = self.good_during_fault
        for (before, _), (after, latency_ms) in pairwise(updates):
            gap = after - before - INTERVAL - latency_ms / 1000
            worst = max(worst, gap - watch.late_between(before, after))
        return worst


NORMALIZE = (
    (re.compile(r"://([^/:]+):\d+"), r"://\1:PORT"),
    # A dialup sweep serves calls, extensions and lamps: whichever poll led it is named.
    (re.compile(r"1 MiB \(the limit for [a-z]+\)"), "1 MiB (the limit for a status)"),
    (re.compile(r"\(\d+ characters\)"), "(N characters)"),
    (re.compile(r"at character \d+"), "at character N"),
    (re.compile(r"\(\d+ (?:bytes|KiB|MiB) received\)"), "(N bytes received)"),
    # Where a truncated answer was cut (and so what the decoder says) depends on the calls.
    (re.compile(r"(truncated JSON): .*$"), r"\1: …"),
    # The extensions of a sweep answer concurrently: any of them may be the first to fail.
    (re.compile(r"extension '\d+' when asked for '\d+'"), "extension 'N' when asked for 'M'"),
)


def normalized(reason: str) -> str:
    """A reason as the table shows it: what changes from run to run (ports, sizes) made N."""
    for pattern, replacement in NORMALIZE:
        reason = pattern.sub(replacement, reason)
    return reason.replace("|", "\\|")


@dataclass
class Env:
    """What cells share: where to write, the resolver, the certificates."""

    directory: Path
    resolver: Resolver
    certificates: Certificates


def simulator(kind: str, name: str, seed: int) -> SimulatedPbx:
    spec = ScenarioSpec(seed=seed, extensions=4, queues=(("630", "Sales"),), flows=())
    options = {"tenant": "ACME"} if kind == "pbxcloud" else {}
    return build_simulator(kind, name, spec=spec, **options)


Clear = Callable[[], Awaitable[None]]


@asynccontextmanager
async def broken(
    kind: str, fault: Fault, sim: SimulatedPbx, env: Env
) -> AsyncIterator[tuple[str, Clear]]:
    """Serve ``sim`` with ``fault``; yields its URL and how to clear the fault."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    url = f"http://{LOOPBACK}:{port}{sim.path}"
    async with AsyncExitStack() as stack:
        if fault.network in ("refused", "backlog"):
            if fault.network == "backlog":
                stack.enter_context(full_backlog(sock))
            server = await stack.enter_async_context(serving(sim.app, sock, now=False))

            async def clear() -> None:
                # uvicorn listens again with a long queue and accepts what was queued.
                await server.start()

            yield url, clear
            return
        if fault.network == "tls":
            tls = await stack.enter_async_context(
                serving(sim.app, sock, certificate=env.certificates.bad)
            )

            async def clear() -> None:
                tls.use_certificate(env.certificates.good)

            yield f"https://{LOOPBACK}:{port}{sim.path}", clear
            return
        await stack.enter_async_context(serving(sim.app, sock))
        if fault.network == "dns":
            host = f"{kind}-pbx.invalid"

            async def clear() -> None:
                env.resolver.resolvable.add(host)

            yield f"http://{host}:{port}{sim.path}", clear
            return
        sim.faults.update(fault.sim)

        async def clear() -> None:
            sim.faults.clear()

        yield url, clear


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Wait for a condition (checked every 20 ms), failing after ``WAIT`` seconds."""
    try:
        with anyio.fail_after(WAIT):
            while not predicate():  # noqa: ASYNC110 (waiting on a condition)
                await anyio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"waited {WAIT:g} s for {what}") from None


def _finished(state: PbxState) -> bool:
    return all(not r.pending for r in state.resources.values()) and bool(state.resources)


async def _apart(command: Callable[[Config], Awaitable[T]], config: Config, heavy: bool) -> T:
    """A headless command on an event loop of its own (in a thread), as the separate process
    it is for an operator: opening its engine is not the console's stall. Not for the heavy
    faults, which run their commands before the console opens: a thread's malloc arena keeps
    what a 32 MiB answer took, and the memory measured would be the allocator's."""
    if heavy:
        return await command(config)
    return await anyio.to_thread.run_sync(anyio.run, command, config)


async def run_cell(
    kind: str, fault: Fault, env: Env, seed: int = 1, started: Callable[[], None] = lambda: None
) -> CellResult:
    """One cell; ``started`` is called once the console is open and polling."""
    result = CellResult(kind, fault)
    bad_sim, good_sim = simulator(kind, "bad", seed), simulator(kind, "good", seed + 1)
    async with (
        broken(kind, fault, bad_sim, env) as (url, clear),
        serving(good_sim.app, good_sock := bound_socket()),
    ):
        good_port = good_sock.getsockname()[1]
        common = {"poll_interval": INTERVAL, "requests_per_second": RATE}
        entries = [
            bad_sim.config_entry(0, url=url, timeout=fault.timeout, **common),
            good_sim.config_entry(good_port, timeout=GOOD_TIMEOUT, **common),
        ]
        config = parse_config(toml_config(entries), source=f"<{kind} {fault.slug}>")
        cleared_at: list[float] = []

        def note(update: EngineUpdate) -> None:
            if update.resource is not Resource.CALLS:
                return
            calls = update.state.resource(Resource.CALLS)
            if update.pbx == "good" and calls.ok:
                result.good_updates.append((time.monotonic(), calls.latency_ms or 0))
            if update.pbx == "bad" and calls.ok and cleared_at and result.recovered_after < 0:
                result.recovered_after = time.monotonic() - cleared_at[0]

        async def commands() -> None:
            async def check() -> None:
                lines = await _apart(headless.check, config, fault.heavy)
                failed = [line for line in lines if not line.ok]
                result.check_exit = headless.EXIT_FAILED if failed else headless.EXIT_OK
                bad_line = next(line for line in lines if line.pbx == "bad")
                result.check_reason = "" if bad_line.ok else bad_line.reason
                result.check_good = next(line for line in lines if line.pbx == "good").ok

            async def snapshot() -> None:
                document = await _apart(headless.snapshot, config, fault.heavy)
                errors = headless.snapshot_errors(document)
                result.snapshot_errors = errors
                result.snapshot_exit = headless.EXIT_FAILED if errors else headless.EXIT_OK

            async with anyio.create_task_group() as both:
                both.start_soon(check)
                both.start_soon(snapshot)

        if fault.heavy:
            # One command at a time: what a fault costs one console is what is measured.
            await commands()
        async with Engine(config) as engine, anyio.create_task_group() as group:
            engine.subscribe(note)
            group.start_soon(engine.run)
            if not fault.heavy:
                group.start_soon(commands)
            started()

            def bad() -> PbxState:
                return engine.state()["bad"]

            def fault_shown() -> bool:
                state = bad()
                return (
                    result.snapshot_exit >= 0
                    and result.check_exit >= 0
                    and _finished(state)
                    and state.resource(Resource.CALLS).failing
                    and len(result.good_updates) >= GOOD_UPDATES
                )

            await until(fault_shown, f"{kind}: the fault {fault.slug} shown, check and snapshot")
            state = bad()
            result.state = state.health.state
            result.calls_reason = state.resource(Resource.CALLS).error
            for resource, current in state.resources.items():
                result.labels[str(resource)] = current.error_kind if current.failing else ""
                result.reasons[str(resource)] = current.error
            result.fault_end = time.monotonic()
            cleared_at.append(time.monotonic())
            await clear()
            await until(lambda: result.recovered_after >= 0, f"{kind}: calls read again")
            # Peers are polled every 5 s, backing off to 30: the operator's `r` brings them.
            engine.refresh("bad")
            await until(lambda: bad().health.state is HealthState.OK, f"{kind}: healthy again")
            result.healthy_again = True
            group.cancel_scope.cancel()
    return result
