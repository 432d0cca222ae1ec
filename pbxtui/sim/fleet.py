"""A fleet of simulated PBXs, one of each vendor, for ``--demo``, ``pbxtui sim`` and tests.

Served, each simulator that sends webhooks has its emitter running (silent until it has a
URL); with ``FleetHooks`` they all send to one receiver, each at ``<url>/hook/<its name>``.
A simulated CRM may be served beside them. The config written for the fleet can also carry
what the webhooks need (``push=True``): the push-only PBXs, a ``[webhooks]`` section with
the receiver's address and token, and a ``[lookup]`` pointing at the CRM.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pbxtui.config import Config, parse_config
from pbxtui.redact import redact_url
from pbxtui.sim import SimulatedPbx, available_kinds, build_simulator
from pbxtui.sim.crm import SimulatedCrm
from pbxtui.sim.faults import CONTROL_PATH as FAULTS_PATH
from pbxtui.sim.hooks import CONTROL_PATH as HOOKS_PATH
from pbxtui.sim.scenario import ScenarioSpec
from pbxtui.sim.server import serve
from pbxtui.sim.while1 import DEFAULT_SPEC as WHILE1_SPEC

DEFAULT_LISTEN = "127.0.0.1:8787"  # the receiver's default address ([webhooks] listen)
CRM_NAME = "crm"  # the CRM's name among the served apps (and for --fault, --port)


@dataclass(frozen=True)
class FleetMember:
    name: str
    kind: str
    spec: ScenarioSpec
    options: Mapping[str, Any]


DEMO_FLEET: tuple[FleetMember, ...] = (
    FleetMember(
        "hq",
        "pbxcloud",
        ScenarioSpec(seed=11, extensions=30, calls_per_minute=7.0),
        {"tenant": "ACME", "timezone": "Europe/London"},
    ),
    FleetMember(
        "istanbul",
        "iexpbx",
        ScenarioSpec(
            seed=22,
            extensions=16,
            first_extension=100,
            queues=(("630", "Sale"), ("640", "Destek")),
            calls_per_minute=4.0,
            stuck_call_seconds=None,
        ),
        {"timezone": "Europe/Istanbul"},
    ),
    FleetMember(
        "branch",
        "dialup",
        ScenarioSpec(
            seed=33,
            extensions=12,
            first_extension=101,
            queues=(),
            flows=(),
            calls_per_minute=3.0,
            stuck_call_seconds=None,
        ),
        {"first_leg_delay": 4.0, "timezone": "Asia/Jerusalem"},
    ),
    FleetMember(
        "eu",
        "pbxcloud",
        ScenarioSpec(
            seed=44,
            extensions=20,
            first_extension=401,
            queues=(("700", "Helpdesk"),),
            calls_per_minute=4.0,
            stuck_call_seconds=None,
        ),
        {"tenant": "EUROPA", "timezone": "Europe/Berlin"},
    ),
)


WHILE1_MEMBER = FleetMember("bucharest", "while1", WHILE1_SPEC, {})
PUSH_FLEET: tuple[FleetMember, ...] = (*DEMO_FLEET, WHILE1_MEMBER)
"""The demo's PBXs and a push-only While1 Voice PBX (``pbxtui sim``)."""


def made_up_token() -> str:
    return secrets.token_urlsafe(18)


@dataclass(frozen=True)
class FleetHooks:
    """Where the fleet's webhooks go: a receiver's root URL and its token."""

    url: str = f"http://{DEFAULT_LISTEN}"
    token: str = field(default_factory=made_up_token)

    def url_for(self, pbx: str) -> str:
        """``http://127.0.0.1:8787`` → ``http://127.0.0.1:8787/hook/<pbx>`` (a root that
        already ends in ``/hook`` is not given a second)."""
        root = self.url.rstrip("/")
        if not root.endswith("/hook"):
            root += "/hook"
        return f"{root}/{pbx}"

    @property
    def listen(self) -> str:
        """``host:port`` of the receiver, for its config."""
        parts = urlsplit(self.url)
        port = parts.port if parts.port is not None else 80  # 0: any free port
        return f"{parts.hostname or '127.0.0.1'}:{port}"


