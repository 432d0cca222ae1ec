"""The vendor extras as headless commands: ``queue-callback``, ``flow``, ``queue-reset``,
``campaign``, ``reboot`` and ``unregister``. Each confirms unless ``--yes`` and goes through
the engine's one policy (a PBX whose API lacks it refuses, naming its vendor). Every peer
(``ALL``) is confirmed by typing ALL or the PBX's name, at the prompt or ``--confirm-all``;
``--yes`` alone never does it.

``register`` is given the CLI module itself (its helpers and options), so that neither
imports the other at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from pbxtui import headless_extras
from pbxtui.model import (
    ALL_PEERS,
    CAMPAIGN_VERBS,
    FLOW_STATES,
    Action,
    CampaignControl,
    CampaignVerb,
    FlowStateWord,
    QueueCallback,
    Resource,
)

if TYPE_CHECKING:
    from pbxtui.cli import Options

Decorator = Callable[[Callable[..., None]], Callable[..., None]]


def register(cli: Any) -> None:
    """Add the extras' commands to ``cli.main``, built with ``cli``'s own options."""
    pbx_argument: Decorator = cli.pbx_argument
    yes_option: Decorator = cli.yes_option
    confirm_pbx_option: Decorator = cli.confirm_pbx_option
    global_options: Decorator = cli.global_options
    pass_options: Decorator = cli.pass_options

    @click.command("queue-callback")
    @pbx_argument
    @click.argument("number")
    @click.argument("queue")
    @click.option("--source", default="", help="The number the callback was asked from.")
    @click.option("--max-dial", type=click.IntRange(1, 20), help="Times the PBX may dial NUMBER.")
    @yes_option
    @global_options
    @pass_options
    def queue_callback(
        options: Options,
        pbx: str,
        number: str,
        queue: str,
        source: str,
        max_dial: int | None,
        yes: bool,
    ) -> None:
        """Put NUMBER on QUEUE's callback list: PBX calls it back when an agent is free (dialup
        family, PBXpostOut.php; needs org_token)."""
        request = QueueCallback(
            pbx=pbx, number=number, queue=queue, source=source, max_dial=max_dial
        )
        cli._send_fixed(options, request, yes=yes)

    @click.command()
    @pbx_argument
    @click.argument("flow")
    @click.option("--state", type=click.Choice(FLOW_STATES, case_sensitive=False), help="State.")
    @click.option("--toggle", is_flag=True, help="Light the lamp if it is out, else put it out.")
    @click.option("--value", default="", help="The flow's value.")
    @yes_option
    @global_options
    @pass_options
    def flow(
        options: Options,
        pbx: str,
        flow: str,
        state: str | None,
        toggle: bool,
        value: str,
        yes: bool,
    ) -> None:
        """Set FLOW's state or value, as the BLF board shows it (PBX Cloud SETFLOW)."""
        if toggle and state:
            cli._fail("--toggle and --state both say what to set: give one")
        word: FlowStateWord | None = state.upper() if state else None  # type: ignore[assignment]
        build = headless_extras.flow_request(flow, word, value, toggle=toggle)
        needs = (Resource.BLF,) if toggle else ()
        cli._perform(options, pbx, Action.SET_FLOW, build, yes=yes, needs=needs, target=flow)

    @click.command("queue-reset")
    @pbx_argument
    @click.argument("queue")
    @yes_option
    @confirm_pbx_option
    @global_options
    @pass_options
    def queue_reset(options: Options, pbx: str, queue: str, yes: bool, confirm_pbx: str) -> None:
        """Reset QUEUE's statistics (its id or name) on PBX: its counts start again at 0 (PBX
        Cloud QUEUERESET)."""
        cli._perform(
            options,
            pbx,
            Action.QUEUE_RESET,
            headless_extras.queue_reset_request(queue),
            yes=yes,
            needs=(Resource.QUEUES,),
            confirm_pbx=confirm_pbx,
            target=queue,
        )

    @click.command()
    @pbx_argument
    @click.argument("campaign")
    @click.argument("verb", type=click.Choice(CAMPAIGN_VERBS, case_sensitive=False))
    @yes_option
    @global_options
    @pass_options
    def campaign(options: Options, pbx: str, campaign: str, verb: str, yes: bool) -> None:
        """Start, stop, pause or resume CAMPAIGN (its id, from the campaign's edit page URL) on
        PBX (PBX Cloud CAMPAIGN; start and stop affect only on-demand campaigns)."""
        word: CampaignVerb = verb.lower()  # type: ignore[assignment]
        cli._send_fixed(options, CampaignControl(pbx=pbx, campaign=campaign, verb=word), yes=yes)

    def _peer_command(
        options: Options,
        pbx: str,
        peer: str,
        *,
        reboot: bool,
        yes: bool,
        confirm_all: str,
        confirm_pbx: str,
    ) -> None:
        action = Action.PEER_REBOOT if reboot else Action.PEER_UNREGISTER
        typed = confirm_all.strip()
        if peer.upper() == ALL_PEERS:
            if not typed and cli._stdin_is_terminal():
                verb = "reboots" if reboot else "unregisters"
                typed = click.prompt(
                    f"This {verb} every peer of {pbx}: type {ALL_PEERS} or {pbx} to confirm",
                    default="",
                    show_default=False,
                ).strip()
            # What was typed is the confirmation; the engine checks it (nothing typed: refused).
            yes = True
            if typed == pbx and not confirm_pbx:
                confirm_pbx = pbx
        build = headless_extras.peer_requests(peer, reboot=reboot, typed=typed)
        cli._perform(
            options,
            pbx,
            action,
            build,
            yes=yes,
            needs=(Resource.PEERS,) if peer.upper() != ALL_PEERS else (),
            confirm_pbx=confirm_pbx,
            target=peer,
        )

    confirm_all_option = click.option(
        "--confirm-all",
        default="",
        metavar="TEXT",
        help=f"For {ALL_PEERS}: {ALL_PEERS} or the PBX's name, as typed at the prompt.",
    )

    @click.command()
    @pbx_argument
    @click.argument("peer")
    @yes_option
    @confirm_all_option
    @confirm_pbx_option
    @global_options
    @pass_options
    def reboot(
        options: Options, pbx: str, peer: str, yes: bool, confirm_all: str, confirm_pbx: str
    ) -> None:
        """Reboot PEER (its name or number, or ALL) on PBX (PBX Cloud REBOOT)."""
        _peer_command(
            options,
            pbx,
            peer,
            reboot=True,
            yes=yes,
            confirm_all=confirm_all,
            confirm_pbx=confirm_pbx,
        )

    @click.command()
    @pbx_argument
    @click.argument("peer")
    @yes_option
    @confirm_all_option
    @confirm_pbx_option
    @global_options
    @pass_options
    def unregister(
        options: Options, pbx: str, peer: str, yes: bool, confirm_all: str, confirm_pbx: str
    ) -> None:
        """Unregister PEER (its name or number, or ALL) on PBX (PBX Cloud UNREGISTER)."""
        _peer_command(
            options,
            pbx,
            peer,
            reboot=False,
            yes=yes,
            confirm_all=confirm_all,
            confirm_pbx=confirm_pbx,
        )

    for command in (queue_callback, flow, queue_reset, campaign, reboot, unregister):
        cli.main.add_command(command)
