"""What the console needs from an engine: ``pbxtui.engine.Engine`` satisfies it as is.

Tests pass a small static engine satisfying the same protocol, so snapshots are stable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pbxtui.drivers.base import Capabilities
from pbxtui.engine.actions import ActionOutcome, ActionRequest
from pbxtui.engine.engine import EngineUpdate
from pbxtui.engine.state import PbxState


class EnginePort(Protocol):
    @property
    def pbx_names(self) -> list[str]: ...

    def capabilities(self, name: str) -> Capabilities: ...

    def is_read_only(self, pbx: str) -> bool: ...

    def state(self) -> dict[str, PbxState]: ...

    def subscribe(self, listener: Callable[[EngineUpdate], None]) -> Callable[[], None]: ...

    def refresh(self, pbx: str | None = None) -> None: ...

    async def perform(self, request: ActionRequest) -> ActionOutcome: ...
