"""The Calls pane in this process (Textual's headless driver): bringing it up to date after a
poll, against clearing and rebuilding the same pane, in the same run.

A poll of 10,000 calls over 20 PBXs where 10 % changed (a third ended, a third are new, a
third changed state) and every other call observed again a second later, as the drivers
read them (the same record while its duration agrees with its start). Both costs are CPU
time from handing the pane the new state to the frame being composed (``pilot.pause()``
returns once the app is idle, the compositor having run).

The pane is reached through ``PbxApp.console_screen``: its ``states``, ``context()`` and
``panes["calls"].show(ctx)``; that is the one place to follow if the console changes.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from benchmarks.report import Figure, ms, within
from pbxtui.config import Config, parse_config
from pbxtui.model import (
    Action,
    ActionOutcome,
    ActionRequest,
    Call,
    CallState,
    Capabilities,
    Direction,
    EngineUpdate,
    HealthState,
    PbxHealth,
    PbxState,
    Resource,
    ResourceState,
)
from pbxtui.model.outcomes import ActionStatus
from pbxtui.sim.fleet import toml_value

CAPABILITIES = Capabilities(frozenset(Resource), frozenset({Action.HANGUP}))
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@dataclass(frozen=True)
class PanePlan:
    rows: int = 10_000
    pbxs: int = 20
    rounds: int = 5
    churn: float = 0.10


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class StaticEngine:
    """The console's ports over states this benchmark sets (nothing is polled or sent)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.states: dict[str, PbxState] = {}

    @property
    def pbx_names(self) -> list[str]:
        return [p.name for p in self.config.pbx]

    def capabilities(self, name: str) -> Capabilities:
        return CAPABILITIES

    def state(self) -> dict[str, PbxState]:
        return dict(self.states)

    def subscribe(self, listener: Callable[[EngineUpdate], None]) -> Callable[[], None]:
        return lambda: None

    def refresh(self, pbx: str | None = None) -> None:
        return None

    def is_read_only(self, pbx: str) -> bool:
        return True

    def is_protected(self, pbx: str) -> bool:
        return False

    def refusal(self, action: Action, pbx: str) -> str:
        return "a benchmark sends nothing"

    def in_flight(self, request: ActionRequest) -> bool:
        return False

    async def perform(self, request: ActionRequest) -> ActionOutcome:
        return ActionOutcome(request=request, status=ActionStatus.REFUSED, message="benchmark")


