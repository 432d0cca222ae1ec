"""The Textual application: wires one engine to the console screen.

Engine lifecycle: when no engine is given, the app builds one (with the audit log at its XDG
path), opens it and runs it in a worker that dies with the app; an engine failure becomes a
notification, never a crash. An injected engine (tests, embedding) is used as is: its owner
opens, runs (or polls) and closes it; the app only subscribes, reads state and performs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from pbxtui import paths
from pbxtui.config import Config
from pbxtui.drivers.base import DriverError
from pbxtui.engine.audit import AuditLog
from pbxtui.engine.engine import Engine, EngineUpdate
from pbxtui.redact import scrub
from pbxtui.ui.port import EnginePort
from pbxtui.ui.screens.console import ConsoleScreen
from pbxtui.ui.session import Session, local_now
from pbxtui.ui.updates import EngineChanged, EngineReady, EngineStopped

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
    """A safe, readable reason: DriverError text is; anything else shows only its type."""
    if isinstance(exc, DriverError):
        return str(exc)
    return f"unexpected {type(exc).__name__} (details in the log)"


class PbxApp(App[None]):
    """``PbxApp(config).run()``; see the module docstring for the engine's lifecycle."""

    CSS_PATH = css_path()
    TITLE = "pbxtui"
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        config: Config,
        *,
        read_only: bool = False,
        mask_numbers: bool = False,
        engine: EnginePort | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        settings = config.settings
        self.session = Session(
            config=config,
            clock=clock or local_now,
            mask=mask_numbers or settings.mask_numbers,
            read_only=read_only or settings.read_only,
        )
        self._own_engine: Engine | None = None
        if engine is None:
            self._own_engine = Engine(
                config,
                read_only=read_only,
                audit=AuditLog(paths.audit_log_path()),
            )
            engine = self._own_engine
        self.engine: EnginePort = engine
        self._unsubscribe: Callable[[], None] | None = None
        self._console: ConsoleScreen | None = None

    @property
    def console_screen(self) -> ConsoleScreen:
        if self._console is None:
            self._console = ConsoleScreen(self.session)
        return self._console

    def get_default_screen(self) -> Screen[None]:
        return self.console_screen

    def on_mount(self) -> None:
        theme = self.config.settings.theme
        if theme in self.available_themes:
            self.theme = theme
        else:
            self.notify(f"unknown theme {theme!r}: using {self.theme}", severity="warning")
        self._unsubscribe = self.engine.subscribe(self._on_engine_update)
        if self._own_engine is not None:
            self.run_worker(self._run_engine(self._own_engine), name="engine", exit_on_error=False)
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

    async def _run_engine(self, engine: Engine) -> None:
        try:
            async with engine:
                self.session.engine = engine
                self.console_screen.post_message(EngineReady())
                await engine.run()
        except Exception as exc:
            logger.exception("the engine stopped")
            self.session.engine = None
            self.console_screen.post_message(EngineStopped(scrub(_reason(exc))))
