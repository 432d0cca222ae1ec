"""``pbxtui``: the console, the built-in demo, and the headless commands."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
import click
from click.shell_completion import CompletionItem

from pbxtui import headless, paths
from pbxtui.config import Config, ConfigError, example_config, load_config, pbx_names
from pbxtui.logfile import PrivateRotatingFileHandler
from pbxtui.model import (
    Action,
    ActionRequest,
    Callback,
    Click2Call,
    FetchDirectory,
    IvrCall,
    IvrCallRequest,
    PlaceCall,
    Resource,
    ScheduleCall,
)
from pbxtui.redact import ScrubbingFilter

T = TypeVar("T")


@dataclass
class Options:
    """The global options, given before the command, after it, or both."""

    config_path: Path | None = None
    read_only: bool = False
    mask_numbers: bool = False

    def config(self) -> Config:
        return load_config(paths.config_path(self.config_path)[0])

    def mask(self, config: Config) -> bool:
        """``--mask-numbers``, or ``mask_numbers = true`` in the config's ``[settings]``."""
        return self.mask_numbers or config.settings.mask_numbers


def _run(coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return anyio.run(coro_fn, backend="asyncio")


def _serve_until_stopped(coro_fn: Callable[[], Coroutine[Any, Any, int | None]]) -> int:
    """Run a serving command until it ends, or SIGINT / SIGTERM stops it (exit 0)."""
    from pbxtui.session_end import serve_until_stopped

    return _run(lambda: serve_until_stopped(coro_fn))


def _fail(message: str, code: int = headless.EXIT_USAGE) -> None:
    click.echo(f"pbxtui: {message}", err=True)
    sys.exit(code)


def _setup_logging(to_file: bool) -> None:
    handler: logging.Handler
    if to_file:
        handler = PrivateRotatingFileHandler(paths.app_log_path())
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubbingFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("pbxtui")
    root.handlers[:] = [handler]
    # On a terminal the command's own output already says what went wrong.
    root.setLevel(logging.INFO if to_file else logging.ERROR)
    root.propagate = False


def _load(options: Options) -> Config:
    try:
        return options.config()
    except ConfigError as exc:
        _fail(str(exc))
        raise AssertionError from exc  # unreachable: _fail exits


def _warn_insecure(config: Config) -> None:
    """Say what works but is unsafe (secrets others can read, TLS not verified), on stderr:
    before the console takes the screen, so it is there when the console exits too."""
    for warning in config.warnings:
        click.echo(f"pbxtui: warning: {warning}", err=True)
    unverified = [p.name for p in config.pbx if not p.verify_tls]
    if unverified:
        click.echo(
            f"pbxtui: warning: TLS verification OFF for {', '.join(unverified)} "
            "(verify_tls = false): their certificates are not checked",
            err=True,
        )


def _merge_option(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Fold one global option into the command line's ``Options``, wherever it was given."""
    options = ctx.ensure_object(Options)
    if param.name == "config_path":
        if value is not None:
            given = options.config_path
            if given is not None and given.resolve() != Path(value).resolve():
                raise click.UsageError(f"--config given twice ({given}, {value}): give it once")
            options.config_path = value
    elif value:
        setattr(options, str(param.name), True)
    return value


GLOBAL_OPTIONS = (
    click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        callback=_merge_option,
        help="Config file (default: $PBXTUI_CONFIG or $XDG_CONFIG_HOME/pbxtui/config.toml).",
    ),
    click.option(
        "--read-only",
        is_flag=True,
        expose_value=False,
        callback=_merge_option,
        help="Send no action to any PBX (UI and CLI).",
    ),
    click.option(
        "--mask-numbers",
        is_flag=True,
        expose_value=False,
        callback=_merge_option,
        help="Partly mask phone numbers (screen sharing).",
    ),
)

F = TypeVar("F", bound=Callable[..., Any])


def global_options(command: F) -> F:
    """``--config``, ``--read-only`` and ``--mask-numbers``: accepted after the command too
    (``pbxtui snapshot --json --read-only``), merged with those given before it."""
    for option in reversed(GLOBAL_OPTIONS):
        command = option(command)
    return command


def complete_pbx(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion of a PBX name, from the config this command line would read."""
    options = ctx.find_object(Options) or Options()
    path, _ = paths.config_path(options.config_path)
    return [
        CompletionItem(name, help=kind)
        for name, kind in pbx_names(path)
        if name.startswith(incomplete)
    ]


pbx_argument = click.argument("pbx", shell_complete=complete_pbx)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@global_options
@click.option("--demo", is_flag=True, help="Run the console on built-in simulated PBXs.")
@click.option(
    "--direct",
    is_flag=True,
    help="Poll the PBXs from this console even when the config has [broker].",
)
@click.version_option(package_name="pbxtui")
@click.pass_context
def main(ctx: click.Context, demo: bool, direct: bool) -> None:
    """A live-operations console for hosted PBXs. Without a command, opens the console."""
    ctx.ensure_object(Options)
    if ctx.invoked_subcommand is not None:
        return
    from pbxtui.allocator import settle_allocator

    settle_allocator()  # the console runs for days: keep its memory from creeping (why there)
    if demo:
        code = _run(lambda: _console_demo(ctx.obj))
    else:
        _setup_logging(to_file=True)
        config = _load(ctx.obj)
        _warn_insecure(config)
        code = _run(lambda: _console(config, ctx.obj, direct=direct))
    if code:
        sys.exit(code)


async def _console(
    config: Config,
    options: Options,
    *,
    on_hooks_listening: Callable[[Any], None] | None = None,
    demo: bool = False,
    direct: bool = False,
) -> int:
    """Runs the console until it is left; returns its exit status (128 + the signal's number
    when a hangup or SIGTERM stopped it)."""
    from pbxtui.launch import console_app
    from pbxtui.loop_probe import loop_probe
    from pbxtui.session_end import leaving_with_the_terminal

    app = console_app(
        config,
        read_only=options.read_only,
        mask_numbers=options.mask_numbers,
        on_hooks_listening=on_hooks_listening,
        open_engine_early=True,
        engine_in_thread=not demo,  # the demo's simulators answer from this loop anyway
        direct=direct or demo,
    )
    async with loop_probe():  # off unless PBXTUI_LOOP_PROBE is set (benchmarks)
        with leaving_with_the_terminal(lambda code: app.exit(return_code=code)):
            await app.run_async()
    return app.return_code or 0


async def _console_demo(options: Options) -> int:
    """The console on simulated PBXs; its audit log, app log and pending transfers are kept
    apart, under ``$XDG_STATE_HOME/pbxtui/demo/``, never with the real ones."""
    from pbxtui.session_end import HANGUP_STATUS
    from pbxtui.sim.fleet import running_demo

    with paths.use_demo_state() as home:
        # The simulators start afresh: a transfer left pending by an earlier demo is void.
        paths.consultations_path().unlink(missing_ok=True)
        _setup_logging(to_file=True)
        async with running_demo(poll_interval=1.0, timeout=3.0) as demo:
            # The receiver's port is free when it binds: the simulators learn it then.
            code = await _console(
                demo.config,
                options,
                on_hooks_listening=lambda server: demo.send_hooks_to(server.url),
                demo=True,
            )
    if code != HANGUP_STATUS:  # no terminal left to tell
        click.echo(f"pbxtui: the demo's actions were audited in {home / 'audit.jsonl'}", err=True)
    return code


pass_options = click.make_pass_decorator(Options)


@main.command()
@global_options
@pass_options
def check(options: Options) -> None:
    """Validate the config, reach each PBX, print health and capabilities (exit 1 on failure)."""
    _setup_logging(to_file=False)
    config = _load(options)
    _warn_insecure(config)
    lines = _run(lambda: headless.check(config, read_only=options.read_only))
    click.echo(f"config: {config.source} ({len(config.pbx)} PBX)")
    click.echo(headless.format_check(lines, mask=options.mask(config)))
    failed = [line.pbx for line in lines if not line.ok]
    if failed:
        click.echo(f"{len(failed)} of {len(lines)} PBX failed: {', '.join(failed)}", err=True)
        sys.exit(headless.EXIT_FAILED)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the normalized snapshot as JSON.")
@click.option("--pbx", "pbx", default=None, shell_complete=complete_pbx, help="Only this PBX.")
@global_options
@pass_options
def snapshot(options: Options, as_json: bool, pbx: str | None) -> None:
    """One poll round of every resource, normalized (exit 1 if any could not be read)."""
    _setup_logging(to_file=False)
    config = _load(options)
    if pbx is not None:
        try:
            config.get(pbx)
        except ConfigError as exc:
            _fail(str(exc))
    document = _run(lambda: headless.snapshot(config, pbx=pbx))
    if options.mask(config):
        document = headless.mask_document(document)
    click.echo(headless.snapshot_json(document) if as_json else headless.format_snapshot(document))
    errors = headless.snapshot_errors(document)
    for error in errors:
        click.echo(f"pbxtui: {error}", err=True)
    if errors:
        sys.exit(headless.EXIT_FAILED)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _confirmer(yes: bool) -> headless.Confirmer | None:
    if yes:
        return None
    if not _stdin_is_terminal():
        _fail("refusing to act without --yes: standard input is not a terminal", 1)

    def confirm(description: str, *, type_name: str) -> str | None:
        if type_name:
            typed: str = click.prompt(
                f"{description}\n{type_name} is protected: type its name to confirm",
                default="",
                show_default=False,
            )
            return typed.strip() if typed.strip() == type_name else None
        return "" if click.confirm(f"{description}\nProceed?", default=False) else None

    return confirm


def _perform(
    options: Options,
    pbx: str,
    action: Action,
    build: headless.Builder,
    *,
    yes: bool,
    needs: tuple[Resource, ...] = (),
    confirm_pbx: str = "",
    target: str = "",
) -> None:
    """Every action command: confirm unless --yes, perform, say the result, exit with its code."""
    _setup_logging(to_file=False)
    config = _load(options)
    confirm = _confirmer(yes)
    try:
        code, text, _ = _run(
            lambda: headless.act(
                config,
                pbx,
                action,
                build,
                confirm=confirm,
                read_only=options.read_only,
                needs=needs,
                confirmed_pbx=confirm_pbx,
                target=target,
                mask=options.mask(config),
            )
        )
    except ConfigError as exc:
        _fail(str(exc))
        return
    click.echo(text, err=code != headless.EXIT_OK)
    sys.exit(code)


yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
confirm_pbx_option = click.option(
    "--confirm-pbx",
    default="",
    metavar="NAME",
    help="The PBX's name, to confirm a destructive action on a protected PBX.",
)


@main.command()
@pbx_argument
@click.argument("call_id")
@yes_option
@confirm_pbx_option
@global_options
@pass_options
def hangup(options: Options, pbx: str, call_id: str, yes: bool, confirm_pbx: str) -> None:
    """Hang up CALL_ID (its id or channel, as `snapshot` shows) on PBX."""
    _perform(
        options,
        pbx,
        Action.HANGUP,
        headless.hangup_request(call_id),
        yes=yes,
        needs=(Resource.CALLS,),
        confirm_pbx=confirm_pbx,
        target=call_id,
    )


@main.command()
@pbx_argument
@click.argument("call_id")
@click.argument("destination", required=False, default="")
@click.option("--attended", is_flag=True, help="Consult DESTINATION first (attended transfer).")
@click.option("--complete", is_flag=True, help="Finish the pending attended transfer of CALL_ID.")
@click.option("--cancel", is_flag=True, help="Cancel the pending attended transfer of CALL_ID.")
@yes_option
@confirm_pbx_option
@global_options
@pass_options
def transfer(
    options: Options,
    pbx: str,
    call_id: str,
    destination: str,
    attended: bool,
    complete: bool,
    cancel: bool,
    yes: bool,
    confirm_pbx: str,
) -> None:
    """Transfer CALL_ID on PBX to DESTINATION (blind unless --attended).

    An attended transfer consults DESTINATION while the caller holds; finish it with
    `transfer PBX CALL_ID --complete` (or --cancel), from here or from the console.
    """
    if sum((attended, complete, cancel)) > 1:
        _fail("choose one of --attended, --complete and --cancel")
    if complete or cancel:
        if destination:
            _fail("--complete and --cancel take no DESTINATION: the pending transfer has one")
        build = headless.consultation_request(call_id, complete=complete)
        action = Action.ATTENDED_TRANSFER
    else:
        if not destination:
            _fail("DESTINATION is missing (or use --complete / --cancel)")
        build = headless.transfer_request(call_id, destination, attended=attended)
        action = Action.ATTENDED_TRANSFER if attended else Action.TRANSFER
    _perform(
        options,
        pbx,
        action,
        build,
        yes=yes,
        needs=(Resource.CALLS,),
        confirm_pbx=confirm_pbx,
        target=call_id,
    )


@main.command()
@pbx_argument
@click.argument("agent")
@click.option("--queue", default="", help="Only in this queue (default: every queue it is in).")
@click.option("--reason", default="Break", show_default=True, help="Pause reason.")
@yes_option
@global_options
@pass_options
def pause(options: Options, pbx: str, agent: str, queue: str, reason: str, yes: bool) -> None:
    """Pause queue AGENT (its extension or agent id) on PBX, with a reason."""
    build = headless.agent_requests(Action.PAUSE, agent, queue, reason)
    _perform(options, pbx, Action.PAUSE, build, yes=yes, needs=(Resource.AGENTS,), target=agent)


@main.command()
@pbx_argument
@click.argument("agent")
@click.option("--queue", default="", help="Only in this queue (default: every queue it is in).")
@yes_option
@global_options
@pass_options
def unpause(options: Options, pbx: str, agent: str, queue: str, yes: bool) -> None:
    """Unpause queue AGENT (its extension or agent id) on PBX."""
    build = headless.agent_requests(Action.UNPAUSE, agent, queue)
    _perform(options, pbx, Action.UNPAUSE, build, yes=yes, needs=(Resource.AGENTS,), target=agent)


@main.command()
@pbx_argument
@click.argument("source")
@click.argument("destination")
@click.option("--caller-id", default="", help="Caller id to present (digits).")
@click.option("--timeout", type=click.IntRange(1, 300), help="Seconds the first leg may ring.")
@click.option("--reverse", is_flag=True, help="Dial DESTINATION first (dialup.php PBXs).")
@click.option(
    "--at",
    "scheduled_at",
    type=click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]),
    help="Schedule the call for this local time instead of now (dialup.php PBXs).",
)
@click.option("--max-retry", type=click.IntRange(0, 20), help="Scheduled call: retries.")
@click.option(
    "--retry-time", type=click.IntRange(1, 86400), help="Scheduled call: between retries."
)
@click.option("--ident", default="", help="Scheduled call: organisation identification.")
@yes_option
@global_options
@pass_options
def call(
    options: Options,
    pbx: str,
    source: str,
    destination: str,
    caller_id: str,
    timeout: int | None,
    reverse: bool,
    scheduled_at: datetime | None,
    max_retry: int | None,
    retry_time: int | None,
    ident: str,
    yes: bool,
) -> None:
    """Click2call on PBX: ring SOURCE, then connect it to DESTINATION."""
    if scheduled_at is None:
        for name, value in (("--max-retry", max_retry), ("--retry-time", retry_time)):
            if value is not None:
                _fail(f"{name} applies only to a scheduled call: add --at, or leave it out")
        if ident:
            _fail("--ident applies only to a scheduled call: add --at, or leave it out")
    else:
        now = datetime.now()
        if scheduled_at <= now:
            _fail(
                f"--at {scheduled_at:%Y-%m-%d %H:%M} is in the past (it is {now:%Y-%m-%d %H:%M} "
                "here): give a time to come"
            )
    dial = Click2Call(
        source=source,
        destination=destination,
        caller_id=caller_id,
        timeout=timeout,
        reverse=reverse,
        scheduled_at=scheduled_at,
        max_retry=max_retry,
        retry_time=retry_time,
        ident=ident,
    )
    request: ActionRequest = (
        ScheduleCall(pbx=pbx, dial=dial) if scheduled_at else PlaceCall(pbx=pbx, dial=dial)
    )
    _send_fixed(options, request, yes=yes)


def _send_fixed(options: Options, request: ActionRequest, *, yes: bool) -> None:
    build = headless.fixed_request(request)
    _perform(options, request.pbx, request.capability, build, yes=yes)


@main.command()
@pbx_argument
@click.argument("number1")
@click.argument("number2")
@yes_option
@global_options
@pass_options
def callback(options: Options, pbx: str, number1: str, number2: str, yes: bool) -> None:
    """Connect NUMBER1 and NUMBER2 through PBX, each seeing the PBX's number (IEXPBX)."""
    _send_fixed(options, Callback(pbx=pbx, number1=number1, number2=number2), yes=yes)


@main.command()
@pbx_argument
@click.argument("number")
@click.option("--dialplan", default="", help="Dial plan (context) to run the call in.")
@click.option("--dest", default="", help="Where the call goes once answered.")
@click.option("--announce", "announcements", multiple=True, help="Announcement or TTS text.")
@yes_option
@global_options
@pass_options
def ivr(
    options: Options,
    pbx: str,
    number: str,
    dialplan: str,
    dest: str,
    announcements: tuple[str, ...],
    yes: bool,
) -> None:
    """Place an outgoing IVR call to NUMBER with announcements (IEXPBX)."""
    ivr = IvrCall(number=number, dialplan=dialplan, destination=dest, announcements=announcements)
    _send_fixed(options, IvrCallRequest(pbx=pbx, ivr=ivr), yes=yes)


@main.command()
@pbx_argument
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@global_options
@pass_options
def directory(options: Options, pbx: str, as_json: bool) -> None:
    """Print PBX's phone directory (IEXPBX)."""
    _setup_logging(to_file=False)
    config = _load(options)
    request = FetchDirectory(pbx=pbx)
    mask = options.mask(config)
    try:
        code, text, outcomes = _run(
            lambda: headless.act(
                config,
                pbx,
                Action.PHONEBOOK,
                headless.fixed_request(request),
                confirm=None,
                mask=mask,
            )
        )
    except ConfigError as exc:
        _fail(str(exc))
        return
    if code != headless.EXIT_OK or not outcomes:
        click.echo(text, err=True)
        sys.exit(code)
    entries = [e.model_dump(mode="json") for e in outcomes[0].entries]
    if mask:
        entries = headless.mask_document(entries)
    if as_json:
        click.echo(headless.pretty_json(entries))
    else:
        for entry in entries:
            click.echo(f"{entry['number']:<16} {entry['name']}")


@main.group(name="config")
def config_command() -> None:
    """The config file: an example to start from, and which file is read."""


@config_command.command(name="example")
def config_example() -> None:
    """Print a commented config setting every key of every vendor kind.

    Save it where `pbxtui config path` says, edit it, then run `pbxtui check`.
    """
    click.echo(example_config(), nl=False)


@config_command.command(name="path")
@global_options
@pass_options
def config_path(options: Options) -> None:
    """Print the config file that would be read (--config, $PBXTUI_CONFIG or the default)."""
    path, source = paths.config_path(options.config_path)
    click.echo(str(path))
    if not path.expanduser().exists():
        click.echo(
            f"pbxtui: {path} ({source}) does not exist yet: "
            f"pbxtui config example > {path}, then edit it",
            err=True,
        )


@main.command()
@click.option(
    "--listen",
    "listen_at",
    metavar="HOST:PORT",
    default=None,
    help="Listen here rather than at [webhooks] listen (e.g. 0.0.0.0:8787).",
)
@click.option(
    "--state",
    "with_state",
    is_flag=True,
    help='Also one JSON line per change of the state the pushes make ("type": "update").',
)
@global_options
@pass_options
def listen(options: Options, listen_at: str | None, with_state: bool) -> None:
    """Receive what the PBXs push ([webhooks]): one JSON line per accepted event on standard
    output, one line per refused request on standard error; with --state, each update of
    the state those events make (and the refusals counted) as one more JSON line."""
    from pbxtui.config import split_listen
    from pbxtui.hooks.listen import listen as run_listener

    _setup_logging(to_file=False)
    config = _load(options)
    if config.webhooks is None:
        _fail(
            f"{config.source}: no [webhooks] table, so nothing is received: add one, e.g.\n"
            '  [webhooks]\n  listen = "127.0.0.1:8787"\n  token = { env = "PBXTUI_HOOK_TOKEN" }'
        )
        return
    if listen_at is not None:
        try:
            split_listen(listen_at)
        except ValueError as exc:
            _fail(f"--listen {listen_at}: {exc}")
        hooks = config.webhooks.model_copy(update={"listen": listen_at.strip()})
        config = config.model_copy(update={"webhooks": hooks})
    _warn_insecure(config)
    mask = options.mask(config)
    runner = run_listener
    if with_state:
        from pbxtui.headless_listen import listen_with_state as runner
    code = _serve_until_stopped(
        lambda: runner(
            config, out=click.echo, err=lambda line: click.echo(line, err=True), mask=mask
        )
    )
    sys.exit(code)


@main.command()
@click.option(
    "--write-config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write a config file that points at the simulators (with [webhooks] and [lookup]).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="NAME:FAULT[=VALUE]",
    help="Start a simulator broken, e.g. hq:hang, eu:latency=2, branch:auth_refused, crm:hang.",
)
@click.option("--port", "ports", multiple=True, metavar="NAME=PORT", help="Fix a simulator's port.")
@click.option(
    "--hooks",
    "hooks_url",
    metavar="URL",
    help="Send every simulator's webhooks to this receiver (a console's [webhooks] listen "
    "address or `pbxtui listen`), e.g. http://127.0.0.1:8787; each PBX at URL/hook/NAME. "
    "Default with --write-config: http://127.0.0.1:8787.",
)
@click.option(
    "--hooks-token",
    metavar="TOKEN",
    help="The receiver's token (default: one made up for this run, written by --write-config).",
)
def sim(
    write_config: Path | None,
    faults: tuple[str, ...],
    ports: tuple[str, ...],
    hooks_url: str | None,
    hooks_token: str | None,
) -> None:
    """Serve the simulated PBXs, a push-only While1 Voice PBX and a CRM on 127.0.0.1 until
    interrupted; with --hooks (or --write-config) the PBXs also send their webhooks."""
    from pbxtui.sim.crm import SimulatedCrm
    from pbxtui.sim.fleet import (
        CRM_NAME,
        DEFAULT_LISTEN,
        PUSH_FLEET,
        FleetHooks,
        build_fleet,
        made_up_token,
    )

    _setup_logging(to_file=False)
    sims = build_fleet(PUSH_FLEET)
    crm = SimulatedCrm(seed=7, token=made_up_token())
    by_name = {s.name: s.faults for s in sims} | {CRM_NAME: crm.faults}
    try:
        fixed_ports = {k: int(v) for k, _, v in (p.partition("=") for p in ports)}
        for spec in faults:
            name, _, fault = spec.partition(":")
            key, _, value = fault.partition("=")
            by_name[name].update({key: value or True})
    except (KeyError, ValueError) as exc:
        _fail(f"bad --fault/--port value: {exc}")
    hooks = None
    if hooks_url or write_config:
        # A token made up here is only of use when written into the receiver's config.
        token = hooks_token or (made_up_token() if write_config else "")
        hooks = FleetHooks(hooks_url or f"http://{DEFAULT_LISTEN}", token)
    _serve_until_stopped(lambda: _serve_fleet(sims, fixed_ports, write_config, hooks, crm))


async def _serve_fleet(
    sims: list[Any], ports: dict[str, int], write_config: Path | None, hooks: Any, crm: Any
) -> None:
    from pbxtui.sim.fleet import describe, serving_fleet, write_private

    async with serving_fleet(sims, ports=ports, hooks=hooks, crm=crm) as fleet:
        for line in describe(fleet):
            click.echo(line)
        if write_config:
            write_private(write_config, fleet.config_toml(push=True))
            click.echo(f"config written to {write_config}")
            click.echo(f"try: pbxtui --config {write_config} check")
        click.echo("serving; Ctrl-C stops")
        await anyio.sleep_forever()


def _add_extras() -> None:
    # The extras', history's and media's commands are built with this module's helpers, once
    # they all exist.
    from pbxtui import cli_broker, cli_extras, cli_history

    cli_extras.register(sys.modules[__name__])
    cli_history.register(sys.modules[__name__])
    cli_broker.register(sys.modules[__name__])


_add_extras()