def bench_config(pbxs: int) -> Config:
    lines = []
    for i in range(pbxs):
        entry = {
            "name": f"noc{i + 1:02d}",
            "kind": "pbxcloud",
            "url": f"https://noc{i + 1:02d}.test/pbx/proxyapi.php",
            "tenant": f"T{i:02d}",
            "key": "bench-" + "x" * 12,
        }
        lines.append("[[pbx]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in entry.items()]
        lines.append("")
    return parse_config("\n".join(lines), source="<bench>")


class CallFleet:
    """Calls as a poll reports them, with a share of them changing from one poll to the next."""

    def __init__(self, plan: PanePlan, names: list[str]) -> None:
        self.plan = plan
        self.names = names
        self.rng = random.Random(8)
        self.serial = 0
        self.calls: dict[str, Call] = {}
        for _ in range(plan.rows):
            self._new(START, age=self.rng.randint(0, 3600))

    def _new(self, now: datetime, age: int = 0) -> None:
        self.serial += 1
        pbx = self.names[self.serial % len(self.names)]
        tenant = f"T{self.names.index(pbx):02d}"
        ext = str(1000 + self.serial % 400)
        ringing = age < 5
        call = Call(
            pbx=pbx,
            id=f"PJSIP/trunk-{tenant}-{self.serial:08x}",
            channel=f"PJSIP/trunk-{tenant}-{self.serial:08x}",
            caller=f"05{self.rng.randrange(10**8):08d}",
            callee=ext,
            state=CallState.RINGING if ringing else CallState.UP,
            state_raw="Ringing" if ringing else "Up",
            duration=age,
            queue="630" if self.serial % 3 == 0 else "",
            direction=Direction.INBOUND,
            extension=ext,
            unique_id=f"1772442000.{self.serial}",
            bridged_channel=f"PJSIP/{ext}-{tenant}-{self.serial + 1:08x}",
            application="Dial",
            observed_at=now,
        )
        self.calls[call.id] = call

    def next_poll(self, now: datetime) -> None:
        """A second later: ``churn`` of the calls changed; every other one observed again."""
        changes = int(len(self.calls) * self.plan.churn)
        ended = self.rng.sample(list(self.calls), changes // 3)
        for key in ended:
            del self.calls[key]
        for _ in range(changes // 3):
            self._new(now)
        ringing = [k for k, c in self.calls.items() if c.state is CallState.RINGING]
        others = [k for k in self.calls if k not in set(ringing)]
        answered = (ringing + self.rng.sample(others, len(others)))[: changes - 2 * (changes // 3)]
        answered_set = set(answered)
        for key, call in list(self.calls.items()):
            # As the PBX reports it, and the driver reads it: an unchanged call is the same
            # record while its duration agrees with the one it implies (Call.observed_again).
            reported = call.duration_now(now)
            if key in answered_set:
                held = call.state is CallState.UP
                update: dict[str, object] = {
                    "duration": reported,
                    "observed_at": now,
                    "state": CallState.HELD if held else CallState.UP,
                    "state_raw": "Hold" if held else "Up",
                }
                self.calls[key] = call.model_copy(update=update)
            else:
                self.calls[key] = call.observed_again(reported, now)

    def states(self, now: datetime, *, empty: bool = False) -> dict[str, PbxState]:
        by_pbx: dict[str, list[Call]] = {name: [] for name in self.names}
        if not empty:
            for call in self.calls.values():
                by_pbx[call.pbx].append(call)
        return {
            name: PbxState(
                name=name,
                kind="pbxcloud",
                capabilities=CAPABILITIES,
                health=PbxHealth(pbx=name, kind="pbxcloud", state=HealthState.OK, last_ok=now),
                resources={Resource.CALLS: ResourceState(tuple(calls), fetched_at=now)},
            )
            for name, calls in by_pbx.items()
        }


async def calls_pane(plan: PanePlan, title: str) -> list[Figure]:
    from pbxtui.ui.app import PbxApp  # Textual only where this scenario runs

    config = bench_config(plan.pbxs)
    clock = Clock()
    engine = StaticEngine(config)
    fleet = CallFleet(plan, engine.pbx_names)
    app = PbxApp(config, engine=engine, clock=clock)
    updates: list[tuple[float, float]] = []
    rebuilds: list[tuple[float, float]] = []
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.console_screen
        pane = screen.panes["calls"]

        async def show(states: dict[str, PbxState]) -> None:
            screen.states.update(states)
            pane.show(screen.context())
            await pilot.pause()

        await show(fleet.states(clock.now))
        for measured in (updates, rebuilds):
            for _ in range(plan.rounds):
                clock.now += timedelta(seconds=1)
                fleet.next_poll(clock.now)
                states = fleet.states(clock.now)
                empty = fleet.states(clock.now, empty=True)
                cpu, wall = time.process_time(), time.perf_counter()
                if measured is rebuilds:
                    await show(empty)
                await show(states)
                measured.append((time.process_time() - cpu, time.perf_counter() - wall))
    update = statistics.median(c for c, _ in updates)
    rebuild = statistics.median(c for c, _ in rebuilds)
    ratio = update / rebuild if rebuild else float("nan")
    return [
        Figure(
            title,
            "Calls pane: update / clear-and-rebuild, CPU to the frame",
            f"{ratio:.2f} ({ms(update)} vs {ms(rebuild)})",
            "≤ 0.10",
            within(ratio, 0.10),
            ratio,
        ),
        Figure(
            title,
            f"  update median wall time to the frame ({plan.rounds} polls)",
            ms(statistics.median(w for _, w in updates)),
            "",
            None,
        ),
    ]
