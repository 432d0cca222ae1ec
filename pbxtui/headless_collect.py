"""``pbxtui collect``: the config's PBXs polled by one engine and published to its broker.

The engine is the console's (the same policy, audit log, pending transfers and webhook
receiver), run here with no screen; what it learns goes to ``[broker]`` for every console
that subscribes (``pbxtui.broker.collector``)."""

from __future__ import annotations

from collections.abc import Callable

from pbxtui.broker.collector import Collector
from pbxtui.broker.link import BrokerUnreachable, where
from pbxtui.config import Config
from pbxtui.drivers.base import parse_inline_on_this_loop
from pbxtui.headless import engine_for_actions
from pbxtui.sources import sources_for

EXIT_BROKER = 1


async def collect(config: Config, *, read_only: bool, say: Callable[[str], None]) -> int:
    """Collect until cancelled; the exit status when the broker cannot be used."""
    broker = config.broker
    assert broker is not None
    # Nothing else runs on this loop: a parse in a thread would only take turns with it.
    parse_inline_on_this_loop()
    engine = engine_for_actions(config, read_only=read_only, sources=sources_for(config))
    async with engine:
        collector = Collector(engine, broker)

        def ready() -> None:
            say(
                f"collecting {len(engine.pbx_names)} PBXs ({', '.join(engine.pbx_names)}) "
                f"for fleet {broker.fleet} at {where(broker)}; Ctrl-C stops"
            )

        try:
            await collector.run(on_ready=ready)
        except BrokerUnreachable as exc:
            say(f"pbxtui collect: {exc}")
            return EXIT_BROKER
    return 0
