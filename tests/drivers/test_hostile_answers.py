"""Answers no PBX should send, over real loopback HTTP, to every resource of every vendor.

The only outcomes allowed are this PBX's typed error (``BadAnswer``, shown as a reason) or,
for the vendor's own empty forms, no rows: never "ok, 0 calls" for a broken PBX, and never
a ``RecursionError``, a ``ValueError`` or an exception group the operator sees as "internal
error" (issue 9, defects 2 and 4).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.responses import Response

from pbxtui.config import parse_config
from pbxtui.drivers import create_driver
from pbxtui.drivers.base import BadAnswer, Driver, DriverError
from pbxtui.sim.server import serve
from tests.conftest import toml_config

pytestmark = pytest.mark.asyncio(loop_scope="module")

ENTRIES: dict[str, dict[str, Any]] = {
    "pbxcloud": {"path": "/pbx/proxyapi.php", "tenant": "ACME", "key": "k3y"},
    "iexpbx": {"path": "/api/old/get", "username": "api", "password": "pa55"},
    "dialup": {
        "path": "/API/dialup.php",
        "user": "web",
        "pass": "pa55",
        "org": "org",
        "extensions": ["101", "102", "103"],
        "requests_per_second": 200,
    },
}

DEEP = "[" * 100_000 + "]" * 100_000
HUGE = "9" * 5_000
# The same broken answer to every request a vendor's driver makes.
COMMON: dict[str, str] = {
    "empty body": "",
    "null": "null",
    "a number for a list": "5",
    "a string for a list": '"calls"',
    "a boolean": "true",
    "false": "false",
    "a zero": "0",
    "an empty string": '""',
    "a list of nulls": "[null, null]",
    "deeply nested JSON": DEEP,
    "deeply nested inside an object": '{"data": ' + DEEP + "}",
    "an integer of 5,000 digits": f"[{HUGE}]",
    "NaN for a number": '{"data": NaN, "success": NaN}',
}
WRONG_TYPES: dict[str, dict[str, str]] = {
    "pbxcloud": {
        "a list where text belongs": '[{"Channel": ["SIP/201-ACME-1"], "Name": ["201-ACME"],'
        ' "ex_number": ["201"], "st_extension": ["201-ACME"], "id": ["630"]}]',
        "an object where text belongs": '{"630": {"name": {"x": 1}}, "channel": {"a": 1}}',
        "rows without any field read": '[{"colour": "blue"}, {"size": 3}]',
        "a huge integer inside a row": f'[{{"Channel": "SIP/1", "Duration": {HUGE}}}]',
    },
    "iexpbx": {
        "a list where text belongs": '[{"success": true, "count": 1, "data": [{"channel":'
        ' ["SIP/1"], "username": ["201"], "queuenumber": ["630"]}]}]',
        "data as null": '[{"success": true, "count": 0, "data": null}]',
        "data missing": '[{"success": true, "count": 0}]',
        "success as null": '[{"success": null, "data": []}]',
        "an empty list for the envelope": "[]",
        "rows without any field read": '{"success": true, "data": [{"colour": "blue"}]}',
    },
    "dialup": {
        "a list where the status belongs": '{"data": {"exten": "101", "Status": ["busy"]}}',
        "a boolean for the status": '{"data": {"exten": "101", "Status": true}}',
        "a number for data": '{"data": 5}',
        "null for data": '{"data": null}',
        "an object for the channel": '{"data": {"Status": "busy", "Channel": {"a": 1}}}',
        "an empty object": "{}",
    },
}
CASES = [
    (kind, name, body) for kind in ENTRIES for name, body in {**COMMON, **WRONG_TYPES[kind]}.items()
]


class Hostile:
    """A loopback server answering every request with the body a test sets."""

    def __init__(self) -> None:
        self.body = ""
        self.asked = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.asked += 1
        await Response(self.body.encode(), media_type="application/json")(scope, receive, send)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def hostile() -> AsyncIterator[tuple[Hostile, int, httpx.AsyncClient]]:
    server = Hostile()
    async with serve({"hostile": server}) as ports, httpx.AsyncClient() as client:
        yield server, ports["hostile"], client


@asynccontextmanager
async def driver(
    kind: str, hostile: tuple[Hostile, int, httpx.AsyncClient]
) -> AsyncIterator[Driver]:
    _, port, client = hostile
    fields = dict(ENTRIES[kind])
    url = f"http://127.0.0.1:{port}{fields.pop('path')}"
    entry = {"name": "bad", "kind": kind, "url": url, "timeout": 5, **fields}
    yield create_driver(parse_config(toml_config([entry]), source="<test>").pbx[0], client)


@pytest.mark.parametrize(("kind", "name", "body"), CASES, ids=[f"{k}:{n}" for k, n, _ in CASES])
async def test_a_hostile_answer_is_a_bad_answer_on_every_resource(
    kind: str, name: str, body: str, hostile: tuple[Hostile, int, httpx.AsyncClient]
) -> None:
    server = hostile[0]
    server.body = body
    async with driver(kind, hostile) as pbx:
        attempts = [("probe", pbx.probe)] + [
            (str(resource), lambda r=resource: pbx.fetch(r))
            for resource in sorted(pbx.capabilities.resources)
        ]
        for what, attempt in attempts:
            asked = server.asked
            with pytest.raises(BadAnswer) as caught:
                await attempt()
            assert server.asked > asked, what  # the answer was read, not a cached one
            reason = caught.value.reason
            assert reason and "internal" not in reason.lower(), (what, reason)


@pytest.mark.parametrize("kind", list(ENTRIES))
async def test_the_reason_names_the_field_of_the_wrong_type(
    kind: str, hostile: tuple[Hostile, int, httpx.AsyncClient]
) -> None:
    bodies = {
        "pbxcloud": ('[{"Channel": "SIP/201-ACME-1", "State": ["Up"]}]', "'State'"),
        "iexpbx": ('[{"success": true, "data": [{"channel": "SIP/1", "dst": {"n": 1}}]}]', "'dst'"),
        "dialup": ('{"data": {"Status": "busy", "Uniqueid": [1]}}', "'Uniqueid'"),
    }
    body, field = bodies[kind]
    hostile[0].body = body
    async with driver(kind, hostile) as pbx:
        with pytest.raises(DriverError) as caught:
            await pbx.fetch_calls()
    assert isinstance(caught.value, BadAnswer)
    assert field in caught.value.reason and "JSON" in caught.value.reason, caught.value.reason


VALID = {
    "pbxcloud": '[{"Name": "201-ACME", "Host": "192.0.2.1", "Status": "OK (3 ms)",'
    ' "ex_number": "201"}]',
    "iexpbx": '[{"success": true, "count": 1, "data": [{"username": "201", "regstatus": "OK"}]}]',
    "dialup": '{"data": {"exten": "101", "Status": "free"}}',
}
# One function each reader calls on a valid answer: made to fail as a defect would.
DEFECT_SITES = {
    "pbxcloud": ("pbxtui.drivers.pbxcloud.registration", "fetch_extensions"),
    "iexpbx": ("pbxtui.drivers.iexpbx_rows.qualify", "fetch_peers"),
    "dialup": ("pbxtui.drivers.dialup_answers.parse_status", "fetch_extensions"),
}


@pytest.mark.parametrize("kind", list(ENTRIES))
async def test_a_defect_inside_a_parser_is_this_pbxs_bad_answer_never_a_group(
    kind: str, hostile: tuple[Hostile, int, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    # PBX Cloud reads extensions and peers concurrently: a RecursionError there used to reach
    # the operator as an ExceptionGroup ("internal error").
    def defect(*args: object, **kwargs: object) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    site, fetch = DEFECT_SITES[kind]
    monkeypatch.setattr(site, defect)
    hostile[0].body = VALID[kind]
    async with driver(kind, hostile) as pbx:
        with pytest.raises(BadAnswer, match="RecursionError"):
            await getattr(pbx, fetch)()
