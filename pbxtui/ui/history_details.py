"""``Enter`` on a history row: every field of the call record, the normalized status beside
the vendor's own word, times in the console's zone and in UTC (shown in ``DetailModal``)."""

from __future__ import annotations

from datetime import tzinfo

from pbxtui.model.history import CdrRecord, utc_text
from pbxtui.ui.format import format_duration
from pbxtui.ui.history_rows import status_word
from pbxtui.ui.modals.details import LABELS, NONE, Details, _text

SECONDS = frozenset({"duration", "billable"})
UNMASKED = frozenset({"pbx", "id", "unique_id", "recording", "source"})
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def _field(name: str, record: CdrRecord, zone: tzinfo | None, *, mask: bool) -> str:
    value = getattr(record, name)
    if name == "start":
        return f"{record.start.astimezone(zone).strftime(LOCAL_FORMAT)} ({utc_text(record.start)})"
    if name == "status":
        raw = f" (the PBX said {record.status_raw!r})" if record.status_raw else ""
        return f"{status_word(record)}{raw}"
    if name in SECONDS:
        return NONE if value is None else f"{format_duration(value)} ({value} s)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return NONE
    if hasattr(value, "value"):  # an enum
        return str(value.value)
    if name in UNMASKED:  # what ties the row to the PBX's own logs, never a phone number
        return _text(str(value), mask=False)
    return _text(str(value), mask=mask)


def history_details(record: CdrRecord, zone: tzinfo | None, *, mask: bool) -> Details:
    rows = []
    for name in type(record).model_fields:
        label = LABELS.get(name, name.replace("_", " "))
        rows.append((label, _field(name, record, zone, mask=mask)))
    ended = record.ended
    if ended is not None:
        rows.append(("ended", ended.astimezone(zone).strftime(LOCAL_FORMAT)))
    return Details(
        title=f"{record.pbx}: call {_text(record.id, mask=False)}",
        sections=((f"call record on {record.pbx}", tuple(rows)),),
    )
