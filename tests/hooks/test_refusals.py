"""Every refusal over real HTTP: its status, its count and reason in the stats, and nothing
delivered. The token never appears in any answer, reason or count."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.types import Message

from pbxtui.hooks import UNKNOWN_PBX, HookStats
from pbxtui.hooks.app import HookReceiver
from pbxtui.hooks.caller_data import CallerDataService
from pbxtui.hooks.delivery import Delivery
from tests.hooks.conftest import TOKEN, Collected, Receiving, hook_config, receiving

CALL = {"chan": "SIP/1-1", "caller": "0501234567"}


def assert_clean(hooks: Receiving, *responses: httpx.Response) -> None:
    texts = [r.text for r in responses] + [repr(s) for s in hooks.stats.all().values()]
    assert not any(TOKEN in text or "CANARY" in text for text in texts)


async def test_no_token_or_a_wrong_one_is_401_and_reaches_nothing() -> None:
    async with receiving() as hooks:
        missing = await hooks.hook("/hook/ist/call_start", CALL, token=None)
        wrong = await hooks.hook("/hook/ist/call_start", CALL, token=TOKEN + "x")
        short = await hooks.hook("/hook/ist/call_start", CALL, token=TOKEN[:-1])
        bearer = await hooks.hook(
            "/hook/ist/call_start", CALL, token=None, headers={"Authorization": "Bearer nope"}
        )
        basic = await hooks.hook(
            "/hook/ist/call_start", CALL, token=None, headers={"Authorization": f"Basic {TOKEN}"}
        )
        assert [r.status_code for r in (missing, wrong, short, bearer, basic)] == [401] * 5
        assert missing.headers["www-authenticate"] == "Bearer"
        assert (await hooks.marker()).call_id == "MARKER/1"
        stats = hooks.stats.of("ist")
        assert (stats.refused, stats.accepted) == (5, 1)
        assert stats.last_refusal is not None and stats.last_refusal.status == 401
        assert stats.last_refusal.reason.startswith("no token")
        assert_clean(hooks, missing, wrong, short, bearer, basic)


async def test_a_source_not_allowed_is_403() -> None:
    config = hook_config('allow_from = ["10.9.9.0/24"]')
    async with receiving(config) as hooks:
        refused = await hooks.hook("/hook/ist/call_start", CALL)
        assert refused.status_code == 403
        assert "127.0.0.1 is not in allow_from" in refused.text
        refusal = hooks.stats.of("ist").last_refusal
        assert refusal is not None and (refusal.status, refusal.source) == (403, "127.0.0.1")
        assert hooks.events.all == []


async def test_a_forwarded_for_header_is_believed_only_from_a_trusted_proxy() -> None:
    spoofed = {"X-Forwarded-For": "10.9.9.5"}
    async with receiving(hook_config('allow_from = ["10.9.9.0/24"]')) as hooks:
        assert (await hooks.hook("/hook/ist/call_start", CALL, headers=spoofed)).status_code == 403
    proxied = hook_config('allow_from = ["10.9.9.0/24"]\ntrusted_proxies = ["127.0.0.1"]')
    async with receiving(proxied) as hooks:
        assert (await hooks.hook("/hook/ist/call_start", CALL, headers=spoofed)).status_code == 200
        assert (await hooks.events.next()).call_id == "SIP/1-1"
        assert (await hooks.hook("/hook/ist/call_start", CALL)).status_code == 403


async def test_without_a_token_only_loopback_senders_are_heard() -> None:
    async with receiving(hook_config(token=None)) as hooks:
        assert (await hooks.hook("/hook/ist/call_start", CALL, token=None)).status_code == 200
        assert (await hooks.events.next()).caller == "0501234567"
        assert hooks.server.stats.of("ist").refused == 0


@pytest.mark.parametrize(
    ("path", "counted_as", "says"),
    [
        ("/hook/nowhere/call_start", UNKNOWN_PBX, "no PBX named 'nowhere'"),
        ("/hook/cc/call_start", "cc", "no route 'call_start' for a while1 PBX"),
        ("/hook/branch/hangup", "branch", "(incoming, end_call)"),
        ("/hook/hq/incoming", "hq", "none: it sends no webhooks"),
        ("/hook/ist/nothing", "ist", "no route 'nothing'"),
        ("/elsewhere", UNKNOWN_PBX, "no such route"),
        ("/hook/ist/call_start/more", UNKNOWN_PBX, "no such route"),
    ],
)
async def test_unknown_pbx_or_a_route_not_of_its_kind_is_404(
    path: str, counted_as: str, says: str
) -> None:
    async with receiving() as hooks:
        response = await hooks.hook(path, CALL)
        assert response.status_code == 404 and says in response.text
        assert (await hooks.marker()).call_id == "MARKER/1"
        refusal = hooks.stats.of(counted_as).last_refusal
        assert refusal is not None and refusal.status == 404 and says in refusal.reason


@pytest.mark.parametrize("path", ["/hook/ist/call_start/", "/hook/ist/0%2F", "/hook/ist/"])
async def test_a_path_with_a_trailing_slash_is_404_not_a_redirect(path: str) -> None:
    """A sender told to go elsewhere (307) would send the call again, to a URL nobody chose."""
    async with receiving() as hooks:
        response = await hooks.hook(path, CALL)
        assert response.status_code == 404, response.headers
        assert "location" not in response.headers
        assert (await hooks.marker()).call_id == "MARKER/1"  # nothing delivered before it


async def test_the_token_is_checked_before_the_pbx_name_is() -> None:
    """Without the token, a sender cannot tell which PBX names exist."""
    async with receiving() as hooks:
        known = await hooks.hook("/hook/ist/call_start", CALL, token="guess")
        unknown = await hooks.hook("/hook/nowhere/call_start", CALL, token="guess")
        assert (known.status_code, known.text) == (unknown.status_code, unknown.text)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_10_mb_body_is_413(chunked: bool) -> None:
    body = b"chan=" + b"x" * (10 * 1024 * 1024)

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    async with receiving() as hooks:
        response = await hooks.client.post(
            "/hook/ist/call_start",
            params={"token": TOKEN},
            content=stream() if chunked else body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 413 and "larger than 65536 bytes" in response.text
        assert (await hooks.marker()).call_id == "MARKER/1"
        assert hooks.stats.of("ist").last_refusal.status == 413  # type: ignore[union-attr]


async def test_a_body_without_end_is_read_no_further_than_the_limit() -> None:
    """The receiver's side of the socket: an endless chunked body, pulled chunk by chunk."""
    pulled = 0

    async def receive() -> Message:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    config = hook_config("max_body = 8192")
    receiver = HookReceiver(
        config, Delivery(Collected().sink), HookStats(), CallerDataService(None)
    )
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/hook/ist/call_start",
        "raw_path": b"/hook/ist/call_start",
        "root_path": "",
        "query_string": f"token={TOKEN}".encode(),
        "headers": [(b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8787),
    }
    await receiver(scope, receive, send)
    assert sent[0]["status"] == 413
    assert pulled == 9  # 9,000 bytes: the first past 8,192, and not one chunk more


