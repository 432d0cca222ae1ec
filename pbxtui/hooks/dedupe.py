"""Senders retry (GlobalEx's end-call, any webhook whose answer was slow): an event already
delivered is answered again but not delivered twice. Bounded in count and in age."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

MAX_KEYS = 10_000
MAX_AGE = 15 * 60.0
"""Seconds: a retry comes within minutes; a key older than this is a new event."""


class RecentKeys:
    def __init__(
        self,
        *,
        size: int = MAX_KEYS,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys: OrderedDict[str, float] = OrderedDict()
        self._size = size
        self._max_age = max_age
        self._clock = clock

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, key: str) -> bool:
        now = self._clock()
        self._expire(now)
        return key in self._keys

    def add(self, key: str) -> None:
        now = self._clock()
        self._keys.pop(key, None)
        self._keys[key] = now
        self._expire(now)

    def _expire(self, now: float) -> None:
        while self._keys:
            oldest, at = next(iter(self._keys.items()))
            if len(self._keys) <= self._size and now - at <= self._max_age:
                break
            del self._keys[oldest]
