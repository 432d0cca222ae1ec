"""A console's engine when a collector polls for it: the state of every PBX rebuilt from the
broker's messages, actions and refreshes sent to the collector (a ``LiveEngine``).

Nothing here polls a PBX or decides whether an action may go: the collector's engine does,
with its one policy and audit log. What is decided here is only what the console itself was
told (``--read-only``) and what cannot be known: no collector answering (nothing was sent),
or one that did not answer in time (it may have been).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self

import anyio
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from pbxtui.broker.deltas import DeltaMessage, Replica
from pbxtui.broker.link import (
    ERRORS,
    KEYFRAME_OF,
    OPERATOR,
    OUTCOMES,
    SEQUENCE,
    FleetDescription,
    KeyframeIndex,
    PbxDescription,
    Subjects,
    connect,
    decode,
    where,
)
from pbxtui.config import BrokerConfig, Config
from pbxtui.identity import user_at_host
from pbxtui.model.events import EngineUpdate
from pbxtui.model.outcomes import ActionOutcome, ActionStatus
from pbxtui.model.port import Listener
from pbxtui.model.records import HealthState, PbxHealth
from pbxtui.model.requests import REQUESTS, ActionRequest
from pbxtui.model.state import PbxState
from pbxtui.model.vocabulary import READ_ACTIONS, Action, Capabilities

logger = logging.getLogger(__name__)

ACTION_SECONDS = 120.0
"""How long an action may take at the collector (a click2call rings for up to a minute)."""
SILENT_AFTER = 5
"""Missed "alive" messages before the console says the collector is silent."""
NO_CAPABILITIES = Capabilities(frozenset(), frozenset())


class BrokerEngine:
    """What the console runs when ``[broker]`` is configured: see the module docstring."""

    def __init__(self, config: Config, broker: BrokerConfig, *, read_only: bool = False) -> None:
        self.config = config
        self.broker = broker
        self.subjects = Subjects(broker.fleet)
        self._fleet = f"fleet {broker.fleet} at {where(broker)}"
        """How the broker is named on screen (its credentials masked once, here)."""
        self.read_only = read_only
        self.replica = Replica()
        self.description: FleetDescription | None = None
        self._described_pbxs: dict[str, PbxDescription] = {}
        self._nc: Client | None = None
        self._listeners: list[Listener] = []
        self._in_flight: set[str] = set()
        self._heard_at = time.monotonic()
        self._silent = ""
        self._described = anyio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._last: tuple[str, int] | None = None
        self.skipped = 0
        """Repeated keyframes left unread (the console held their state already)."""
        self._unsure: set[str] = set()

    # -- opening and following --------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._nc = await connect(self.broker, name=f"pbxtui console ({user_at_host()})")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._nc is not None:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await self._nc.close()

    async def run(self) -> None:
        nc = self._require()
        js = nc.jetstream()
        await nc.subscribe(self.subjects.alive, cb=self._on_alive)
        await nc.subscribe(self.subjects.description, cb=self._on_description)
        with contextlib.suppress(NotFoundError):
            last = await js.get_last_msg(self.subjects.keys_stream, self.subjects.description)
            self._describe(decode(last.data or b"", last.headers))
        async with anyio.create_task_group() as group:
            group.start_soon(self._watch_alive)
            await self._described.wait()
            start = await self._start_sequence()
            await js.subscribe(
                self.subjects.updates,
                ordered_consumer=True,
                idle_heartbeat=5.0,
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start
                ),
                cb=self._on_update,
            )
            await anyio.sleep_forever()

    async def _start_sequence(self) -> int:
        """Where to follow ``updates`` from: the oldest of the PBXs' latest keyframes (or
        the next message, for PBXs with none yet: their first will come)."""
        js = self._require().jetstream()
        info = await js.stream_info(self.subjects.updates_stream)
        start = info.state.last_seq + 1
        for name in self.pbx_names:
            with contextlib.suppress(NotFoundError, ValidationError):
                last = await js.get_last_msg(
                    self.subjects.keys_stream, self.subjects.keyframe(name)
                )
                index = KeyframeIndex.model_validate_json(last.data or b"")
                start = min(start, index.stream_seq)
        return max(1, start)

    def _describe(self, data: bytes) -> None:
        try:
            self.description = FleetDescription.model_validate_json(data)
        except ValidationError:
            logger.warning("the fleet's description on the broker is not one: ignored")
            return
        self._described_pbxs = {pbx.name: pbx for pbx in self.description.pbxs}
        self._described.set()

    async def _on_description(self, msg: Msg) -> None:
        self._describe(decode(msg.data, msg.headers))

    async def _on_alive(self, msg: Msg) -> None:
        self._heard_at = time.monotonic()
        if self._silent:
            self._silent = ""
            self._announce_all()

    async def _on_update(self, msg: Msg) -> None:
        self._heard_at = time.monotonic()
        self._take(msg)

    def _take(self, msg: Msg) -> None:
        headers = msg.headers or {}
        if not self._in_sequence(headers.get(SEQUENCE, "")):
            # A message went missing (or the collector started again): every PBX's next
            # keyframe is read, whatever it says of itself.
            self._unsure.update(self.replica.states())
        repeated = headers.get(KEYFRAME_OF)
        if repeated and self.replica.following(repeated) and repeated not in self._unsure:
            self.skipped += 1
            return  # the very state this console holds
        try:
            message = DeltaMessage.model_validate_json(decode(msg.data, msg.headers))
        except (ValueError, ValidationError) as exc:
            logger.warning("a message on the broker is not an update (%s): skipped", type(exc))
            return
        if message.keyframe and message.capabilities is not None:
            self._unsure.discard(message.pbx)
        update = self.replica.apply(message)
        if update is not None:
            self._dispatch(self._shown_update(update))

    def _in_sequence(self, said: str) -> bool:
        run, _, number = said.partition(".")
        try:
            n = int(number)
        except ValueError:
            return False
        last, self._last = self._last, (run, n)
        return last is None or last == (run, n - 1)

    async def _watch_alive(self) -> None:
        while True:
            spacing = self.description.alive_seconds if self.description else 1.0
            await anyio.sleep(spacing)
            quiet = time.monotonic() - self._heard_at
            if quiet > SILENT_AFTER * spacing and not self._silent:
                self._silent = (
                    f"no word from the collector for {quiet:.0f} s "
                    f"({self._fleet}): shown as last heard"
                )
                self._announce_all()

    def _announce_all(self) -> None:
        for name, state in self.state().items():
            self._dispatch(EngineUpdate(name, None, state))

    def _shown_update(self, update: EngineUpdate) -> EngineUpdate:
        if not self._silent:
            return update
        return dataclasses.replace(update, state=self._shown(update.state))

    def _shown(self, state: PbxState) -> PbxState:
        if not self._silent:
            return state
        health = state.health.model_copy(
            update={"state": HealthState.DOWN, "last_error": self._silent}
        )
        return dataclasses.replace(state, health=health)

    def _dispatch(self, update: EngineUpdate) -> None:
        for listener in list(self._listeners):
            listener(update)

    def _require(self) -> Client:
        if self._nc is None:
            raise RuntimeError("open the broker engine first: `async with BrokerEngine(...)`")
        return self._nc

    # -- what the console reads -------------------------------------------------------
    @property
    def pbx_names(self) -> list[str]:
        return [p.name for p in self.config.pbx]

    def capabilities(self, name: str) -> Capabilities:
        state = self.replica.get(name)
        return state.capabilities if state is not None else NO_CAPABILITIES

    def state(self) -> dict[str, PbxState]:
        states = self.replica.states()
        waiting = f"waiting for the collector ({self._fleet})"
        shown = {}
        for pbx in self.config.pbx:
            state = states.get(pbx.name)
            if state is None:
                state = PbxState(
                    name=pbx.name,
                    kind=pbx.kind,
                    capabilities=NO_CAPABILITIES,
                    health=PbxHealth(
                        pbx=pbx.name,
                        kind=pbx.kind,
                        last_error=waiting,
                        read_only=self.is_read_only(pbx.name),
                        protected=self.is_protected(pbx.name),
                    ),
                )
            shown[pbx.name] = self._shown(state)
        return shown

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def refresh(self, pbx: str | None = None) -> None:
        if self._nc is None:
            return
        self._spawn(self._nc.publish(self.subjects.refresh, (pbx or "").encode()))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- how the console acts: through the collector ----------------------------------
    def is_read_only(self, pbx: str) -> bool:
        described = self._described_pbxs.get(pbx)
        return self.read_only or (described is not None and described.read_only)

    def is_protected(self, pbx: str) -> bool:
        described = self._described_pbxs.get(pbx)
        return described is not None and described.protected

    def refusal(self, action: Action, pbx: str) -> str:
        if self.read_only and action not in READ_ACTIONS:
            return "this console is read-only (--read-only)"
        if self.description is None:
            return f"no collector has described fleet {self.broker.fleet} yet"
        described = self._described_pbxs.get(pbx)
        if described is None:
            return f"the collector does not poll {pbx}"
        return described.refusals.get(action, "")

    def in_flight(self, request: ActionRequest) -> bool:
        return request.target_key() in self._in_flight

    async def perform(self, request: ActionRequest) -> ActionOutcome:
        refusal = self.refusal(request.capability, request.pbx)
        if refusal and self.read_only:
            return ActionOutcome(request, ActionStatus.READ_ONLY, refusal)
        key = request.target_key()
        if key in self._in_flight:
            return ActionOutcome(
                request, ActionStatus.IN_FLIGHT, "an action on it is being sent: nothing sent"
            )
        self._in_flight.add(key)
        try:
            return await self._ask(request)
        finally:
            self._in_flight.discard(key)

    async def _ask(self, request: ActionRequest) -> ActionOutcome:
        nc = self._require()
        fleet = self._fleet
        try:
            reply = await nc.request(
                self.subjects.act,
                REQUESTS.dump_json(request),
                timeout=ACTION_SECONDS,
                headers={OPERATOR: user_at_host()},
            )
        except NoRespondersError:
            return ActionOutcome(
                request, ActionStatus.REFUSED, f"no collector answers ({fleet}): nothing was sent"
            )
        except (NatsTimeout, TimeoutError):
            return ActionOutcome(
                request,
                ActionStatus.FAILED,
                f"the collector did not answer within {ACTION_SECONDS:.0f} s ({fleet}): "
                "it may have been sent; look before acting again",
            )
        try:
            return OUTCOMES.validate_json(reply.data)
        except ValidationError:
            pass
        try:
            error = ERRORS.validate_json(reply.data).get("error", "")
        except ValidationError:
            error = "an answer that is not one"
        return ActionOutcome(request, ActionStatus.FAILED, f"the collector: {error}")
