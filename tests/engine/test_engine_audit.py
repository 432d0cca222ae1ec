"""AuditLog: JSON lines, owner-only, scrubbed."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path

from pbxtui import redact
from pbxtui.engine.audit import AuditLog


def test_entries_are_json_lines_with_every_field(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "deep" / "dir" / "audit.jsonl")
    log.append(
        pbx="hq",
        action="hangup",
        target="SIP/201-1 (0501 → 201)",
        params={"call_id": "c1"},
        result="ok",
        message="Channel Hungup",
    )
    log.append(pbx="eu", action="pause", target="agent 201", params={}, result="failed", message="")
    entries = log.read_entries()
    assert len(entries) == 2
    first = entries[0]
    assert set(first) == {"time", "user", "pbx", "action", "target", "params", "result", "message"}
    assert first["pbx"] == "hq" and first["result"] == "ok" and first["params"] == {"call_id": "c1"}
    assert first["user"]
    offset = datetime.fromisoformat(first["time"]).utcoffset()
    assert offset is not None and offset.total_seconds() == 0
    assert entries[1]["pbx"] == "eu"
    assert len(log.path.read_text().splitlines()) == 2


def test_the_file_is_owner_only_even_if_it_was_not(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text("")
    path.chmod(0o644)
    AuditLog(path).append(pbx="hq", action="x", target="", params={}, result="ok", message="")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    fresh = AuditLog(tmp_path / "new" / "audit.jsonl")
    fresh.append(pbx="hq", action="x", target="", params={}, result="ok", message="")
    assert stat.S_IMODE(fresh.path.stat().st_mode) == 0o600


def test_secrets_are_scrubbed_from_every_string(tmp_path: Path) -> None:
    secret = "AUDIT-CANARY-987"
    redact.secrets.add(secret)
    log = AuditLog(tmp_path / "audit.jsonl", user=f"u-{secret}")
    log.append(
        pbx="hq",
        action="hangup",
        target=f"t {secret}",
        params={"destination": f"d {secret}"},
        result="failed",
        message=f"bad key {secret}",
    )
    text = log.path.read_text()
    assert secret not in text
    assert text.count(redact.MASK) == 4


def test_reading_a_missing_log_is_empty(tmp_path: Path) -> None:
    assert AuditLog(tmp_path / "none.jsonl").read_entries() == []
