"""The app log is owner-only (it holds phone numbers) and rotated by size."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from pbxtui import cli, paths
from pbxtui.logfile import PrivateRotatingFileHandler


@pytest.fixture
def world_umask() -> Iterator[None]:
    """A umask that would make any new file readable by everyone."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@pytest.fixture
def restore_logging() -> Iterator[logging.Logger]:
    logger = logging.getLogger("pbxtui")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield logger
    for handler in logger.handlers:
        handler.close()
    logger.handlers[:], logger.level, logger.propagate = saved


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("world_umask")
def test_the_console_log_is_created_owner_only(restore_logging: logging.Logger) -> None:
    cli._setup_logging(to_file=True)
    restore_logging.warning("call from 0501234567")
    path = paths.app_log_path()
    assert "0501234567" in path.read_text()
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700


def test_an_existing_world_readable_log_is_made_owner_only(
    restore_logging: logging.Logger,
) -> None:
    path = paths.app_log_path()
    path.parent.mkdir(parents=True)
    path.write_text("old line\n")
    path.chmod(0o644)
    cli._setup_logging(to_file=True)
    restore_logging.warning("new line")
    assert mode(path) == 0o600
    assert path.read_text().startswith("old line\n")  # appended to, not replaced


@pytest.mark.usefixtures("world_umask")
def test_rotated_by_size_every_file_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "pbxtui.log"
    handler = PrivateRotatingFileHandler(path, max_bytes=1_000, backups=2)
    logger = logging.getLogger("pbxtui.test.logfile")
    logger.addHandler(handler)
    try:
        for n in range(100):
            logger.warning("line %03d %s", n, "x" * 40)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == ["pbxtui.log", "pbxtui.log.1", "pbxtui.log.2"]
    assert all(mode(f) == 0o600 and f.stat().st_size <= 1_000 for f in files)
    assert "line 099" in path.read_text()
