"""The console wired to a real engine: what ``pbxtui`` runs, and what tests of the whole
stack start (the UI itself never builds an engine: it only knows the model's ports).

The engine is given its sources here: with ``[webhooks]`` in the config, the receiver runs in
the console's event loop beside the pollers (``pbxtui.sources``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pbxtui.config import Config
from pbxtui.engine.in_thread import EngineLoop, EngineThread, HistoryInThread, MediaInThread
from pbxtui.engine.media import EngineMedia
from pbxtui.engine.queries import EngineHistory
from pbxtui.headless import engine_for_actions
from pbxtui.model.media import MediaSource
from pbxtui.sources import Listening, sources_for
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.guard import ARM_SECONDS


def console_app(
    config: Config,
    *,
    read_only: bool = False,
    mask_numbers: bool = False,
    clock: Callable[[], datetime] | None = None,
    arm_seconds: float = ARM_SECONDS,
    on_hooks_listening: Listening | None = None,
    media: MediaSource | None = None,
    open_engine_early: bool = False,
) -> PbxApp:
    """The console on an engine that polls ``config``'s PBXs, receives what they push, audits
    and keeps pending attended transfers where the CLI does, and reads their call history and
    recordings; the engine runs in a thread of its own (``pbxtui.engine.in_thread``).
    ``on_hooks_listening`` is told where the receiver listens once it does (the demo points
    its simulators there); ``media``: recordings from elsewhere than the engine;
    ``open_engine_early``: start opening the engine now, while the console starts (what
    ``pbxtui`` does: its first calls come sooner), rather than once it is up."""
    loop = EngineLoop()
    listening = None if on_hooks_listening is None else loop.back_home(on_hooks_listening)
    sources = sources_for(config, on_listening=listening)
    engine = engine_for_actions(config, read_only=read_only, sources=sources)
    threaded = EngineThread(engine, loop)
    if open_engine_early:
        threaded.open_early()
    return PbxApp(
        config,
        live_engine=threaded,
        history=HistoryInThread(EngineHistory(engine), loop),
        media=media if media is not None else MediaInThread(EngineMedia(engine), loop),
        read_only=read_only,
        mask_numbers=mask_numbers,
        clock=clock,
        arm_seconds=arm_seconds,
    )
