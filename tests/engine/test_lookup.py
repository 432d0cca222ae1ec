"""The CRM lookup client over real HTTP to the simulated CRM: the documented answer read, and
every way a CRM can fail said plainly, bounded, and without its token or its query."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from pbxtui.config import LookupConfig
from pbxtui.contacts import UNKNOWN_CALLER
from pbxtui.engine.lookup import LookupClient, LookupFailed
from pbxtui.sim.crm import CrmQuirks, SimulatedCrm
from pbxtui.sim.server import serve

TOKEN = "crm+T0k/en&=5150"
NUMBERS = [f"05{n:08d}" for n in range(1000, 90000, 331)]


@asynccontextmanager
async def client_for(crm: SimulatedCrm, **settings: object) -> AsyncIterator[LookupClient]:
    async with serve({"crm": crm.app}) as ports:
        config = LookupConfig.model_validate(
            {"url": crm.url(ports["crm"]), "token": TOKEN, "timeout": 2.0, **settings}
        )
        async with LookupClient(config) as client:
            yield client


def leaked(text: str) -> bool:
    return any(form in text for form in (TOKEN, "crm%2BT0k", "T0k%2Fen", "T0k/en", "5150"))


async def test_a_known_caller_and_an_unknown_one() -> None:
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known = next(n for n in NUMBERS if crm.contact(n))
    unknown = next(n for n in NUMBERS if not crm.contact(n))
    async with client_for(crm) as client:
        data = await client.lookup(known, "0210000000")
        nobody = await client.lookup(unknown, "0210000000")
    contact = crm.contact(known)
    assert contact is not None
    assert data.name == contact["name"] and data.id == contact["id"]
    assert nobody == UNKNOWN_CALLER


async def test_an_older_crms_six_keys_are_read() -> None:
    crm = SimulatedCrm(seed=5, token=TOKEN, quirks=CrmQuirks(legacy=True))
    known = next(n for n in NUMBERS if crm.contact(n))
    async with client_for(crm) as client:
        data = await client.lookup(known)
    assert data.name == crm.contact(known)["name"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"http_500": True}, "HTTP 500"),
        ({"redirect": True}, "HTTP 302"),
        ({"html": True}, "not JSON"),
        ({"garbage": True}, "not JSON"),
        ({"huge": 1}, "larger than 64 KiB"),
        ({"hang": True}, "no answer within 0.5 s"),
        ({"wrong_types": True}, "not caller data"),
    ],
    ids=["500", "redirect", "html", "garbage", "huge", "hang", "wrong-types"],
)
async def test_each_failure_is_said_without_the_token(
    fault: dict[str, object], reason: str
) -> None:
    crm = SimulatedCrm(seed=5, token=TOKEN)
    known = next(n for n in NUMBERS if crm.contact(n))
    crm.faults.update(fault)
    async with client_for(crm, timeout=0.5) as client:
        with pytest.raises(LookupFailed) as caught:
            await client.lookup(known, "0210000000")
    said = caught.value.reason
    assert reason in said, said
    assert not leaked(said) and not leaked(repr(caught.value))
    # No chained exception carries httpx's message (with the URL and its query) along.
    error = caught.value
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None


async def test_a_wrong_token_is_a_refusal() -> None:
    crm = SimulatedCrm(seed=5, token="another-token")
    async with client_for(crm) as client:
        with pytest.raises(LookupFailed, match="HTTP 401") as caught:
            await client.lookup(NUMBERS[0])
    assert not leaked(caught.value.reason)


async def test_a_crm_that_is_not_there() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = LookupConfig.model_validate(
        {"url": f"http://127.0.0.1:{port}/api", "token": TOKEN, "timeout": 2.0}
    )
    async with LookupClient(config) as client:
        with pytest.raises(LookupFailed, match="cannot connect") as caught:
            await client.lookup(NUMBERS[0])
    assert not leaked(caught.value.reason) and "?" not in caught.value.reason
