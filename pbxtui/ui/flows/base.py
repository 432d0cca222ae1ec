"""The one ladder every action climbs: ready → targets → policy → form → confirm → send once.

A flow asks the engine's policy (``refusal``: read-only, capability) before showing anything;
a refused request goes straight to the engine, which refuses it again, audits the attempt and
says why, so no confirmation is ever asked for an action that will not be carried out. The
confirmation names the exact targets and, for a protected PBX, asks for its name; the engine
checks that name again (``confirmed_pbx``) and keeps one action per target in flight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

from pbxtui.model import ACTION_LABELS, Action, ActionRequest, OneRequest
from pbxtui.model.port import EnginePort
from pbxtui.ui.flows.host import FlowHost
from pbxtui.ui.flows.runner import ActionRunner, After
from pbxtui.ui.modals.confirm import Confirmation, ConfirmModal

MAX_REASONS_SHOWN = 6


class Flow:
    def __init__(self, host: FlowHost, runner: ActionRunner) -> None:
        self.host = host
        self.runner = runner

    @property
    def engine(self) -> EnginePort | None:
        return self.host.session.engine

    # -- before anything is shown -------------------------------------------------------------
    def ready(self) -> bool:
        if self.engine is None:
            stopped = self.host.session.stopped
            if stopped:
                self.host.notify(f"no engine: {stopped}; restart pbxtui", severity="error")
            else:
                self.host.notify(
                    "still connecting to the PBXs: try again in a moment", severity="warning"
                )
            return False
        return True

    def refusal(self, action: Action, pbx: str) -> str:
        engine = self.engine
        return "still connecting" if engine is None else engine.refusal(action, pbx)

    def allowed(self, action: Action) -> tuple[str, ...]:
        """The PBXs shown that may do ``action`` now."""
        return tuple(n for n in self.host.shown_pbxs if not self.refusal(action, n))

    def say_unsupported(self, action: Action, pbxs: Iterable[str] | None = None) -> None:
        """No PBX (of ``pbxs``, else of those shown) can do ``action``: say why for each."""
        names = list(pbxs if pbxs is not None else self.host.shown_pbxs)
        reasons = [r for r in (self.refusal(action, n) for n in names) if r]
        text = "\n".join(reasons[:MAX_REASONS_SHOWN]) or f"{ACTION_LABELS[action]}: no PBX shown"
        self.host.notify(text, severity="warning")
        for pbx in names:
            reason = self.refusal(action, pbx)
            if reason:
                self.host.add_event(
                    pbx, f"{pbx}: {ACTION_LABELS[action]} refused in the console: {reason}"
                )

    def admit(self, requests: Sequence[OneRequest]) -> list[OneRequest]:
        """The requests that may go on to their confirmation (see the module docstring)."""
        admitted: list[OneRequest] = []
        refused: list[OneRequest] = []
        for request in requests:
            if self.runner.busy(request):
                self.host.notify(
                    f"{request.label} on {request.pbx}: an action on this target is already "
                    "in flight; wait for its result",
                    severity="warning",
                )
                continue
            if self.refusal(request.capability, request.pbx):
                refused.append(request)
            else:
                admitted.append(request)
        if refused:
            self.runner.send(cast("list[ActionRequest]", refused))
        return admitted

    # -- confirming and sending ---------------------------------------------------------------
    def protected(self, requests: Iterable[ActionRequest]) -> tuple[str, ...]:
        engine = self.engine
        if engine is None:
            return ()
        return tuple(
            sorted({r.pbx for r in requests if r.destructive and engine.is_protected(r.pbx)})
        )

    def confirm(
        self,
        requests: Sequence[ActionRequest],
        confirmation: Confirmation,
        after: After | None = None,
    ) -> None:
        """Ask, naming the targets; on yes, send each request once."""
        chosen = tuple(requests)

        def done(ok: bool | None) -> None:
            if ok:
                typed = set(confirmation.type_to_confirm)
                self.send(
                    [
                        r.model_copy(update={"confirmed_pbx": r.pbx}) if r.pbx in typed else r
                        for r in chosen
                    ],
                    after,
                )

        self.host.push(ConfirmModal(confirmation), done)

    def send(self, requests: Sequence[ActionRequest], after: After | None = None) -> None:
        self.runner.send(requests, after)
