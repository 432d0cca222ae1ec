"""``pbxtui collect``: one collector for many consoles (``[broker]``).

``register`` is given the CLI module itself, as ``cli_extras`` is."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pbxtui.cli import Options

Decorator = Callable[[Callable[..., None]], Callable[..., None]]
BROKER_EXAMPLE = '  [broker]\n  url = "nats://127.0.0.1:4222"\n  fleet = "noc"'


def register(cli: Any) -> None:
    global_options: Decorator = cli.global_options
    pass_options: Decorator = cli.pass_options

    @click.command()
    @global_options
    @pass_options
    def collect(options: Options) -> None:
        """Poll every PBX of the config once and publish what is learnt to the broker
        ([broker], NATS JetStream) for every console given the same config; their actions
        come back here, through this engine's policy and audit log."""
        from pbxtui.headless_collect import collect as run_collector

        cli._setup_logging(to_file=False)
        config = cli._load(options)
        if config.broker is None:
            cli._fail(
                f"{config.source}: no [broker] table, so there is nowhere to publish: add "
                f"one, e.g.\n{BROKER_EXAMPLE}"
            )
            return
        cli._warn_insecure(config)
        code = cli._serve_until_stopped(
            lambda: run_collector(
                config,
                read_only=options.read_only,
                say=lambda line: click.echo(line, err=True),
            )
        )
        sys.exit(code)

    cli.main.add_command(collect)
