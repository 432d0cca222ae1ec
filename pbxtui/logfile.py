"""The application log file: owner-only and rotated by size.

It holds phone numbers, PBX names and errors, so it is created mode 600 (and an existing one
is made so) whatever the umask; it is rotated at ``MAX_BYTES`` keeping ``BACKUPS`` older
files (``pbxtui.log.1`` …), so a console left running for weeks cannot fill the disk.
"""

from __future__ import annotations

import logging.handlers
from io import TextIOWrapper
from pathlib import Path

from pbxtui.paths import private_dir, private_opener

MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A ``RotatingFileHandler`` whose every file (the first, and each after a rotation) is
    opened through ``private_opener``."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS):
        private_dir(path.parent)
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")

    def _open(self) -> TextIOWrapper:
        # Always "a": a RotatingFileHandler appends (a rollover renames, then creates anew).
        return open(
            self.baseFilename,
            "a",
            encoding=self.encoding,
            errors=self.errors,
            opener=private_opener,
        )
