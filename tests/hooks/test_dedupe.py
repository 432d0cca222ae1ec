"""Senders retry: a retried event is answered, counted, and delivered once."""

from __future__ import annotations

from pbxtui.hooks.dedupe import RecentKeys
from tests.hooks.conftest import receiving

END = {
    "caller": "0501234567",
    "target": "0722",
    "ivruniqueid": "1700000000.77",
    "status": "ANSWER",
    "duration": "95",
}


async def test_a_retried_end_call_is_delivered_once() -> None:
    async with receiving() as hooks:
        first = await hooks.hook("/hook/branch/end_call", END)
        # a retry as a form POST, and with the table's spelling of the id
        again = await hooks.hook("/hook/branch/end_call", END, via="form")
        spelt = {
            **{k: v for k, v in END.items() if k != "ivruniqueid"},
            "ivruniqeid": END["ivruniqueid"],
        }
        third = await hooks.hook("/hook/branch/end_call", spelt)
        assert [r.status_code for r in (first, again, third)] == [200, 200, 200]
        assert (await hooks.events.next()).call_id == "1700000000.77"
        assert (await hooks.marker()).call_id == "MARKER/1"
        assert hooks.stats.of("branch").duplicates == 2
        other = await hooks.hook("/hook/branch/end_call", {**END, "ivruniqueid": "1700000000.78"})
        assert other.status_code == 200
        assert (await hooks.events.next()).call_id == "1700000000.78"


async def test_a_retried_hangup_and_an_exact_repeat_are_delivered_once() -> None:
    async with receiving() as hooks:
        for _ in range(3):
            await hooks.hook("/hook/ist/hangup", {"chan": "SIP/1-9", "callstatus": "BUSY"})
            await hooks.hook("/hook/branch/incoming", {"callid": "c1", "ext": "101"})
        # the same call ringing another extension is another alert
        await hooks.hook("/hook/branch/incoming", {"callid": "c1", "ext": "102"})
        seen = [(await hooks.events.next()).parties for _ in range(3)]
        assert seen == ["? → ?", "? → 101", "? → 102"]
        assert (await hooks.marker()).call_id == "MARKER/1"


def test_recent_keys_are_bounded_in_count_and_in_age() -> None:
    now = [0.0]
    keys = RecentKeys(size=3, max_age=60.0, clock=lambda: now[0])
    for key in "abcd":
        keys.add(key)
    assert len(keys) == 3 and not keys.seen("a") and keys.seen("d")
    now[0] = 61.0
    assert not keys.seen("d") and len(keys) == 0
    keys.add("e")
    now[0] = 100.0
    keys.add("f")
    assert keys.seen("e") and keys.seen("f")
