"""``pbxtui collect``: one engine polls every PBX once and publishes what it learns to the
broker, for as many consoles as subscribe; the consoles' actions and refreshes come back to
it as requests, and go through its engine's one policy and audit log.

Updates are published in the order the engine made them, from one task, each awaited until
the server has stored it: a slow broker delays publication, never the polls. Should the
backlog pass ``MAX_BACKLOG`` it is dropped and every PBX is published whole again.
"""

from __future__ import annotations

import collections
import logging
import uuid
from collections.abc import Callable

import anyio
from anyio.abc import TaskGroup
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError

from pbxtui.broker.deltas import DeltaMessage, Publisher
from pbxtui.broker.link import (
    ERRORS,
    KEYFRAME_OF,
    OPERATOR,
    OUTCOMES,
    SEQUENCE,
    BrokerUnreachable,
    FleetDescription,
    KeyframeIndex,
    PbxDescription,
    Subjects,
    connect,
    encode,
    ensure_streams,
    where,
)
from pbxtui.config import BrokerConfig
from pbxtui.engine.engine import Engine
from pbxtui.identity import user_at_host
from pbxtui.model.events import EngineUpdate
from pbxtui.model.requests import REQUESTS
from pbxtui.model.vocabulary import Action
from pbxtui.redact import scrub

logger = logging.getLogger(__name__)

MAX_BACKLOG = 5_000
ALIVE_SECONDS = 1.0
"""How often the collector says it is there (a console says so when it stops)."""


def _error(text: str) -> bytes:
    return ERRORS.dump_json({"error": scrub(text)})


class Collector:
    """``engine`` (opened, not yet run) published to ``broker`` until cancelled."""

    def __init__(
        self, engine: Engine, broker: BrokerConfig, *, alive_seconds: float = ALIVE_SECONDS
    ) -> None:
        self.engine = engine
        self.alive_seconds = alive_seconds
        self.broker = broker
        self.subjects = Subjects(broker.fleet)
        self.publisher = Publisher()
        self.published = 0
        """Messages stored by the broker so far."""
        self._backlog: collections.deque[EngineUpdate | str] = collections.deque()
        self._wake = anyio.Event()
        self._tasks: TaskGroup | None = None
        self._run = uuid.uuid4().hex[:12]
        self._sent = 0

    async def run(self, *, on_ready: Callable[[], None] | None = None) -> None:
        nc = await connect(self.broker, name=f"pbxtui collect ({user_at_host()})")
        try:
            js = nc.jetstream()
            try:
                await ensure_streams(js, self.subjects, self.broker)
            except Exception as exc:
                raise BrokerUnreachable(
                    f"the broker at {where(self.broker)} has no JetStream for us: {exc}"
                ) from None
            await self._describe(js)
            unsubscribe = self.engine.subscribe(self._queue)
            try:
                async with anyio.create_task_group() as group:
                    self._tasks = group
                    await nc.subscribe(self.subjects.act, queue="collectors", cb=self._act)
                    await nc.subscribe(self.subjects.refresh, queue="collectors", cb=self._refresh)
                    group.start_soon(self._publish, js)
                    group.start_soon(self._keyframes)
                    group.start_soon(self._alive, nc)
                    group.start_soon(self.engine.run)
                    if on_ready is not None:
                        on_ready()
            finally:
                unsubscribe()
        finally:
            with anyio.CancelScope(shield=True):
                await nc.drain()

    def _queue(self, update: EngineUpdate) -> None:
        if len(self._backlog) >= MAX_BACKLOG:
            logger.warning("the broker is behind by %d updates: publishing whole", MAX_BACKLOG)
            self._backlog.clear()
            self.publisher.forget()
        self._backlog.append(update)
        self._wake.set()

    async def _keyframes(self) -> None:
        while True:
            await anyio.sleep(self.broker.keyframe_seconds)
            for name in self.engine.pbx_names:
                self._backlog.append(name)  # in line with the updates, so in their order
            self._wake.set()

    async def _alive(self, nc: Client) -> None:
        while True:
            await nc.publish(self.subjects.alive, b"")
            await anyio.sleep(self.alive_seconds)

    async def _describe(self, js: JetStreamContext) -> None:
        engine = self.engine
        states = engine.state()
        description = FleetDescription(
            collector=user_at_host(),
            alive_seconds=self.alive_seconds,
            pbxs=[
                PbxDescription(
                    name=name,
                    kind=states[name].kind,
                    read_only=engine.is_read_only(name),
                    protected=engine.is_protected(name),
                    refusals={
                        action: reason
                        for action in Action
                        if (reason := engine.refusal(action, name))
                    },
                )
                for name in engine.pbx_names
            ],
        )
        payload, headers = encode(description.model_dump_json().encode())
        await js.publish(self.subjects.description, payload, headers=headers)

    async def _publish(self, js: JetStreamContext) -> None:
        while True:
            while not self._backlog:
                self._wake = anyio.Event()
                await self._wake.wait()
            item = self._backlog.popleft()
            again = isinstance(item, str)  # a periodic keyframe of this PBX
            messages = (
                self.publisher.again(item) if isinstance(item, str) else self.publisher.delta(item)
            )
            if not messages:
                continue
            try:
                await self._send(js, messages, again=again)
            except Exception as exc:  # not stored: consoles see the gap; start them afresh
                logger.warning("the broker did not store an update (%s): publishing whole", exc)
                self.publisher.forget()

    async def _send(
        self, js: JetStreamContext, messages: list[DeltaMessage], *, again: bool
    ) -> None:
        first_seq = 0
        for message in messages:
            self._sent += 1
            said = {SEQUENCE: f"{self._run}.{self._sent}"}
            if again:
                said[KEYFRAME_OF] = message.pbx
            payload, headers = encode(message.model_dump_json().encode(), said)
            ack = await js.publish(self.subjects.updates, payload, headers=headers)
            self.published += 1
            first_seq = first_seq or ack.seq
        head = messages[0]
        if head.keyframe:
            index = KeyframeIndex(pbx=head.pbx, stream_seq=first_seq, seq=head.seq)
            await js.publish(self.subjects.keyframe(head.pbx), index.model_dump_json().encode())

    async def _act(self, msg: Msg) -> None:
        # Each action in a task of its own: a click2call ringing for a minute must not hold
        # up a hang-up asked meanwhile.
        assert self._tasks is not None
        self._tasks.start_soon(self._answer, msg)

    async def _answer(self, msg: Msg) -> None:
        try:
            request = REQUESTS.validate_json(msg.data)
        except ValidationError as exc:
            await msg.respond(_error(f"not a request ({exc.error_count()} errors)"))
            return
        operator = (msg.headers or {}).get(OPERATOR, "")
        if operator:
            request = request.model_copy(update={"requested_by": operator[:80]})
        try:
            outcome = await self.engine.perform(request)
        except Exception as exc:  # a bug: said to the console, never lost here
            logger.exception("the action %s failed", request.kind)
            await msg.respond(_error(f"the collector failed: {type(exc).__name__}"))
            return
        await msg.respond(OUTCOMES.dump_json(outcome))

    async def _refresh(self, msg: Msg) -> None:
        name = msg.data.decode("utf-8", "replace")
        self.engine.refresh(name if name in self.engine.pbx_names else None)
