"""Polling, state, events, the action policy and audit: everything between drivers and views.

No Textual here (an import-linter contract says so): the console and the headless commands
drive the same ``Engine``.
"""

from __future__ import annotations

from pbxtui.engine.audit import AuditLog
from pbxtui.engine.changes import diff_health, diff_records
from pbxtui.engine.consultations import ConsultationBook
from pbxtui.engine.engine import DriverFactory, Engine
from pbxtui.engine.health import derive_health
from pbxtui.engine.policy import ActionPolicy, Refusal
from pbxtui.engine.poller import ResourcePoller, backoff_delay, fetch_resource, interval_for

__all__ = [
    "ActionPolicy",
    "AuditLog",
    "ConsultationBook",
    "DriverFactory",
    "Engine",
    "Refusal",
    "ResourcePoller",
    "backoff_delay",
    "derive_health",
    "diff_health",
    "diff_records",
    "fetch_resource",
    "interval_for",
]
