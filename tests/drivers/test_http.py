"""The HTTP layer over real loopback HTTP: size limits on the decoded body, redirects,
timeouts told apart, the pool kept apart from the PBX's own failures, and the budget told
how the PBX copes."""

from __future__ import annotations

import contextlib
import gzip
import socket
import tracemalloc
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, closing, contextmanager

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from pbxtui.drivers.base import AuthRefused, BadAnswer, ConsoleBusy, PbxTimeout, PbxUnreachable
from pbxtui.drivers.budget import RequestBudget
from pbxtui.drivers.http import MIB, URLS_KEPT, VendorHttp, asking
from pbxtui.redact import secrets
from pbxtui.sim.faults import FaultMiddleware, Faults
from pbxtui.sim.server import serve

SECRET = "s3cr+t/k&y=%41"
BODY = '[{"channel": "SIP/201-1", "state": "Up"}]'


async def api(request: Request) -> Response:
    return PlainTextResponse(BODY, media_type="application/json")


async def packed(request: Request) -> Response:
    return Response(
        gzip.compress(BODY.encode()),
        media_type="application/json",
        headers={"content-encoding": "gzip"},
    )


async def moved(request: Request) -> Response:
    return RedirectResponse("/v2/api.php?key=" + SECRET, status_code=301)


ROUTES = [Route("/api.php", api), Route("/packed.php", packed), Route("/moved.php", moved)]


@asynccontextmanager
async def endpoint(faults: Faults | None = None) -> AsyncIterator[tuple[str, Faults]]:
    faults = faults or Faults()
    app = FaultMiddleware(Starlette(routes=ROUTES), faults)
    async with serve({"pbx": app}) as ports:
        yield f"http://127.0.0.1:{ports['pbx']}", faults


def vendor(
    base: str, client: httpx.AsyncClient, path: str = "/api.php", **kwargs: object
) -> VendorHttp:
    secrets.add(SECRET)
    options: dict[str, object] = {"timeout": 5.0, **kwargs}
    return VendorHttp(pbx="hq", url=base + path, client=client, **options)  # type: ignore[arg-type]


PARAMS = {"reqtype": "CHANNELS", "key": SECRET}


async def test_a_plain_and_a_gzip_answer_read_alike() -> None:
    async with endpoint() as (base, _), httpx.AsyncClient() as client:
        plain = await vendor(base, client).get(PARAMS)
        zipped = await vendor(base, client, "/packed.php").get(PARAMS)
    assert plain.text == zipped.text == BODY
    assert plain.size == len(BODY)


@pytest.mark.parametrize("fault", ["huge", "gzip_bomb", "endless"])
async def test_a_body_over_the_limit_is_cut_off_with_memory_bounded(fault: str) -> None:
    async with endpoint() as (base, faults), httpx.AsyncClient() as client:
        faults.update({fault: True})
        tracemalloc.start()
        try:
            with pytest.raises(BadAnswer, match=r"answer larger than 16 MiB") as caught:
                await vendor(base, client).get(PARAMS)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        faults.clear()
        assert (await vendor(base, client).get(PARAMS)).text == BODY  # and it recovers
    # The limit, plus what growing a buffer to it costs: never the 50 MiB or the 1 GiB.
    assert peak < 48 * MIB, f"{fault}: peak {peak / MIB:.0f} MiB"
    assert SECRET not in str(caught.value)


async def test_the_limit_depends_on_what_is_asked() -> None:
    async with endpoint() as (base, faults), httpx.AsyncClient() as client:
        faults.update({"huge": 2})  # 2 MiB: fine for calls, too large for an action's answer
        with asking("calls"):
            assert (await vendor(base, client).get(PARAMS)).size == 2 * MIB
        with asking("action"), pytest.raises(BadAnswer, match=r"larger than 1 MiB .*action"):
            await vendor(base, client).get(PARAMS)
        # An endpoint's own limit (dialup's status answers) wins over what is asked.
        with pytest.raises(BadAnswer, match=r"larger than 1 MiB"):
            await vendor(base, client, body_limit=MIB).get(PARAMS)


async def test_redirects_are_never_followed() -> None:
    async with endpoint() as (base, faults), httpx.AsyncClient() as client:
        faults.update({"redirect": True})
        with pytest.raises(AuthRefused, match=r"redirected to a login page \(HTTP 302\)") as login:
            await vendor(base, client).get(PARAMS)
        faults.update({"redirect": False, "redirect_loop": True})
        with pytest.raises(BadAnswer, match=r"redirect loop: HTTP 302") as loop:
            await vendor(base, client).get(PARAMS)
        faults.clear()
        with pytest.raises(
            BadAnswer, match=r"HTTP 301 to .*/v2/api\.php\?…\).*new address"
        ) as other:
            await vendor(base, client, "/moved.php").get(PARAMS)
    for caught in (login, loop, other):
        text = str(caught.value)
        assert SECRET not in text
        assert "key=" not in text  # a location's query is never shown, encoded or not


