"""A webhook's parameters, however the sender wrote them: query string, form or JSON body.

Keys are lowercased (the vendors' documents spell them both ways); the first of a repeated
key wins, and a key of the body wins over the query's. Every value becomes text stripped of
control and direction-override characters (it ends up on an operator's terminal) and cut
short, so nothing a sender writes can paint the screen, reorder what it shows, or bloat.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from pbxtui.model.push import MAX_RAW_VALUE

MAX_FIELDS = 100
MAX_KEY = 64

_SPACE = {ord("\t"): " ", ord("\n"): " ", ord("\r"): " "}
_INVISIBLE = (
    *range(0x00, 0x20),  # C0, DEL and C1: terminal control codes
    0x7F,
    *range(0x80, 0xA0),
    *(0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)),  # bidi
    0xFEFF,
)
_CLEAN: dict[int, str | None] = {code: None for code in _INVISIBLE} | _SPACE


class BadParams(Exception):
    """The request's parameters cannot be read; ``status`` is the answer (400 or 415)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def clean(text: str, limit: int = MAX_RAW_VALUE) -> str:
    """``text`` as it may be shown: no control codes, no direction overrides, cut short."""
    return text[: limit * 4].translate(_CLEAN).strip()[:limit]


def _add(into: dict[str, str], pairs: list[tuple[str, str]]) -> dict[str, str]:
    for key, value in pairs:
        name = clean(key, MAX_KEY).lower()
        if name and name not in into:
            into[name] = clean(value)
    return into


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="replace", max_num_fields=MAX_FIELDS)
    except ValueError:
        raise BadParams(400, f"more than {MAX_FIELDS} parameters") from None


def query_params(query: bytes) -> dict[str, str]:
    return _add({}, _pairs(query.decode("utf-8", "replace")))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)[: MAX_RAW_VALUE * 4]


def _first_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's keys as a form's: the first of a repeated key wins."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        found.setdefault(key, value)
    return found


def _json_pairs(body: bytes) -> list[tuple[str, str]]:
    try:
        document = json.loads(body.decode("utf-8"), object_pairs_hook=_first_pairs)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError: malformed, or an integer longer than Python converts
        raise BadParams(400, "the body is not JSON") from None
    if not isinstance(document, dict):
        raise BadParams(400, "the JSON body is not an object of parameters")
    if len(document) > MAX_FIELDS:
        raise BadParams(400, f"more than {MAX_FIELDS} parameters")
    return [(str(k), _text(v)) for k, v in document.items()]


def body_params(body: bytes, content_type: str) -> dict[str, str]:
    """A POST's parameters: JSON, or a form (``application/x-www-form-urlencoded``); a body
    of another or no declared type is read as whichever of the two it looks like."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return {}
    if media.startswith("multipart/"):
        raise BadParams(415, "multipart bodies are not read: send a form or JSON")
    looks_json = body.lstrip()[:1] in (b"{", b"[")
    if (
        media == "application/json"
        or media.endswith("+json")
        or (media != "application/x-www-form-urlencoded" and looks_json)
    ):
        return _add({}, _json_pairs(body))
    return _add({}, _pairs(body.decode("utf-8", "replace")))


def merged(query: dict[str, str], body: dict[str, str]) -> dict[str, str]:
    """The body's parameters over the query's."""
    return query | body
