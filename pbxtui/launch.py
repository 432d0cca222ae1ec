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
from pbxtui.model.history import HistorySource
from pbxtui.model.media import MediaSource
from pbxtui.model.port import LiveEngine
from pbxtui.sources import Listening, sources_for
from pbxtui.ui.app import PbxApp
from pbxtui.ui.modals.guard import ARM_SECONDS
from pbxtui.ui.session import NO_HISTORY

NO_HISTORY_ON_BROKER = (
    "a console following a collector reads no call history yet: "
    "use `pbxtui history PBX`, or start this console with --direct"
)


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
    engine_in_thread: bool = True,
    direct: bool = False,
) -> PbxApp:
    """The console on an engine that polls ``config``'s PBXs, receives what they push, audits
    and keeps pending attended transfers where the CLI does, and reads their call history and
    recordings; the engine runs in a thread of its own (``pbxtui.engine.in_thread``).
    ``on_hooks_listening`` is told where the receiver listens once it does (the demo points
    its simulators there); ``media``: recordings from elsewhere than the engine;
    ``open_engine_early``: open the engine and start polling now, while the console starts
    (what ``pbxtui`` does: its first calls come sooner), rather than once it is up;
    ``engine_in_thread=False``: the engine on the console's own loop, for the demo, whose
    simulators answer from that loop anyway (a thread only made its first calls later:
    1.05 s against 0.84 s, measured). With ``[broker]`` in the config (unless ``direct``) the
    console polls nothing: it follows the collector's state on the broker and sends its
    actions there (``pbxtui.broker.remote``); it reads no history or recordings then."""
    live: LiveEngine
    history: HistorySource | None
    no_history = NO_HISTORY
    if config.broker is not None and not direct:
        from pbxtui.broker.remote import BrokerEngine

        live, history = BrokerEngine(config, config.broker, read_only=read_only), None
        no_history = NO_HISTORY_ON_BROKER
    else:
        live, history, own_media = _polling_engine(
            config,
            read_only=read_only,
            on_hooks_listening=on_hooks_listening,
            open_engine_early=open_engine_early,
            engine_in_thread=engine_in_thread,
        )
        media = media if media is not None else own_media
    return PbxApp(
        config,
        live_engine=live,
        history=history,
        media=media,
        no_history=no_history,
        read_only=read_only,
        mask_numbers=mask_numbers,
        clock=clock,
        arm_seconds=arm_seconds,
    )


def _polling_engine(
    config: Config,
    *,
    read_only: bool,
    on_hooks_listening: Listening | None,
    open_engine_early: bool,
    engine_in_thread: bool,
) -> tuple[LiveEngine, HistorySource, MediaSource]:
    """The engine that polls ``config``'s PBXs from this console, its history and media."""
    loop = EngineLoop() if engine_in_thread else None
    if loop is not None and on_hooks_listening is not None:
        on_hooks_listening = loop.back_home(on_hooks_listening)
    sources = sources_for(config, on_listening=on_hooks_listening)
    engine = engine_for_actions(config, read_only=read_only, sources=sources)
    live: LiveEngine = engine
    history: HistorySource = EngineHistory(engine)
    media: MediaSource = EngineMedia(engine)
    if loop is not None:
        threaded = EngineThread(engine, loop)
        if open_engine_early:
            threaded.start_early()
        live = threaded
        history = HistoryInThread(history, loop)
        media = MediaInThread(media, loop)
    return live, history, media