async def test_a_body_at_the_limit_is_read() -> None:
    config = hook_config("max_body = 1024")
    async with receiving(config) as hooks:
        body = b"chan=c1&caller=" + b"1" * (1024 - 15)
        response = await hooks.client.post(
            "/hook/ist/call_start", params={"token": TOKEN}, content=body
        )
        assert response.status_code == 200
        assert (await hooks.events.next()).call_id == "c1"
        response = await hooks.client.post(
            "/hook/ist/call_start", params={"token": TOKEN}, content=body + b"1"
        )
        assert response.status_code == 413


async def test_a_source_over_its_rate_is_429_until_time_passes() -> None:
    async with receiving(hook_config("rate = 3")) as hooks:
        statuses = [
            (await hooks.hook("/hook/ist/call_start", {"chan": f"r{n}"})).status_code
            for n in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]
        hooks.clock.now += 1 / 3  # a third of a second: one more request
        assert (await hooks.hook("/hook/ist/call_start", {"chan": "r5"})).status_code == 200
        over = await hooks.hook("/hook/ist/call_start", {"chan": "r6"})
        assert over.status_code == 429 and over.headers["retry-after"] == "1"
        assert [(await hooks.events.next()).call_id for _ in range(4)] == ["r0", "r1", "r2", "r5"]
        stats = hooks.stats.of("ist")
        assert (stats.accepted, stats.refused) == (4, 3)


@pytest.mark.parametrize(
    ("route", "content", "content_type", "status", "says"),
    [
        ("call_start", b"{not json", "application/json", 400, "not JSON"),
        ("call_start", b"[1, 2]", "application/json", 400, "not an object"),
        ("call_start", b"[" * 50_000 + b"]" * 50_000, "application/json", 413, "larger"),
        ("call_start", b"[" * 30_000, "application/json", 400, "not JSON"),
        ("call_start", b'{"chan": 1' + b"0" * 5000 + b"}", "application/json", 400, "not JSON"),
        ("call_start", b"--x\r\n", "multipart/form-data; boundary=x", 415, "multipart"),
        ("call_start", b"&".join(b"k%d=v" % n for n in range(200)), "", 400, "more than 100"),
        ("call_start", b"nothing=here", "", 422, "without chan, caller or called"),
        ("hangup", b"callstatus=BUSY", "", 422, "without chan"),
    ],
)
async def test_a_body_that_cannot_be_read_is_refused(
    route: str, content: bytes, content_type: str, status: int, says: str
) -> None:
    config = hook_config("max_body = 65536")
    async with receiving(config) as hooks:
        headers = {"Content-Type": content_type} if content_type else {}
        response = await hooks.client.post(
            f"/hook/ist/{route}", params={"token": TOKEN}, content=content, headers=headers
        )
        assert response.status_code == status and says in response.text, response.text
        assert (await hooks.marker()).call_id == "MARKER/1"


async def test_an_unknown_while1_event_is_refused_naming_the_known_ones() -> None:
    async with receiving() as hooks:
        response = await hooks.hook("/hook/cc/events", {"event": "coffee_break"})
        assert response.status_code == 422 and "unknown event 'coffee_break'" in response.text
        assert "queue_answer" in response.text


async def test_a_method_other_than_get_or_post_is_405_and_counted() -> None:
    async with receiving() as hooks:
        response = await hooks.client.put("/hook/ist/call_start", params={"token": TOKEN})
        assert response.status_code == 405
        assert hooks.stats.of("ist").last_refusal.status == 405  # type: ignore[union-attr]


async def test_refusals_are_said_to_a_listener_without_the_token() -> None:
    async with receiving() as hooks:
        await hooks.hook(f"/hook/{TOKEN}/call_start", CALL, token=TOKEN)  # a token in the path
        refusal = hooks.stats.of(UNKNOWN_PBX).last_refusal
        assert refusal is not None and TOKEN not in refusal.line() and "***" in refusal.line()
