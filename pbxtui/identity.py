"""Who this process acts as: the OS user (for the audit log), and ``user@host`` (what a
collector and a console say of themselves to each other)."""

from __future__ import annotations

import getpass
import socket


def current_user() -> str:
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no USER/LOGNAME and no passwd entry (containers)
        return "unknown"


def user_at_host() -> str:
    return f"{current_user()}@{socket.gethostname()}"
