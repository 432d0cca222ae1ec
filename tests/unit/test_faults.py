"""Fault injection around any ASGI app, in-process through httpx's ASGI transport."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from pbxtui.sim.faults import CONTROL_PATH, REQUESTS_PATH, FaultMiddleware, Faults


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
