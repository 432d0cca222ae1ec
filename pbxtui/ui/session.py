"""What the console screen is given by the app: config, engine (once open), clock, modes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pbxtui.config import Config
from pbxtui.model.history import HistorySource
from pbxtui.model.media import MediaSource
from pbxtui.model.port import EnginePort
from pbxtui.ui.updates import UpdateBuffer

NO_HISTORY = "this console has no call history to read"


def local_now() -> datetime:
    """Now, timezone-aware, in the machine's zone (event times show in local time)."""
    return datetime.now().astimezone()


@dataclass
class Session:
    config: Config
    clock: Callable[[], datetime] = local_now
    mask: bool = False
    read_only: bool = False
    """Global read-only (``--read-only`` or settings): the banner; the engine enforces."""
    buffer: UpdateBuffer = field(default_factory=UpdateBuffer)
    engine: EnginePort | None = None
    """None until the engine is open (its state and capabilities can then be read)."""
    stopped: str = ""
    """Why the engine stopped, if it did (safe to show)."""
    history: HistorySource | None = None
    """The call history of the PBXs (None: this console has none to read)."""
    no_history: str = NO_HISTORY
    """What is said when history is asked for and there is none (why, where it is known)."""
    media: MediaSource | None = None
    """Recordings (None: this console cannot fetch any)."""

    @property
    def pbx_names(self) -> list[str]:
        return [p.name for p in self.config.pbx]
