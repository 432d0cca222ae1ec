"""The History screen's CSV export (no Textual here): the CLI's columns (``CSV_COLUMNS``), a
header line first, written atomically so a spreadsheet never opens half a file and an
existing file is never overwritten."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from datetime import tzinfo
from pathlib import Path

from pbxtui.masking import mask_tree
from pbxtui.model.history import CSV_COLUMNS, CdrRecord, csv_row

KEEP = frozenset({"pbx", "id", "unique_id", "recording", "start", "start_utc", "source"})
"""Cells never masked in privacy mode (the ids, the times), as ``pbxtui history --csv``."""


class ExportError(Exception):
    """Why the file was not written, in words an operator reads."""


def check_destination(path: Path) -> str:
    """Why ``path`` cannot be written to ("" when it can)."""
    if path.exists():
        return f"{path} exists: choose another name"
    if not path.parent.is_dir():
        return f"no such directory: {path.parent}"
    return ""


def write_csv(
    path: Path, records: Sequence[CdrRecord], zone: tzinfo | None, *, mask: bool = False
) -> int:
    """Write ``records`` to ``path`` (a temporary file beside it, then a rename); returns
    the size in bytes. Raises ``ExportError``."""
    problem = check_destination(path)
    if problem:
        raise ExportError(problem)
    rows = [csv_row(record, zone) for record in records]
    if mask:
        rows = mask_tree(rows, keep=KEEP)
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
    except OSError as exc:
        raise ExportError(f"cannot write in {path.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows)
        if path.exists():  # appeared while writing: still never overwritten
            raise ExportError(f"{path} exists: choose another name")
        os.replace(temporary, path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path.stat().st_size
