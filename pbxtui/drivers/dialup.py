"""Driver for the GlobalEx / Voiptech / CloudPlus ``API/dialup.php`` family (vendor-notes §2).

The API has no list of calls, queues or peers: only the status of one extension per request
(``exten=``), a hangup by extension, and a click2call that blocks until its first leg answers.
So the driver sweeps the configured extensions under a per-PBX budget (at most
``max_in_flight`` requests in flight, starts spaced at ``requests_per_second``), derives calls
and BLF lamps from that one sweep, and shares it between the resources the engine polls.
With the defaults (4 in flight, 20 requests/s) a sweep of 100 extensions takes at least 5 s.

Call durations are *observed*: the API gives none, so a call's age is the time since this
driver first saw its ``Uniqueid`` (unless the PBX adds a duration field).

What it cannot tell: a caller waiting in a queue is on no extension, so it is not seen at all
(no call here is ever QUEUED), and an extension's own call into a queue is just ``busy``.

``Response=yes``: every request asks for a result. Without it the PBX carries an action out
and answers an empty 200 (OBSERVED by a real proxy), and a status request answers the bare
status word. A PBX that answers an action empty anyway (one that ignores ``Response``) is
taken at its word that it was sent: the result says the PBX did not confirm it, and the next
status poll, asked at once, shows what happened.

History (``dialup_history``): ``cdr.php`` with the ``org_token``, else the CloudPlus panel's
reports with the panel's own login, else none (what the PBX pushes still is).
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import anyio
import httpx

from pbxtui.config import DialupConfig, PbxConfig
from pbxtui.drivers.base import (
    ActionRefused,
    AuthRefused,
    Driver,
    DriverError,
    NotSupported,
    PbxTimeout,
    PbxUnreachable,
)
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.dialup_answers import (
    BAD_EVENT,
    STATUS_MEMO_CHARS,
    VENDOR_ID_KEYS,
    ExtensionStatus,
    StatusReader,
    derive_calls,
    first_of,
    parse_action,
    parse_status,
    read_fields,
)
from pbxtui.drivers.dialup_extras import QueueCallbacks
from pbxtui.drivers.dialup_history import DialupHistory
from pbxtui.drivers.http import VendorHttp, VendorResponse, asking
from pbxtui.drivers.shared_reads import SharedReads
from pbxtui.model import (
    Action,
    ActionResult,
    BlfLamp,
    Call,
    Capabilities,
    Click2Call,
    Click2CallOption,
    Direction,
    Extension,
    LampKind,
    LineState,
    Resource,
    utcnow,
)
from pbxtui.model.history import HistoryPage, HistoryQuery

__all__ = [  # the answers' readers, where callers have always found them
    "BAD_EVENT",
    "STATUS_MEMO_CHARS",
    "DialupDriver",
    "ExtensionStatus",
    "RequestSpacing",
    "StatusReader",
    "derive_calls",
    "normalize_number",
    "parse_action",
    "parse_status",
    "read_fields",
    "short_reason",
    "status_url",
]

DEFAULT_DIAL_TIMEOUT = 20  # seconds the PBX waits for the first leg when none is given
DIAL_TIMEOUT_MARGIN = 10  # the HTTP request must outlive the vendor's own dial timeout
ISRAEL = "+972"  # the only country these brands serve, per their documents
# Brands known to dial +E.164 as sent. None so far: `+972…` was OBSERVED refused with `fail`.
PLUS_ACCEPTED_BRANDS: frozenset[str] = frozenset()
SCHEDULE_DEFAULTS = {"Maxretry": "1", "Retrytime": "60"}  # INFERENCE: units undocumented
STATUS_BODY_LIMIT = 1024 * 1024  # one extension's status is a few hundred bytes
UNCONFIRMED = "the PBX answered nothing (no result despite Response=yes): the next poll shows"
NO_HISTORY = (
    "no call history from {pbx}'s API as configured: set org_token (cdr.php), or for "
    'brand = "cloudplus" panel_user and panel_pass (the panel\'s reports); what it pushes '
    "(webhooks) is kept as history too"
)


# -- actions' numbers and helpers -----------------------------------------------------------
def normalize_number(pbx: str, number: str, brand: str) -> str:
    """A number as this brand will dial it: local format, since ``+E.164`` is refused.

    ``+972XXXXXXXX`` becomes ``0XXXXXXXX``; any other ``+`` number is refused here with a
    clear reason rather than sent to a PBX that would answer a bare ``fail``.
    """
    cleaned = re.sub(r"[\s\-().]", "", number)
    if not cleaned:
        raise ActionRefused(pbx, "no number to dial")
    if not cleaned.startswith("+") or brand in PLUS_ACCEPTED_BRANDS:
        return cleaned
    national = cleaned[len(ISRAEL) :]
    if cleaned.startswith(ISRAEL) and national.isdigit() and 8 <= len(national.lstrip("0")) <= 9:
        return "0" + national.lstrip("0")
    raise ActionRefused(pbx, f"{pbx} refuses +E.164 numbers; dial in local format")


def short_reason(error: DriverError) -> str:
    """An error's reason without the (redacted) URL the HTTP layer puts in it."""
    reason = re.sub(r"\s+(?:from|to)\s+[a-z]+://\S*?(:?)(?=\s|$)", r"\1", error.reason)
    return f"{error.label}: {reason}"


