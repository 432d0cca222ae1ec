"""The live table's incrementally sorted key index, against a plain sort of the same rows."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pbxtui.ui.widgets.sorted_keys import SortedKeys

# A row's sort key: (primary, secondary); primary (1, ...) is a row without a value.
values = st.one_of(
    st.tuples(st.just(0), st.integers(-3, 3)),
    st.just((1, 0)),
)
sort_keys = st.tuples(values, st.tuples(st.just(0), st.integers(0, 2)))
keys = st.sampled_from([f"k{i}" for i in range(12)])
# One batch: rows set (new or changed) and rows removed.
batches = st.lists(
    st.tuples(st.dictionaries(keys, sort_keys, max_size=8), st.sets(keys, max_size=4)),
    min_size=1,
    max_size=12,
)


def expected(rows: dict[str, Any], reverse: bool) -> list[str]:
    """The order a full sort gives: ascending by (sort key, row key); reversed, the rows
    with a value come first, largest first, and the rows without one last."""
    ordered = sorted(rows, key=lambda k: (*rows[k], k))
    if not reverse:
        return ordered
    present = [k for k in ordered if rows[k][0][0] == 0]
    missing = [k for k in ordered if rows[k][0][0] != 0]
    return present[::-1] + missing[::-1]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(batches, st.booleans())
def test_the_index_keeps_the_order_a_full_sort_gives(
    steps: list[tuple[dict[str, Any], set[str]]], reverse: bool
) -> None:
    index = SortedKeys()
    index.reverse = reverse
    rows: dict[str, Any] = {}
    for changed, removed in steps:
        removed -= set(changed)
        index.update(changed, removed)
        rows.update(changed)
        for key in removed:
            rows.pop(key, None)
        order = expected(rows, reverse)
        assert index.keys() == order
        assert len(index) == len(rows)
        assert [index.key_at(i) for i in range(len(order))] == order
        assert all(index.position(key) == i for i, key in enumerate(order))
        assert index.window(1, 3) == order[1:4]
    assert index.position("absent") is None


def test_a_big_batch_is_sorted_afresh_and_agrees_with_moving_rows_one_by_one() -> None:
    one_by_one, at_once = SortedKeys(), SortedKeys()
    rows = {f"k{i:03d}": ((0, (i * 37) % 101), (0, i % 7)) for i in range(300)}
    for key, sort in rows.items():
        one_by_one.update({key: sort})
    assert at_once.update(rows) == 300  # more than a quarter: sorted afresh
    assert one_by_one.keys() == at_once.keys() == expected(rows, reverse=False)


def test_a_row_whose_sort_key_did_not_change_does_not_move() -> None:
    index = SortedKeys()
    index.update({"a": ((0, 1), (0, 0)), "b": ((0, 2), (0, 0))})
    assert index.update({"a": ((0, 1), (0, 0))}) == 0
    assert index.update({"a": ((0, 3), (0, 0))}) == 1
    assert index.keys() == ["b", "a"]
