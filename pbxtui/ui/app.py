"""The Textual application: wires one engine to the console screen.

The app is given its engine (``pbxtui.launch`` builds one; tests pass a static one). Given as
``live_engine``, the app opens it and runs it in a worker that dies with the app, and an
engine failure becomes a notification, never a crash; given as ``engine``, its owner opens,
runs (or polls) and closes it, and the app only subscribes, reads state and performs.

Keys are offered to the screen on top as they arrive, before Textual forwards them to the
focused widget, and a key runs a binding only on the screen it was typed at
(``pbxtui.ui.keys``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from pbxtui.config import Config
from pbxtui.heap import freeze_long_lived
from pbxtui.model import EngineUpdate
from pbxtui.model.errors import ShowableError
from pbxtui.model.history import HistorySource
from pbxtui.model.media import MediaSource
from pbxtui.model.port import EnginePort, LiveEngine, YieldsToInput
from pbxtui.redact import scrub
from pbxtui.ui.keys import KeyOrigins, TakesKeys
from pbxtui.ui.modals.guard import ARM_SECONDS
from pbxtui.ui.screens.console import ConsoleScreen
from pbxtui.ui.session import NO_HISTORY, Session, local_now
from pbxtui.ui.strip_cycles import install as free_painted_lines_by_refcount
from pbxtui.ui.updates import EngineChanged, EngineReady, EngineStopped

# Before any app paints: see pbxtui/ui/strip_cycles.py.
free_painted_lines_by_refcount()

logger = logging.getLogger("pbxtui.ui")

CSS_NAME = "pbxtui.tcss"


def css_path() -> Path:
    """The stylesheet: ``pbxtui/styles`` in an installed wheel, ``<repo>/styles`` in a checkout."""
    here = Path(__file__).resolve().parent
    candidates = (here.parent / "styles" / CSS_NAME, here.parent.parent / "styles" / CSS_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return candidates[-1]


def _reason(exc: BaseException) -> str:
    """A safe, readable reason: a ShowableError's text is; anything else shows only its type."""
    if isinstance(exc, ShowableError):
        return str(exc)
    return f"unexpected {type(exc).__name__} (details in the log)"


class PbxApp(App[None]):
    """``PbxApp(config, live_engine=Engine(config)).run()``; see the module docstring."""

    CSS_PATH = css_path()
    TITLE = "pbxtui"
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        config: Config,
        *,
        engine: EnginePort | None = None,
        live_engine: LiveEngine | None = None,
        read_only: bool = False,
        mask_numbers: bool = False,
        clock: Callable[[], datetime] | None = None,
        arm_seconds: float = ARM_SECONDS,
        history: HistorySource | None = None,
        media: MediaSource | None = None,
        no_history: str = NO_HISTORY,
    ) -> None:
        """``arm_seconds``: how long an action dialog ignores accept keys after it opens;
        ``history`` and ``media``: the queries the History screen asks (read once the engine
        is open), beside the engine as the model's own ports; ``no_history``: what the
        console says when asked for history it has none of."""
        super().__init__()
        if (engine is None) == (live_engine is None):
            raise TypeError("give PbxApp exactly one of engine= and live_engine=")
        self.config = config
        self.arm_seconds = arm_seconds
        settings = config.settings
        self.session = Session(
            config=config,
            clock=clock or local_now,
            mask=mask_numbers or settings.mask_numbers,
            read_only=read_only or settings.read_only,
            history=history,
            media=media,
            no_history=no_history,
        )
        self._live = live_engine
        self._yields = live_engine if isinstance(live_engine, YieldsToInput) else None
        self.engine: EnginePort = live_engine if live_engine is not None else engine  # type: ignore[assignment]
        self._unsubscribe: Callable[[], None] | None = None
        self._console: ConsoleScreen | None = None
        self._typed_at = KeyOrigins()

    @property
    def console_screen(self) -> ConsoleScreen:
        if self._console is None:
            self._console = ConsoleScreen(self.session)
        return self._console

    def get_default_screen(self) -> Screen[None]:
        return self.console_screen

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            if not event.is_forwarded:  # arriving: the screen on top now is where it was typed
                # On a real terminal only, where a frame is waited for (headless, as under
                # Pilot, a pause per key would only slow the engine down).
                if self._yields is not None and not self.is_headless:
                    self._yields.input_arrived()
                    self.call_after_refresh(self._yields.painting())
                screen = self.screen
                if isinstance(screen, TakesKeys) and screen.take_key(event):
                    return
                self._typed_at.remember(event, screen)
            elif self._typed_at.elsewhere(event, self.screen):
                return  # bubbled back after another screen opened: it never acts there
        await super().on_event(event)

    def on_mount(self) -> None:
        theme = self.config.settings.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"unknown theme {theme!r}: using {self.theme}", severity="warning")
        if not self.is_headless:
            self.call_after_refresh(freeze_long_lived)
        self._unsubscribe = self.engine.subscribe(self._on_engine_update)
        if self._live is not None:
            self.run_worker(self._run_engine(self._live), name="engine", exit_on_error=False)
        else:
            self.session.engine = self.engine
            self.console_screen.post_message(EngineReady())

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_engine_update(self, update: EngineUpdate) -> None:
        """Called by the engine (in this event loop) after every poll result and action."""
        if self.session.buffer.add(update):
            self.console_screen.post_message(EngineChanged())

    async def _run_engine(self, engine: LiveEngine) -> None:
        try:
            async with engine:
                self.session.engine = engine
                self.console_screen.post_message(EngineReady())
                await engine.run()
        except Exception as exc:
            logger.exception("the engine stopped")
            self.session.engine = None
            self.console_screen.post_message(EngineStopped(scrub(_reason(exc))))
