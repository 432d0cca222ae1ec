"""Small pieces shared by the input modals."""

from __future__ import annotations

from collections.abc import Sequence

from textual.widgets import Input
from textual.widgets.option_list import Option

from pbxtui.engine.actions import NUMBER_PATTERN

MAX_CHOICES = 40


def number_problem(what: str, value: str) -> str:
    """Why ``value`` is not a dialable number ("" when it is): same rule as the engine."""
    if not value:
        return f"enter the {what}"
    if not NUMBER_PATTERN.fullmatch(value):
        return f"the {what} must be digits, * or #, with an optional leading +"
    return ""


def matching_options(choices: Sequence[tuple[str, str]], typed: str) -> list[Option]:
    """Choices (number, label) whose number or label contains ``typed``."""
    needle = typed.strip().lower()
    found = [
        Option(f"{number}  {label}".rstrip(), id=number)
        for number, label in choices
        if not needle or needle in number.lower() or needle in label.lower()
    ]
    return found[:MAX_CHOICES]


def no_blink(*inputs: Input, headless: bool) -> None:
    for widget in inputs:
        widget.cursor_blink = not headless
