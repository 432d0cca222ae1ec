"""The health badge of a PBX whose TLS certificate is not verified says so, in any state."""

from __future__ import annotations

import pytest

from pbxtui.model import Capabilities, HealthState, PbxHealth, PbxState
from pbxtui.ui.palette import Palette
from pbxtui.ui.widgets.health import badge
from tests.ui.fakes import NOW


@pytest.mark.parametrize("state", list(HealthState))
@pytest.mark.parametrize("verified", [True, False])
def test_the_badge_says_tls_verification_off(state: HealthState, verified: bool) -> None:
    health = PbxHealth(pbx="lab", kind="iexpbx", state=state, tls_verified=verified, last_ok=NOW)
    pbx = PbxState(
        name="lab",
        kind="iexpbx",
        capabilities=Capabilities(frozenset(), frozenset()),
        health=health,
    )
    text = badge(pbx, NOW, Palette()).plain
    assert ("TLS verification OFF" in text) is not verified
