"""The ``:`` commands, run on the console screen (the grammar is in ``ui.commands``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pbxtui.model import FLOW_STATES
from pbxtui.ui.commands import Command, CommandError, parse_command
from pbxtui.ui.widgets.panes import QueuesPane

if TYPE_CHECKING:
    from pbxtui.ui.screens.console import ConsoleScreen


class CommandMode:
    def __init__(self, screen: ConsoleScreen) -> None:
        self.screen = screen

    def run(self, text: str) -> None:
        try:
            command = parse_command(text, self.screen.session.pbx_names, self.screen.now())
        except CommandError as exc:
            self.screen.notify(str(exc), title="Command", severity="error")
            return
        self.execute(command)

    def execute(self, command: Command) -> None:
        kind = command.kind
        if kind == "pane":
            self._go_to(command)
        elif kind == "pbx":
            if command.pbxs is None:
                self.screen.action_pick_pbxs()
            else:
                self.screen.show_pbxs(command.pbxs)
        elif kind == "quit":
            self.screen.app.exit()
        elif kind == "refresh":
            engine = self.screen.session.engine
            if engine is not None:
                for name in command.pbxs or self.screen.shown_pbxs:
                    engine.refresh(name)
        elif kind == "directory":
            self.screen.action_directory(command.pbxs[0] if command.pbxs else "")
        elif kind == "extra":
            self._extra(command)
        elif kind == "history":
            self.screen.open_history(
                pbxs=command.pbxs, number=command.needle or "", since=command.since
            )
        elif kind == "help":
            self.screen.action_help()
        elif kind == "theme":
            self._theme(command.arg)
        elif kind == "sort":
            self._sort(command)
        elif kind == "filter":
            pane = self.screen.active_pane
            pane.set_needle(command.needle or "")
            pane.show(self.screen.context())
            self.screen.show_status()

    def _extra(self, command: Command) -> None:
        """The vendor extras' commands (``commands.EXTRA_VERBS``)."""
        screen = self.screen
        pbx = command.pbxs[0] if command.pbxs else ""
        words = (command.needle or "").split()
        verb = command.arg
        if verb == "health":
            screen.show_health(pbx)
        elif verb == "flow":
            state = words[1].upper() if len(words) > 1 else ""
            if state and state not in FLOW_STATES and state != "TOGGLE":
                screen.notify(f"a flow state is one of {', '.join(FLOW_STATES)}", severity="error")
                return
            word = state if state in FLOW_STATES else None
            screen.flow_flow.set_by_command(pbx, words[0], word)  # type: ignore[arg-type]
        elif verb == "campaign":
            screen.campaign_flow.start(pbx, *words[:2])
        else:
            flow = screen.reboot_flow if verb == "reboot" else screen.unregister_flow
            flow.by_command(pbx, words[0])

    def _go_to(self, command: Command) -> None:
        if command.pbxs is not None:
            self.screen.show_pbxs(command.pbxs)
        self.screen.action_pane(command.pane)
        pane = self.screen.panes[command.pane]
        if isinstance(pane, QueuesPane) and command.section == "agents":
            self.screen.call_after_refresh(pane.focus_agents)
        name = command.section if isinstance(pane, QueuesPane) else None
        if name is None and pane.sections:
            name = pane.sections[0].builder.name
        pane.set_needle(command.needle or "", name)
        self.screen._stale_panes.add(pane.pane_id)
        self.screen.call_after_refresh(self.screen.render_all)

    def _theme(self, name: str) -> None:
        if name not in self.screen.app.available_themes:
            known = ", ".join(sorted(self.screen.app.available_themes))
            self.screen.notify(f"no theme {name!r} (known: {known})", severity="error")
        else:
            self.screen.app.theme = name

    def _sort(self, command: Command) -> None:
        target = self.screen.active_pane.active
        if target is None:
            return
        specs = [c for c in target.table.column_specs if c.sortable]
        keys = {c.key: c.key for c in specs} | {c.label.lower(): c.key for c in specs}
        column = keys.get(command.arg)
        if column is None:
            self.screen.notify(
                f"no column {command.arg!r} here (columns: {', '.join(keys)})", severity="error"
            )
            return
        target.table.set_sort(column, command.reverse)
        self.screen.show_status()
