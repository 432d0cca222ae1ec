"""An append-only JSON-lines record of every action attempted, readable by its owner only."""

from __future__ import annotations

import getpass
import json
import os
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from pbxtui.model import utcnow
from pbxtui.paths import audit_log_path
from pbxtui.redact import scrub


def current_user() -> str:
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # no USER/LOGNAME and no passwd entry (containers)
        return "unknown"


class AuditLog:
    """One JSON object per line: who did what to which PBX, and what happened.

    Every string is scrubbed of known secrets before it is written. Appends are serialized
    by a lock, and each line is written with a single ``write`` to a file opened in append
    mode, so concurrent processes do not interleave lines either.
    """

    def __init__(self, path: Path, *, user: str | None = None) -> None:
        self.path = Path(path)
        self.user = user if user is not None else current_user()
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> AuditLog:
        """The audit log at its XDG state path (or ``$PBXTUI_AUDIT_LOG``)."""
        return cls(audit_log_path())

    def append(
        self,
        *,
        pbx: str,
        action: str,
        target: str,
        params: Mapping[str, str],
        result: str,
        message: str,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Write one entry and return it as written. Raises OSError if the file cannot be."""
        entry: dict[str, Any] = {
            "time": (at or utcnow()).isoformat(),
            "user": scrub(self.user),
            "pbx": scrub(pbx),
            "action": scrub(str(action)),
            "target": scrub(target),
            "params": {scrub(str(k)): scrub(str(v)) for k, v in params.items()},
            "result": scrub(str(result)),
            "message": scrub(message),
        }
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                if os.fstat(fd).st_mode & 0o077:
                    os.fchmod(fd, 0o600)
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        return entry

    def read_entries(self) -> list[dict[str, Any]]:
        """Every entry written so far, oldest first ([] if the file does not exist)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
