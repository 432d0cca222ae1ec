"""The While1 Voice caller-data webservice: the documented JSON, always in time."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from pbxtui.contacts import CALLER_DATA_KEYS, CallerData, open_contacts
from tests.hooks.conftest import receiving

ALL_NULL = dict.fromkeys(CALLER_DATA_KEYS)
CSV = (
    "number,name,id,backend_link,direct_line,queue_position,language\n"
    "0501234567,Dana Levi,12345,https://crm.example.com/popup?id=12345,SIP/ion-popescu,3,he\n"
)


class Slow:
    """A contacts backend that never answers (a CRM gone quiet)."""

    def __init__(self) -> None:
        self.asked = 0

    async def lookup(self, telephone: str, dnid: str = "") -> CallerData | None:
        self.asked += 1
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


class Broken:
    async def lookup(self, telephone: str, dnid: str = "") -> CallerData | None:
        raise RuntimeError("the CRM's database is down")


@pytest.fixture
def contacts_file(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text(CSV, encoding="utf-8")
    return path


@pytest.mark.parametrize("telephone", ["0501234567", "+972501234567", "972501234567"])
async def test_a_known_caller_gets_its_data(contacts_file: Path, telephone: str) -> None:
    async with (
        open_contacts(contacts_file) as contacts,
        receiving(contacts=contacts) as hooks,
    ):
        response = await hooks.hook(
            "/hook/cc/caller_data", {"telephone": telephone, "dnid": "0210000000"}
        )
        ringing = await hooks.events.next()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert list(response.json()) == list(CALLER_DATA_KEYS)  # every key, in the vendor's order
    assert response.json() == {
        **ALL_NULL,
        "id": 12345,
        "name": "Dana Levi",
        "backend_link": "https://crm.example.com/popup?id=12345",
        "direct_line": "SIP/ion-popescu",
        "queue_position": 3,
        "language": "he",
    }
    assert (ringing.kind, ringing.route, ringing.parties) == (
        "call_ringing",
        "caller_data",
        f"{telephone} → 0210000000",
    )


async def test_an_unknown_caller_gets_the_nine_nulls(contacts_file: Path) -> None:
    async with open_contacts(contacts_file) as contacts, receiving(contacts=contacts) as hooks:
        response = await hooks.hook("/hook/cc/caller_data", {"telephone": "0700000000"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == ALL_NULL and len(response.json()) == 9


async def test_without_contacts_every_caller_is_unknown() -> None:
    async with receiving() as hooks:
        response = await hooks.hook("/hook/cc/caller_data", {"telephone": "0501234567"})
    assert response.json() == ALL_NULL


@pytest.mark.parametrize("backend", [Slow, Broken], ids=["slow", "failing"])
async def test_a_slow_or_failing_backend_still_gets_an_answer(backend: type) -> None:
    """The caller is on the line: past the deadline (150 ms) the answer is "unknown"."""
    provider = backend()
    async with receiving(contacts=provider) as hooks:
        response = await hooks.hook("/hook/cc/caller_data", {"telephone": "0501234567"})
        assert response.status_code == 200 and response.json() == ALL_NULL
        assert (await hooks.events.next()).caller == "0501234567"  # still rings in the console
        if isinstance(provider, Slow):
            assert provider.asked == 1


async def test_a_request_without_a_number_is_answered_and_rings_nothing() -> None:
    async with receiving() as hooks:
        response = await hooks.hook("/hook/cc/caller_data", {"dnid": "0210000000"})
        assert response.status_code == 200 and response.json() == ALL_NULL
        assert (await hooks.marker()).call_id == "MARKER/1"


async def test_the_request_is_refused_like_any_other_without_the_token() -> None:
    async with receiving() as hooks:
        response = await hooks.hook(
            "/hook/cc/caller_data", {"telephone": "0501234567"}, token="wrong"
        )
    assert response.status_code == 401 and hooks.events.all == []
