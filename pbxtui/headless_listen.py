"""``pbxtui listen --state``: the receiver feeding an engine, and what the pushes did to it.

Besides each accepted event's line, each update of the engine's state is one more JSON line:
the versioned, numbered ``UpdateMessage`` a collector would publish (``"type": "update"``).
Nothing is polled here: every update printed is what a push (or a refusal) changed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence

import anyio

from pbxtui.config import Config
from pbxtui.engine import Engine
from pbxtui.headless import IDENTIFIERS
from pbxtui.hooks import HookServer, Refusal, routes_of
from pbxtui.hooks.listen import KEPT_WHEN_MASKED, event_line
from pbxtui.masking import mask_tree
from pbxtui.model import EngineUpdate
from pbxtui.model.messages import UpdateMessage
from pbxtui.model.push import PushEvent
from pbxtui.sources import WebhookSource

Echo = Callable[[str], None]
KEPT_IN_STATE = IDENTIFIERS | KEPT_WHEN_MASKED | {"at", "last_push", "error_at", "fetched_at"}


def state_line(update: EngineUpdate, *, mask: bool = False) -> str:
    message = UpdateMessage.of(update)
    if not mask:
        return message.model_dump_json()
    document = mask_tree(message.model_dump(mode="json"), keep=KEPT_IN_STATE)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


class _Printed:
    """The engine as the receiver's sink, each accepted event printed before it goes in."""

    def __init__(self, engine: Engine, out: Echo, *, mask: bool) -> None:
        self.engine, self.out, self.mask = engine, out, mask

    async def ingest(self, event: PushEvent) -> None:
        self.out(event_line(event, mask=self.mask))
        await self.engine.ingest(event)

    async def push_refused(self, pbx: str, reason: str, count: int = 1) -> None:
        await self.engine.push_refused(pbx, reason, count)

    async def push_unavailable(self, pbxs: Sequence[str], reason: str) -> None:
        await self.engine.push_unavailable(pbxs, reason)


async def listen_with_state(config: Config, *, out: Echo, err: Echo, mask: bool = False) -> int:
    """Serve until cancelled; the exit code (1 when the receiver cannot listen)."""
    for name in ("pbxtui.hooks", "pbxtui.contacts", "pbxtui.sources"):
        logging.getLogger(name).setLevel(logging.WARNING)

    def listening(server: HookServer) -> None:
        err(f"pbxtui: listening on {server.url}, with the state (Ctrl-C stops)")
        for pbx in config.pbx:
            paths = "  ".join(f"/hook/{pbx.name}/{route}" for route in routes_of(pbx.kind))
            err(f"  {pbx.name:<12} {pbx.kind:<9} {paths or 'sends no webhooks'}")

    def refused(refusal: Refusal) -> None:
        err(f"pbxtui: {refusal.line()}")

    closed = anyio.Event()

    def say(line: str) -> None:
        if closed.is_set():
            return
        try:
            out(line)
        except BrokenPipeError:  # | head -1
            closed.set()

    source = WebhookSource(config, on_listening=listening, on_refusal=refused)

    async def serve(engine: Engine) -> None:
        await source.run(_Printed(engine, say, mask=mask))
        closed.set()  # it could not listen

    async with Engine(config) as engine, anyio.create_task_group() as group:
        unsubscribe = engine.subscribe(lambda update: say(state_line(update, mask=mask)))
        try:
            group.start_soon(serve, engine)
            await closed.wait()
            group.cancel_scope.cancel()
        finally:
            unsubscribe()
    if source.error:
        err(f"pbxtui: {source.error}")
        return 1
    return 0
