"""The dialup family's queue callback: ``PBXpostOut.php`` ``action=AddCB`` (globalex-switchboard
.txt, "Add numbers to Callback Queue"), beside ``cdr.php`` and with the same ``org_token``.

The PBX calls ``CBnum`` back and connects it to queue ``CBQdest`` once an agent of that queue
is free; ``CBsource`` and ``maxCBdial`` are optional. The answer was never published: it is
read as cdr.php's is (INFERENCE), a JSON object with a ``status`` (or ``Response``) word and a
``message``, bare or in this family's ``{"data": …}`` wrapper, or a bare ``OK`` / ``fail``.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pbxtui.drivers.base import BadAnswer, NotSupported
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.dialup_answers import _raise_refusal
from pbxtui.drivers.http import VendorHttp, asking
from pbxtui.drivers.reading import Unreadable, decode_json
from pbxtui.model import ActionResult

if TYPE_CHECKING:
    from pbxtui.drivers.dialup import DialupDriver

ADD_CALLBACK = "AddCB"
OK_WORDS = frozenset({"ok", "success", "true", "1", "added", "done"})
NO_TOKEN = (
    "queue callback on {pbx} needs its org_token (PBXpostOut.php takes the organisation's "
    "token, as cdr.php does): set org_token in its [[pbx]] entry"
)


def postout_url(cdr_url: str, dialup_url: str) -> str:
    """PBXpostOut.php beside cdr.php (Bluebe's ``/api/``), else beside dialup.php."""
    for url, script in ((cdr_url, "cdr.php"), (dialup_url, "dialup.php")):
        if re.search(rf"{re.escape(script)}$", url, flags=re.IGNORECASE):
            return re.sub(rf"{re.escape(script)}$", "PBXpostOut.php", url, flags=re.IGNORECASE)
    return dialup_url.rstrip("/") + "/PBXpostOut.php"


class QueueCallbacks:
    """AddCB for one dialup PBX, under its request budget."""

    def __init__(self, driver: DialupDriver) -> None:
        config = driver.dialup
        self.driver = driver
        self.token = config.org_token
        self.http = VendorHttp(
            pbx=config.name,
            url=postout_url(config.cdr_endpoint, config.url),
            client=driver.http.client,
            timeout=config.timeout,
            budget=driver.budget,
        )

    async def add(self, number: str, queue: str, source: str, max_dial: int | None) -> ActionResult:
        name = self.driver.name
        if self.token is None:
            raise NotSupported(name, NO_TOKEN.format(pbx=name))
        form = {
            "org_token": self.token.get_secret_value(),
            "action": ADD_CALLBACK,
            "CBnum": number,
            "CBQdest": queue,
        }
        if source:
            form["CBsource"] = source
        if max_dial is not None:
            form["maxCBdial"] = str(max_dial)
        with asking("action", Priority.ACTION):
            response = await self.http.post_form({}, form)
        body = response.text.strip()
        _raise_refusal(name, response, body)
        ok, message = read_answer(name, body)
        if ok:
            done = f"{number} is on queue {queue}'s callback list"
            return ActionResult(ok=True, message=f"{done} ({message})" if message else done)
        return ActionResult(ok=False, message=message or "the PBX refused, without a reason")


def read_answer(pbx: str, body: str) -> tuple[bool, str]:
    """(accepted, the PBX's words) from a JSON object or a bare word."""
    if not body:
        raise BadAnswer(pbx, "answered an empty body instead of the callback's result")
    if not body.startswith(("{", "[")):
        word = body.split()[0].strip(".:!").lower()
        return word in OK_WORDS, body[:200]
    try:
        data: Any = decode_json(body)
    except (json.JSONDecodeError, Unreadable):
        raise BadAnswer(
            pbx, "answered JSON it cut short or garbled (the callback's result)"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    if not isinstance(data, dict):
        raise BadAnswer(pbx, "answered the callback's result in an unexpected shape")
    folded = {str(k).lower(): v for k, v in data.items()}
    word = next(
        (str(folded[k]) for k in ("status", "response", "result") if k in folded), ""
    ).lower()
    message = next((str(folded[k]) for k in ("message", "msg", "error") if k in folded), "")
    if not word:
        raise BadAnswer(pbx, "answered the callback's result without a status")
    return word in OK_WORDS, message[:200]