def build_fleet(members: Iterable[FleetMember] = DEMO_FLEET) -> list[SimulatedPbx]:
    """The fleet's simulators, skipping vendors whose simulator is not installed."""
    kinds = set(available_kinds(push_only=True))
    return [
        build_simulator(m.kind, m.name, spec=m.spec, **m.options)
        for m in members
        if m.kind in kinds
    ]


def fleet_config_toml(
    sims: Iterable[SimulatedPbx], ports: Mapping[str, int], **overrides: Any
) -> str:
    """A config file's text pointing at the served fleet's polled PBXs."""
    lines = [
        "# Written by `pbxtui sim`: these PBXs are simulators on this machine.",
        "# Their credentials are made up for this run only.",
        "",
    ]
    for sim in sims:
        if sim.polled:
            lines += _entry(sim, ports, **overrides)
    return "\n".join(lines)


def push_config_toml(
    sims: Iterable[SimulatedPbx],
    ports: Mapping[str, int],
    *,
    hooks: FleetHooks | None,
    crm: SimulatedCrm | None,
) -> str:
    """What the config needs for the fleet's webhooks: its push-only PBXs, the receiver
    (``[webhooks]``, where the simulators send) and the CRM (``[lookup]``)."""
    lines: list[str] = []
    for sim in sims:
        if not sim.polled:
            lines += _entry(sim, ports)
    if hooks is not None:
        lines += _table(
            "webhooks",
            listen=hooks.listen,
            token=hooks.token,
            allow_from=["127.0.0.1/32"],
            max_body=65536,
            rate=50,
        )
    if crm is not None:
        lines += _table(
            "lookup",
            url=crm.url(ports[CRM_NAME]),
            token=crm.token,
            ttl=600,
            concurrency=4,
            timeout=2.0,
        )
    return "\n".join(lines)


def _entry(sim: SimulatedPbx, ports: Mapping[str, int], **overrides: Any) -> list[str]:
    entry = sim.config_entry(ports[sim.name], **overrides)
    return ["[[pbx]]", *(f"{key} = {toml_value(value)}" for key, value in entry.items()), ""]


def _table(name: str, **values: Any) -> list[str]:
    return [f"[{name}]", *(f"{key} = {toml_value(value)}" for key, value in values.items()), ""]


def toml_value(value: Any) -> str:
    """A TOML value: booleans, numbers, lists, inline tables, and strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


@dataclass(frozen=True)
class ServedFleet:
    sims: list[SimulatedPbx]
    ports: dict[str, int]
    hooks: FleetHooks | None = None
    crm: SimulatedCrm | None = None

    def config_toml(self, *, push: bool = False, **overrides: Any) -> str:
        """The config reaching the fleet; ``push``: with what its webhooks need."""
        text = fleet_config_toml(self.sims, self.ports, **overrides)
        if push:
            extra = push_config_toml(self.sims, self.ports, hooks=self.hooks, crm=self.crm)
            text = f"{text}\n{extra}" if extra else text
        return text


@asynccontextmanager
async def serving_fleet(
    sims: list[SimulatedPbx] | None = None,
    *,
    ports: Mapping[str, int] | None = None,
    hooks: FleetHooks | None = None,
    crm: SimulatedCrm | None = None,
) -> AsyncIterator[ServedFleet]:
    """Serve the fleet (and the CRM) on loopback, each simulator's webhooks running."""
    sims = sims if sims is not None else build_fleet()
    apps = {sim.name: sim.app for sim in sims}
    if crm is not None:
        apps[CRM_NAME] = crm.app
    async with serve(apps, ports=ports) as bound, AsyncExitStack() as stack:
        for sim in sims:
            if sim.hooks is None:
                continue
            if hooks is not None:
                sim.hooks.configure({"url": hooks.url_for(sim.name), "token": hooks.token})
            await stack.enter_async_context(sim.hooks.running())
        yield ServedFleet(sims, bound, hooks, crm)


