"""Privacy mode (``--mask-numbers``): phone numbers partly masked, for screen sharing (pure).

The console and the headless commands mask with the same functions, so a number looks the same
(``050*****67``) on screen, in ``snapshot`` and in a confirmation. Short numbers (extensions,
queue numbers, feature codes) are not personal and are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "MASK_MIN_DIGITS",
    "mask_known",
    "mask_number",
    "mask_text",
    "mask_tree",
    "numbers_in",
]

MASK_MIN_DIGITS = 7
"""Shorter numbers (extensions, queue numbers, feature codes) are not personal: kept as is."""

_DIGIT_RUN = re.compile(r"\+?\d[\d\s-]{5,}\d")


def mask_number(number: str) -> str:
    """``0501234567`` → ``050*****67``; short numbers (extensions) are left alone."""
    digits = sum(ch.isdigit() for ch in number)
    if digits < MASK_MIN_DIGITS:
        return number
    keep_head, keep_tail = 3 + number.startswith("+"), 2
    head, middle, tail = number[:keep_head], number[keep_head:-keep_tail], number[-keep_tail:]
    return head + re.sub(r"\d", "*", middle) + tail


def mask_text(text: str) -> str:
    """Every phone-number-like run of digits in free text masked (privacy mode)."""
    return _DIGIT_RUN.sub(lambda m: mask_number(m.group(0)), text)


def mask_known(text: str, numbers: Iterable[str]) -> str:
    """``text`` with each of ``numbers`` (long enough to be personal) masked wherever it
    occurs, and nothing else touched: for identifiers such as channel names, where any other
    run of digits is part of the name (``PJSIP/trunk-ACME-00015262``)."""
    for number in sorted(set(numbers), key=len, reverse=True):
        if sum(ch.isdigit() for ch in number) >= MASK_MIN_DIGITS and number in text:
            text = text.replace(number, mask_number(number))
    return text


def numbers_in(value: Any, *, keep: frozenset[str] = frozenset()) -> set[str]:
    """Every phone-number-like run of digits in the strings of a JSON-like tree, except in
    the values of the keys in ``keep``."""
    numbers: set[str] = set()

    def collect(node: Any, key: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                collect(v, str(k))
        elif isinstance(node, list | tuple):
            for v in node:
                collect(v, key)
        elif isinstance(node, str) and key not in keep:
            numbers.update(m.group(0) for m in _DIGIT_RUN.finditer(node))

    collect(value, "")
    return numbers


def mask_tree(value: Any, *, keep: frozenset[str] = frozenset()) -> Any:
    """A JSON-like tree with every string masked (``mask_text``), except the values of the
    keys in ``keep`` (identifiers a command takes back, timestamps), in which only the numbers
    found elsewhere in the tree are masked (``mask_known``)."""
    numbers = numbers_in(value, keep=keep)

    def mask(node: Any, key: str) -> Any:
        if isinstance(node, dict):
            return {k: mask(v, str(k)) for k, v in node.items()}
        if isinstance(node, list | tuple):
            return [mask(v, key) for v in node]
        if isinstance(node, str):
            return mask_known(node, numbers) if key in keep else mask_text(node)
        return node

    return mask(value, "")
