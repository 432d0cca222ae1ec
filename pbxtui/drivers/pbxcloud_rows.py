"""PBX Cloud's INFO extensions rows in any of the shapes deployments send (vendor-notes A-51).

Named keys only (the audit's capture), named and positional together (PHP's FETCH_BOTH, which
MiRTA's own admin pages read by position: ``item[132]``), or positional arrays alone. Named
keys are read by name and the digits ignored (``reading.Fields``); an array is named here by
position first. Its layout is INFERENCE: every capture begins ``ex_id, ex_te_id, ex_number,
ex_name``, and the live state columns (``st_extension, st_state, st_timestamp,
st_peername``) close the 148-field record, so the state is read third from the end.
"""

from __future__ import annotations

from typing import Any

from pbxtui.drivers.reading import Unreadable, kind_of

EXTENSION_POSITIONS = {"ex_id": 0, "ex_number": 2, "ex_name": 3, "st_state": -3}
SHORTEST_ARRAY = 8  # fewer columns than this is no extension record


def named_extension_rows(data: Any) -> Any:
    """The listing with any positional array row given its names; anything else as it is."""
    if isinstance(data, list):
        if not any(isinstance(row, list) for row in data):
            return data
        return [_named(row, position) for position, row in enumerate(data)]
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        return {key: _named(row, position) for position, (key, row) in enumerate(data.items())}
    return data


def _named(row: Any, position: int) -> Any:
    if not isinstance(row, list):
        return row  # an object (or what rows_of will refuse, naming it)
    if len(row) < SHORTEST_ARRAY:
        raise Unreadable(
            f"extension {position + 1} is a JSON list of {len(row)} values, too short for an "
            "extension record"
        )
    named = {name: row[index] for name, index in EXTENSION_POSITIONS.items()}
    for name, value in named.items():
        if isinstance(value, dict | list):
            raise Unreadable(f"extension {position + 1} {name} is a JSON {kind_of(value)}")
    return named
