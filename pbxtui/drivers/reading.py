"""Reading vendor answers safely and fast: guarded JSON and XML, typed fields, row layouts.

Everything here is pure and thread-safe, so a driver may run its parse in a worker thread.
Whatever a broken or hostile PBX sends ends in a value or in ``Unreadable`` (a ``ValueError``
whose text is a short reason for a person), which the driver turns into its PBX's
``BadAnswer``; never in a ``RecursionError``, an ``OverflowError`` or the like.

Speed: a live answer holds thousands of rows that share one set of keys and mostly repeat
the previous answer. ``Fields.layout`` resolves which key each field is read from (aliases,
key case) once per distinct key set instead of once per row, and ``RowMemo`` lets a driver keep
what it read from a row and reuse it while the row's fingerprint is unchanged.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Generic, TypeVar

from pydantic_core import from_json

V = TypeVar("V")

# Beyond any real answer (10,000 calls are 20,000 channel rows); a table this size is a
# hostile one, and is not kept for reuse.
MEMO_LIMIT = 50_000
NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
# Integers a field may hold: beyond this a "number" is no count, id or duration of ours.
INT_LIMIT = 10**15


class Unreadable(ValueError):
    """A vendor answer that cannot be read; the text is a short reason for a person."""


# -- documents ----------------------------------------------------------------------------------
def _refuse_constant(name: str) -> Any:
    raise Unreadable(f"answered JSON with {name}, which is not a number")


def decode_json(body: str) -> Any:
    """``json.loads`` that fails only with ``JSONDecodeError`` (syntax, for the driver to
    word) or ``Unreadable`` (nesting too deep, a number too long, NaN/Infinity).

    pydantic's own decoder first: it reads the same documents to the same values at about
    twice the speed, and live polls decode megabytes a second. Whatever it refuses is read
    again by ``json``, so every refusal is worded as before."""
    try:
        return from_json(body, allow_inf_nan=False)
    except ValueError:
        pass
    try:
        return json.loads(body, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise Unreadable("answered JSON nested too deeply to read") from None
    except Unreadable:
        raise
    except ValueError:
        # Python refuses integers over 4,300 digits (CVE-2020-10735) with a ValueError.
        raise Unreadable("answered JSON with a number too long to read") from None


def truncated_json(body: str, error: json.JSONDecodeError) -> bool:
    """Whether a JSON syntax error is the body ending early (cut in transit, or a partial
    answer) rather than a malformed one; decided by where the decoder stopped."""
    return error.pos >= len(body.rstrip()) or error.msg.startswith("Unterminated string")


def parse_xml(body: str) -> ET.Element:
    """The root element; ``Unreadable`` for malformed XML and for any DTD (entity expansion
    is how XML bombs work, and no vendor answer here needs one)."""
    head = body.lower()
    if "<!doctype" in head or "<!entity" in head:
        raise Unreadable("answered XML with a DOCTYPE or ENTITY declaration, refused for safety")
    # A str needs no encoding declaration; ElementTree refuses one on a str with a ValueError.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", body).strip()
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        raise Unreadable(f"answered malformed or truncated XML: {exc}") from None
    except (RecursionError, ValueError) as exc:
        raise Unreadable(f"answered XML that cannot be read ({type(exc).__name__})") from None


def rows_of(data: Any, marker: str, plural: str, singular: str) -> list[Mapping[str, Any]]:
    """The rows of a listing: an array, an object keyed by anything (ids, names…), one bare
    row (an object with a ``marker`` key), or an object holding exactly one array. Anything
    else, and any row that is not an object, is ``Unreadable``."""
    if isinstance(data, dict):
        if not data:
            raise Unreadable(f"expected a list of {plural}, got an empty object")
        if any(isinstance(k, str) and k.strip().lower() == marker for k in data):
            items: Iterable[Any] = [data]
        elif all(isinstance(v, dict) for v in data.values()):
            items = data.values()
        else:
            lists = [v for v in data.values() if isinstance(v, list)]
            if len(lists) != 1:
                raise Unreadable(f"expected a list of {plural}, got an object that holds none")
            items = lists[0]
    elif isinstance(data, list):
        items = data
    else:
        raise Unreadable(f"expected a list of {plural}, got a JSON {kind_of(data)}")
    rows = list(items)
    for position, row in enumerate(rows):
        if not isinstance(row, dict):
            raise Unreadable(f"{singular} {position + 1} is a JSON {kind_of(row)}, not an object")
    return rows


def kind_of(value: object) -> str:
    """A JSON value's kind, as a person reading the answer would call it."""
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


# -- scalar fields ------------------------------------------------------------------------------
def text_of(value: object, where: str, *, flags: bool = False) -> str:
    """A field's text: strings stripped, numbers as written (``12.0`` → ``"12"``), null as "".

    An object or a list where text belongs is a type mismatch, and so is a boolean unless the
    field is a flag (``flags``): ``Unreadable`` naming ``where``.
    """
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        if flags:
            return "true" if value else "false"
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < INT_LIMIT:
            return str(int(value))
        return repr(value)
    raise Unreadable(f"{where} is a JSON {kind_of(value)}, expected text")


