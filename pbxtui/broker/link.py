"""Where a fleet's messages live on the NATS server, and how they travel.

Two JetStream streams per fleet: ``updates`` holds every message of every PBX in the order
published (``DeltaMessage``, JSON, deflated when large), kept ``keep_seconds``; ``keys`` holds
one message per subject, the last: where each PBX's latest keyframe starts in ``updates``,
and what the fleet is (its PBXs, what each refuses). A console reads ``keys``, then follows
``updates`` from the oldest of those keyframes. Actions and refreshes are requests over core
NATS to the collector, which answers them.
"""

from __future__ import annotations

import contextlib
import zlib
from dataclasses import dataclass
from typing import Any

import anyio
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from pbxtui.config import BrokerConfig
from pbxtui.model.outcomes import ActionOutcome
from pbxtui.model.vocabulary import Action
from pbxtui.redact import redact_url, scrub

DEFLATE_ABOVE = 4_096
"""Messages larger than this (bytes of JSON) are deflated: a keyframe of calls shrinks tenfold."""
ENCODING = "Pbxtui-Encoding"
DEFLATED = "deflate"
SEQUENCE = "Pbxtui-Sequence"
"""``RUN.N`` on every update message: the collector's run, and the message's number in it.
A console that sees a number missing (or a new run) knows it may have lost a change."""
KEYFRAME_OF = "Pbxtui-Keyframe-Of"
"""On every part of a periodic keyframe, the PBX's name: it repeats what was last published
of that PBX, so a console that followed every message since holds it already and skips it
unread (otherwise keyframes would be half of what a console decodes)."""
OPERATOR = "Pbxtui-Operator"
"""Who asked for an action (``user@host`` of the console), for the collector's audit line."""
CONNECT_SECONDS = 3.0
OUTCOMES: TypeAdapter[ActionOutcome] = TypeAdapter(ActionOutcome)
ERRORS: TypeAdapter[dict[str, str]] = TypeAdapter(dict[str, str])
"""A collector's answer when it could not act at all: ``{"error": "…"}``."""


MAX_STREAM_BYTES = 1 << 30


@dataclass(frozen=True)
class Subjects:
    """The names of one fleet's streams and subjects."""

    fleet: str

    @property
    def updates_stream(self) -> str:
        return f"PBXTUI_{self.fleet}_UPDATES"

    @property
    def keys_stream(self) -> str:
        return f"PBXTUI_{self.fleet}_KEYS"

    @property
    def updates(self) -> str:
        return f"pbxtui.{self.fleet}.updates"

    @property
    def description(self) -> str:
        return f"pbxtui.{self.fleet}.keys.fleet"

    def keyframe(self, pbx: str) -> str:
        # A PBX's name may hold dots or spaces, which subjects cannot: its hex is a token.
        return f"pbxtui.{self.fleet}.keys.pbx.{pbx.encode().hex()}"

    @property
    def act(self) -> str:
        return f"pbxtui.{self.fleet}.act"

    @property
    def refresh(self) -> str:
        return f"pbxtui.{self.fleet}.refresh"

    @property
    def alive(self) -> str:
        return f"pbxtui.{self.fleet}.alive"


class PbxDescription(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: str
    read_only: bool = False
    protected: bool = False
    refusals: dict[Action, str] = Field(default_factory=dict)
    """Why the collector's engine refuses an action whatever its target (none: it may)."""


class FleetDescription(BaseModel):
    """What the collector polls, as the consoles need it before any state arrives."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    collector: str
    """``user@host`` of the collector (said on the consoles)."""
    pbxs: list[PbxDescription]
    alive_seconds: float


class KeyframeIndex(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pbx: str
    stream_seq: int
    """The sequence in ``updates`` of the keyframe's first part."""
    seq: int


def where(broker: BrokerConfig) -> str:
    """The server's address as it may be shown (credentials masked)."""
    return redact_url(broker.url)


async def connect(broker: BrokerConfig, *, name: str) -> Client:
    """A connection to ``broker``'s server that reconnects on its own for ever once made;
    raises ``BrokerUnreachable`` when the server does not answer within ``CONNECT_SECONDS``
    at first (the client itself would try for ever)."""
    errors: list[Exception] = []

    async def remember(error: Exception) -> None:
        # The last only: a connection lost for days retries on. Said in the exception or the
        # console's health, never on stderr (the console's screen).
        errors[:] = [error]

    options: dict[str, Any] = {
        "servers": [broker.url],
        "name": name,
        "connect_timeout": CONNECT_SECONDS,
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 0.5,
        "error_cb": remember,
    }
    if broker.token is not None:
        options["token"] = broker.token.get_secret_value()
    client = Client()
    with anyio.move_on_after(CONNECT_SECONDS) as waited:
        await client.connect(**options)
    if not waited.cancelled_caught:
        return client
    with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
        await client.close()
    why = f": {scrub(_said(errors[-1]))}" if errors else ""
    raise BrokerUnreachable(
        f"cannot reach the broker at {where(broker)} within {CONNECT_SECONDS:.0f} s{why}"
    )


def _said(error: Exception) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class BrokerUnreachable(Exception):
    """The broker cannot be reached or refused us (the message is safe to show)."""


async def ensure_streams(js: JetStreamContext, subjects: Subjects, broker: BrokerConfig) -> None:
    """Create the fleet's two streams, or bring them to this configuration."""
    configs = [
        StreamConfig(
            name=subjects.updates_stream,
            subjects=[subjects.updates],
            retention=RetentionPolicy.LIMITS,
            max_age=broker.keep_seconds,
            max_bytes=MAX_STREAM_BYTES,
            discard=DiscardPolicy.OLD,
            storage=StorageType.FILE,
        ),
        StreamConfig(
            name=subjects.keys_stream,
            subjects=[f"pbxtui.{subjects.fleet}.keys.>"],
            retention=RetentionPolicy.LIMITS,
            max_msgs_per_subject=1,
            discard=DiscardPolicy.OLD,
            storage=StorageType.FILE,
        ),
    ]
    for config in configs:
        try:
            await js.add_stream(config)
        except BadRequestError:  # exists with other limits: take ours
            await js.update_stream(config)


def encode(
    payload: bytes, headers: dict[str, str] | None = None
) -> tuple[bytes, dict[str, str] | None]:
    if len(payload) <= DEFLATE_ABOVE:
        return payload, headers or None
    return zlib.compress(payload, 1), {**(headers or {}), ENCODING: DEFLATED}


MAX_INFLATED = 64 << 20
"""A message that inflates past this is refused: a broken or hostile publisher cannot make a
console allocate without end."""


def decode(data: bytes, headers: dict[str, str] | None) -> bytes:
    if not headers or headers.get(ENCODING) != DEFLATED:
        return data
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise ValueError(f"a message inflates past {MAX_INFLATED} bytes")
    return out
