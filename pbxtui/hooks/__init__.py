"""What the PBXs push: the webhook receiver (GlobalEx, IEXPBX, While1 Voice) and the While1
caller-data webservice, served inside the console's event loop or by ``pbxtui listen``.

Each accepted request becomes one ``PushEvent`` handed, in order, to a sink (the engine's
``ingest``, or a printer); each refused one is counted in ``HookStats`` and reaches nothing.
"""

from __future__ import annotations

from pbxtui.hooks.app import routes_of
from pbxtui.hooks.delivery import Sink
from pbxtui.hooks.server import HookServer, HookServerError, serve_hooks
from pbxtui.hooks.stats import UNKNOWN_PBX, HookStats, PbxHookStats, Refusal

__all__ = [
    "UNKNOWN_PBX",
    "HookServer",
    "HookServerError",
    "HookStats",
    "PbxHookStats",
    "Refusal",
    "Sink",
    "routes_of",
    "serve_hooks",
]
