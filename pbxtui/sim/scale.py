"""A scale mode of the live scenario: hundreds of calls per PBX, a fixed share changing each second.

``ScaleSpec(calls=500, churn=0.10)`` keeps about 500 calls up at once, and each second about
10 % of them change: a call arrives (ringing), is answered, or ends, at the steady rates that
make those three events add up to ``churn``. It starts at that steady state (no warm-up to
replay) and costs one pass over the calls per simulated second, so one process can serve
10,000 calls over 20 PBXs for the benchmarks. Any vendor simulator renders it: it is a
``Scenario`` and answers the same questions and actions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from pbxtui.sim.scenario import (
    CallPhase,
    ChannelNamer,
    LegState,
    Scenario,
    ScenarioSpec,
    SimCall,
)

# An arrival, an answer and an end: the changes each call brings in its life.
CHANGES_PER_CALL = 3
ANSWER_SLACK = 5.0  # Scenario._answer adds this to every talk time


@dataclass
class ScaleSpec(ScenarioSpec):
    calls: int = 500
    """Calls up at once (steady state)."""
    churn: float = 0.10
    """Share of the calls that change each second."""
    ring_seconds: float = 4.0
    extension_share: float = 0.5
    """Share of new calls that ring an extension (while one is free); the rest are trunk
    calls through the PBX, so a PBX can carry more calls than it has extensions."""
    extensions: int = 200
    warmup_seconds: float = 0.0
    stuck_call_seconds: int | None = None

    @property
    def lifetime(self) -> float:
        """Mean seconds a call lasts, so that ``calls`` at once give ``churn`` a second."""
        return CHANGES_PER_CALL / self.churn if self.churn > 0 else float("inf")

    @property
    def arrivals_per_second(self) -> float:
        return self.calls * self.churn / CHANGES_PER_CALL

    def scenario(
        self, *, channel_namer: ChannelNamer | None = None, clock: Callable[[], float] = time.time
    ) -> Scenario:
        return ScaleScenario(self, channel_namer=channel_namer, clock=clock)


class ScaleScenario(Scenario):
    """A ``Scenario`` whose calls arrive at a fixed rate and last ``ScaleSpec.lifetime``."""

    def __init__(
        self,
        spec: ScaleSpec,
        *,
        channel_namer: ChannelNamer | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # No churn: calls last "forever" (a billion seconds keeps the RNG's maths finite).
        talk = min(1e9, max(1.0, spec.lifetime - spec.ring_seconds - ANSWER_SLACK))
        self.scale = replace(spec, mean_talk_seconds=talk)
        self._busy: set[str] = set()
        self._due = 0.0
        super().__init__(self.scale, channel_namer=channel_namer, clock=clock)
        self._populate()

    def _populate(self) -> None:
        """The steady state at once: ``calls`` calls of every age, most of them answered."""
        spec = self.scale
        for _ in range(spec.calls):
            call = self._arrive()
            age = self.rng.uniform(0, min(spec.lifetime, 3600.0))
            call.started -= age
            for leg in call.legs:
                leg.created = call.started
            if age > spec.ring_seconds:
                self._answer(call, at=call.started + spec.ring_seconds)
                # Talk times are memoryless: what is left of one is as long as a new one.
                call.ends_at = self.now + self.rng.expovariate(1 / spec.mean_talk_seconds)
            else:
                call.ring_until = call.started + spec.ring_seconds

    # -- time -----------------------------------------------------------------------------
    def _step(self) -> None:
        # A fixed rate, not a coin toss per step: the load is the same in every second.
        self._due += self.scale.arrivals_per_second
        while self._due >= 1:
            self._due -= 1
            self._arrive()
        if self.agents and self.rng.random() < 0.02:
            self._toggle_pause(self.rng.choice(self.agents))

    # -- calls ----------------------------------------------------------------------------
    def _arrive(self) -> SimCall:
        spec = self.scale
        caller = self._external_number()
        extension = self._free_extension() if self.rng.random() < spec.extension_share else ""
        if extension:
            call = self._new_call(
                caller=caller, callee=extension, direction="inbound", extension=extension
            )
            self._ring(call, extension, after=spec.ring_seconds)
            self._busy.add(extension)
            return call
        callee = self._external_number()
        call = self._new_call(caller=caller, callee=callee, direction="inbound")
        call.legs.append(self._leg(callee, internal=False, state=LegState.RINGING))
        call.phase = CallPhase.DIALING
        call.ring_until = self.now + spec.ring_seconds
        return call

    def _free_extension(self) -> str:
        """A registered extension on no call, or "" (a few tries: it is only a preference)."""
        numbers = list(self.extensions)
        for _ in range(4):
            number = self.rng.choice(numbers)
            if number not in self._busy and self.extensions[number].registered:
                return number
        return ""

    def _end(self, call: SimCall) -> None:
        super()._end(call)
        for leg in call.legs:
            if leg.internal:
                self._busy.discard(leg.party)
