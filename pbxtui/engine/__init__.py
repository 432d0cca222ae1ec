"""Polling, state, events, actions and audit: everything between the drivers and a view.

No Textual here (an import-linter contract says so): the console and the headless commands
drive the same ``Engine``.
"""

from __future__ import annotations

from pbxtui.engine.actions import ActionOutcome, ActionRequest, ActionStatus, validate
from pbxtui.engine.audit import AuditLog
from pbxtui.engine.changes import Change, ChangeKind, diff_health, diff_records
from pbxtui.engine.engine import DriverFactory, Engine, EngineUpdate, Listener
from pbxtui.engine.health import derive_health
from pbxtui.engine.poller import ResourcePoller, backoff_delay, fetch_resource, interval_for
from pbxtui.engine.state import PbxState, ResourceState

__all__ = [
    "ActionOutcome",
    "ActionRequest",
    "ActionStatus",
    "AuditLog",
    "Change",
    "ChangeKind",
    "DriverFactory",
    "Engine",
    "EngineUpdate",
    "Listener",
    "PbxState",
    "ResourcePoller",
    "ResourceState",
    "backoff_delay",
    "derive_health",
    "diff_health",
    "diff_records",
    "fetch_resource",
    "interval_for",
    "validate",
]
