"""Canary secrets for leak tests, and the one question asked of every output: is any of it
there, raw, encoded, or in part?

Each canary is full of the characters encoders change (``+ / & = % ? #``, a space, quotes,
``< >``, non-ASCII) between two markers; no encoder touches letters and digits, so a marker
found in a text is a leak of (part of) a canary however it was encoded or cut.
"""

from __future__ import annotations

import importlib
from typing import Any

from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.scenario import ScenarioSpec

MARKER = "C4NARY"
SPECIALS = "+/&=%?# é€'\"<>~*"


def canary(name: str) -> str:
    """``C4NARY-hq+/&=%?# é€'"<>~*hq-C4NARY``: a valid credential for the simulators."""
    return f"{MARKER}-{name}{SPECIALS}{name}-{MARKER}"


SECRET_OPTION = {"pbxcloud": "key", "iexpbx": "password", "dialup": "password"}
"""The simulator option that sets each vendor's secret (its config field: key, password,
pass)."""


def canary_sim(kind: str, name: str, *, spec: ScenarioSpec, **options: Any) -> SimulatedPbx:
    """A simulator whose credential is ``canary(name)`` and that echoes every request URL
    (credentials included, percent-encoded as sent) into its texts."""
    quirks = importlib.import_module(f"pbxtui.sim.{kind}").Quirks(echo_url=True)
    options[SECRET_OPTION[kind]] = canary(name)
    sim = build_simulator(kind, name, spec=spec, quirks=quirks, **options)
    assert canary(name) in sim.credentials.values(), "the canary is the credential in use"
    return sim


def leaks(outputs: dict[str, str]) -> list[str]:
    """Where a canary (or part of one) shows: ``["audit log: …C4NARY-hq+/…"]``."""
    found = []
    for where, text in outputs.items():
        at = text.find(MARKER)
        if at >= 0:
            found.append(f"{where}: …{text[max(0, at - 60) : at + 60]}…")
    return found
