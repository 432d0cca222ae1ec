"""The simulated CRM answers the While1 Voice caller-data request in the documented form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from pbxtui.sim.crm import CONTROL_PATH, CrmQuirks, SimulatedCrm
from pbxtui.sim.faults import CONTROL_PATH as FAULTS_PATH
from pbxtui.sim.server import serve
from pbxtui.sim.while1 import CALLER_DATA_KEYS, LEGACY_KEYS

TOKEN = "crm-token-5150"
NUMBERS = [f"05{n:08d}" for n in range(0, 4000, 97)]


@asynccontextmanager
async def crm_client(crm: SimulatedCrm) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with serve({"crm": crm.app}) as ports, httpx.AsyncClient() as client:
        yield client, crm.url(ports["crm"])


async def ask(client: httpx.AsyncClient, url: str, telephone: str, **extra: str) -> httpx.Response:
    params = {"telephone": telephone, "dnid": "0210000000", "token": TOKEN, **extra}
    return await client.get(url, params=params)


async def test_known_and_unknown_callers_get_the_nine_keys() -> None:
    crm = SimulatedCrm(seed=3, token=TOKEN)
    async with crm_client(crm) as (client, url):
        answers = [await ask(client, url, number) for number in NUMBERS]
    names = []
    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        data = answer.json()
        assert list(data) == list(CALLER_DATA_KEYS)
        if data["name"] is None:
            assert set(data.values()) == {None}  # unknown: every key null
        else:
            names.append(data["name"])
            assert isinstance(data["id"], int)
            assert data["backend_link"].startswith(url.split("/api")[0] + "/popup?id=")
            assert data["queue_position"] is None or 0 <= data["queue_position"] <= 100
    assert 0.5 < len(names) / len(NUMBERS) < 0.9  # the default known share is 0.7
    assert len(set(names)) > 10


async def test_the_same_seed_knows_the_same_callers() -> None:
    a, b, c = SimulatedCrm(seed=3), SimulatedCrm(seed=3), SimulatedCrm(seed=4)
    assert [a.answer(n) for n in NUMBERS] == [b.answer(n) for n in NUMBERS]
    assert [a.answer(n) for n in NUMBERS] != [c.answer(n) for n in NUMBERS]


def test_a_number_is_one_contact_in_local_and_international_form() -> None:
    crm = SimulatedCrm(seed=3)
    known = next(n for n in NUMBERS if crm.contact(n) is not None)
    international = "+972" + known[1:]
    assert crm.answer(known) == crm.answer(international) == crm.answer("00972" + known[1:])
    assert crm.contact("") is None


def test_a_contact_added_by_hand_wins() -> None:
    crm = SimulatedCrm(seed=3, quirks=CrmQuirks(known_share=0.0))
    assert all(crm.contact(n) is None for n in NUMBERS)
    crm.add("+972501112233", "Ion Popescu", id=42, language="ro")
    answer = crm.answer("0501112233")
    assert (answer["name"], answer["id"], answer["language"]) == ("Ion Popescu", 42, "ro")


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"token": TOKEN}, {}, 200),
        ({"token": "wrong"}, {}, 401),
        ({"token": ""}, {}, 401),
        ({"token": ""}, {"Authorization": f"Bearer {TOKEN}"}, 200),
        ({"token": ""}, {"Authorization": "Bearer nope"}, 401),
    ],
)
async def test_the_token_is_checked(
    params: dict[str, str], headers: dict[str, str], status: int
) -> None:
    crm = SimulatedCrm(seed=3, token=TOKEN)
    async with crm_client(crm) as (client, url):
        answer = await client.get(url, params={"telephone": NUMBERS[0], **params}, headers=headers)
    assert answer.status_code == status
    assert TOKEN not in answer.text


async def test_legacy_answers_have_the_older_pages_six_keys_and_switch_at_run_time() -> None:
    crm = SimulatedCrm(seed=3, token=TOKEN)
    async with crm_client(crm) as (client, url):
        control = url.replace("/api/while1voice", CONTROL_PATH)
        switched = await client.post(control, json={"legacy": True})
        assert switched.json()["quirks"]["legacy"] is True
        assert list((await ask(client, url, NUMBERS[0])).json()) == list(LEGACY_KEYS)
        wrong = await client.post(control, json={"legacy": "yes"})
        assert wrong.status_code == 400


async def test_it_counts_the_requests_per_number() -> None:
    crm = SimulatedCrm(seed=3, token=TOKEN)
    async with crm_client(crm) as (client, url):
        for number in (NUMBERS[0], NUMBERS[0], NUMBERS[1]):
            await ask(client, url, number)
        counted = (await client.get(url.replace("/api/while1voice", CONTROL_PATH))).json()
    assert counted["asked"] == {NUMBERS[0]: 2, NUMBERS[1]: 1}
    assert crm.faults.requests == 3  # the control endpoint is not counted


async def test_faults_apply_as_to_any_simulator() -> None:
    crm = SimulatedCrm(seed=3, token=TOKEN)
    async with crm_client(crm) as (client, url):
        faults = url.replace("/api/while1voice", FAULTS_PATH)
        await client.post(faults, json={"hang": True})
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url, params={"telephone": NUMBERS[0]}, timeout=0.3)
        await client.post(faults, json={"clear": True, "http_500": True})
        assert (await ask(client, url, NUMBERS[0])).status_code == 500


async def test_the_backend_link_opens_a_page() -> None:
    crm = SimulatedCrm(seed=3, token=TOKEN)
    async with crm_client(crm) as (client, url):
        known = next(n for n in NUMBERS if crm.contact(n) is not None)
        link = (await ask(client, url, known)).json()["backend_link"]
        page = await client.get(link)
    assert page.status_code == 200 and "Contact" in page.text
