"""Driver for MiRTA PBX's legacy ``proxyapi.php`` (sold as "PBX Cloud").

Every request is a GET with ``reqtype``, ``tenant``, ``key`` and ``format=json`` in the query
string. The API answers HTTP 200 for everything, sends its errors as short text bodies whatever
the format, and labels bodies by the format asked for rather than by what they are, so this
driver decides by the body, never by the Content-Type (vendor-notes §1.3, §1.4).

The active-calls format (CHANNELS) has never been published: the parser accepts the plausible
shapes (``core show channels concise`` names or AMI CoreShowChannel names, in any case; an
array or an object keyed by anything; durations in seconds or ``H:MM:SS``) and pairs the legs
of one call by LinkedID, else by bridge, else leaves each channel a call of its own
(``pbxcloud_calls``).

"Nothing" is told from "no answer" per request: the API's 0-byte, ``]`` and ``null`` bodies
belong to other requests (vendor-notes §1.3), so a listing answered with one of them is a
BadAnswer, never "ok, 0 calls"; no rows is an empty JSON array (or object). A value of the
wrong JSON type where a field is read is a BadAnswer naming the row and the field.

Every fetch is one request (or a few) followed by one synchronous ``read_*`` method of the
answer: pure but for the driver's memos of rows already read, so it may run in a worker
thread.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import anyio
import httpx

from pbxtui.config import PbxCloudConfig, PbxConfig
from pbxtui.drivers import pbxcloud_extras, pbxcloud_history
from pbxtui.drivers.base import ActionRefused, AuthRefused, BadAnswer, Driver, DriverError
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.http import VendorResponse, asking, login_page
from pbxtui.drivers.pbxcloud_calls import (
    CHANNEL_STATE_CODES,
    ChannelReader,
    calls_from_rows,
    channel_peer,
    extension_number,
    strip_tenant,
)
from pbxtui.drivers.pbxcloud_rows import named_extension_rows
from pbxtui.drivers.reading import (
    Fields,
    Layout,
    Layouts,
    Unreadable,
    decode_json,
    int_of,
    kind_of,
    number_of,
    rows_of,
    text_of,
    truncated_json,
)
from pbxtui.drivers.values import qualify
from pbxtui.model import (
    Action,
    ActionResult,
    Agent,
    AgentState,
    BlfLamp,
    Call,
    CampaignVerb,
    Capabilities,
    Click2Call,
    Click2CallOption,
    Extension,
    FlowStateWord,
    LampKind,
    LineState,
    Peer,
    Queue,
    Resource,
)
from pbxtui.model.figures import TenantFigures
from pbxtui.model.history import HistoryPage, HistoryQuery

__all__ = ["CHANNEL_STATE_CODES", "PbxCloudDriver", "calls_from_rows"]

T = TypeVar("T")
R = TypeVar("R")
logger = logging.getLogger("pbxtui.drivers")

# The bodies that look like "nothing". The API sends each only for some requests (0 bytes for
# SIMPLECDRS and CDR, a lone "]" for CDRS and QUEUELOGS, null for AGENTS of an unknown queue:
# vendor-notes §1.3); for the listings read here "no rows" is what PHP's json_encode makes of
# an empty array, "[]", and the other forms are no answer (0 bytes is also what an unknown
# request gets; "{}" is an object cast, which no listing is).
EMPTY_LOOKING = frozenset({"", "]", "null", "[]", "{}"})
NO_ROWS = frozenset({"[]"})
NO_AGENTS = NO_ROWS | {"null"}  # AGENTS of a queue with nobody in it, or gone
# INFO queue of a queue deleted since the list was read: undocumented; 0 bytes as for any
# unknown id, or null as AGENTS answers. Both at once for every queue is a BadAnswer.
QUEUE_GONE = frozenset({"", "null"})
# Texts that mean the credentials were refused, matched in lower case.
AUTH_TEXTS = ("mistaken the security api key", "wrong or missing tenant")
# Bare texts the API (or Asterisk behind it) uses to say no, without the "Error|" prefix.
REFUSAL_TEXTS = (
    "no such channel",
    "extension does not exist",
    "interface not found",
    "no id specified",
    "no extension specified",
    "no channel specified",
    "not found",
    "permission denied",
)
QUEUE_LIMIT = 4  # per-queue requests in flight at once
QUEUE_LIST_TTL = 30.0  # seconds the queue list is reused between polls
PEERS_REUSE_SECONDS = 5.0  # a peers answer this fresh serves the extension list too

# Asterisk device states (names and the numeric enum) → the console's line states.
DEVICE_STATES: dict[str, LineState] = {
    "NOTINUSE": LineState.IDLE,
    "IDLE": LineState.IDLE,
    "INUSE": LineState.BUSY,
    "BUSY": LineState.BUSY,
    "ONHOLD": LineState.BUSY,
    "RINGINUSE": LineState.BUSY,
    "RINGING": LineState.RINGING,
    "UNAVAILABLE": LineState.UNAVAILABLE,
    "INVALID": LineState.UNAVAILABLE,
    "UNKNOWN": LineState.UNKNOWN,
    "0": LineState.UNKNOWN,
    "1": LineState.IDLE,
    "2": LineState.BUSY,
    "3": LineState.BUSY,
    "4": LineState.UNAVAILABLE,
    "5": LineState.UNAVAILABLE,
    "6": LineState.RINGING,
    "7": LineState.BUSY,
    "8": LineState.BUSY,
}

# -- reading rows -------------------------------------------------------------------------------
PEER_FIELDS = Fields(
    {
        "name": ("name", "objectname", "peer"),
        "host": ("host", "ipaddress", "address"),
        "status": ("status",),
        "description": ("description", "desc"),
    }
)
# Only these named fields are read: the records also carry the SIP and web passwords.
EXTENSION_FIELDS = Fields(
    {
        "number": ("ex_number", "number", "extension"),
        "state": ("st_state", "state"),
        "name": ("ex_name", "name"),
    }
)
LAMP_FIELDS = Fields(
    {
        "name": ("st_extension", "extension", "name"),
        "state": ("st_state", "state"),
        "since": ("st_timestamp", "timestamp"),
    }
)
EPOCH_RE = re.compile(r"[0-9]{9,11}(\.[0-9]{1,9})?")


def _row(obj: Mapping[Any, Any]) -> dict[str, Any]:
    """Lower-cased names, without the positional duplicates of a PHP FETCH_BOTH row."""
    return {str(k).lower(): v for k, v in obj.items() if not str(k).isdigit()}


def _text(value: Any, where: str) -> str:
    return text_of(value, where, flags=True)


def _pick(row: Mapping[str, Any], where: str, *names: str) -> str:
    """The first non-empty value among ``names`` (lower-case), as text."""
    for name in names:
        value = _text(row.get(name), f"{where} {name!r}")
        if value:
            return value
    return ""


def _int(value: Any, where: str) -> int | None:
    return int_of(_text(value, where))


def _float(value: Any, where: str) -> float | None:
    return number_of(_text(value, where))


def _timestamp(value: Any, where: str) -> datetime | None:
    """MiRTA's ``YYYY-MM-DD HH:MM:SS`` (read as UTC: the API names no zone) or epoch seconds."""
    text = _text(value, where)
    if not text or text.startswith("0000") or len(text) > 40:
        return None
    try:
        if EPOCH_RE.fullmatch(text):
            return datetime.fromtimestamp(float(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _line_state(raw: str) -> LineState:
    key = re.sub(r"[\s_-]", "", raw).upper()
    return DEVICE_STATES.get(key, LineState.UNKNOWN)


PLAIN_PAIRS = re.compile(r"(?:[^:|\r\n]+:[^|\r\n]*\|)+")


def _pairs(text: str) -> list[tuple[str, str]] | None:
    """The plain ``<id>:<value>|<id>: <value>|`` form (A-43, A-56), or None if not that."""
    body = text.strip()
    if not PLAIN_PAIRS.fullmatch(body):
        return None
    pairs = []
    for part in body.split("|")[:-1]:
        key, _, value = part.partition(":")
        pairs.append((key.strip(), value.strip()))
    return pairs


def _unreadable(body: str) -> bool:
    return "\ufffd" in body or any(ord(c) < 32 and c not in "\r\n\t" for c in body[:4096])


# -- peers, agents ------------------------------------------------------------------------------
def registration(status: str, host: str) -> tuple[bool | None, int | None]:
    """chan_sip qualify text (``OK (23 ms)``, ``UNREACHABLE``…) → (registered, latency)."""
    if host.strip().lower() in ("(unspecified)", "", "(null)", "0.0.0.0"):
        return False, None
    registered, latency = qualify(status)
    if registered is None and status.strip().lower().startswith("unmonitored"):
        return True, latency  # a known host without qualify: registered, latency unknown
    return registered, latency


def agent_state(status: str, device: str) -> AgentState:
    """Agents "1" (membership status) and "2" (device state) → one state."""
    word = re.sub(r"[\s_-]", "", status).lower()
    line = _line_state(device) if device else None
    if "pause" in word:
        return AgentState.PAUSED
    if word in ("unavailable", "loggedout", "offline", "invalid") or line is LineState.UNAVAILABLE:
        return AgentState.UNAVAILABLE
    if word in ("busy", "inuse", "ringing", "oncall") or line in (
        LineState.BUSY,
        LineState.RINGING,
    ):
        return AgentState.BUSY
    return AgentState.AVAILABLE if word or line is LineState.IDLE else AgentState.UNAVAILABLE


class PbxCloudDriver(Driver):
    kind = "pbxcloud"
    vendor = "MiRTA PBX proxyapi.php"
    capabilities = Capabilities(
        resources=frozenset(Resource),
        actions=frozenset(
            {
                Action.HANGUP,
                Action.TRANSFER,
                Action.ATTENDED_TRANSFER,
                Action.PAUSE,
                Action.UNPAUSE,
                Action.CLICK2CALL,
                Action.SET_FLOW,
                Action.QUEUE_RESET,
                Action.CAMPAIGN,
                Action.PEER_REBOOT,
                Action.PEER_UNREGISTER,
                Action.VOICEMAIL_DELETE,
            }
        ),
        click2call_options=frozenset({Click2CallOption.CALLER_ID, Click2CallOption.TIMEOUT}),
    )

    def __init__(self, config: PbxConfig, client: httpx.AsyncClient) -> None:
        if not isinstance(config, PbxCloudConfig):
            raise TypeError(f"PbxCloudDriver needs a pbxcloud config, not {config.kind}")
        super().__init__(config, client)
        self.tenant = config.tenant
        self.nodename = config.nodename
        self._key = config.key
        self.cdr_source = config.cdr_source
        self._queue_list: tuple[float, dict[str, str]] | None = None
        self._call_queues: dict[str, str] = {}  # call id → queue, as last seen
        self._peers: tuple[float, list[Peer]] | None = None  # (monotonic time, last answer)
        self._channels = ChannelReader(pbx=config.name, tenant=config.tenant)

    # -- transport ------------------------------------------------------------------------------
    def _query(self, reqtype: str, params: Mapping[str, str]) -> dict[str, str]:
        query = {"reqtype": reqtype, "tenant": self.tenant, "format": "json", **params}
        query["key"] = self._key.get_secret_value()
        return query

    async def _send(self, reqtype: str, **params: str) -> VendorResponse:
        return await self.http.get(self._query(reqtype, params))

    async def _send_waiting(self, reqtype: str, wait: float, **params: str) -> VendorResponse:
        """``_send`` with a timeout of its own (a request known to be slow)."""
        return await self.http.get(self._query(reqtype, params), timeout=wait)

    def _screen(self, response: VendorResponse, what: str) -> str:
        """The body, once the answers that mean the same whatever was asked are ruled out:
        the credentials refused (a short text, whatever the Content-Type) and HTML pages."""
        body = response.text.strip()
        short_text = len(body) < 200 and not body.startswith(("[", "{"))
        if short_text and any(words in body.lower() for words in AUTH_TEXTS):
            raise AuthRefused(self.name, f'refused the API key or tenant: "{body}"')
        if response.looks_like_login:
            raise AuthRefused(self.name, login_page(what, response.status))
        if response.looks_like_html:
            raise BadAnswer(
                self.name, f"answered an HTML page instead of {what} (HTTP {response.status})"
            )
        return body

    def _decode(self, response: VendorResponse, what: str, no_rows: frozenset[str]) -> Any:
        """The JSON of an answer; None when it is one of ``no_rows``, the bodies that mean
        "nothing" for this request."""
        return self._json(self._screen(response, what), what, no_rows)

    def _json(self, body: str, what: str, no_rows: frozenset[str]) -> Any:
        if body in no_rows:
            return None
        if body in EMPTY_LOOKING:
            # The API's empty forms mean "no rows" only where it really sends them; here
            # it is no answer at all (a PBX that lost its database also answers 0 bytes).
            shown = "an empty body" if not body else f'"{body}"'
            raise BadAnswer(self.name, f"answered {shown} instead of {what}")
        try:
            return decode_json(body)
        except json.JSONDecodeError as exc:
            raise BadAnswer(self.name, _not_json(body, exc, what)) from None
        except Unreadable as exc:
            raise BadAnswer(self.name, f"{exc} ({what})") from None

    def _plain_or_json(self, response: VendorResponse, what: str, no_rows: frozenset[str]) -> Any:
        """``{id: value}`` when the plain form came back anyway, else the JSON."""
        body = self._screen(response, what)
        pairs = _pairs(body) if not body.startswith(("[", "{")) else None
        return dict(pairs) if pairs is not None else self._json(body, what, no_rows)

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """Turn a payload that parses as JSON but not as ``what`` into a BadAnswer."""
        try:
            yield
        except DriverError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadAnswer(self.name, f"answered {what} in an unexpected shape: {exc}") from None
        except Exception as exc:
            # A defect, not a PBX's doing: on record in full; the operator sees a reason.
            logger.exception("%s: reading %s failed", self.name, what)
            reason = f"answered {what} in a shape this driver cannot read ({type(exc).__name__})"
            raise BadAnswer(self.name, reason) from None

    # -- reading answers (synchronous and free of I/O: safe to run in a worker thread) ------
    def read_calls(self, response: VendorResponse) -> list[Call]:
        data = self._decode(response, "the channel list", NO_ROWS)
        with self._reading("the channel list"):
            rows = rows_of(data, "channel", "channels", "channel") if data is not None else []
            return self._channels.read(rows)

    def read_peers(self, response: VendorResponse) -> list[Peer]:
        data = self._decode(response, "the peer list", NO_ROWS)
        with self._reading("the peer list"):
            rows = rows_of(data, "name", "peers", "peer") if data is not None else []
            return _named_rows(rows, PEER_FIELDS, "peer", self._peer)

    def read_extensions(self, response: VendorResponse, peers: Sequence[Peer]) -> list[Extension]:
        data = self._decode(response, "the extension list", NO_ROWS)
        by_number = {
            number: peer for peer in peers if (number := extension_number(peer.name, self.tenant))
        }
        with self._reading("the extension list"):
            named = named_extension_rows(data)
            rows = (
                rows_of(named, "ex_number", "extensions", "extension") if data is not None else []
            )
            found = _named_rows(rows, EXTENSION_FIELDS, "extension", self._extension, by_number)
        return sorted(found, key=lambda e: _number_key(e.number))

    def read_lamps(self, response: VendorResponse) -> list[BlfLamp]:
        data = self._decode(response, "the BLF list", NO_ROWS)
        with self._reading("the BLF list"):
            rows = rows_of(data, "st_extension", "lamps", "lamp") if data is not None else []
            return _named_rows(rows, LAMP_FIELDS, "lamp", self._lamp)

    def read_queue(self, response: VendorResponse, queue_id: str, name: str) -> Queue | None:
        """One queue's figures; None for the queue gone since its list was read."""
        what = f"the figures of queue {queue_id}"
        data = self._decode(response, what, QUEUE_GONE)
        if isinstance(data, list) and len(data) == 1:
            data = data[0]
        if data is None:
            return None
        if not isinstance(data, dict):
            raise BadAnswer(self.name, f"answered {what} as a JSON {kind_of(data)}")
        with self._reading(what):
            figures = {key.upper(): value for key, value in _row(data).items()}
            return self._queue_figures(queue_id, name, figures)

    def read_agents(self, response: VendorResponse, queue_id: str) -> list[Agent]:
        data = self._plain_or_json(response, "the agent list", NO_AGENTS)
        with self._reading("the agent list"):
            rows = _agent_rows(data)
            return [self._agent(agent_id, fields, queue_id) for agent_id, fields in rows]

    def read_queue_names(self, response: VendorResponse) -> dict[str, str]:
        data = self._plain_or_json(response, "the queue list", NO_ROWS)
        with self._reading("the queue list"):
            return _queue_names(data)

    # -- resources ------------------------------------------------------------------------------
    async def probe(self) -> None:
        # The cheapest authenticated question; CHANNELS can take seconds without a nodename.
        await self._queues_by_id(fresh=True)

    async def fetch_calls(self) -> list[Call]:
        extra = {"nodename": self.nodename} if self.nodename else {}
        response = await self._send("CHANNELS", **extra)
        calls = await self.off_loop(partial(self.read_calls, response), size=response.size)
        return self._keep_queues(calls)

    def _keep_queues(self, calls: list[Call]) -> list[Call]:
        """A call keeps the queue it came through when its channel's application changes
        (a held caller plays MusicOnHold instead of Queue)."""
        seen = self._call_queues
        kept = [
            call.model_copy(update={"queue": seen[call.id]})
            if not call.queue and call.id in seen
            else call
            for call in calls
        ]
        self._call_queues = {call.id: call.queue for call in kept if call.queue}
        return kept

    async def fetch_peers(self) -> list[Peer]:
        response = await self._send("PEERS")
        peers = await self.off_loop(partial(self.read_peers, response), size=response.size)
        self._peers = (time.monotonic(), peers)
        return peers

    async def _recent_peers(self) -> list[Peer]:
        """Peers for the extension list's registration column: the peers poll's own answer
        when it is fresh, so extensions polled every second do not ask PEERS every second."""
        if self._peers is not None and time.monotonic() - self._peers[0] < PEERS_REUSE_SECONDS:
            return self._peers[1]
        return await self.fetch_peers()

    def _peer(self, row: Mapping[str, Any], layout: Layout, where: str) -> Peer | None:
        name = layout.text(row, "name", where)
        if not name:
            return None
        host = layout.text(row, "host", where)
        status = layout.text(row, "status", where)
        registered, latency = registration(status, host)
        return Peer(
            pbx=self.name,
            id=name,
            name=name,
            host="" if host.startswith("(") else host,
            status_raw=status,
            registered=registered,
            latency_ms=latency,
            description=layout.text(row, "description", where),
        )

    async def fetch_extensions(self) -> list[Extension]:
        jobs: list[Callable[[], Awaitable[Any]]] = [
            partial(self._send, "INFO", info="extensions"),
            self._recent_peers,
        ]
        response, peers = await self._gather(jobs)
        read = partial(self.read_extensions, response, peers)
        return await self.off_loop(read, size=response.size)

    def _extension(
        self, row: Mapping[str, Any], layout: Layout, where: str, peers: Mapping[str, Peer]
    ) -> Extension | None:
        number = layout.text(row, "number", where)
        if not number:
            return None
        state = layout.text(row, "state", where)
        peer = peers.get(number)
        return Extension(
            pbx=self.name,
            id=number,
            number=number,
            name=layout.text(row, "name", where),
            state=_line_state(state) if state else LineState.UNKNOWN,
            state_raw=state,
            registered=peer.registered if peer else None,
            latency_ms=peer.latency_ms if peer else None,
        )

    async def fetch_blf(self) -> list[BlfLamp]:
        response = await self._send("BLFS")
        return await self.off_loop(partial(self.read_lamps, response), size=response.size)

    def _lamp(self, row: Mapping[str, Any], layout: Layout, where: str) -> BlfLamp | None:
        name = layout.text(row, "name", where)
        if not name:
            return None
        state = layout.text(row, "state", where)
        number = extension_number(name, self.tenant) if "-" in name else ""
        return BlfLamp(
            pbx=self.name,
            id=name,
            label=number or name,
            kind=LampKind.EXTENSION if number else LampKind.FLOW,
            state=_line_state(state),
            state_raw=state,
            since=_timestamp(layout.first(row, "since"), f"{where} timestamp"),
            extension=number,
        )

    async def fetch_queues(self) -> list[Queue]:
        queues = await self._queues_by_id()
        found = await self._gather([partial(self._queue, q, name) for q, name in queues.items()])
        if queues and all(queue is None for queue in found):
            # Each queue may go away between the list and its figures; all of them at once
            # is a PBX answering nothing, not a tenant that deleted every queue.
            self._queue_list = None
            raise BadAnswer(self.name, "answered nothing for every queue of its queue list")
        return [queue for queue in found if queue is not None]

    async def _queue(self, queue_id: str, name: str) -> Queue | None:
        response = await self._send("INFO", info="queue", id=queue_id)
        return self.read_queue(response, queue_id, name)

    def _queue_figures(self, queue_id: str, name: str, row: Mapping[str, Any]) -> Queue:
        def number(field: str) -> int | None:
            return _int(row.get(field), f"queue {queue_id} {field}")

        waiting = max(0, number("CALLSINQUEUE") or 0)
        # INFERENCE: AVAILABLE = online and not paused, FREE = of those, not on a call.
        available = number("AGENTSAVAILABLE")
        free = number("AGENTSFREE")
        busy = max(0, available - free) if available is not None and free is not None else None
        return Queue(
            pbx=self.name,
            id=queue_id,
            name=name,
            waiting=waiting,
            longest_wait=number("FIRSTWAITING") if waiting else None,
            agents_available=free if free is not None else available,
            agents_busy=busy,
            agents_paused=number("AGENTSPAUSED"),
            agents_total=number("AGENTSONLINE"),
            service_level=_float(row.get("SERVICELEVEL"), f"queue {queue_id} SERVICELEVEL"),
            answered=number("ANSWEREDCALLS"),
            abandoned=number("ABANDONEDCALLS"),
        )

    async def fetch_agents(self) -> list[Agent]:
        queues = await self._queues_by_id()
        found = await self._gather([partial(self._agents_of, q) for q in queues])
        return [agent for agents in found for agent in agents]

    async def _agents_of(self, queue_id: str) -> list[Agent]:
        response = await self._send("INFO", info="agents", queue=queue_id)
        return self.read_agents(response, queue_id)

    def _agent(self, agent_id: str, fields: Mapping[str, Any], queue_id: str) -> Agent:
        # Positional meanings (INFERENCE, see the simulator): "1" membership status word,
        # "2" device state, "4" pause reason, "5" pause start.
        where = f"agent {agent_id!r}"
        status = _text(fields.get("1"), f"{where} status")
        device = _text(fields.get("2"), f"{where} device state")
        state = agent_state(status, device)
        paused = state is AgentState.PAUSED
        return Agent(
            pbx=self.name,
            id=agent_id,
            extension=strip_tenant(agent_id, self.tenant),
            queue_id=queue_id,
            state=state,
            state_raw=f"{status} ({device})" if status and device else status or device,
            pause_reason=_text(fields.get("4"), f"{where} pause reason") if paused else "",
            paused_since=_timestamp(fields.get("5"), f"{where} pause start") if paused else None,
        )

    async def _queues_by_id(self, *, fresh: bool = False) -> dict[str, str]:
        """``{queue id: name}``, reused for a while: both queue and agent polls need it."""
        cached = self._queue_list
        if cached is not None and not fresh and time.monotonic() - cached[0] < QUEUE_LIST_TTL:
            return cached[1]
        queues = self.read_queue_names(await self._send("INFO", info="queues"))
        self._queue_list = (time.monotonic(), queues)
        return queues

    # -- history (pbxcloud_history) -------------------------------------------------------------
    def history_source(self) -> str:
        return pbxcloud_history.SOURCES[self.cdr_source]

    async def history(self, query: HistoryQuery) -> AsyncIterator[HistoryPage]:
        async for page in pbxcloud_history.pages(self, query):
            yield page

    # -- concurrency ----------------------------------------------------------------------------
    async def _gather(self, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        """Run the jobs a few at a time, results in order; the first error is raised as this
        PBX's own DriverError, never wrapped in an exception group."""
        limiter = anyio.CapacityLimiter(QUEUE_LIMIT)
        results: dict[int, T] = {}
        errors: list[DriverError] = []

        async def run(index: int, job: Callable[[], Awaitable[T]]) -> None:
            async with limiter:
                try:
                    results[index] = await job()
                except DriverError as exc:
                    errors.append(exc)
                except Exception as exc:
                    # A defect, not a PBX's doing: on record in full, and said as a reason.
                    logger.exception("%s: reading an answer failed", self.name)
                    reason = f"answered something unreadable ({type(exc).__name__})"
                    errors.append(BadAnswer(self.name, reason))

        async with anyio.create_task_group() as group:
            for index, job in enumerate(jobs):
                group.start_soon(run, index, job)
        if errors:
            raise errors[0]
        return [results[i] for i in range(len(jobs))]

    # -- actions --------------------------------------------------------------------------------
    async def _act(self, reqtype: str, **params: str) -> ActionResult:
        with asking("action", Priority.ACTION):
            response = await self._send(reqtype, **params)
        return self._ack(response)

    def _ack(self, response: VendorResponse) -> ActionResult:
        """The acknowledgements are undocumented (vendor-notes §1.5): "Success|…|id|", the
        DIAL-style JSON, or nothing at all. HTTP 200 that is not an error is success."""
        body = self._screen(response, "an acknowledgement")
        if body.startswith("{"):
            return self._json_ack(body)
        if _unreadable(body):
            raise BadAnswer(self.name, "answered unreadable bytes instead of an acknowledgement")
        if "|" in body:
            word, message, vendor_id, *_ = [*body.split("|"), "", ""]
            ok = word.strip().lower() not in ("error", "fail", "failed", "ko")
            return ActionResult(ok=ok, message=message.strip(), vendor_id=vendor_id.strip())
        refused = any(text in body.lower() for text in REFUSAL_TEXTS)
        return ActionResult(ok=not refused, message=body[:200])

    def _json_ack(self, body: str) -> ActionResult:
        what = "an acknowledgement"
        try:
            data = decode_json(body)
        except json.JSONDecodeError as exc:
            raise BadAnswer(self.name, _not_json(body, exc, what)) from None
        except Unreadable as exc:
            raise BadAnswer(self.name, f"{exc} ({what})") from None
        if not isinstance(data, dict):
            raise BadAnswer(self.name, "answered an acknowledgement that is not an object")
        row = _row(data)
        try:
            word = _pick(row, what, "response", "result", "status").lower()
            message = _pick(row, what, "message", "msg", "error")
            vendor_id = _pick(row, what, "id", "originateid", "uniqueid")
        except Unreadable as exc:
            raise BadAnswer(self.name, f"answered {exc}") from None
        return ActionResult(
            ok=word not in ("error", "fail", "failed", "ko"), message=message, vendor_id=vendor_id
        )

    async def hangup(self, call: Call) -> ActionResult:
        return await self._act("HANGUP", channel=call.id)

    async def transfer(self, call: Call, destination: str) -> ActionResult:
        # Redirect the far party (the one who is not our extension) to the destination.
        return await self._act("TRANSFER", channel=self._far_leg(call), dest=destination)

    async def attended_transfer(self, call: Call, destination: str) -> ActionResult:
        # Asterisk's Atxfer acts on the transferer's channel: our extension's leg.
        return await self._act("ATXTRANSFER", channel=self._own_leg(call), dest=destination)

    def _own_leg(self, call: Call) -> str:
        """The channel of the call's internal extension (falls back to the primary leg)."""
        for channel in (call.channel, call.bridged_channel):
            number = extension_number(channel_peer(channel), self.tenant) if channel else ""
            if number and number == call.extension:
                return channel
        return call.channel

    def _far_leg(self, call: Call) -> str:
        own = self._own_leg(call)
        if own == call.channel and call.bridged_channel and call.extension:
            return call.bridged_channel
        return call.channel

    async def pause_agent(self, agent: Agent, reason: str) -> ActionResult:
        return await self._act(
            "AGENT",
            action="pause",
            queue=agent.queue_id,
            extension=agent.id,
            pausereason=reason,
        )

    async def unpause_agent(self, agent: Agent) -> ActionResult:
        return await self._act("AGENT", action="unpause", queue=agent.queue_id, extension=agent.id)

    async def click2call(self, request: Click2Call) -> ActionResult:
        if request.scheduled_at is not None:
            raise self.unsupported(Action.SCHEDULED_CALL)
        if request.reverse:  # the policy refuses it first: DIAL always rings `source` first
            raise ActionRefused(self.name, "DIAL has no reverse: it always rings the source first")
        source, dest = request.source, request.destination
        params = {"source": source, "dest": dest, "account": f"{source}-{self.tenant}"}
        if request.caller_id:
            params["sourceclid"] = request.caller_id
        if request.timeout:
            params["dialtimeout"] = str(request.timeout)
        return await self._act("DIAL", **params)

    # -- the extras (pbxcloud_extras) ---------------------------------------------------------
    figures_seconds = pbxcloud_extras.FIGURES_SECONDS

    async def set_flow(self, flow: str, state: FlowStateWord | None, value: str) -> ActionResult:
        return await pbxcloud_extras.set_flow(self, flow, state, value)

    async def reset_queue(self, queue: Queue) -> ActionResult:
        return await pbxcloud_extras.reset_queue(self, queue)

    async def campaign(self, campaign: str, verb: CampaignVerb) -> ActionResult:
        return await pbxcloud_extras.campaign(self, campaign, verb)

    async def reboot_peer(self, peer: Peer | None) -> ActionResult:
        return await pbxcloud_extras.peer_action(self, "REBOOT", peer)

    async def unregister_peer(self, peer: Peer | None) -> ActionResult:
        return await pbxcloud_extras.peer_action(self, "UNREGISTER", peer)

    def forget_peers(self) -> None:
        """The peers' last answer is stale (an action changed them)."""
        self._peers = None

    async def tenant_figures(self) -> TenantFigures:
        return await pbxcloud_extras.tenant_figures(self)


def _not_json(body: str, exc: json.JSONDecodeError, what: str) -> str:
    if _unreadable(body):
        return f"answered unreadable bytes instead of {what}"
    if body.startswith(("[", "{")):
        if truncated_json(body, exc):
            return f"answered truncated JSON for {what} ({len(body)} characters)"
        return f"answered malformed JSON for {what}: {exc.msg} at character {exc.pos}"
    if body.lower().startswith("error|"):
        return f"said: {body.split('|')[1]}"[:200]
    return f'answered text instead of {what}: "{body[:80]}"'


def _number_key(number: str) -> tuple[int, str]:
    # isdecimal alone admits digits int() reads but sorts oddly; ASCII and short only.
    if number.isascii() and number.isdecimal() and len(number) < 13:
        return (int(number), number)
    return (10**12, number)


def _named_rows(
    rows: Sequence[Mapping[str, Any]],
    fields: Fields,
    singular: str,
    read: Callable[..., R | None],
    *extra: Any,
) -> list[R]:
    """Each row read through its layout (resolved once per key set); rows that name nothing
    are skipped, but an answer where no row names anything is no answer."""
    layouts = Layouts(fields)
    found = []
    for position, row in enumerate(rows):
        record = read(row, layouts.of(row), f"{singular} {position + 1}", *extra)
        if record is not None:
            found.append(record)
    if rows and not found:
        raise Unreadable(f"no {singular} in the answer has a name")
    return found


def _queue_names(data: Any) -> dict[str, str]:
    """``{"630": "Sales"}``, or a list of rows naming id and name."""
    if data is None:
        return {}
    if isinstance(data, dict):
        return {
            str(k): _pick(_row(v), f"queue {k}", "name")
            if isinstance(v, dict)
            else _text(v, f"queue {k} name")
            for k, v in data.items()
        }
    if isinstance(data, list):
        names = {}
        for position, item in enumerate(data):
            if not isinstance(item, dict):
                raise Unreadable(f"queue {position + 1} is a JSON {kind_of(item)}, not an object")
            row = _row(item)
            where = f"queue {position + 1}"
            queue_id = _pick(row, where, "id", "qu_id", "queue", "number")
            if queue_id:
                names[queue_id] = _pick(row, where, "name", "qu_name", "label", "description")
        if data and not names:
            raise Unreadable("no queue in the answer has an id")
        return names
    raise Unreadable(f"expected the queues as an object, got a JSON {kind_of(data)}")


def _agent_rows(data: Any) -> list[tuple[str, dict[str, Any]]]:
    """``{"<ext>-<TENANT>": {"0": 0, "1": "available", …}}`` (or a list of such values)."""
    if data is None:
        return []
    if isinstance(data, dict):
        items: Iterable[tuple[str, Any]] = ((str(k), v) for k, v in data.items())
    elif isinstance(data, list):
        items = (("", v) for v in data)
    else:
        raise Unreadable(f"expected the agents as an object, got a JSON {kind_of(data)}")
    rows = []
    for agent_id, value in items:
        if isinstance(value, dict):
            fields = {str(k).lower(): v for k, v in value.items()}
        elif isinstance(value, list):
            fields = {str(i): v for i, v in enumerate(value)}
        elif isinstance(value, str):
            fields = {"1": value}
        else:
            where = f"agent {agent_id!r}" if agent_id else "an agent"
            raise Unreadable(f"{where} is a JSON {kind_of(value)}, not an object")
        ident = agent_id or _text(fields.get("10") or fields.get("11"), "agent id")
        if ident:
            rows.append((ident, fields))
    return rows
