"""Where pbxtui keeps its files, following the XDG base directory spec."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_demo_home: Path | None = None
"""Set while the demo runs (``use_demo_state``): every state file is under it."""


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    return Path(value) if value else Path.home() / fallback


def config_home() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / "pbxtui"


def state_home() -> Path:
    """Where the audit log, the app log and pending transfers live (the demo's own place
    while ``use_demo_state`` is in force)."""
    if _demo_home is not None:
        return _demo_home
    return _xdg("XDG_STATE_HOME", ".local/state") / "pbxtui"


def demo_state_home() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "pbxtui" / "demo"


@contextmanager
def use_demo_state() -> Iterator[Path]:
    """Within it, every state file (audit log, app log, pending transfers) is under
    ``$XDG_STATE_HOME/pbxtui/demo/``, whatever ``$PBXTUI_AUDIT_LOG`` says: the demo's
    simulated PBXs have names that look real ("hq"), and their actions must never land in
    the real audit log. Yields that directory."""
    global _demo_home
    previous, _demo_home = _demo_home, demo_state_home()
    try:
        yield _demo_home
    finally:
        _demo_home = previous


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
    override = os.environ.get("PBXTUI_AUDIT_LOG", "") if _demo_home is None else ""
    return Path(override) if override else state_home() / "audit.jsonl"


def app_log_path() -> Path:
    return state_home() / "pbxtui.log"


def consultations_path() -> Path:
    """Attended transfers waiting for their second step (a later console or CLI finds them)."""
    return state_home() / "consultations.json"


def private_dir(path: Path) -> Path:
    """``path`` made if missing, readable by its owner only when made here (a directory that
    exists already, perhaps shared on purpose, is left as it is)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def private_opener(path: str, flags: int) -> int:
    """An ``open(..., opener=)`` that creates the file mode 600 and makes an existing one so:
    the app log and the audit log hold phone numbers and who did what."""
    fd = os.open(path, flags, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return fd
