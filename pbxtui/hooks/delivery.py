"""Events handed to the sink in the order they arrived, without making the sender wait.

A webhook is answered as soon as its event is queued (GlobalEx's end-call wants an answer at
once); one task feeds the sink (the engine's ``ingest``, or ``pbxtui listen``'s printer) in
order, so a hang-up never overtakes its call's start. The queue is bounded: when the sink
cannot keep up, the receiver says so (503) rather than hold without limit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

from pbxtui.model.push import PushEvent

Sink = Callable[[PushEvent], Awaitable[None]]
QUEUE_SIZE = 1024

log = logging.getLogger("pbxtui.hooks")


class Delivery:
    def __init__(self, sink: Sink, *, size: int = QUEUE_SIZE) -> None:
        self._sink = sink
        self._send, self._receive = anyio.create_memory_object_stream[PushEvent](size)

    def offer(self, event: PushEvent) -> bool:
        """Queue ``event``; False when the queue is full."""
        try:
            self._send.send_nowait(event)
        except anyio.WouldBlock:
            return False
        return True

    async def run(self) -> None:
        """Feed the sink until cancelled. A sink that fails on one event loses that event
        only: the receiver keeps answering, and the failure is logged."""
        async with self._receive:
            async for event in self._receive:
                try:
                    await self._sink(event)
                except Exception:
                    log.exception("%s: the %s event could not be taken in", event.pbx, event.route)
