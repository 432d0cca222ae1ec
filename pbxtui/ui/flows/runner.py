"""Sending confirmed requests: in a worker, shown on the status line while in flight, and
reported when done. The console keeps updating meanwhile; whatever an action does, the
console keeps running."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from typing import cast

from textual.notifications import SeverityLevel

from pbxtui.model import ActionOutcome, ActionRequest, ActionStatus, Request
from pbxtui.ui.flights import InFlight
from pbxtui.ui.flows.host import FlowHost

logger = logging.getLogger("pbxtui.ui")

MAX_LISTED_FAILURES = 8

After = Callable[[Sequence[ActionOutcome]], None]


class ActionRunner:
    def __init__(self, host: FlowHost) -> None:
        self.host = host
        self.in_flight: dict[int, InFlight] = {}
        self._ids = itertools.count(1)

    def busy(self, request: Request) -> bool:
        """An action on the same target is on its way (sent from here or elsewhere)."""
        target = request.target_key()
        if any(f.request.target_key() == target for f in self.in_flight.values()):
            return True
        engine = self.host.session.engine
        return engine is not None and engine.in_flight(cast("ActionRequest", request))

    def describe(self, now: float) -> list[str]:
        return [flight.describe(now) for flight in self.in_flight.values()]

    def send(self, requests: Sequence[ActionRequest], after: After | None = None) -> None:
        engine = self.host.session.engine
        if engine is None or not requests:
            return
        started = time.monotonic()
        ids = []
        for request in requests:
            flight_id = next(self._ids)
            self.in_flight[flight_id] = InFlight(request, started)
            ids.append(flight_id)
        self.host.show_status()
        self.host.start(self._perform(tuple(requests), tuple(ids), after))

    async def _perform(
        self, requests: tuple[ActionRequest, ...], ids: tuple[int, ...], after: After | None
    ) -> None:
        engine = self.host.session.engine
        outcomes: list[ActionOutcome] = []
        try:
            if engine is not None:
                outcomes = list(await asyncio.gather(*(engine.perform(r) for r in requests)))
        except Exception:
            logger.exception("an action failed unexpectedly")
            self.host.notify("the action failed unexpectedly (see the log)", severity="error")
        finally:
            for flight_id in ids:
                self.in_flight.pop(flight_id, None)
        try:
            self.report(outcomes)
            if after is not None:
                after(outcomes)
            self.host.show_status()
        except Exception:
            logger.exception("showing an action's result failed")
            self.host.notify("showing the action's result failed (see the log)", severity="error")

    def report(self, outcomes: Sequence[ActionOutcome]) -> None:
        host = self.host
        if not outcomes:
            return
        if len(outcomes) == 1:
            outcome = outcomes[0]
            request = outcome.request
            title = f"{request.pbx}: {request.label}"
            if outcome.ok:
                text = host.text(f"{request.summary()}: {outcome.message}")
                host.notify(text, title=title, timeout=4)
            else:
                severity: SeverityLevel = (
                    "error" if outcome.status is ActionStatus.FAILED else "warning"
                )
                host.notify(
                    host.text(outcome.message or outcome.status.value),
                    title=f"{title} {outcome.status.value}",
                    severity=severity,
                    timeout=10,
                )
            return
        ok = [o for o in outcomes if o.ok]
        failed = [o for o in outcomes if not o.ok]
        lines = [f"{len(ok)} of {len(outcomes)} done"]
        lines += [
            host.text(f"{o.request.pbx}: {o.request.describe_target()}: {o.message}")
            for o in failed[:MAX_LISTED_FAILURES]
        ]
        if len(failed) > MAX_LISTED_FAILURES:
            lines.append(f"… and {len(failed) - MAX_LISTED_FAILURES} more (see Events)")
        host.notify(
            "\n".join(lines),
            title=outcomes[0].request.label,
            severity="error" if failed else "information",
            timeout=10 if failed else 4,
        )
