"""`pbxtui config example` and `pbxtui config path`: a pipx user has no README at hand."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from pbxtui.config import KINDS, TABLES, Config, Settings, Thresholds, field_names, load_config
from tests.cli.test_commands import run

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """What the examples' secrets point at: two environment variables and a file in ~."""
    monkeypatch.setenv("HQ_API_KEY", "CANARY-hq-key")
    monkeypatch.setenv("BRANCH_PASS", "CANARY-branch-pass")
    monkeypatch.setenv("PBXTUI_HOOK_TOKEN", "CANARY-hook-token")
    monkeypatch.setenv("CRM_TOKEN", "CANARY-crm-token")
    monkeypatch.setenv("NATS_TOKEN", "CANARY-nats-token")
    for name in ("BRANCH_ORG_TOKEN", "BRANCH_PANEL_USER", "BRANCH_PANEL_PASS"):
        monkeypatch.setenv(name, f"CANARY-{name.lower()}")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    secret = tmp_path / "home" / ".config" / "pbxtui" / "istanbul.secret"
    secret.parent.mkdir(parents=True)
    secret.write_text("CANARY-istanbul-password\n")
    (secret.parent / "contacts.csv").write_text("number,name\n0501234567,Dana\n")
    return tmp_path


def test_config_example_loads_with_the_real_loader(secrets: Path) -> None:
    code, out, err = run("config", "example")
    assert code == 0 and err == ""
    path = secrets / "example.toml"
    path.write_text(out)
    config = load_config(path)
    assert {p.kind for p in config.pbx} == set(KINDS)
    assert [p.name for p in config.pbx] == ["hq", "istanbul", "branch", "callcenter"]
    assert config.get("istanbul").password.get_secret_value() == "CANARY-istanbul-password"  # type: ignore[union-attr]


def test_config_example_sets_every_setting_of_every_kind() -> None:
    _, out, _ = run("config", "example")
    data = tomllib.loads(out)

    def keys(model: type[BaseModel]) -> set[str]:
        return set(field_names(model))

    assert set(data) == keys(Config)
    assert set(data["settings"]) == keys(Settings)
    assert set(data["settings"]["thresholds"]) == keys(Thresholds)
    for entry in data["pbx"]:
        assert set(entry) == keys(KINDS[entry["kind"]]), entry["kind"]
    for table in ("webhooks", "contacts", "lookup"):
        assert set(data[table]) == keys(TABLES[table]), table
    assert "# " in out  # commented


def test_config_example_without_its_secrets_says_which_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "example.toml"
    path.write_text(run("config", "example")[1])
    code, _, err = run("--config", str(path), "check")
    assert code == 2 and "environment variable HQ_API_KEY is not set" in err


def test_the_readme_example_loads_too(secrets: Path) -> None:
    block = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block is not None
    path = secrets / "readme.toml"
    path.write_text(block.group(1))
    assert {p.kind for p in load_config(path).pbx} == set(KINDS)


def test_config_path_says_which_file_would_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = tmp_path / "config" / "pbxtui" / "config.toml"  # XDG_CONFIG_HOME (conftest)
    code, out, err = run("config", "path")
    assert code == 0 and out == f"{default}\n"
    assert "does not exist yet" in err and "pbxtui config example >" in err

    monkeypatch.setenv("PBXTUI_CONFIG", str(tmp_path / "env.toml"))
    (tmp_path / "env.toml").write_text("")
    code, out, err = run("config", "path")
    assert (code, out, err) == (0, f"{tmp_path / 'env.toml'}\n", "")

    assert run("config", "path", "--config", "given.toml")[1] == "given.toml\n"
    assert run("--config", "given.toml", "config", "path")[1] == "given.toml\n"


def test_a_missing_config_points_at_config_example(tmp_path: Path) -> None:
    code, _, err = run("--config", str(tmp_path / "none.toml"), "check")
    assert code == 2 and "pbxtui config example >" in err and "pbxtui --demo" in err
