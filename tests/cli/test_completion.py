"""Shell completion: PBX names come from the config the command line would read."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pbxtui.cli import main

CONFIG = """
[[pbx]]
name = "hq"
kind = "pbxcloud"
url = "https://pbx.example.com/pbx/proxyapi.php"
tenant = "ACME"
key = { env = "PBXTUI_TEST_UNSET_KEY" }

[[pbx]]
name = "hq-eu"
kind = "pbxcloud"
url = "https://eu.example.com/pbx/proxyapi.php"
tenant = "EUROPA"
key = { env = "PBXTUI_TEST_UNSET_KEY" }

[[pbx]]
name = "istanbul"
kind = "iexpbx"
url = "https://pbx.example.com.tr/api/old/get"
username = "api"
password = { file = "no-such.secret" }
"""


def complete(line: str, shell: str = "bash") -> list[str]:
    """What the shell would offer for the last word of ``line`` (click's completion protocol)."""
    words = line.split(" ")
    result = CliRunner().invoke(
        main,
        [],
        prog_name="pbxtui",
        env={
            "_PBXTUI_COMPLETE": f"{shell}_complete",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) - 1),
        },
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "pbx.toml"
    path.write_text(CONFIG)
    return path


def test_pbx_names_complete_from_the_config_without_its_secrets(config: Path) -> None:
    # The key's variable is unset and the password file missing: names still complete.
    assert complete(f"pbxtui --config {config} hangup ") == [
        "plain,hq",
        "plain,hq-eu",
        "plain,istanbul",
    ]
    assert complete(f"pbxtui --config {config} transfer hq") == ["plain,hq", "plain,hq-eu"]
    assert complete(f"pbxtui hangup --config {config} hq ") == []  # CALL_ID: not a PBX
    assert complete(f"pbxtui pause --config {config} i") == ["plain,istanbul"]
    assert complete(f"pbxtui --config {config} snapshot --pbx h") == ["plain,hq", "plain,hq-eu"]


def test_every_command_taking_a_pbx_completes_it(config: Path) -> None:
    for command in ("hangup", "transfer", "pause", "unpause", "call", "callback", "ivr",
                    "directory"):  # fmt: skip
        assert complete(f"pbxtui --config {config} {command} ist") == ["plain,istanbul"], command


def test_the_default_config_is_used_and_zsh_gets_each_kind(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PBXTUI_CONFIG", str(config))
    assert complete("pbxtui directory ist", shell="zsh") == ["plain", "istanbul", "iexpbx"]


def test_a_missing_or_broken_config_completes_nothing_silently(tmp_path: Path) -> None:
    assert complete(f"pbxtui --config {tmp_path / 'none.toml'} hangup ") == []
    broken = tmp_path / "broken.toml"
    broken.write_text("[[pbx]\nname = ")
    assert complete(f"pbxtui --config {broken} hangup ") == []
