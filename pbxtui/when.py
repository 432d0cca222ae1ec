"""Moments as an operator types them, for the CLI (``--since``) and the console (``:history``).

Local time of this machine unless they say otherwise (``2026-11-23 14:00``,
``2026-11-23T14:00+03:00``, ``…Z``), or relative to now (``2h``, ``90m``, ``1d12h``, ``1w``),
or ``today`` / ``yesterday`` (local midnight).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pbxtui.model.records import utcnow

RELATIVE_RE = re.compile(r"(\d+)\s*(w|d|h|m|s)", re.IGNORECASE)
UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_when(text: str, now: datetime | None = None) -> datetime:
    """A moment from the command line (see the module's docstring), aware."""
    now = now or utcnow()
    value = text.strip()
    lowered = value.lower()
    if lowered == "now":
        return now
    if lowered in ("today", "yesterday"):
        midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - timedelta(days=1) if lowered == "yesterday" else midnight
    parts = RELATIVE_RE.findall(value)
    if parts and RELATIVE_RE.sub("", value).strip() == "":
        seconds = sum(int(amount) * UNITS[unit.lower()] for amount, unit in parts)
        return now - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: give e.g. 2h, 1d, today, 2026-11-23 14:00 or "
            "2026-11-23T14:00+03:00"
        ) from None
    return moment if moment.tzinfo is not None else moment.astimezone()
