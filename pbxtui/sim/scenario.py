"""A vendor-neutral live PBX: the one model every vendor simulator renders in its own format.

Calls arrive, ring, queue, are answered, transferred and end; agents log in, pause and
unpause; peers register and drop. Everything is driven by a seeded RNG in fixed one-second
steps, so the same seed and the same clock readings give the same PBX. The scenario also
reacts to actions (hang up, transfer, attended transfer, pause, originate) the way the real
switch would, so a simulator can answer a driver's action and show its effect at the next poll.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

STEP = 1.0  # seconds of simulated time per step
MAX_CATCH_UP = 900.0  # a scenario left idle longer than this skips ahead rather than replays
FAILED_SHARE = 0.15  # failed outbound attempts (busy, congestion), per arrival
ATTEMPT_SEQ_BASE = 1_000_000  # their unique ids' sequence numbers, apart from the calls'
ENDED_KEEP = 5000  # ended calls kept for the simulators' call history (CDRs)

FIRST_NAMES = (
    "Avi", "Dana", "Noa", "Omer", "Maya", "Yossi", "Tamar", "Eli", "Rina", "Gil", "Lior", "Shira",
    "Ron", "Hila", "Amit", "Yael", "Erez", "Michal", "Tal", "Nir", "Orly", "Ido", "Keren", "Ben",
)  # fmt: skip
PAUSE_REASONS = ("Break", "Lunch", "Meeting", "Training", "After-call work")


class LegState(StrEnum):
    RING = "ring"  # the calling side, hearing ringback or queue music
    RINGING = "ringing"  # the called phone is ringing
    UP = "up"


class EndCause(StrEnum):
    """Why a call ended, as the switch knows it (the webhooks put it in each vendor's words)."""

    COMPLETED = "completed"  # talked, then hung up
    HUNG_UP = "hung_up"  # an action hung it up
    ABANDONED = "abandoned"  # the caller gave up waiting in a queue
    NO_ANSWER = "no_answer"  # a click2call's first leg, or a failed attempt, rang out
    BUSY = "busy"  # a failed attempt: the far end was busy
    CONGESTION = "congestion"  # a failed attempt: no route or no free trunk


class CallPhase(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    DIALING = "dialing"
    UP = "up"
    HELD = "held"


@dataclass
class SimLeg:
    """One channel of a call."""

    hex_id: str
    unique_id: str
    party: str  # extension number, or external number for a trunk leg
    internal: bool
    state: LegState
    created: float
    channel: str = ""


@dataclass
class SimCall:
    id: int
    caller: str
    caller_name: str
    callee: str
    direction: str  # inbound | outbound | internal
    phase: CallPhase
    started: float
    ends_at: float
    legs: list[SimLeg]
    queue: str = ""
    extension: str = ""  # the internal party (ringing, talking, or originating)
    answered: float | None = None
    ring_until: float = 0.0
    patience_until: float = 0.0
    consult_of: int | None = None  # this call is the consultation of an attended transfer
    transferer: str = ""  # on a held call: the extension consulting someone else
    originate_id: str = ""
    end_cause: EndCause | None = None  # set when the call ends for a reason of its own

    @property
    def linked_id(self) -> str:
        return self.legs[0].unique_id

    def leg_of(self, party: str) -> SimLeg | None:
        return next((leg for leg in self.legs if leg.party == party and leg.internal), None)

    def other_leg(self, leg: SimLeg) -> SimLeg | None:
        return next((other for other in self.legs if other is not leg), None)


@dataclass(frozen=True)
class EndedCall:
    """A call the switch has ended, kept as its CDR would keep it (``call`` is no longer live
    and no longer changes)."""

    call: SimCall
    ended: float


@dataclass
class SimExtension:
    number: str
    name: str
    registered: bool = True
    latency_ms: int = 30
    host: str = ""
    user_agent: str = "Yealink SIP-T46U"


@dataclass
class SimQueueStats:
    received: int = 0
    answered: int = 0
    answered_in_sla: int = 0
    abandoned: int = 0
    transferred: int = 0
    talk_time: int = 0
    hold_time: int = 0
    max_hold: int = 0


@dataclass
class SimQueue:
    id: str
    name: str
    members: list[str]
    sla_seconds: int = 20
    stats: SimQueueStats = field(default_factory=SimQueueStats)


@dataclass
class SimAgent:
    extension: str
    queue_id: str
    logged_in: bool = True
    paused: bool = False
    pause_reason: str = ""
    paused_since: float | None = None


@dataclass
class SimFlow:
    number: str
    name: str
    state: str = "NOT_INUSE"  # INUSE | NOT_INUSE | UNAVAILABLE | RINGING
    changed: float = 0.0


@dataclass
class ScenarioSpec:
    """What a simulated PBX looks like and how busy it is."""

    seed: int = 1
    extensions: int = 24
    first_extension: int = 201
    queues: tuple[tuple[str, str], ...] = (("630", "Sales"), ("631", "Support"))
    flows: tuple[tuple[str, str], ...] = (("*51", "Night mode"), ("*52", "Holiday"))
    calls_per_minute: float = 5.0  # arrivals; the answered ones last minutes
    mean_talk_seconds: float = 120.0
    warmup_seconds: float = 600.0
    stuck_call_seconds: int | None = 2 * 3600 + 7 * 60  # one call for on-call staff to find
    unregistered_share: float = 0.1
    queue_share: float = 0.7  # inbound calls that go to a queue (when there are queues)
    live: bool = True  # False: nothing happens by itself (tests that act on a fixed state)

    def scenario(
        self, *, channel_namer: ChannelNamer | None = None, clock: Callable[[], float] = time.time
    ) -> Scenario:
        """The live PBX this spec describes (a ``ScaleSpec`` brings its own kind)."""
        return Scenario(self, channel_namer=channel_namer, clock=clock)


ChannelNamer = Callable[[SimLeg], str]


class CallEventKind(StrEnum):
    STARTED = "started"  # a new call (inbound, outbound, internal or originated)
    RINGING = "ringing"  # an extension rings (``extension`` says which)
    ANSWERED = "answered"
    ENDED = "ended"  # ``call.end_cause`` (or its answer) says how
    FAILED = "failed"  # an outbound attempt never answered: busy, congestion or no answer


@dataclass(frozen=True)
class CallEvent:
    """One step of a call's life, told to the scenario's observers as it happens.

    ``call`` is the live object and changes later: an observer reads what it needs at once.
    """

    kind: CallEventKind
    call: SimCall
    at: float  # simulated time
    extension: str = ""


CallObserver = Callable[[CallEvent], None]


def asterisk_channel(tech: str = "SIP", suffix: str = "", trunk: str = "trunk") -> ChannelNamer:
    """``SIP/201-0000a1b2`` for an extension (``SIP/201-ACME-0000a1b2`` with a suffix)."""

    def name(leg: SimLeg) -> str:
        peer = f"{leg.party}{suffix}" if leg.internal else trunk
        return f"{tech}/{peer}-{leg.hex_id}"

    return name


class Scenario:
    """One simulated PBX's live state."""

    def __init__(
        self,
        spec: ScenarioSpec | None = None,
        *,
        channel_namer: ChannelNamer | None = None,
        clock: Callable[[], float] = time.time,
        host_prefix: str = "192.0.2",
    ) -> None:
        self.spec = spec or ScenarioSpec()
        self.clock = clock
        self.rng = random.Random(self.spec.seed)
        self.name_channel = channel_namer or asterisk_channel()
        self._seq = itertools.count(1)
        self._hex = itertools.count(0xA1B2 + self.spec.seed * 4096)
        self.extensions: dict[str, SimExtension] = {}
        self.queues: dict[str, SimQueue] = {}
        self.agents: list[SimAgent] = []
        self.flows: dict[str, SimFlow] = {}
        self.calls: dict[int, SimCall] = {}
        self.version = 0  # bumps on every change; lets adapters cache renderings
        self.received: list[tuple[str, str]] = []
        """Every action asked of this PBX, as (action, target): tests count what was sent."""
        self.observers: list[CallObserver] = []
        """Told of every call event (the webhook emitters); called inside ``advance``."""
        # Failed attempts draw from their own generator, so the calls (and every test or
        # screenshot made of them) are the same as before attempts existed.
        self._attempts = random.Random(self.spec.seed * 7919 + 1)
        self._attempt_seq = itertools.count(ATTEMPT_SEQ_BASE)
        self.ended: deque[EndedCall] = deque(maxlen=ENDED_KEEP)
        """The calls that ended, oldest first, bounded: what each simulator's CDRs render."""
        self._line_cache: tuple[int, dict[str, str]] = (-1, {})
        self._build(host_prefix)
        now = self.clock()
        self.now = now - (self.spec.warmup_seconds if self.spec.live else 0)
        if self.spec.live:
            self.advance(now)
        if self.spec.stuck_call_seconds:
            self._add_stuck_call(self.spec.stuck_call_seconds)

    # -- construction -------------------------------------------------------------------------
    def _build(self, host_prefix: str) -> None:
        names = list(FIRST_NAMES)
        self.rng.shuffle(names)
        for i in range(self.spec.extensions):
            number = str(self.spec.first_extension + i)
            self.extensions[number] = SimExtension(
                number=number,
                name=names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}"),
                registered=self.rng.random() >= self.spec.unregistered_share,
                latency_ms=self.rng.randint(8, 140),
                host=f"{host_prefix}.{10 + i % 240}",
            )
        numbers = list(self.extensions)
        per_queue = max(2, len(numbers) // max(1, len(self.spec.queues)) // 2)
        for q, (queue_id, queue_name) in enumerate(self.spec.queues):
            members = numbers[q * per_queue : (q + 1) * per_queue] or numbers[:per_queue]
            self.queues[queue_id] = SimQueue(queue_id, queue_name, list(members))
            for ext in members:
                self.agents.append(SimAgent(ext, queue_id))
        for number, name in self.spec.flows:
            self.flows[number] = SimFlow(number, name)

    def _add_stuck_call(self, age: int) -> None:
        candidates = [e for e in self.idle_extensions() if not self._is_agent(e)]
        ext = candidates[-1] if candidates else next(iter(self.extensions))
        call = self._new_call(
            caller=self._external_number(), callee=ext, direction="inbound", extension=ext
        )
        call.started = self.now - age
        call.legs[0].created = call.started
        self._ring(call, ext)
        self._answer(call, at=call.started + 6)
        call.ends_at = float("inf")

    # -- time -----------------------------------------------------------------------------------
    def advance(self, until: float | None = None) -> None:
        """Bring the scenario up to ``until`` (default: now) in fixed steps."""
        target = self.clock() if until is None else until
        if target - self.now > MAX_CATCH_UP:
            self.now = target - MAX_CATCH_UP
        while self.now + STEP <= target:
            self.now += STEP
            if self.spec.live:
                self._step()
            self._settle()

    def _step(self) -> None:
        rng = self.rng
        per_step = self.spec.calls_per_minute / 60.0
        if rng.random() < per_step:
            self._arrive_inbound()
        if rng.random() < per_step * 0.35:
            self._start_outbound()
        if rng.random() < per_step * 0.15:
            self._start_internal()
        if self._attempts.random() < per_step * FAILED_SHARE:
            self._fail_attempt()
        if self.agents and rng.random() < 0.006:
            self._toggle_pause(rng.choice(self.agents))
        if rng.random() < 0.004:
            self._flap_peer()
        if rng.random() < 0.002 and self.flows:
            flow = rng.choice(list(self.flows.values()))
            flow.state = "INUSE" if flow.state == "NOT_INUSE" else "NOT_INUSE"
            flow.changed = self.now
            self.version += 1
        for ext in self.extensions.values():
            if ext.registered and rng.random() < 0.05:
                ext.latency_ms = max(4, min(400, ext.latency_ms + rng.randint(-10, 10)))

    def _settle(self) -> None:
        """Move calls along: answer the ringing, serve the queued, end the finished."""
        for call in list(self.calls.values()):
            if call.id not in self.calls:
                continue
            if call.phase is CallPhase.UP and self.now >= call.ends_at:
                self._end(call)
            elif call.phase is CallPhase.RINGING and self.now >= call.ring_until:
                if call.originate_id and len(call.legs) == 1:
                    call.legs[0].state = LegState.UP  # click2call: now dial the destination
                    self.connect_second_leg(call)
                else:
                    self._answer(call)
            elif call.phase is CallPhase.DIALING and self.now >= call.ring_until:
                self._answer(call)
            elif call.phase is CallPhase.QUEUED:
                self._serve_queue(call)

    # -- live events ------------------------------------------------------------------------------
    def _arrive_inbound(self) -> None:
        caller = self._external_number()
        if self.queues and self.rng.random() < self.spec.queue_share:
            queue = self.rng.choice(list(self.queues.values()))
            call = self._new_call(caller=caller, callee=queue.id, direction="inbound")
            call.phase = CallPhase.QUEUED
            call.queue = queue.id
            call.patience_until = self.now + self.rng.uniform(30, 240)
            queue.stats.received += 1
            self._serve_queue(call)
        else:
            idle = self.idle_extensions()
            if not idle:
                return
            ext = self.rng.choice(idle)
            call = self._new_call(caller=caller, callee=ext, direction="inbound", extension=ext)
            self._ring(call, ext)

    def _start_outbound(self) -> None:
        idle = [
            e for e in self.idle_extensions() if not self._is_agent(e)
        ] or self.idle_extensions()
        if not idle:
            return
        ext = self.rng.choice(idle)
        call = self._new_call(
            caller=ext, callee=self._external_number(), direction="outbound", extension=ext
        )
        call.legs[0].state = LegState.UP
        call.legs.append(self._leg(call.callee, internal=False, state=LegState.RINGING))
        call.phase = CallPhase.DIALING
        call.ring_until = self.now + self.rng.uniform(3, 12)

    def _start_internal(self) -> None:
        idle = self.idle_extensions()
        if len(idle) < 2:
            return
        a, b = self.rng.sample(idle, 2)
        call = self._new_call(caller=a, callee=b, direction="internal", extension=b)
        call.caller_name = self.extensions[a].name
        call.legs[0].state = LegState.UP
        self._ring(call, b)

    def _serve_queue(self, call: SimCall) -> None:
        queue = self.queues.get(call.queue)
        if queue is None:
            return
        if self.now >= call.patience_until and self.spec.live:
            queue.stats.abandoned += 1
            call.end_cause = EndCause.ABANDONED
            self._end(call)
            return
        free = [a.extension for a in self.agents if a.queue_id == queue.id and self._can_take(a)]
        if free and (self.now - call.started) >= 2:
            self._ring(call, self.rng.choice(free))

    def _toggle_pause(self, agent: SimAgent) -> None:
        # The private forms: the public ones first catch up with the clock, which would cut
        # a warm-up short from inside it.
        if agent.paused:
            self._unpause(agent.extension, agent.queue_id)
        elif agent.logged_in:
            self._pause(agent.extension, agent.queue_id, self.rng.choice(PAUSE_REASONS))

    def _flap_peer(self) -> None:
        ext = self.rng.choice(list(self.extensions.values()))
        if any(ext.number in (c.extension, c.caller) for c in self.calls.values()):
            return
        ext.registered = not ext.registered
        self.version += 1

    def _fail_attempt(self) -> None:
        """An extension dials out and fails (busy, congestion, or rings out unanswered): never
        a live call, so only observers hear of it; its ids are its own, so the calls' ids stay
        as they were."""
        rng = self._attempts
        idle = self.idle_extensions()
        if not idle:
            return
        ext = rng.choice(idle)
        number = self._external_number(rng)
        outcomes = (EndCause.BUSY, EndCause.CONGESTION, EndCause.NO_ANSWER)
        cause = rng.choices(outcomes, weights=(45, 25, 30))[0]
        legs = [self._attempt_leg(ext, internal=True), self._attempt_leg(number, internal=False)]
        call = SimCall(
            id=-next(self._attempt_seq),  # negative: never a live call's id
            caller=ext,
            caller_name=self.extensions[ext].name,
            callee=number,
            direction="outbound",
            phase=CallPhase.DIALING,
            started=self.now - 1,
            ends_at=self.now,
            legs=legs,
            extension=ext,
            end_cause=cause,
        )
        if self.observers:
            self._notify(CallEventKind.FAILED, call)

    def _attempt_leg(self, party: str, *, internal: bool) -> SimLeg:
        leg = SimLeg(
            hex_id=f"{self._attempts.getrandbits(32):08x}",
            unique_id=f"{int(self.now)}.{next(self._attempt_seq)}",
            party=party,
            internal=internal,
            state=LegState.RINGING,
            created=self.now - 1,
        )
        leg.channel = self.name_channel(leg)
        return leg

    def _notify(self, kind: CallEventKind, call: SimCall, extension: str = "") -> None:
        event = CallEvent(kind, call, self.now, extension)
        for observer in list(self.observers):
            observer(event)

    # -- call mechanics ------------------------------------------------------------------------
    def _new_call(
        self, *, caller: str, callee: str, direction: str, extension: str = "", notify: bool = True
    ) -> SimCall:
        internal_caller = caller in self.extensions
        first = self._leg(caller, internal=internal_caller, state=LegState.RING)
        call = SimCall(
            id=next(self._seq),
            caller=caller,
            caller_name=self.extensions[caller].name if internal_caller else "",
            callee=callee,
            direction=direction,
            phase=CallPhase.RINGING,
            started=self.now,
            ends_at=float("inf"),
            legs=[first],
            extension=extension,
        )
        self.calls[call.id] = call
        self.version += 1
        if notify and self.observers:
            self._notify(CallEventKind.STARTED, call)
        return call

    def _leg(self, party: str, *, internal: bool, state: LegState) -> SimLeg:
        seq = next(self._seq)
        leg = SimLeg(
            hex_id=f"{next(self._hex) & 0xFFFFFFFF:08x}",
            unique_id=f"{int(self.now)}.{seq}",
            party=party,
            internal=internal,
            state=state,
            created=self.now,
        )
        leg.channel = self.name_channel(leg)
        return leg

    def _ring(self, call: SimCall, ext: str, *, after: float | None = None) -> None:
        call.legs = [call.legs[0], self._leg(ext, internal=True, state=LegState.RINGING)]
        call.extension = ext
        call.phase = CallPhase.RINGING
        call.ring_until = self.now + (after if after is not None else self.rng.uniform(2, 9))
        self.version += 1
        if self.observers:
            self._notify(CallEventKind.RINGING, call, ext)

    def _answer(self, call: SimCall, at: float | None = None) -> None:
        for leg in call.legs:
            leg.state = LegState.UP
        queue = self.queues.get(call.queue)
        moment = self.now if at is None else at
        if queue and call.answered is None:
            wait = int(moment - call.started)
            queue.stats.answered += 1
            queue.stats.hold_time += wait
            queue.stats.max_hold = max(queue.stats.max_hold, wait)
            if wait <= queue.sla_seconds:
                queue.stats.answered_in_sla += 1
        call.phase = CallPhase.UP
        call.answered = moment
        call.ends_at = moment + self.rng.expovariate(1 / self.spec.mean_talk_seconds) + 5
        self.version += 1
        if self.observers:
            self._notify(CallEventKind.ANSWERED, call)

    def _end(self, call: SimCall) -> None:
        if self.calls.pop(call.id, None) is None:
            return  # ended already: told once
        self.ended.append(EndedCall(call, self.now))
        queue = self.queues.get(call.queue)
        if queue and call.answered is not None:
            queue.stats.talk_time += int(self.now - call.answered)
        self.version += 1
        if call.end_cause is None:
            call.end_cause = EndCause.COMPLETED if call.answered is not None else EndCause.HUNG_UP
        if self.observers:
            self._notify(CallEventKind.ENDED, call)

    # -- reading --------------------------------------------------------------------------------
    def extension_state(self, number: str) -> str:
        """idle | ringing | busy | unavailable"""
        ext = self.extensions.get(number)
        if ext is None or not ext.registered:
            return "unavailable"
        if self._line_cache[0] != self.version:
            # One pass over the calls per change rather than one per question.
            lines: dict[str, str] = {}
            for call in self.calls.values():
                for leg in call.legs:
                    if leg.internal:
                        ringing = leg.state is LegState.RINGING
                        if not ringing or lines.get(leg.party) is None:
                            lines[leg.party] = "ringing" if ringing else "busy"
            self._line_cache = (self.version, lines)
        return self._line_cache[1].get(number, "idle")

    def call_of(self, number: str) -> tuple[SimCall, SimLeg] | None:
        """The call an extension is on (its most advanced one) and its own leg."""
        found: tuple[SimCall, SimLeg] | None = None
        for call in self.calls.values():
            leg = call.leg_of(number)
            if leg is not None and (found is None or leg.state is not LegState.RINGING):
                found = (call, leg)
        return found

    def idle_extensions(self) -> list[str]:
        return [n for n in self.extensions if self.extension_state(n) == "idle"]

    def agent_state(self, agent: SimAgent) -> str:
        """available | busy | paused | unavailable"""
        line = self.extension_state(agent.extension)
        if not agent.logged_in or line == "unavailable":
            return "unavailable"
        if agent.paused:
            return "paused"
        return "available" if line == "idle" else "busy"

    def queue_waiting(self, queue_id: str) -> list[SimCall]:
        waiting = [
            c
            for c in self.calls.values()
            if c.queue == queue_id and c.answered is None and c.consult_of is None
        ]
        return sorted(waiting, key=lambda c: c.started)

    def legs(self) -> Iterable[tuple[SimCall, SimLeg]]:
        for call in self.calls.values():
            for leg in call.legs:
                yield call, leg

    def find_leg(self, channel: str) -> tuple[SimCall, SimLeg] | None:
        for call, leg in self.legs():
            if leg.channel == channel:
                return call, leg
        return None

    def find_call(self, ident: str) -> SimCall | None:
        """A call by any of its channels or unique ids."""
        for call, leg in self.legs():
            if ident in (leg.channel, leg.unique_id):
                return call
        return None

    def _is_agent(self, ext: str) -> bool:
        return any(a.extension == ext for a in self.agents)

    def _can_take(self, agent: SimAgent) -> bool:
        return self.agent_state(agent) == "available"

    def _external_number(self, rng: random.Random | None = None) -> str:
        rng = rng or self.rng
        prefix = rng.choice(("050", "052", "054", "03", "02", "09"))
        return prefix + "".join(str(rng.randint(0, 9)) for _ in range(10 - len(prefix)))

    # -- actions (what an API request does to the switch) ----------------------------------------
    def hangup_channel(self, channel: str) -> bool:
        self.received.append(("hangup_channel", channel))
        self.advance()
        found = self.find_leg(channel)
        if found is None:
            return False
        call, leg = found
        self._hangup_leg(call, leg)
        return True

    def hangup_extension(self, number: str) -> bool:
        self.received.append(("hangup_extension", number))
        self.advance()
        found = self.call_of(number)
        if found is None:
            return False
        self._hangup_leg(*found)
        return True

    def _hangup_leg(self, call: SimCall, leg: SimLeg) -> None:
        consult = next((c for c in self.calls.values() if c.consult_of == call.id), None)
        if consult is not None and leg.internal and leg.party == call.transferer:
            # The transferer hangs up during a consultation: the held party is connected
            # to the consulted one (how an attended transfer completes).
            self._complete_attended(call, consult)
            return
        if call.consult_of is not None:
            original = self.calls.get(call.consult_of)
            self._end(call)
            if original is not None:  # the consultation was cancelled: back to the caller
                original.phase = CallPhase.UP
                original.transferer = ""
                self.version += 1
            return
        self._end(call)

    def transfer(self, channel: str, destination: str) -> bool:
        """Blind transfer: the channel named is sent to ``destination``; its peer is dropped."""
        self.received.append(("transfer", channel))
        self.advance()
        found = self.find_leg(channel)
        if found is None or not destination:
            return False
        call, leg = found
        call.legs = [leg]
        leg.state = LegState.RING
        call.callee = destination
        call.answered = None
        if call.queue in self.queues:
            self.queues[call.queue].stats.transferred += 1
        call.queue = ""
        if destination in self.queues:
            call.phase = CallPhase.QUEUED
            call.queue = destination
            call.patience_until = self.now + 300
        elif destination in self.extensions:
            self._ring(call, destination, after=self.rng.uniform(2, 6))
        else:
            call.legs.append(self._leg(destination, internal=False, state=LegState.RINGING))
            call.phase = CallPhase.DIALING
            call.ring_until = self.now + self.rng.uniform(3, 8)
        self.version += 1
        return True

    def attended_transfer(self, channel: str, destination: str) -> SimCall | None:
        """Consultation: the extension on ``channel`` calls ``destination``; its peer holds."""
        self.received.append(("attended_transfer", channel))
        self.advance()
        found = self.find_leg(channel)
        if found is None or not destination:
            return None
        call, leg = found
        transferer = leg.party if leg.internal else call.extension
        if not transferer:
            return None
        call.phase = CallPhase.HELD
        call.transferer = transferer
        consult = self._new_call(
            caller=transferer, callee=destination, direction="internal", extension=destination
        )
        consult.consult_of = call.id
        consult.legs[0].state = LegState.UP
        if destination in self.extensions:
            self._ring(consult, destination, after=self.rng.uniform(2, 5))
        else:
            consult.legs.append(self._leg(destination, internal=False, state=LegState.RINGING))
            consult.phase = CallPhase.DIALING
            consult.ring_until = self.now + self.rng.uniform(2, 5)
        consult.ends_at = float("inf")
        self.version += 1
        return consult

    def _complete_attended(self, call: SimCall, consult: SimCall) -> None:
        held = next((leg for leg in call.legs if leg.party != call.transferer), call.legs[0])
        target = consult.legs[-1]
        call.legs = [held, target]
        call.extension = target.party if target.internal else call.extension
        call.callee = target.party
        call.transferer = ""
        call.phase = CallPhase.UP if target.state is LegState.UP else CallPhase.RINGING
        if call.phase is CallPhase.RINGING:
            call.ring_until = consult.ring_until
        call.ends_at = self.now + self.rng.expovariate(1 / self.spec.mean_talk_seconds) + 5
        self.calls.pop(consult.id, None)
        self.version += 1

    def pause(self, extension: str, queue_id: str | None, reason: str) -> bool:
        self.received.append(("pause", extension))
        self.advance()
        return self._pause(extension, queue_id, reason)

    def _pause(self, extension: str, queue_id: str | None, reason: str) -> bool:
        changed = False
        for agent in self.agents:
            if agent.extension == extension and queue_id in (None, "", agent.queue_id):
                if not agent.paused:
                    agent.paused_since = self.now
                agent.paused, agent.pause_reason = True, reason
                changed = True
        self.version += changed
        return changed

    def unpause(self, extension: str, queue_id: str | None) -> bool:
        self.received.append(("unpause", extension))
        self.advance()
        return self._unpause(extension, queue_id)

    def _unpause(self, extension: str, queue_id: str | None) -> bool:
        changed = False
        for agent in self.agents:
            if agent.extension == extension and queue_id in (None, "", agent.queue_id):
                agent.paused, agent.pause_reason, agent.paused_since = False, "", None
                changed = True
        self.version += changed
        return changed

    def originate(
        self, source: str, destination: str, *, answer_after: float | None = None
    ) -> SimCall | None:
        """Click2call: ring ``source`` first; when it answers, dial ``destination``.

        Returns None when the first leg cannot be reached (unknown or unregistered extension,
        or busy). ``answer_after`` None means the first leg never answers.
        """
        self.received.append(("originate", source))
        self.advance()
        internal = source in self.extensions
        if internal and self.extension_state(source) != "idle":
            return None
        call = self._new_call(
            caller=destination, callee=source, direction="outbound", extension=source, notify=False
        )
        call.caller_name = "click2call"
        call.originate_id = f"{self.rng.getrandbits(56):014x}"
        first = self._leg(source, internal=internal, state=LegState.RINGING)
        call.legs = [first]
        call.phase = CallPhase.RINGING
        call.ring_until = self.now + (answer_after if answer_after is not None else 10**9)
        self.version += 1
        if self.observers:  # told once its legs are the ones it keeps
            self._notify(CallEventKind.STARTED, call)
        return call

    def first_leg_answered(self, call: SimCall) -> bool:
        self.advance()
        return call.id in self.calls and call.legs[0].state is LegState.UP

    def connect_second_leg(self, call: SimCall) -> SimLeg | None:
        """After click2call's first leg answers: the destination is dialled."""
        if call.id not in self.calls:
            return None
        if len(call.legs) == 1:
            dest = call.caller
            leg = self._leg(dest, internal=dest in self.extensions, state=LegState.RINGING)
            call.legs.append(leg)
            call.phase = CallPhase.DIALING
            call.answered = None
            call.ring_until = self.now + self.rng.uniform(2, 6)
            self.version += 1
        return call.legs[1]

    def cancel(self, call: SimCall) -> None:
        """A click2call whose first leg was not answered in time."""
        call.end_cause = EndCause.NO_ANSWER
        self._end(call)
