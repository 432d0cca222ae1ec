"""PBX Cloud's extras: SETFLOW, QUEUERESET, CAMPAIGN, REBOOT and UNREGISTER (actions), and
the tenant's figures, COUNTPEERS, COUNTCHANNELS and ``INFO balance`` (read rarely).

The actions' answers are as undocumented as HANGUP's (vendor-notes §1.5): they are read by the
driver's one acknowledgement reader. COUNTPEERS is an object keyed by node with a ``total``
(A-70), or ``node:count|`` pairs in plain; COUNTCHANNELS is not described beyond "total or on
each node": read in the same shapes, or as a bare number (INFERENCE). The balance is a bare
number whatever the format (A-65). COUNTPEERS took about 23 s on a large tenant (A-70): the
figures get a longer timeout of their own, and are asked rarely, through the same budget.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pbxtui.drivers.base import AuthRefused, DriverError
from pbxtui.drivers.budget import Priority
from pbxtui.drivers.http import asking
from pbxtui.drivers.reading import Unreadable, decode_json
from pbxtui.model import ActionResult, CampaignVerb, FlowStateWord, Peer, Queue
from pbxtui.model.figures import TenantFigures
from pbxtui.model.requests import ALL_PEERS

if TYPE_CHECKING:
    from pbxtui.drivers.pbxcloud import PbxCloudDriver

FIGURES_TIMEOUT = 30.0  # COUNTPEERS: ~23 s observed on a large tenant
FIGURES_SECONDS = 300.0  # the figures change slowly: read at most every five minutes
TOTAL = "total"


async def set_flow(
    driver: PbxCloudDriver, flow: str, state: FlowStateWord | None, value: str
) -> ActionResult:
    params = {"number": flow}
    if state:
        params["state"] = state
    if value:
        params["value"] = value
    said = [f"state {state}"] if state else []
    if value:
        said.append(f"value {value!r}")
    return _worded(await driver._act("SETFLOW", **params), f"flow {flow} set: {', '.join(said)}")


async def reset_queue(driver: PbxCloudDriver, queue: Queue) -> ActionResult:
    result = await driver._act("QUEUERESET", queueid=queue.id)
    return _worded(result, f"statistics of queue {queue.id} reset")


async def campaign(driver: PbxCloudDriver, ident: str, verb: CampaignVerb) -> ActionResult:
    result = await driver._act("CAMPAIGN", campaign=ident, action=verb)
    return _worded(result, f"campaign {ident}: {verb} sent")


async def peer_action(driver: PbxCloudDriver, reqtype: str, peer: Peer | None) -> ActionResult:
    name = peer.id if peer is not None else ALL_PEERS
    done = "rebooted" if reqtype == "REBOOT" else "unregistered"
    who = f"peer {name}" if peer is not None else f"every peer of {driver.name}"
    result = await driver._act(reqtype, peer=name)
    if result.ok:
        driver.forget_peers()  # the next poll must show the effect
    return _worded(result, f"{who} {done}")


def _worded(result: ActionResult, done: str) -> ActionResult:
    """The PBX's own words when it gave any; else what was done (or that it said no)."""
    if result.message:
        return result
    return result.model_copy(update={"message": done if result.ok else f"refused: {done}"})


# -- the figures ---------------------------------------------------------------------------------
async def tenant_figures(driver: PbxCloudDriver) -> TenantFigures:
    """Each figure read on its own, so one the PBX cannot give leaves the others shown; the
    credentials refused is raised (it is not a figure missing)."""
    problems: list[str] = []
    found: dict[str, Any] = {}
    for field, reqtype, extra in (
        ("peers", "COUNTPEERS", {}),
        ("channels", "COUNTCHANNELS", {}),
        ("balance", "INFO", {"info": "balance"}),
    ):
        try:
            with asking("figures", Priority.POLL):
                response = await driver._send_waiting(reqtype, FIGURES_TIMEOUT, **extra)
            body = driver._screen(response, f"the {field} figure")
            found[field] = balance_of(body) if field == "balance" else counts_of(body)
        except AuthRefused:
            raise
        except (DriverError, Unreadable) as exc:
            reason = exc.reason if isinstance(exc, DriverError) else str(exc)
            problems.append(f"{field}: {reason}")
    peers, peers_total = found.get("peers", ({}, None))
    channels, channels_total = found.get("channels", ({}, None))
    return TenantFigures(
        pbx=driver.name,
        peers=peers,
        peers_total=peers_total,
        channels=channels,
        channels_total=channels_total,
        balance=found.get("balance", ""),
        problems=tuple(problems),
    )


def counts_of(body: str) -> tuple[dict[str, int], int]:
    """``({node: count}, total)`` from ``{"pbx21": 13, "total": 25}``, ``pbx21:13|…|`` or a
    bare number; a total the PBX leaves out is the nodes' sum."""
    text = body.strip()
    if not text:
        raise Unreadable("answered an empty body")
    if text.lstrip("-").isdigit():
        return {}, int(text)
    if text.startswith("{"):
        try:
            data = decode_json(text)
        except json.JSONDecodeError:
            raise Unreadable(f"answered {text[:40]!r}, not a count") from None
        if not isinstance(data, dict):
            raise Unreadable("answered a count that is not an object")
        pairs = [(str(k), v) for k, v in data.items()]
    else:
        pairs = [tuple(p.split(":", 1)) for p in text.split("|") if ":" in p]  # type: ignore[misc]
        if not pairs:
            raise Unreadable(f"answered {text[:40]!r}, not a count")
    nodes: dict[str, int] = {}
    total: int | None = None
    for key, value in pairs:
        number = _whole(value)
        if key.strip().lower() == TOTAL:
            total = number
        else:
            nodes[key.strip()] = number
    return nodes, total if total is not None else sum(nodes.values())


def _whole(value: Any) -> int:
    if isinstance(value, bool):
        raise Unreadable(f"answered {value!r} for a count")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise Unreadable(f"answered {str(value)[:20]!r} for a count") from None
    if number < 0:
        raise Unreadable(f"answered a negative count ({number})")
    return number


def balance_of(body: str) -> str:
    """The credit as written (``123.45``), quotes of a JSON string dropped."""
    text = body.strip().strip('"')
    try:
        float(text)
    except ValueError:
        raise Unreadable(f"answered {text[:40]!r}, not a balance") from None
    return text