async def test_an_answer_that_never_comes_is_a_timeout_after_the_request_timeout() -> None:
    async with endpoint() as (base, faults), httpx.AsyncClient() as client:
        faults.update({"hang": True})
        with pytest.raises(PbxTimeout, match=r"no answer within 0.3 s from http://127"):
            await vendor(base, client, timeout=0.3).get(PARAMS)


async def test_an_answer_that_dribbles_in_is_a_timeout_that_says_so() -> None:
    async with endpoint() as (base, faults), httpx.AsyncClient() as client:
        faults.update({"slow": 20})  # headers at once, then a piece a second
        with pytest.raises(PbxTimeout, match=r"answer not complete within 0.5 s"):
            await vendor(base, client, timeout=0.5).get(PARAMS)


@contextmanager
def _unanswered_listener() -> Iterator[int]:
    """A listening port whose accept queue is full: a new connection never completes."""
    with closing(socket.socket()) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        fillers = []
        try:
            for _ in range(8):  # fill the queue (its length is not exactly the backlog)
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(server.getsockname())
                fillers.append(filler)
            yield server.getsockname()[1]
        finally:
            for filler in fillers:
                filler.close()


async def test_a_connection_that_never_completes_is_a_connect_timeout() -> None:
    with _unanswered_listener() as port:
        async with httpx.AsyncClient() as client:
            http = vendor(f"http://127.0.0.1:{port}", client, timeout=0.3)
            with pytest.raises(PbxTimeout, match=r"cannot connect within 0.3 s to http://127"):
                await http.get(PARAMS)


async def test_connection_refused_is_unreachable() -> None:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: refused
        async with httpx.AsyncClient() as client:
            with pytest.raises(PbxUnreachable, match="connection refused"):
                await vendor(f"http://127.0.0.1:{port}", client).get(PARAMS)


async def test_waiting_for_the_console_s_own_pool_is_not_the_pbx_s_timeout() -> None:
    limits = httpx.Limits(max_connections=1)
    async with endpoint() as (base, faults), httpx.AsyncClient(limits=limits) as client:
        faults.update({"hang": True})
        holder = vendor(base, client, timeout=5.0)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_ignoring_timeout, holder.get(PARAMS))
            with anyio.fail_after(5):
                while faults.requests < 1:  # noqa: ASYNC110 (it holds the only connection)
                    await anyio.sleep(0.01)
            with pytest.raises(ConsoleBusy, match=r"free connection.*not the PBX") as caught:
                await vendor(base, client, timeout=0.2).get(PARAMS)
            tg.cancel_scope.cancel()
    assert caught.value.label == "busy"
    assert not isinstance(caught.value, PbxTimeout)


async def _ignoring_timeout(request: Awaitable[object]) -> None:
    with contextlib.suppress(PbxTimeout):
        await request


async def test_the_budget_backs_off_from_a_struggling_pbx_and_comes_back() -> None:
    budget = RequestBudget(20, 8)
    async with endpoint() as (base, faults), httpx.AsyncClient() as client:
        http = vendor(base, client, budget=budget)
        faults.update({"http_502": True})
        with pytest.raises(BadAnswer, match="HTTP 502 Bad Gateway"):
            await http.get(PARAMS)
        assert (budget.rate, budget.cap) == (10, 4)
        faults.update({"http_502": False, "http_503": True})
        with pytest.raises(BadAnswer, match="HTTP 503"):
            await http.get(PARAMS)
        assert budget.paused_until > 0  # Retry-After: 1 is honoured by the polls
        faults.clear()
        budget.paused_until = 0.0
        for _ in range(10):
            await http.get(PARAMS)
    assert (budget.rate, budget.cap) == (20, 8)
    assert budget.started == faults.requests == 12


def test_a_reason_echoing_a_huge_id_is_cut() -> None:
    error = BadAnswer("hq", "No such channel: " + "x" * 10_000)
    assert len(error.reason) < 600
    assert error.reason.endswith("(10017 characters)")


async def test_a_request_url_is_built_as_httpx_builds_it_and_the_built_ones_stay_few() -> None:
    # Built once per set of parameters (a poll asks the same ones every second), exactly as
    # httpx builds it (a query the endpoint has is replaced, as it always was); actions'
    # numbers never pile up.
    async with endpoint() as (base, _), httpx.AsyncClient() as client:
        http = vendor(base, client, "/api.php?brand=cloudplus")
        answer = await http.get(PARAMS)
        expected = client.build_request("GET", http.url, params=PARAMS).url
        assert http._url(http.url, PARAMS) == expected
        assert answer.text == BODY
        for number in range(URLS_KEPT + 10):
            http._url(http.url, {**PARAMS, "dial": str(number)})
        assert len(http._urls) <= URLS_KEPT
