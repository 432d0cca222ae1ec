"""The While1 Voice caller-data webservice's answer, always in time.

A caller is waiting on the line while the PBX asks who they are: past the deadline the answer
is the documented all-``null`` one ("not known"), whatever the contacts backend is doing.
"""

from __future__ import annotations

import logging
import time

import anyio

from pbxtui.contacts import UNKNOWN_CALLER, CallerData, CallerDataProvider

DEADLINE = 0.15
"""Seconds the provider is given, so the whole answer leaves well within 200 ms."""
LOG_EVERY = 60.0
"""A failing or slow provider is logged at most once a minute (a call centre calls often)."""

log = logging.getLogger("pbxtui.hooks")


class CallerDataService:
    def __init__(self, provider: CallerDataProvider | None, *, deadline: float = DEADLINE) -> None:
        self.provider = provider
        self.deadline = deadline
        self.late = 0
        """Answers given as unknown because the provider was too slow (or failed)."""
        self._logged_at = -LOG_EVERY

    def _say(self, message: str, *args: object) -> None:
        now = time.monotonic()
        if now - self._logged_at >= LOG_EVERY:
            self._logged_at = now
            log.warning(message, *args)

    async def answer(self, telephone: str, dnid: str) -> CallerData:
        if self.provider is None or not telephone:
            return UNKNOWN_CALLER
        with anyio.move_on_after(self.deadline):
            try:
                found = await self.provider.lookup(telephone, dnid)
            except Exception as exc:
                self.late += 1
                self._say("caller data: the contacts provider failed: %s", exc)
                return UNKNOWN_CALLER
            return found or UNKNOWN_CALLER
        self.late += 1
        self._say(
            "caller data: the contacts provider did not answer within %.0f ms",
            1000 * self.deadline,
        )
        return UNKNOWN_CALLER
