"""Privacy mode's masking functions (pure)."""

from __future__ import annotations

from pbxtui.masking import mask_known, mask_number, mask_text, mask_tree, numbers_in


def test_mask_number_keeps_short_numbers_and_the_ends_of_long_ones() -> None:
    assert mask_number("0501234567") == "050*****67"
    assert mask_number("+905381234567") == "+905*******67"
    assert mask_number("201") == "201"
    assert mask_number("123456") == "123456"


def test_mask_text_masks_numbers_inside_free_text() -> None:
    assert mask_text("call from 0501234567 to 201") == "call from 050*****67 to 201"
    assert mask_text("+90 538 123 45 67 rang") == "+90 *** *** ** 67 rang"


def test_mask_known_masks_only_the_numbers_given() -> None:
    channel = "Local/0501234567@out-00015262"
    assert mask_known(channel, {"0501234567"}) == "Local/050*****67@out-00015262"
    assert mask_known(channel, {"201"}) == channel  # too short to be personal
    assert mask_known("PJSIP/trunk-ACME-00015262", {"0501234567"}) == "PJSIP/trunk-ACME-00015262"


def test_mask_tree_keeps_identifiers_unless_they_hold_a_number_seen_elsewhere() -> None:
    tree = {
        "calls": [
            {
                "id": "PJSIP/trunk-ACME-00015262",
                "caller": "0501234567",
                "unique_id": "1796119379.286",
                "observed_at": "2026-12-01T10:03:03Z",
            },
            {"id": "Local/0529876543@out", "callee": "0529876543", "duration": 12},
        ],
        "errors": {"calls": "no route to 0541112233"},
    }
    masked = mask_tree(tree, keep=frozenset({"id", "unique_id", "observed_at"}))
    first, second = masked["calls"]
    assert first == {
        "id": "PJSIP/trunk-ACME-00015262",
        "caller": "050*****67",
        "unique_id": "1796119379.286",
        "observed_at": "2026-12-01T10:03:03Z",
    }
    assert second == {"id": "Local/052*****43@out", "callee": "052*****43", "duration": 12}
    assert masked["errors"] == {"calls": "no route to 054*****33"}
    assert numbers_in(tree, keep=frozenset({"id"})) >= {"0501234567", "0529876543"}
