"""Small pieces shared by the input modals."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Static
from textual.widgets.button import ButtonVariant
from textual.widgets.option_list import Option

from pbxtui.model import NUMBER_PATTERN

MAX_CHOICES = 40


def number_problem(what: str, value: str) -> str:
    """Why ``value`` is not a dialable number ("" when it is): same rule as the engine."""
    if not value:
        return f"enter the {what}"
    if not NUMBER_PATTERN.fullmatch(value):
        return f"the {what} must be digits, * or #, with an optional leading +"
    return ""


def form_footer(verb: str, hint: str, *, variant: ButtonVariant = "primary") -> ComposeResult:
    """The end of every input modal: the error line, confirm and cancel, the key hint."""
    yield Static("", id="error", classes="error")
    with Horizontal(classes="buttons"):
        yield Button(verb, variant=variant, id="confirm", classes="arms")
        yield Button("Cancel", id="cancel")
    yield Static(hint, classes="hint")


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