def number_of(text: str) -> float | None:
    """``"12"``, ``"12,5"``, ``"99.5%"``, ``"1e3"`` → a finite float of sane size, else None."""
    cleaned = text.strip().rstrip("%").strip()
    if not NUMBER_RE.fullmatch(cleaned):
        return None
    value = float(cleaned.replace(",", "."))
    return value if math.isfinite(value) and abs(value) < INT_LIMIT else None


def int_of(text: str) -> int | None:
    """A whole number from a field's text (decimals cut), None when it holds none."""
    value = number_of(text)
    return int(value) if value is not None else None


# -- row layouts --------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Layout:
    """Where each field of rows with one set of keys is read from (compared by identity: one
    object per key set, so it is a cheap part of a memo key).

    ``keys[field]`` are the row's own keys for that field, in alias order (usually one);
    ``stable`` reads, in one C call, the values of every key read except the ``volatile``
    ones (a duration ticking every second), as a row's fingerprint.
    """

    keys: Mapping[str, tuple[str, ...]]
    stable: itemgetter[Any] | None

    def first(self, row: Mapping[str, Any], field: str) -> Any:
        """The raw value of the first of ``field``'s keys present (None if none is)."""
        found = self.keys[field]
        return row[found[0]] if found else None

    def text(self, row: Mapping[str, Any], field: str, where: str, *, flags: bool = False) -> str:
        """The first non-empty text among ``field``'s keys (as a pick over aliases would)."""
        for key in self.keys[field]:
            value = row[key]
            if type(value) is str:  # nearly always: no call, no message built
                text = value.strip()
            elif value is None:
                continue
            else:
                text = text_of(value, f"{where} {key!r}", flags=flags)
            if text:
                return text
        return ""

    def fingerprint(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The stable values of ``row``. Hashing it fails (TypeError) when one is nested,
        which only the full read can name as the type mismatch it is."""
        return self.stable(row) if self.stable is not None else ()


class Fields:
    """A record's fields and the names each may go by in an answer (lower-case, preferred
    first). Matching ignores case; keys that are only digits (PHP's positional duplicates)
    never match."""

    def __init__(self, aliases: Mapping[str, tuple[str, ...]], volatile: Iterable[str] = ()):
        self.aliases = dict(aliases)
        self.volatile = frozenset(volatile)

    def layout(self, keys: Iterable[object]) -> Layout:
        by_name: dict[str, str] = {}
        for key in keys:
            if isinstance(key, str) and not key.isdigit():
                by_name.setdefault(key.strip().lower(), key)
        found = {
            field: tuple(by_name[a] for a in names if a in by_name)
            for field, names in self.aliases.items()
        }
        stable = tuple(
            dict.fromkeys(
                key for field, keys in found.items() if field not in self.volatile for key in keys
            )
        )
        if not stable:
            return Layout(keys=found, stable=None)
        # itemgetter of one key returns the bare value, not a 1-tuple: keep tuples throughout.
        getter = itemgetter(*stable, stable[0]) if len(stable) == 1 else itemgetter(*stable)
        return Layout(keys=found, stable=getter)


class Layouts:
    """The layouts of rows, resolved once per distinct key set."""

    def __init__(self, fields: Fields) -> None:
        self.fields = fields
        self._known: dict[tuple[object, ...], Layout] = {}

    def of(self, row: Mapping[Any, Any]) -> Layout:
        return self.of_keys(tuple(row))

    def of_keys(self, keys: tuple[object, ...]) -> Layout:
        layout = self._known.get(keys)
        if layout is None:
            if len(self._known) >= 64:  # a hostile answer with a new key set on every row
                self._known.clear()
            layout = self._known[keys] = self.fields.layout(keys)
        return layout


class RowMemo(Generic[V]):
    """What was read from each row of the last answer, by layout and fingerprint.

    Bounded by construction: an answer keeps only the entries it used, so rows that went
    away are forgotten with the answer after them. Thread-safe for the way drivers use it:
    a read builds its own next generation and installs it with one assignment (``commit``);
    two reads racing each install a correct one.
    """

    def __init__(self) -> None:
        self._last: dict[Layout, dict[Hashable, V]] = {}

    def begin(self) -> tuple[dict[Layout, dict[Hashable, V]], dict[Layout, dict[Hashable, V]]]:
        """(the last answer's entries, this answer's, to fill) by layout."""
        return self._last, {}

    def commit(self, entries: dict[Layout, dict[Hashable, V]]) -> None:
        size = sum(len(table) for table in entries.values())
        self._last = entries if size <= MEMO_LIMIT else {}
