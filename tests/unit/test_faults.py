"""Fault injection around any ASGI app, in-process through httpx's ASGI transport."""

from __future__ import annotations

import time
import zlib

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from pbxtui.sim.faults import CONTROL_PATH, REQUESTS_PATH, FaultMiddleware, Faults, gzip_bomb


async def hello(_: object) -> PlainTextResponse:
    return PlainTextResponse("hello world, all fine")


def client(faults: Faults) -> httpx.AsyncClient:
    app = FaultMiddleware(Starlette(routes=[Route("/", hello)]), faults)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")


async def test_healthy_passthrough() -> None:
    async with client(Faults()) as c:
        assert (await c.get("/")).text == "hello world, all fine"


@pytest.mark.parametrize(
    ("fault", "status", "check"),
    [
        ("http_500", 500, lambda t: "Internal Server Error" in t),
        ("html", 200, lambda t: t.lstrip().startswith("<!DOCTYPE html>")),
        ("truncated", 200, lambda t: 0 < len(t) < 21 and "hello world, all fine".startswith(t)),
        ("garbage", 200, lambda t: "garbage" in t),
    ],
)
async def test_each_fault(fault: str, status: int, check: object) -> None:
    faults = Faults()
    faults.update({fault: True})
    async with client(faults) as c:
        response = await c.get("/")
    assert response.status_code == status
    assert check(response.text)  # type: ignore[operator]


async def test_control_endpoint_flips_faults() -> None:
    faults = Faults()
    async with client(faults) as c:
        assert (await c.post(CONTROL_PATH, json={"http_500": True})).json()["http_500"] is True
        assert (await c.get("/")).status_code == 500
        await c.post(CONTROL_PATH, json={"clear": True})
        assert (await c.get("/")).status_code == 200
        assert (await c.post(CONTROL_PATH, json={"nope": 1})).status_code == 400


async def json_hello(_: object) -> JSONResponse:
    return JSONResponse({"data": [{"exten": "201", "status": "busy"}], "count": 1})


def json_client(faults: Faults) -> httpx.AsyncClient:
    app = FaultMiddleware(Starlette(routes=[Route("/api", json_hello)]), faults)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim")


@pytest.mark.parametrize(
    ("fault", "status", "body"),
    [
        ("http_502", 502, "Bad Gateway"),
        ("http_503", 503, "Service Unavailable"),
        ("empty_200", 200, ""),
    ],
)
async def test_status_and_empty_faults(fault: str, status: int, body: str) -> None:
    faults = Faults()
    faults.update({fault: True})
    async with json_client(faults) as c:
        response = await c.get("/api")
    assert (response.status_code, response.text) == (status, body)
    if fault == "http_503":
        assert response.headers["retry-after"] == "1"


async def test_a_login_page_with_http_200() -> None:
    faults = Faults()
    faults.update({"login_page_200": True})
    async with json_client(faults) as c:
        response = await c.get("/api")
    assert response.status_code == 200
    assert 'type="password"' in response.text


async def test_redirects_point_at_a_login_page_or_back_at_the_same_url() -> None:
    faults = Faults()
    faults.update({"redirect": True})
    async with json_client(faults) as c:
        login = await c.get("/api", params={"key": "k"})
        faults.update({"redirect": False, "redirect_loop": True})
        loop = await c.get("/api", params={"key": "k"})
    assert login.status_code == 302
    assert login.headers["location"] == "/login.php?next=%2Fapi%3Fkey%3Dk"
    assert loop.headers["location"] == "/api?key=k"


async def test_wrong_types_and_nulls_rewrite_the_vendor_json() -> None:
    faults = Faults()
    async with json_client(faults) as c:
        faults.update({"wrong_types": True})
        numbered = (await c.get("/api")).json()
        faults.update({"wrong_types": False, "nulls": True})
        nulled = (await c.get("/api")).json()
    assert numbered == {"data": 1, "count": 1}
    assert nulled == {"data": None, "count": None}


async def test_size_and_duration_faults_take_true_or_a_number() -> None:
    faults = Faults()
    faults.update({"huge": True, "slow": "3"})
    assert (faults.huge, faults.slow) == (50.0, 3.0)
    with pytest.raises(ValueError, match=">= 0"):
        faults.update({"latency": -1})
    faults.clear()
    assert faults.active == []


async def test_a_huge_answer_streams_the_size_asked() -> None:
    faults = Faults()
    faults.update({"huge": 1})
    async with json_client(faults) as c:
        response = await c.get("/api")
    assert len(response.content) == 1024 * 1024
    assert response.content.startswith(b"[") and response.content.endswith(b"]")


def test_the_gzip_bomb_is_small_and_unpacks_to_a_gibibyte_of_whitespace() -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    inflate = zlib.decompressobj(31)
    head = inflate.decompress(bomb[:4096], 1024 * 1024)
    assert head == b" " * len(head) and len(head) == 1024 * 1024


async def test_the_control_endpoint_counts_the_vendor_requests() -> None:
    faults = Faults()
    async with json_client(faults) as c:
        for _ in range(3):
            await c.get("/api")
        state = (await c.get(CONTROL_PATH)).json()
        faults.clear()  # clearing faults keeps the count
        assert (await c.post(CONTROL_PATH, json={"clear": True})).json()["requests"] == 3
    assert state["requests"] == 3
    assert state["huge"] == 0.0


async def test_requests_are_listed_with_their_arrival_time() -> None:
    async with client(Faults()) as c:
        assert (await c.get(REQUESTS_PATH)).json() == {"arrivals": []}
        before = time.time()
        await c.get("/")
        await c.get("/")
        await c.post(CONTROL_PATH, json={})  # the control endpoints are not the PBX's API
        arrivals = (await c.get(REQUESTS_PATH)).json()["arrivals"]
    assert len(arrivals) == 2
    assert all(before <= t <= time.time() for t in arrivals)


async def test_a_request_left_hanging_is_listed_too() -> None:
    faults = Faults()
    faults.update({"hang": True})
    async with client(faults) as c:
        with anyio.move_on_after(0.05):
            await c.get("/")
        faults.clear()
        assert len((await c.get(REQUESTS_PATH)).json()["arrivals"]) == 1