def status_url(url: str, brand: str) -> str:
    """CloudPlus reads extension status from ``CHstatus.php`` beside ``dialup.php`` (OBSERVED)."""
    if brand == "cloudplus":
        return re.sub(r"dialup\.php$", "CHstatus.php", url, flags=re.IGNORECASE)
    return url


# -- the request budget -----------------------------------------------------------------------
class RequestSpacing:
    """At most ``per_second`` request starts per second, evenly spaced (no bursts)."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / per_second
        self.clock = clock
        self._next = 0.0

    def reserve(self) -> float:
        """Claim the next start slot; returns how long to wait for it."""
        now = self.clock()
        slot = max(now, self._next)
        self._next = slot + self.interval
        return slot - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await anyio.sleep(delay)


@dataclass(frozen=True)
class _Sweep:
    extensions: list[Extension]
    calls: list[Call]
    lamps: list[BlfLamp]


Outcome = ExtensionStatus | DriverError


# -- the driver -------------------------------------------------------------------------------
class DialupDriver(Driver):
    kind = "dialup"
    vendor = "GlobalEx / Voiptech / CloudPlus dialup.php"
    capabilities = Capabilities(
        resources=frozenset({Resource.CALLS, Resource.EXTENSIONS, Resource.BLF}),
        actions=frozenset(
            {Action.HANGUP, Action.CLICK2CALL, Action.SCHEDULED_CALL, Action.QUEUE_CALLBACK}
        ),
        click2call_options=frozenset(Click2CallOption),
    )
    # Not spread: a sweep of a dozen extensions goes out under the budget's own rule (at
    # most requests_per_second starts in any 1.25 s, 4 in flight), as every vendor's
    # requests do. Evenly spaced, a 12-extension sweep took 0.56 s, and every `snapshot` with it.
    spread_requests = False

    def __init__(self, config: PbxConfig, client: httpx.AsyncClient) -> None:
        super().__init__(config, client)
        if not isinstance(config, DialupConfig):
            raise TypeError(f"DialupDriver needs a dialup config, not {config.kind!r}")
        self.dialup = config
        self.status_http = VendorHttp(
            pbx=config.name,
            url=status_url(config.url, config.brand),
            client=client,
            timeout=config.timeout,
            budget=self.budget,  # max_in_flight and requests_per_second, shared with actions
            body_limit=STATUS_BODY_LIMIT,
        )
        # A sweep serves every resource polled within half a poll interval of it.
        self._sweeps: SharedReads[_Sweep] = SharedReads(reuse_for=config.poll_interval / 2)
        self._first_seen: dict[str, tuple[float, str]] = {}  # call key → (monotonic, ext)
        self._lamps: dict[str, tuple[str, datetime | None]] = {}  # ext → (raw, since)
        self._statuses = StatusReader(config.name)
        self._history = DialupHistory(self)
        self._callbacks = QueueCallbacks(self)

    def fetch_seconds(self) -> float:
        # One request per watched extension under the rate limit: 200 extensions at 20/s
        # need 10 s on top of one request's timeout.
        return self.config.timeout + len(self.dialup.extensions) / self.dialup.requests_per_second

    # -- resources ------------------------------------------------------------------------
    async def fetch_extensions(self) -> list[Extension]:
        return list((await self._sweep()).extensions)

    async def fetch_calls(self) -> list[Call]:
        return list((await self._sweep()).calls)

    async def fetch_blf(self) -> list[BlfLamp]:
        return list((await self._sweep()).lamps)

    async def probe(self) -> None:
        await self._status(self.dialup.extensions[0])

    # -- history (dialup_history) ---------------------------------------------------------
    def history_source(self) -> str:
        return self._history.source

    async def history(self, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        if not self._history.source:
            raise NotSupported(self.name, NO_HISTORY.format(pbx=self.name))
        async for page in self._history.pages(query):
            yield page

    # -- actions --------------------------------------------------------------------------
    async def hangup(self, call: Call) -> ActionResult:
        exten = call.extension or call.id
        params = self._auth() | {
            "exten": exten,
            "operation": "hangup",
            "Response": "yes",
            "RFormat": "json",
        }
        # Actions go ahead of the sweep's requests in the budget: an operator never queues
        # behind a sweep.
        with asking("action", Priority.ACTION):
            response = await self.http.get(params)
        if _unanswered(response):
            self._sweeps.forget()
            return ActionResult(ok=True, message=f"hang-up of {exten} sent; {UNCONFIRMED}")
        ok, word = parse_action(self.name, read_fields(self.name, response))
        if not ok:
            return ActionResult(ok=False, message=f"extension {exten} was not hung up ({word})")
        self._sweeps.forget()  # the next poll must show the effect
        return ActionResult(ok=True, message=f"hung up extension {exten}")

    async def click2call(self, request: Click2Call) -> ActionResult:
        if request.timeout is not None and not 1 <= request.timeout <= 300:
            raise ActionRefused(self.name, "the first-leg timeout must be 1-300 seconds")
        brand = self.dialup.brand
        dial1 = normalize_number(self.name, request.source, brand)
        dial2 = normalize_number(self.name, request.destination, brand)
        params = self._auth() | {
            "dial1": dial1,
            "dial2": dial2,
            "Response": "yes",
            "RFormat": "json",
            "showUID": "yes",
        }
        if request.caller_id:
            params["SetCID"] = normalize_number(self.name, request.caller_id, brand)
        if request.reverse:
            params["Reverse"] = "yes"
        if request.timeout is not None:
            params["Timeout"] = str(request.timeout)
        if request.scheduled_at is not None:
            params |= self._schedule(request)
        # The PBX answers only when the first leg answers or its Timeout passes, so the
        # request's own timeout must outlive it; it takes no in-flight slot of the budget.
        wait = (request.timeout or DEFAULT_DIAL_TIMEOUT) + DIAL_TIMEOUT_MARGIN
        with asking("action", Priority.ACTION):
            response = await self.http.get(params, timeout=wait)
        if _unanswered(response):
            self._sweeps.forget()
            return ActionResult(ok=True, message=f"call {dial1} → {dial2} sent; {UNCONFIRMED}")
        fields = read_fields(self.name, response)
        ok, word = parse_action(self.name, fields)
        self._sweeps.forget()
        if request.scheduled_at is not None:
            when = params["Date"]
            if not ok:
                return ActionResult(
                    ok=False, message=f"the PBX refused the scheduled call ({word})"
                )
            return ActionResult(ok=True, message=f"call {dial1} → {dial2} scheduled for {when}")
        if not ok:
            return ActionResult(
                ok=False, message=f"the first leg ({dial1}) did not answer ({word})"
            )
        vendor_id = first_of(fields, VENDOR_ID_KEYS)
        return ActionResult(
            ok=True, message=f"{dial1} answered; now dialling {dial2}", vendor_id=vendor_id
        )

    async def queue_callback(
        self, number: str, queue: str, source: str, max_dial: int | None
    ) -> ActionResult:
        brand = self.dialup.brand
        number = normalize_number(self.name, number, brand)
        source = normalize_number(self.name, source, brand) if source else ""
        return await self._callbacks.add(number, queue, source, max_dial)

    def _schedule(self, request: Click2Call) -> dict[str, str]:
        assert request.scheduled_at is not None
        when = request.scheduled_at
        if when.tzinfo is not None:
            # The PBX reads Date in its own local time; assume the operator shares it.
            when = when.astimezone().replace(tzinfo=None)
        return {
            "Date": when.strftime("%Y%m%d%H%M"),
            "Maxretry": str(request.max_retry)
            if request.max_retry is not None
            else SCHEDULE_DEFAULTS["Maxretry"],
            "Retrytime": str(request.retry_time)
            if request.retry_time is not None
            else SCHEDULE_DEFAULTS["Retrytime"],
            "ident": request.ident or self.dialup.org,
        }

    # -- the sweep ------------------------------------------------------------------------
    def _auth(self) -> dict[str, str]:
        return {
            "user": self.dialup.user,
            "pass": self.dialup.pass_.get_secret_value(),
            "org": self.dialup.org,
        }

    async def _status(self, exten: str) -> ExtensionStatus:
        params = self._auth() | {"exten": exten, "Response": "yes", "RFormat": "json"}
        response = await self.status_http.get(params)
        return self._statuses.read(exten, response)

    async def _sweep(self) -> _Sweep:
        """The last sweep if fresh, the one in flight if any, else a new one."""
        return await self._sweeps.read("sweep", self._run_sweep)

    async def _run_sweep(self) -> _Sweep:
        outcomes: dict[str, Outcome] = {}
        fatal: list[DriverError] = []
        async with anyio.create_task_group() as group:
            for exten in self.dialup.extensions:
                group.start_soon(self._read_one, exten, outcomes, fatal, group.cancel_scope)
        if fatal:
            raise fatal[0]
        statuses = {e: o for e, o in outcomes.items() if isinstance(o, ExtensionStatus)}
        if not statuses:
            errors = [o for o in outcomes.values() if isinstance(o, DriverError)]
            raise next((e for e in errors if isinstance(e, AuthRefused)), errors[0])
        return self._assemble(outcomes, statuses)

    async def _read_one(
        self,
        exten: str,
        outcomes: dict[str, Outcome],
        fatal: list[DriverError],
        scope: anyio.CancelScope,
    ) -> None:
        try:
            outcomes[exten] = await self._status(exten)
        except DriverError as exc:
            outcomes[exten] = exc
            if self._ends_sweep(exc, outcomes):
                fatal.append(exc)
                scope.cancel()

    @staticmethod
    def _ends_sweep(error: DriverError, outcomes: Mapping[str, Outcome]) -> bool:
        """Errors that every other request would repeat: stop instead of waiting for them.

        Credentials and connection refusals are PBX-wide; a timeout is too until any
        extension has answered (otherwise a hung PBX costs ``N / max_in_flight`` timeouts).
        """
        if isinstance(error, AuthRefused | PbxUnreachable):
            return True
        answered = any(isinstance(o, ExtensionStatus) for o in outcomes.values())
        return isinstance(error, PbxTimeout) and not answered

    def _assemble(
        self, outcomes: Mapping[str, Outcome], statuses: Mapping[str, ExtensionStatus]
    ) -> _Sweep:
        now, at = time.monotonic(), utcnow()
        observed = self._observe(now, statuses)
        calls = derive_calls(self.name, statuses, observed=observed, at=at)
        on_call = {c.extension: c.id for c in calls}
        on_call |= {c.callee: c.id for c in calls if c.direction is Direction.INTERNAL}
        extensions: list[Extension] = []
        lamps: list[BlfLamp] = []
        for exten in self.dialup.extensions:
            outcome = outcomes.get(exten)
            if isinstance(outcome, ExtensionStatus):
                state, raw = outcome.state, outcome.state_raw
            else:
                reason = short_reason(outcome) if outcome else "not read"
                state, raw = LineState.UNKNOWN, f"error: {reason}"
            extensions.append(
                Extension(
                    pbx=self.name,
                    id=exten,
                    number=exten,
                    state=state,
                    state_raw=raw,
                    call_id=on_call.get(exten, ""),
                )
            )
            lamps.append(self._lamp(exten, state, raw, at))
        return _Sweep(extensions=extensions, calls=calls, lamps=lamps)

    def _observe(self, now: float, statuses: Mapping[str, ExtensionStatus]) -> dict[str, int]:
        """Seconds since each call key was first seen; forget calls that have ended."""
        seen: set[str] = set()
        for exten, status in statuses.items():
            if status.on_call and status.call_key:
                first = self._first_seen.get(status.call_key, (now, exten))[0]
                self._first_seen[status.call_key] = (first, exten)
                seen.add(status.call_key)
        # An extension that failed this sweep keeps its call's first-seen time.
        self._first_seen = {
            key: value
            for key, value in self._first_seen.items()
            if key in seen or (value[1] not in statuses and value[1] in self.dialup.extensions)
        }
        return {key: int(now - first) for key, (first, _) in self._first_seen.items()}

    def _lamp(self, exten: str, state: LineState, raw: str, at: datetime) -> BlfLamp:
        previous = self._lamps.get(exten)
        since = None if previous is None else (previous[1] if previous[0] == raw else at)
        self._lamps[exten] = (raw, since)
        return BlfLamp(
            pbx=self.name,
            id=exten,
            label=exten,
            kind=LampKind.EXTENSION,
            state=state,
            state_raw=raw,
            since=since,
            extension=exten,
        )


def _unanswered(response: VendorResponse) -> bool:
    """An action answered with an empty 200: what the PBX does without ``Response=yes``."""
    return response.status == 200 and not response.text.strip()
