"""The ``:`` command grammar (pure) and the command-palette provider listing every action.

``:calls hq``      the Calls pane, only hq shown
``:agents paused`` the agents table, filtered by "paused"
``:pbx hq eu``     show hq and eu; ``:pbx all`` shows every PBX
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal, Protocol, runtime_checkable

from textual.command import DiscoveryHit, Hit, Hits, Provider

from pbxtui.when import parse_when

GRAMMAR = """\
:calls [pbx…|all] [text]      Calls pane (optionally only those PBXs, filtered by text)
:extensions / :ext …          Extensions pane          :blf …      BLF board
:peers / :trunks …            Peers pane               :queues …   Queues & agents
:agents [pbx…] [text]         the agents table, e.g. :agents paused
:events / :log …              Events pane
:pbx name… | all              which PBXs the panes show (no name: choose)
:sort column [asc|desc]       sort the current table, e.g. :sort duration desc
:filter text                  filter the current table (empty clears)
:refresh [pbx]                poll now             :theme name   switch theme
:directory [pbx]              the PBX's phone directory (Enter on an entry: click2call)
:health pbx                   the PBX's health in full, with its tenant's figures
:flow pbx number [state]      set a flow (INUSE, NOT_INUSE…; no state: toggle its lamp)
:campaign [pbx] [id] [verb]   start, stop, pause or resume a campaign
:reboot pbx peer|all          reboot a peer, or every peer (type ALL to confirm)
:unregister pbx peer|all      unregister a peer, or every peer (type ALL to confirm)
:history [pbx…] [number] [since]   call history, e.g. :history hq 0501234567 2d (or H)
:help                         this help            :q            quit"""

PANE_ALIASES: dict[str, tuple[str, str | None]] = {
    "calls": ("calls", None),
    "call": ("calls", None),
    "channels": ("calls", None),
    "ch": ("calls", None),
    "extensions": ("extensions", None),
    "extension": ("extensions", None),
    "ext": ("extensions", None),
    "exts": ("extensions", None),
    "blf": ("blf", None),
    "lamps": ("blf", None),
    "board": ("blf", None),
    "peers": ("peers", None),
    "peer": ("peers", None),
    "trunks": ("peers", None),
    "queues": ("queues", "queues"),
    "queue": ("queues", "queues"),
    "agents": ("queues", "agents"),
    "agent": ("queues", "agents"),
    "events": ("events", None),
    "event": ("events", None),
    "log": ("events", None),
}

CommandKind = Literal[
    "pane",
    "pbx",
    "quit",
    "refresh",
    "help",
    "theme",
    "sort",
    "filter",
    "directory",
    "extra",
    "history",
]
EXTRA_VERBS = {
    "health": "health",
    "flow": "flow",
    "campaign": "campaign",
    "reboot": "reboot",
    "unregister": "unregister",
}
"""The vendor extras' commands: the first word after each, when it names a PBX, is the PBX
(``all`` is a peer here, never every PBX)."""


class CommandError(ValueError):
    """A command that cannot be run, with a message that says why."""


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    pane: str = ""
    section: str | None = None
    pbxs: tuple[str, ...] | None = None
    """PBXs to show (None: leave as is)."""
    needle: str | None = None
    """Filter text (None: leave as is)."""
    arg: str = ""
    reverse: bool | None = None
    since: datetime | None = None
    """``:history``: from when (None: the History screen's default)."""


def _split_pbxs(
    words: Sequence[str], pbx_names: Sequence[str]
) -> tuple[tuple[str, ...] | None, list[str]]:
    """Words naming PBXs (``hq``, ``@hq``, ``all``) apart from the rest (filter words)."""
    known = {n.lower(): n for n in pbx_names}
    chosen: list[str] = []
    rest: list[str] = []
    everything = False
    for word in words:
        bare = word[1:] if word.startswith("@") else word
        if bare.lower() == "all":
            everything = True
        elif bare.lower() in known:
            chosen.append(known[bare.lower()])
        elif word.startswith("@"):
            raise CommandError(f"no PBX named {bare!r} (known: {', '.join(pbx_names)})")
        else:
            rest.append(word)
    if everything:
        return tuple(pbx_names), rest
    return (tuple(dict.fromkeys(chosen)) if chosen else None), rest


def parse_command(text: str, pbx_names: Sequence[str], now: datetime | None = None) -> Command:
    """Parse one ``:`` command line (without the colon); ``now``: what relative times such
    as ``2h`` count back from (default: this machine's clock). Raises ``CommandError``."""
    words = text.strip().removeprefix(":").split()
    if not words:
        raise CommandError("type a command, e.g. :calls hq (see :help)")
    verb, args = words[0].lower(), words[1:]
    if verb in PANE_ALIASES:
        pane, section = PANE_ALIASES[verb]
        pbxs, rest = _split_pbxs(args, pbx_names)
        return Command("pane", pane=pane, section=section, pbxs=pbxs, needle=" ".join(rest))
    if verb in ("pbx", "pbxs", "ctx", "context"):
        if not args:
            return Command("pbx")
        pbxs, rest = _split_pbxs(args, pbx_names)
        if rest:
            raise CommandError(f"no PBX named {rest[0]!r} (known: {', '.join(pbx_names)})")
        return Command("pbx", pbxs=pbxs)
    if verb in ("q", "q!", "quit", "exit"):
        return Command("quit")
    if verb in ("r", "refresh", "reload"):
        if args:
            pbxs, rest = _split_pbxs(args, pbx_names)
            if rest or not pbxs:
                raise CommandError(f"no PBX named {args[0]!r} (known: {', '.join(pbx_names)})")
            return Command("refresh", pbxs=pbxs)
        return Command("refresh")
    if verb in ("directory", "dir", "phonebook"):
        pbxs, rest = _split_pbxs(args, pbx_names)
        if rest or (pbxs is not None and len(pbxs) != 1):
            raise CommandError(
                f"name one PBX, e.g. :directory {pbx_names[0] if pbx_names else 'hq'}"
            )
        return Command("directory", pbxs=pbxs)
    if verb in EXTRA_VERBS:
        return _extra(EXTRA_VERBS[verb], args, pbx_names)
    if verb in ("history", "hist", "cdr", "cdrs"):
        return _history(args, pbx_names, now)
    if verb in ("h", "help", "?"):
        return Command("help")
    if verb == "theme":
        if not args:
            raise CommandError("name a theme, e.g. :theme nord")
        return Command("theme", arg=args[0])
    if verb == "sort":
        if not args:
            raise CommandError("name a column, e.g. :sort duration desc")
        order = args[1].lower() if len(args) > 1 else ""
        if order not in ("", "asc", "desc"):
            raise CommandError("the order is asc or desc")
        reverse = None if not order else order == "desc"
        return Command("sort", arg=args[0].lower(), reverse=reverse)
    if verb in ("filter", "f", "/"):
        return Command("filter", needle=" ".join(args))
    raise CommandError(f"unknown command {verb!r}: see :help")


def _extra(verb: str, args: Sequence[str], pbx_names: Sequence[str]) -> Command:
    known = {n.lower(): n for n in pbx_names}
    words = list(args)
    pbx = known.get(words[0].removeprefix("@").lower()) if words else None
    if pbx is not None:
        words = words[1:]
    elif verb != "campaign" and len(pbx_names) != 1:
        example = pbx_names[0] if pbx_names else "hq"
        raise CommandError(f"name the PBX first, e.g. :{verb} {example} …")
    else:
        pbx = pbx or (pbx_names[0] if pbx_names else None)
    needs = {"flow": "a flow number", "reboot": "a peer or all", "unregister": "a peer or all"}
    if verb in needs and not words:
        raise CommandError(f":{verb} needs {needs[verb]}, e.g. :{verb} {pbx or 'hq'} …")
    return Command("extra", arg=verb, pbxs=(pbx,) if pbx else None, needle=" ".join(words))


NUMBER_WORD = re.compile(r"\+?[0-9][0-9*#]*")


def _history(args: Sequence[str], pbx_names: Sequence[str], now: datetime | None) -> Command:
    """``:history [pbx…] [number] [since]``: PBX names, a number (digits), a time."""
    pbxs, rest = _split_pbxs(args, pbx_names)
    number = ""
    since: datetime | None = None
    for word in rest:
        if not number and NUMBER_WORD.fullmatch(word):
            number = word
            continue
        if since is not None:
            raise CommandError(
                f"{word!r} is neither a PBX, a number nor a time: e.g. :history hq 0501234567 2d"
            )
        try:
            since = parse_when(word, now)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    return Command("history", pbxs=pbxs, needle=number, since=since)


# -- the command palette -----------------------------------------------------------------------
PALETTE_ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("Hang up", "hang up the selected (or marked) calls, after confirming", "hangup"),
    ("Blind transfer", "send the selected call to another number", "transfer"),
    ("Attended transfer", "consult a destination, then complete or cancel", "attended"),
    ("Pause agent", "pause the selected (or marked) agents with a reason", "pause"),
    ("Unpause agent", "unpause the selected (or marked) agents", "unpause"),
    ("Click2call", "connect an extension to a number", "click2call"),
    ("Scheduled call", "click2call at a later time, with retries", "scheduled_call"),
    ("Callback (number masking)", "the PBX connects two numbers", "callback"),
    ("IVR call", "call a number and play announcements to it", "ivr"),
    ("Phone directory", "the PBX's directory; Enter calls an entry", "directory"),
    ("Toggle flow", "set the selected flow lamp of the BLF board (SETFLOW)", "flow"),
    ("Reset queue statistics", "zero the selected queue's figures, confirmed", "queue_reset"),
    ("Reboot peer", "reboot the selected peer (:reboot PBX all for every peer)", "reboot_peer"),
    ("Unregister peer", "unregister the selected peer (or :unregister PBX all)", "unregister_peer"),
    ("Campaign", "start, stop, pause or resume a call campaign", "campaign"),
    ("Queue callback", "the PBX calls a number back when a queue agent is free", "queue_callback"),
    ("Call history", "what just happened: finished calls, recordings, CSV", "history"),
    ("Details", "every field of the selected row, the vendor's own words", "details"),
    ("Mark row", "mark or unmark the row under the cursor", "mark"),
    ("Filter", "filter the current table by text", "filter"),
    ("Command", "type a : command (e.g. calls hq)", "command"),
    ("Choose PBXs", "which PBXs the panes show", "pick_pbxs"),
    ("Show all PBXs", "every configured PBX", "show_all"),
    ("Sort longest first", "longest calls / waits / pauses first", "longest"),
    ("Sort by next column", "cycle the sort column", "cycle_sort"),
    ("Reverse sort", "flip the sort order", "reverse_sort"),
    ("Refresh now", "poll the shown PBXs now", "refresh"),
    ("Help", "every key and command", "help"),
    ("Quit", "leave pbxtui", "quit"),
)
"""(name, help, console action) for every action, in the palette's order."""


@runtime_checkable
class HasPaletteCommands(Protocol):
    def palette_commands(self) -> list[tuple[str, str, str]]:
        """(name, help, action) for every action the console offers."""
        ...

    async def palette_run(self, action: str) -> None:
        """Run ``action`` even where the footer dims it, so it can say why."""
        ...


class ConsoleCommands(Provider):
    """Every console action, searchable in Textual's command palette (ctrl+p)."""

    def _commands(self) -> list[tuple[str, str, str]]:
        screen = self.screen
        if isinstance(screen, HasPaletteCommands):
            return screen.palette_commands()
        return []

    async def _run(self, action: str) -> None:
        screen = self.screen
        if isinstance(screen, HasPaletteCommands):
            await screen.palette_run(action)

    async def discover(self) -> Hits:
        for name, help_text, action in self._commands():
            yield DiscoveryHit(name, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, action in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(self._run, action),
                    text=name,
                    help=help_text,
                )
