"""Where pbxtui keeps its files, following the XDG base directory spec."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    return Path(value) if value else Path.home() / fallback


def config_home() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "pbxtui"


def state_home() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "pbxtui"


def default_config_path() -> Path:
    """``--config`` wins over ``PBXTUI_CONFIG``, which wins over this."""
    override = os.environ.get("PBXTUI_CONFIG", "")
    return Path(override) if override else config_home() / "config.toml"


def config_path(given: Path | None = None) -> tuple[Path, str]:
    """The config file that would be read, and why: ``--config``, else ``$PBXTUI_CONFIG``,
    else the XDG default."""
    if given is not None:
        return given, "--config"
    if os.environ.get("PBXTUI_CONFIG", ""):
        return default_config_path(), "$PBXTUI_CONFIG"
    return default_config_path(), "the default location"


def audit_log_path() -> Path:
    override = os.environ.get("PBXTUI_AUDIT_LOG", "")
    return Path(override) if override else state_home() / "audit.jsonl"


def app_log_path() -> Path:
    return state_home() / "pbxtui.log"


def consultations_path() -> Path:
    """Attended transfers waiting for their second step (a later console or CLI finds them)."""
    return state_home() / "consultations.json"
