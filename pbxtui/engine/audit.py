"""An append-only JSON-lines record of every action attempted, readable by its owner only.

An action is written twice: an ``intent`` line before anything is sent, and its outcome once
the PBX has answered (both carry the same ``id``). A process killed mid-action still leaves
the fact that the action may have reached the PBX. Each line is forced to disk before the
action goes on (``fsync``), and the file is rotated by size: ``audit.jsonl`` becomes
``audit.jsonl.1`` (and ``.1`` becomes ``.2``, …) once the next line would pass ``max_bytes``,
keeping ``backups`` old files.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from pbxtui.identity import current_user
from pbxtui.model import utcnow
from pbxtui.paths import audit_log_path, private_dir, private_opener
from pbxtui.redact import scrub

INTENT = "intent"
"""The result of the line written before an action is sent; its outcome line follows."""
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5


def new_id() -> str:
    """An id tying an action's intent line to its outcome line."""
    return uuid.uuid4().hex[:16]


class AuditLog:
    """One JSON object per line: who did what to which PBX, and what happened.

    Every string is scrubbed of known secrets before it is written. Appends are serialized
    by a lock in this process and by ``flock`` on a lock file beside the log across
    processes (a console and a CLI command may write at once, and only one may rotate); each
    line is a single ``write`` to a file opened in append mode, then ``fsync``'d.
    """

    def __init__(
        self,
        path: Path,
        *,
        user: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        backups: int = DEFAULT_BACKUPS,
    ) -> None:
        self.path = Path(path)
        self.user = user if user is not None else current_user()
        self.max_bytes = max_bytes
        self.backups = max(1, backups)
        self._lock = threading.Lock()

    @classmethod
    def default(cls) -> AuditLog:
        """The audit log at its XDG state path (or ``$PBXTUI_AUDIT_LOG``)."""
        return cls(audit_log_path())

    def intent(
        self,
        *,
        pbx: str,
        action: str,
        target: str,
        params: Mapping[str, str],
        user: str = "",
    ) -> dict[str, Any]:
        """Record that an action is about to be sent; its outcome line takes the same id.
        Raises OSError if the line cannot be written (then nothing should be sent)."""
        return self.append(
            pbx=pbx,
            action=action,
            target=target,
            params=params,
            result=INTENT,
            message="about to be sent",
            user=user,
        )

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
        entry_id: str = "",
        user: str = "",
    ) -> dict[str, Any]:
        """Write one entry and return it as written (``user``: who asked, when another than
        this process's user, said beside it). Raises OSError if the file cannot be."""
        entry: dict[str, Any] = {
            "time": (at or utcnow()).isoformat(),
            "id": scrub(entry_id) or new_id(),
            "user": scrub(f"{user} via {self.user}" if user else self.user),
            "pbx": scrub(pbx),
            "action": scrub(str(action)),
            "target": scrub(target),
            "params": {scrub(str(k)): scrub(str(v)) for k, v in params.items()},
            "result": scrub(str(result)),
            "message": scrub(message),
        }
        self._write((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
        return entry

    def _write(self, line: bytes) -> None:
        with self._lock:
            private_dir(self.path.parent)
            with self._exclusive():
                fd = self._open()
                try:
                    size = os.fstat(fd).st_size
                    if size and size + len(line) > self.max_bytes:
                        os.close(fd)
                        fd = -1
                        self._rotate()
                        fd = self._open()
                    _write_all(fd, line)
                    os.fsync(fd)
                finally:
                    if fd >= 0:
                        os.close(fd)

    def _open(self) -> int:
        created = not self.path.exists()
        fd = private_opener(str(self.path), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        if created:
            _fsync_dir(self.path.parent)  # the new file's name is on disk too
        return fd

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        fd = private_opener(str(lock), os.O_WRONLY | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _rotate(self) -> None:
        for number in range(self.backups - 1, 0, -1):
            older = self.rotated(number)
            if older.exists():
                older.replace(self.rotated(number + 1))
        self.path.replace(self.rotated(1))
        _fsync_dir(self.path.parent)

    def rotated(self, number: int) -> Path:
        """The ``number``-th older file (1 is the newest after the current one)."""
        return self.path.with_name(f"{self.path.name}.{number}")

    def read_entries(self, *, rotated: bool = False) -> list[dict[str, Any]]:
        """Every entry of the current file, oldest first ([] if it does not exist); with
        ``rotated``, those of the kept older files first."""
        files = [self.rotated(n) for n in range(self.backups, 0, -1)] if rotated else []
        entries: list[dict[str, Any]] = []
        for path in [*files, self.path]:
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            entries += [json.loads(line) for line in text.splitlines() if line.strip()]
        return entries


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems cannot sync a directory; the line itself is synced
    finally:
        os.close(fd)
