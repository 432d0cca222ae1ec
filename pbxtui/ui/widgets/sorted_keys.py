"""Row keys kept in sort order as rows come, go and change: the live table's index.

Each row has a sort key: ``(primary, secondary)`` where ``primary`` is the sort column's
cell sort key (``(0, value)``, or ``(1, ...)`` for a row without a value) and ``secondary``
another column's; the row key breaks the last ties, so the order is total and stable. The keys
live in one list in ascending order (``bisect``): a new or changed row costs a binary search
and one list move, never a re-sort, and position ``i`` is read in constant time.

Reversed order is a view of the same list, never a second sort: rows with a value come
first, longest (or largest) first, and rows without one still come last, so "longest first"
never selects a row that has no duration at all.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

SortKey = tuple[Any, ...]
Entry = tuple[Any, ...]
"""``(primary, secondary, row key)``."""

_MISSING = ((1,),)
"""Sorts before every entry whose primary is ``(1, ...)`` and after every ``(0, ...)``."""

REBUILD_SHARE = 0.25
"""A batch changing more than this share of the rows is sorted afresh (cheaper than moving
each row on its own)."""


class SortedKeys:
    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._of: dict[str, Entry] = {}
        self.reverse = False

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._of

    # -- changing ----------------------------------------------------------------------------
    def update(self, changed: Mapping[str, SortKey], removed: Iterable[str] = ()) -> int:
        """Set the sort key of every ``changed`` row (new or not) and drop the ``removed``
        ones; returns how many rows moved (or were added or removed)."""
        gone = [key for key in removed if key in self._of]
        moves = [
            (key, (*sort, key))
            for key, sort in changed.items()
            if (old := self._of.get(key)) is None or old[:-1] != sort
        ]
        if len(gone) + len(moves) > max(8, len(self._entries) * REBUILD_SHARE):
            for key in gone:
                del self._of[key]
            self._of.update(moves)
            self._entries = sorted(self._of.values())
            return len(gone) + len(moves)
        for key in gone:
            self._remove(self._of.pop(key))
        for key, entry in moves:
            old = self._of.get(key)
            if old is not None:
                self._remove(old)
            self._of[key] = entry
            bisect.insort(self._entries, entry)
        return len(gone) + len(moves)

    def rebuild(self, sort_keys: Mapping[str, SortKey]) -> None:
        self._of = {key: (*sort, key) for key, sort in sort_keys.items()}
        self._entries = sorted(self._of.values())

    def clear(self) -> None:
        self._entries, self._of = [], {}

    def _remove(self, entry: Entry) -> None:
        index = bisect.bisect_left(self._entries, entry)
        del self._entries[index]

    # -- reading -----------------------------------------------------------------------------
    def _boundary(self) -> int:
        """Where the rows without a value start."""
        return bisect.bisect_left(self._entries, _MISSING)

    def key_at(self, position: int) -> str:
        """The row key shown at ``position`` (0 is the first row)."""
        if position < 0:
            position += len(self._entries)
        boundary = self._boundary() if self.reverse else 0
        return self._key_at(position, boundary)

    def _key_at(self, position: int, boundary: int) -> str:
        entries = self._entries
        if not self.reverse:
            return str(entries[position][-1])
        if position < boundary:
            return str(entries[boundary - 1 - position][-1])
        return str(entries[len(entries) - 1 - (position - boundary)][-1])

    def position(self, key: str) -> int | None:
        """Where row ``key`` is shown, or None when there is no such row."""
        entry = self._of.get(key)
        if entry is None:
            return None
        index = bisect.bisect_left(self._entries, entry)
        if not self.reverse:
            return index
        boundary = self._boundary()
        if index < boundary:
            return boundary - 1 - index
        return boundary + (len(self._entries) - 1 - index)

    def window(self, start: int, count: int) -> list[str]:
        """The keys shown at positions ``start`` … ``start + count - 1`` (fewer at the end)."""
        end = min(len(self._entries), start + count)
        boundary = self._boundary() if self.reverse else 0
        return [self._key_at(i, boundary) for i in range(max(0, start), end)]

    def keys(self) -> list[str]:
        """Every row key, in the order shown."""
        keys = [str(entry[-1]) for entry in self._entries]
        if not self.reverse:
            return keys
        boundary = self._boundary()
        return keys[:boundary][::-1] + keys[boundary:][::-1]