@asynccontextmanager
async def running_fleet(
    sims: list[SimulatedPbx] | None = None,
    *,
    ports: Mapping[str, int] | None = None,
    write_config: Path | None = None,
    hooks: FleetHooks | None = None,
    crm: SimulatedCrm | None = None,
    push: bool = False,
    **overrides: Any,
) -> AsyncIterator[tuple[Config, list[SimulatedPbx], dict[str, int]]]:
    """Serve the fleet on loopback; yields the Config that reaches it, the sims and ports
    (``push``: the config carries the webhooks' sections and push-only PBXs too)."""
    async with serving_fleet(sims, ports=ports, hooks=hooks, crm=crm) as fleet:
        text = fleet.config_toml(push=push, **overrides)
        if write_config is not None:
            write_private(write_config, text)
        config = parse_config(text, source=str(write_config or "<demo>"))
        yield config, fleet.sims, fleet.ports


DEMO_LISTEN = "127.0.0.1:0"
"""The demo's receiver: a free loopback port, so a demo never collides with a console."""


@dataclass(frozen=True)
class DemoFleet:
    """The demo's fleet served, and the config reaching it (``[webhooks]`` included)."""

    config: Config
    fleet: ServedFleet
    token: str

    def send_hooks_to(self, url: str) -> None:
        """Point every simulator's webhooks at the receiver listening at ``url``."""
        hooks = FleetHooks(url, self.token)
        for sim in self.fleet.sims:
            if sim.hooks is not None:
                sim.hooks.configure({"url": hooks.url_for(sim.name), "token": self.token})


@asynccontextmanager
async def running_demo(**overrides: Any) -> AsyncIterator[DemoFleet]:
    """``pbxtui --demo``'s PBXs: the polled ones, the push-only While1 Voice one and the CRM.
    The config has ``[webhooks]`` on a free loopback port with a token made up for this run,
    and ``[lookup]`` at the CRM; the simulators send nothing until ``send_hooks_to`` is told
    where the receiver listens (its port is known once it does)."""
    token = made_up_token()
    crm = SimulatedCrm(seed=7, token=made_up_token())
    async with serving_fleet(build_fleet(PUSH_FLEET), crm=crm) as fleet:
        receiver = FleetHooks(f"http://{DEMO_LISTEN}", token)
        text = "\n".join(
            (
                fleet_config_toml(fleet.sims, fleet.ports, **overrides),
                push_config_toml(fleet.sims, fleet.ports, hooks=receiver, crm=crm),
            )
        )
        yield DemoFleet(parse_config(text, source="<demo>"), fleet, token)


def write_private(path: Path, text: str) -> None:
    """A small file only its owner can read: it holds (made-up) credentials."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def describe(fleet: ServedFleet) -> list[str]:
    """What ``pbxtui sim`` prints: each simulator's address and control endpoints (never a
    credential or a token)."""
    lines: list[str] = []
    pad = " " * 21
    for sim in fleet.sims:
        port = fleet.ports[sim.name]
        base = f"http://127.0.0.1:{port}"
        if sim.polled:
            lines.append(f"{sim.name:<10} {sim.kind:<9} {sim.url(port)}")
            lines.append(f"{pad}faults: {base}{FAULTS_PATH}")
        else:
            lines.append(f"{sim.name:<10} {sim.kind:<9} push-only; its answers: {sim.url(port)}")
        if sim.hooks is not None:
            target = redact_url(sim.hooks.url) if sim.hooks.url else "off"
            lines.append(f"{pad}hooks:  {base}{HOOKS_PATH} → {target}")
    if fleet.crm is not None:
        port = fleet.ports[CRM_NAME]
        lines.append(f"{CRM_NAME:<10} {'crm':<9} {fleet.crm.url(port)}")
        lines.append(f"{pad}faults: http://127.0.0.1:{port}{FAULTS_PATH}")
    if fleet.hooks is None:
        lines.append("webhooks: off (--hooks URL sends them to a console or `pbxtui listen`)")
    return lines
