"""Insecure set-ups are said, and hostile config files are refused with exit 2, no traceback."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pbxtui import cli
from pbxtui.cli import main
from tests.cli.conftest import ThreadedFleet


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def pbx_line(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"{name} "))


def test_check_says_tls_verification_off_yet_passes(fleet: ThreadedFleet, tmp_path: Path) -> None:
    config = fleet.write_config(tmp_path / "insecure.toml", hq={"verify_tls": False})
    config.chmod(0o600)
    code, out, err = run("--config", str(config), "check")
    assert code == 0, out + err
    assert pbx_line(out, "hq").endswith("[TLS verification OFF]")
    assert "TLS verification OFF (verify_tls = false)" in out
    assert all("TLS" not in pbx_line(out, name) for name in fleet.sims if name != "hq")
    assert "TLS verification OFF for hq" in err


def test_check_warns_of_a_config_others_can_read(fleet: ThreadedFleet, tmp_path: Path) -> None:
    config = fleet.write_config(tmp_path / "shared.toml")
    config.chmod(0o644)
    code, _, err = run("--config", str(config), "check")
    assert code == 0
    assert f"{config}: readable by other users" in err and f"chmod 600 {config}" in err
    assert 'the key of "hq"' in err

    config.chmod(0o600)
    code, _, err = run("--config", str(config), "check")
    assert code == 0 and "warning" not in err


def test_the_console_warns_before_it_starts(
    fleet: ThreadedFleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = fleet.write_config(tmp_path / "shared.toml", eu={"verify_tls": False})
    config.chmod(0o640)
    started: list[Any] = []

    async def console(config: Any, options: Any, **_: Any) -> None:
        started.append(config)

    monkeypatch.setattr(cli, "_console", console)
    code, _, err = run("--config", str(config))
    assert code == 0 and started
    assert f"chmod 600 {config}" in err and "TLS verification OFF for eu" in err
    assert stat.S_IMODE(config.stat().st_mode) == 0o640  # said, never changed behind one's back


HOSTILE = {
    "nested array": ("x = " + "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    "nested table": ("x = " + "{ a = " * 50_000 + "1" + " }" * 50_000, "nested too deeply"),
    "endless secret": (
        '[[pbx]]\nname = "hq"\nkind = "iexpbx"\nurl = "http://h/api/old/get"\n'
        'username = "u"\npassword = { file = "/dev/zero" }\n',
        "larger than 64 KiB",
    ),
    "duplicate names": (
        '[[pbx]]\nname = "hq"\nkind = "iexpbx"\nurl = "http://h/a"\nusername = "u"\n'
        'password = "secret-1"\n\n[[pbx]]\nname = "hq"\nkind = "iexpbx"\nurl = "http://h/b"\n'
        'username = "u"\npassword = "secret-2"\n',
        'lines 2 and 9: [[pbx]] #1 and #2 are both named "hq"',
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_config_exits_2_naming_the_file(case: str, tmp_path: Path) -> None:
    text, expected = HOSTILE[case]
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    code, out, err = run("--config", str(path), "check")
    assert code == 2, out + err
    assert err.startswith(f"pbxtui: {path}: ") and expected in err
    assert "Traceback" not in out + err
