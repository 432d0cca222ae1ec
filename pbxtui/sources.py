"""The engine's sources beside its pollers: the webhook receiver, wired to the engine.

The receiver (``pbxtui.hooks``) only knows a sink; the engine only knows a ``Source``. This
module may import both: ``WebhookSource`` serves ``serve_hooks`` in the engine's event loop
with the engine's ``ingest`` as the sink, its refusals counted on the PBXs' health
(``push_refused``), and a receiver that cannot listen said on their health
(``push_unavailable``) while the pollers go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

import anyio

from pbxtui.config import Config
from pbxtui.contacts import CallerDataProvider, ContactsError, open_contacts
from pbxtui.hooks import (
    UNKNOWN_PBX,
    HookServer,
    HookServerError,
    HookStats,
    Refusal,
    routes_of,
    serve_hooks,
)
from pbxtui.model.port import PushSink, Source

logger = logging.getLogger("pbxtui.sources")

Listening = Callable[[HookServer], None]


class RefusalCounts:
    """Refusals gathered per PBX between two hand-overs to the sink.

    The receiver tells of a refusal synchronously, while it answers; the sink takes them in
    its own time. A flood (a sender over its rate) becomes one update per PBX carrying its
    count, not one per request, so it cannot swamp the state and the screen.
    """

    def __init__(self) -> None:
        self._pending: dict[str, tuple[int, str]] = {}
        self._wake = anyio.Event()

    def add(self, refusal: Refusal) -> None:
        if refusal.pbx == UNKNOWN_PBX:
            return  # names no PBX of ours: only the receiver's log says it
        count, _ = self._pending.get(refusal.pbx, (0, ""))
        self._pending[refusal.pbx] = (count + 1, refusal.reason)
        self._wake.set()

    async def run(self, sink: PushSink) -> None:
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            pending, self._pending = self._pending, {}
            for pbx, (count, reason) in pending.items():
                await sink.push_refused(pbx, reason, count)


class WebhookSource:
    """``[webhooks]`` served while the engine runs. ``on_listening`` is told where it
    listens once it does (the demo points its simulators there)."""

    name = "webhooks"

    def __init__(
        self,
        config: Config,
        *,
        on_listening: Listening | None = None,
        on_refusal: Callable[[Refusal], None] | None = None,
    ) -> None:
        """``on_refusal``: told of each refused request as it is refused (``pbxtui listen``
        says each on standard error), beside the counts the sink is given."""
        if config.webhooks is None:
            raise ValueError("the config has no [webhooks] table")
        self.config = config
        self.on_listening = on_listening
        self.on_refusal = on_refusal
        self.server: HookServer | None = None
        self.error = ""
        self._senders = tuple(p.name for p in config.pbx if routes_of(p.kind))

    async def run(self, sink: PushSink) -> None:
        refusals = RefusalCounts()

        def refused(refusal: Refusal) -> None:
            refusals.add(refusal)
            if self.on_refusal is not None:
                self.on_refusal(refusal)

        stats = HookStats(on_refusal=refused)
        try:
            async with AsyncExitStack() as stack:
                contacts = await self._contacts(stack)
                self.server = await stack.enter_async_context(
                    serve_hooks(self.config, sink.ingest, stats=stats, contacts=contacts)
                )
                logger.info("webhooks: listening on %s", self.server.url)
                if self.on_listening is not None:
                    self.on_listening(self.server)
                await refusals.run(sink)
        except* HookServerError as failed:
            self.error = str(failed.exceptions[0])
            logger.error("%s", self.error)
            await sink.push_unavailable(self._senders, self.error)
        finally:
            self.server = None

    async def _contacts(self, stack: AsyncExitStack) -> CallerDataProvider | None:
        """The ``[contacts]`` file answering caller-data requests; one that cannot be read
        leaves the receiver answering "unknown caller" rather than not at all."""
        contacts = self.config.contacts
        if contacts is None:
            return None
        try:
            return await stack.enter_async_context(
                open_contacts(contacts.csv, country_code=contacts.country_code)
            )
        except ContactsError as exc:
            logger.error("webhooks: caller data answered unknown: %s", exc)
            return None


def sources_for(config: Config, *, on_listening: Listening | None = None) -> tuple[Source, ...]:
    """What feeds a live engine of ``config`` beside its pollers: the receiver, when the
    config has ``[webhooks]``."""
    if config.webhooks is None:
        return ()
    return (WebhookSource(config, on_listening=on_listening),)
