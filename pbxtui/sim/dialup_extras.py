"""The dialup family's ``PBXpostOut.php`` (globalex-switchboard.txt, "Add numbers to Callback
Queue"): ``action=AddCB`` with the organisation's ``org_token``, ``CBnum`` and ``CBQdest``
mandatory, ``CBsource`` and ``maxCBdial`` optional. Its answer was never published: it answers
as cdr.php does (INFERENCE), ``{"status": "success"|"fail", "message": …}``. "This needs a
valid license": with ``licensed`` off it answers that refusal."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.responses import Response

from pbxtui.sim.dialup_cdrs import CdrApi
from pbxtui.sim.scenario import Scenario

POSTOUT_PATHS = ("/API/PBXpostOut.php", "/api/PBXpostOut.php")  # beside cdr.php
DEFAULT_QUEUES = ("300",)
NUMBER = re.compile(r"[0-9]{2,20}")  # local format only: `+972…` is refused, as dial1 is


@dataclass
class CallbackQueue:
    scenario: Scenario
    cdr: CdrApi
    licensed: bool = True
    queues: tuple[str, ...] = ()
    """The queues a callback may wait for: the scenario's, else the switchboard's one, 300."""
    entries: list[dict[str, str]] = field(default_factory=list)
    """Callbacks accepted: CBnum, CBQdest, CBsource, maxCBdial (never the token)."""

    def answer(self, params: Mapping[str, str], *, refused: bool) -> Response:
        if refused or not self.cdr.authorised(params):
            return _json("fail", "Invalid org_token")
        if params.get("action", "") != "AddCB":
            return _json("fail", "Unknown action")
        number, queue = params.get("CBnum", ""), params.get("CBQdest", "")
        self.scenario.received.append(("queue_callback", number))
        if not self.licensed:
            return _json("fail", "This operation needs a valid license")
        if not NUMBER.fullmatch(number):
            return _json("fail", "CBnum must be a phone number")
        if queue not in (self.queues or tuple(self.scenario.queues) or DEFAULT_QUEUES):
            return _json("fail", f"Queue {queue[:20]} not found")
        source = params.get("CBsource", "")
        if source and not NUMBER.fullmatch(source):
            return _json("fail", "CBsource must be a phone number")
        kept = ("CBnum", "CBQdest", "CBsource", "maxCBdial")
        self.entries.append({k: params[k] for k in kept if params.get(k)})
        return _json("success", "Callback added")


def _json(status: str, message: str) -> Response:
    return Response(
        json.dumps({"status": status, "message": message}), media_type="application/json"
    )
