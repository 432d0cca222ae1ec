"""UI test fixtures: keep the audit log of app-built engines out of the real state dir."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _audit_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "audit.jsonl"
    monkeypatch.setenv("PBXTUI_AUDIT_LOG", str(path))
    return path
