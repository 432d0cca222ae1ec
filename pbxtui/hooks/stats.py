"""What the receiver accepted and refused, per PBX, for the health strip and ``pbxtui listen``.

A refused request never reaches the state; it is counted here with its reason, so an operator
sees a PBX that sends with the wrong token or from an address not allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from pbxtui.model.records import utcnow

UNKNOWN_PBX = ""
"""The key of refusals naming no configured PBX (an unknown name, a path outside /hook/)."""


@dataclass(frozen=True)
class Refusal:
    """One refused request. Every text is the receiver's own or cut short and scrubbed."""

    status: int
    reason: str
    source: str
    pbx: str = UNKNOWN_PBX
    route: str = ""
    at: datetime = field(default_factory=utcnow)

    def line(self) -> str:
        """``refused 401 from 10.1.2.7: branch/end_call: wrong token``"""
        target = f"{self.pbx or '?'}/{self.route or '?'}"
        return f"refused {self.status} from {self.source}: {target}: {self.reason}"


@dataclass(frozen=True)
class PbxHookStats:
    """One PBX's counts (or those of requests naming no known PBX)."""

    accepted: int = 0
    refused: int = 0
    duplicates: int = 0
    """Retries of an event already delivered, answered and dropped."""
    dropped: int = 0
    """Accepted events the state could not take in time (the receiver's queue was full)."""
    last_event_at: datetime | None = None
    last_refusal: Refusal | None = None


class HookStats:
    """Counts by PBX name, updated by the receiver, read by whoever shows them."""

    def __init__(self, on_refusal: Callable[[Refusal], None] | None = None) -> None:
        self._by_pbx: dict[str, PbxHookStats] = {}
        self._on_refusal = on_refusal
        self.version = 0
        """Bumped on every change: a reader repaints only when it moved."""

    def of(self, pbx: str) -> PbxHookStats:
        return self._by_pbx.get(pbx, PbxHookStats())

    def all(self) -> dict[str, PbxHookStats]:
        return dict(self._by_pbx)

    def _set(self, pbx: str, stats: PbxHookStats) -> None:
        self._by_pbx[pbx] = stats
        self.version += 1

    def accepted(self, pbx: str) -> None:
        stats = self.of(pbx)
        self._set(pbx, replace(stats, accepted=stats.accepted + 1, last_event_at=utcnow()))

    def duplicate(self, pbx: str) -> None:
        stats = self.of(pbx)
        self._set(pbx, replace(stats, duplicates=stats.duplicates + 1))

    def dropped(self, pbx: str) -> None:
        stats = self.of(pbx)
        self._set(pbx, replace(stats, dropped=stats.dropped + 1))

    def refused(self, refusal: Refusal) -> None:
        stats = self.of(refusal.pbx)
        self._set(refusal.pbx, replace(stats, refused=stats.refused + 1, last_refusal=refusal))
        if self._on_refusal is not None:
            self._on_refusal(refusal)
