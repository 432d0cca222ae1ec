"""``pbxtui``: the console, the built-in demo, and the headless commands."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
import click

from pbxtui import headless, paths
from pbxtui.config import Config, ConfigError, load_config
from pbxtui.redact import ScrubbingFilter

T = TypeVar("T")


@dataclass
class Options:
    config_path: Path | None
    read_only: bool
    mask_numbers: bool

    def config(self) -> Config:
        return load_config(self.config_path or paths.default_config_path())


def _run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return anyio.run(coro_fn, backend="asyncio")


def _fail(message: str, code: int = headless.EXIT_USAGE) -> None:
    click.echo(f"pbxtui: {message}", err=True)
    sys.exit(code)


def _setup_logging(to_file: bool) -> None:
    handler: logging.Handler
    if to_file:
        path = paths.app_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubbingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("pbxtui")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if to_file else logging.WARNING)
    root.propagate = False


def _load(options: Options) -> Config:
    try:
        return options.config()
    except ConfigError as exc:
        _fail(str(exc))
        raise AssertionError from exc  # unreachable: _fail exits


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: $PBXTUI_CONFIG or $XDG_CONFIG_HOME/pbxtui/config.toml).",
)
@click.option("--demo", is_flag=True, help="Run the console on built-in simulated PBXs.")
@click.option("--read-only", is_flag=True, help="Send no action to any PBX (UI and CLI).")
@click.option("--mask-numbers", is_flag=True, help="Partly mask phone numbers (screen sharing).")
@click.version_option(package_name="pbxtui")
@click.pass_context
def main(
    ctx: click.Context, config_path: Path | None, demo: bool, read_only: bool, mask_numbers: bool
) -> None:
    """A live-operations console for hosted PBXs. Without a command, opens the console."""
    ctx.obj = Options(config_path, read_only, mask_numbers)
    if ctx.invoked_subcommand is not None:
        return
    _setup_logging(to_file=True)
    if demo:
        _run(lambda: _console_demo(ctx.obj))
    else:
        config = _load(ctx.obj)
        _run(lambda: _console(config, ctx.obj))


async def _console(config: Config, options: Options) -> None:
    from pbxtui.ui.app import PbxApp

    await PbxApp(config, read_only=options.read_only, mask_numbers=options.mask_numbers).run_async()


async def _console_demo(options: Options) -> None:
    from pbxtui.sim.fleet import running_fleet

    async with running_fleet(poll_interval=1.0, timeout=3.0) as (config, _, _):
        await _console(config, options)


pass_options = click.make_pass_decorator(Options)


@main.command()
@pass_options
def check(options: Options) -> None:
    """Validate the config, reach each PBX, print health and capabilities (exit 1 on failure)."""
    _setup_logging(to_file=False)
    config = _load(options)
    lines = _run(lambda: headless.check(config, read_only=options.read_only))
    click.echo(f"config: {config.source} ({len(config.pbx)} PBX)")
    click.echo(headless.format_check(lines))
    failed = [line.pbx for line in lines if not line.ok]
    if failed:
        click.echo(f"{len(failed)} of {len(lines)} PBX failed: {', '.join(failed)}", err=True)
        sys.exit(headless.EXIT_FAILED)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the normalized snapshot as JSON.")
@click.option("--pbx", "pbx", default=None, help="Only this PBX.")
@pass_options
def snapshot(options: Options, as_json: bool, pbx: str | None) -> None:
    """One poll round of every resource, normalized."""
    _setup_logging(to_file=False)
    config = _load(options)
    if pbx is not None:
        try:
            config.get(pbx)
        except ConfigError as exc:
            _fail(str(exc))
    document = _run(lambda: headless.snapshot(config, pbx=pbx))
    click.echo(headless.snapshot_json(document) if as_json else headless.format_snapshot(document))


def _confirmer(yes: bool) -> headless.ConfirmFn | None:
    if yes:
        return None
    if not sys.stdin.isatty():
        _fail("refusing to act without --yes: standard input is not a terminal", 1)

    def confirm(description: str) -> bool:
        return click.confirm(f"{description}\nProceed?", default=False)

    return confirm


def _act(options: Options, pbx: str, code_and_text: tuple[int, str]) -> None:
    code, text = code_and_text
    click.echo(text, err=code != headless.EXIT_OK)
    sys.exit(code)


@main.command()
@click.argument("pbx")
@click.argument("call_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_options
def hangup(options: Options, pbx: str, call_id: str, yes: bool) -> None:
    """Hang up CALL_ID (its id or channel, as `snapshot` shows) on PBX."""
    from pbxtui.drivers.base import Resource

    _setup_logging(to_file=False)
    config = _load(options)
    confirm = _confirmer(yes)
    try:
        result = _run(
            lambda: headless.act(
                config,
                pbx,
                headless.hangup_request(call_id),
                confirm=confirm,
                read_only=options.read_only,
                needs=[Resource.CALLS],
            )
        )
    except ConfigError as exc:
        _fail(str(exc))
        return
    _act(options, pbx, result)


@main.command()
@click.option(
    "--write-config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a config file that points at the simulators.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME:FAULT[=VALUE]",
    help="Start a simulator broken, e.g. hq:hang, eu:latency=2, branch:auth_refused.",
)
@click.option("--port", "ports", multiple=True, metavar="NAME=PORT", help="Fix a simulator's port.")
def sim(write_config: Path | None, faults: tuple[str, ...], ports: tuple[str, ...]) -> None:
    """Serve the simulated PBXs on 127.0.0.1 until interrupted."""
    from pbxtui.sim.fleet import build_fleet

    _setup_logging(to_file=False)
    sims = build_fleet()
    by_name = {s.name: s for s in sims}
    try:
        fixed_ports = {k: int(v) for k, _, v in (p.partition("=") for p in ports)}
        for spec in faults:
            name, _, fault = spec.partition(":")
            key, _, value = fault.partition("=")
            by_name[name].faults.update({key: value or True})
    except (KeyError, ValueError) as exc:
        _fail(f"bad --fault/--port value: {exc}")
    with contextlib.suppress(KeyboardInterrupt):
        _run(lambda: _serve_fleet(sims, fixed_ports, write_config))


async def _serve_fleet(sims: list[Any], ports: dict[str, int], write_config: Path | None) -> None:
    from pbxtui.sim.faults import CONTROL_PATH
    from pbxtui.sim.fleet import running_fleet

    async with running_fleet(sims, ports=ports, write_config=write_config) as (_, _, bound):
        for s in sims:
            click.echo(f"{s.name:<10} {s.kind:<9} {s.url(bound[s.name])}")
            click.echo(f"{'':<20} faults: http://127.0.0.1:{bound[s.name]}{CONTROL_PATH}")
        if write_config:
            click.echo(f"config written to {write_config}")
            click.echo(f"try: pbxtui --config {write_config} check")
        click.echo("serving; Ctrl-C stops")
        await anyio.sleep_forever()


if __name__ == "__main__":
    main()
