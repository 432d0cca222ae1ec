"""The one policy every action passes, from the console, the CLI and the tests alike.

In order: the PBX must exist; a read-only PBX (or a read-only engine) sends nothing that
changes anything; the PBX's API must offer the action and honour every option asked for; the
request must be well formed; a protected PBX needs its name typed to confirm a destructive
action; and no two actions on the same target fly at once. The first rule broken is the
refusal; ``claim`` then ``release`` bracket the sending, so the in-flight guard is kept by
target (the call, the agent), not by key press.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pbxtui.config import Config, ConfigError
from pbxtui.model import (
    ACTION_LABELS,
    READ_ACTIONS,
    Action,
    ActionRequest,
    ActionStatus,
    Capabilities,
    PlaceCall,
    ScheduleCall,
)


@dataclass(frozen=True)
class Refusal:
    status: ActionStatus
    reason: str


class ActionPolicy:
    def __init__(
        self,
        config: Config,
        capabilities: Callable[[str], Capabilities],
        *,
        read_only: bool = False,
        vendor: Callable[[str], str] = lambda pbx: "",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``vendor``: the API's name for a PBX, said when it lacks an action; ``clock``:
        the operator's now (a scheduled call must be for a time to come)."""
        self.config = config
        self._clock = clock
        self._capabilities = capabilities
        self._vendor = vendor
        self._read_only = read_only or config.settings.read_only
        self._in_flight: dict[str, ActionRequest] = {}

    # -- what a PBX allows ----------------------------------------------------------------
    def is_read_only(self, pbx: str) -> bool:
        return self._read_only or self.config.get(pbx).read_only

    def is_protected(self, pbx: str) -> bool:
        return self.config.get(pbx).protected

    def refusal(self, action: Action, pbx: str) -> Refusal | None:
        """Why ``action`` cannot go to ``pbx`` whatever its target, or None."""
        label = ACTION_LABELS[action]
        try:
            read_only = self.is_read_only(pbx)
        except ConfigError as exc:
            return Refusal(ActionStatus.REFUSED, str(exc))
        if read_only and action not in READ_ACTIONS:
            return Refusal(ActionStatus.READ_ONLY, f"{pbx} is read-only: {label} refused")
        if not self._capabilities(pbx).supports(action):
            vendor = self._vendor(pbx)
            api = f"{pbx}'s API ({vendor})" if vendor else f"{pbx}'s API"
            return Refusal(ActionStatus.UNSUPPORTED, f"{label} is not supported by {api}")
        return None

    # -- one request ------------------------------------------------------------------------
    def check(self, request: ActionRequest) -> Refusal | None:
        """Every rule for ``request`` (see the module docstring), or None if it may go."""
        refusal = self.refusal(request.capability, request.pbx)
        if refusal is not None:
            return refusal
        ignored = self._ignored_options(request)
        if ignored:
            return Refusal(ActionStatus.UNSUPPORTED, ignored)
        problem = request.problem(self._clock() if self._clock is not None else None)
        if problem:
            return Refusal(ActionStatus.REFUSED, problem)
        if (
            request.destructive
            and self.is_protected(request.pbx)
            and request.confirmed_pbx != request.pbx
        ):
            return Refusal(
                ActionStatus.NOT_CONFIRMED,
                f"{request.pbx} is protected: type its name to confirm {request.label}",
            )
        if request.target_key() in self._in_flight:
            return Refusal(
                ActionStatus.IN_FLIGHT,
                f"an action on this target is already in flight on {request.pbx}: "
                "nothing was sent; wait for its result",
            )
        return None

    def _ignored_options(self, request: ActionRequest) -> str:
        """Options the PBX's API would silently drop: refused rather than ignored."""
        if not isinstance(request, PlaceCall | ScheduleCall):
            return ""
        honoured = self._capabilities(request.pbx).click2call_options
        ignored = sorted(request.dial.options_used() - honoured)
        if not ignored:
            return ""
        names = ", ".join(option.value.replace("_", " ") for option in ignored)
        return f"{request.pbx}'s API ignores {names} on click2call: leave it out"

    def in_flight(self, request: ActionRequest) -> bool:
        return request.target_key() in self._in_flight

    def claim(self, request: ActionRequest) -> Refusal | None:
        """``check``, and when it passes, mark the target in flight until ``release``."""
        refusal = self.check(request)
        if refusal is None:
            self._in_flight[request.target_key()] = request
        return refusal

    def release(self, request: ActionRequest) -> None:
        if self._in_flight.get(request.target_key()) is request:
            del self._in_flight[request.target_key()]
