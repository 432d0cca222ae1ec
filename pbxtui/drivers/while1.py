"""While1 Voice: a PBX with no polling API. It calls *us* — our caller-data webservice for
each caller, and our events URL for what happens (``pbxtui.hooks``) — so this driver sends
nothing: it declares what the PBX's pushes give (its live calls) and that it offers no action.
"""

from __future__ import annotations

from pbxtui.drivers.base import Driver
from pbxtui.model import Capabilities, Resource


class While1Driver(Driver):
    kind = "while1"
    vendor = "While1 Voice"
    capabilities = Capabilities(resources=frozenset({Resource.CALLS}), actions=frozenset())
    push_only = True

    async def probe(self) -> None:
        """Nothing to reach: its events come to the webhook receiver."""
