"""AuditLog: JSON lines, owner-only, scrubbed, synced per line, rotated by size."""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from pbxtui import redact
from pbxtui.engine.audit import AuditLog
from pbxtui.model import ActionStatus, Call, Hangup


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
    assert set(first) == {
        "time",
        "id",
        "user",
        "pbx",
        "action",
        "target",
        "params",
        "result",
        "message",
    }
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


# -- rotation, durability, concurrent writers ---------------------------------------------------


def _entry(log: AuditLog, n: int) -> None:
    log.append(
        pbx="hq", action="hangup", target=f"call {n:04d}", params={}, result="ok", message=""
    )


def test_rotates_by_size_keeping_the_newest_files(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", max_bytes=2_000, backups=2)
    for n in range(60):
        _entry(log, n)
    files = [log.path, log.rotated(1), log.rotated(2)]
    assert all(path.exists() for path in files) and not log.rotated(3).exists()
    assert all(0 < path.stat().st_size <= 2_000 for path in files)
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    targets = [e["target"] for e in log.read_entries(rotated=True)]
    # The newest entries, in order, none lost between the files kept.
    assert targets == [f"call {n:04d}" for n in range(60 - len(targets), 60)]
    assert len(targets) > len(log.read_entries())


def test_each_line_is_on_disk_before_append_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if log.path.exists() and os.fstat(fd).st_ino == log.path.stat().st_ino:
            synced.append(len(log.path.read_text().splitlines()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    for n in range(3):
        _entry(log, n)
    assert synced == [1, 2, 3]  # one fsync per line, once the line is in the file


def _writer(path: str, worker: int, count: int) -> None:
    log = AuditLog(Path(path), max_bytes=2_000, backups=100)
    for n in range(count):
        log.append(pbx="hq", action="x", target=f"{worker}-{n}", params={}, result="ok", message="")


def test_processes_writing_at_once_lose_and_mix_no_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(str(path), w, 100)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    entries = AuditLog(path, backups=100).read_entries(rotated=True)  # every line parses
    assert sorted(e["target"] for e in entries) == sorted(
        f"{w}-{n}" for w in range(4) for n in range(100)
    )
    # Rotated while they all wrote, once per full file: none over the size, none left short.
    files = [path, *(p for p in tmp_path.glob("audit.jsonl.*") if p.suffix != ".lock")]
    assert len(files) > 10
    assert all(p.stat().st_size <= 2_000 for p in files)
    assert sum(p.stat().st_size < 1_500 for p in files) <= 1  # only the current one
    for worker_id in range(4):  # each writer's lines in the order it wrote them
        mine = [e["target"] for e in entries if e["target"].startswith(f"{worker_id}-")]
        assert mine == [f"{worker_id}-{n}" for n in range(100)]


# -- the engine records an action before sending it ---------------------------------------------


def _hangup() -> Hangup:
    call = Call(pbx="hq", id="c9", channel="SIP/201-0000c9", caller="0501234567", callee="201")
    return Hangup(pbx="hq", call=call)


async def test_the_intent_is_on_disk_when_the_driver_sends_and_survives_a_crash(
    make_config: Any, make_engine: Any, fakes: Any, audit: AuditLog
) -> None:
    seen_at_send: list[list[str]] = []
    async with make_engine(make_config("hq"), audit=audit) as engine:
        hq = fakes["hq"]
        hq.action_gate = anyio.Event()  # the PBX never answers: the process dies meanwhile
        async with anyio.create_task_group() as tg:
            tg.start_soon(engine.perform, _hangup())
            while not hq.actions:
                await anyio.lowlevel.checkpoint()
            # Read afresh, as after a crash: the line is in the file, not in a buffer.
            seen_at_send.append([e["result"] for e in AuditLog(audit.path).read_entries()])
            tg.cancel_scope.cancel()
    assert seen_at_send == [["intent"]]
    [intent] = audit.read_entries()
    assert intent["action"] == "hangup" and intent["target"].startswith("SIP/201-0000c9")
    assert intent["params"] == {"call_id": "c9"} and intent["id"]


async def test_nothing_is_sent_when_it_cannot_be_recorded_first(
    make_config: Any, make_engine: Any, fakes: Any, tmp_path: Path
) -> None:
    (tmp_path / "not-a-dir").write_text("")
    audit = AuditLog(tmp_path / "not-a-dir" / "audit.jsonl")
    async with make_engine(make_config("hq"), audit=audit) as engine:
        outcome = await engine.perform(_hangup())
        again = await engine.perform(_hangup())  # the claim was released
    assert fakes["hq"].actions == []
    assert outcome.status is ActionStatus.FAILED and again.status is ActionStatus.FAILED
    assert outcome.message.startswith("not sent: it could not be recorded in the audit log")
    assert "not-a-dir" in outcome.message and outcome.message.count("audit log") == 2


async def test_a_refusal_is_one_line_and_a_sent_action_two_with_one_id(
    make_config: Any, make_engine: Any, fakes: Any, audit: AuditLog
) -> None:
    async with make_engine(make_config("hq"), audit=audit, read_only=True) as engine:
        assert (await engine.perform(_hangup())).status is ActionStatus.READ_ONLY
    async with make_engine(make_config("hq"), audit=audit) as engine:
        assert (await engine.perform(_hangup())).ok
        assert (await engine.perform(_hangup())).ok
    entries = audit.read_entries()
    assert [e["result"] for e in entries] == ["read-only", "intent", "ok", "intent", "ok"]
    ids = [e["id"] for e in entries]
    assert ids[1] == ids[2] and ids[3] == ids[4] and len(set(ids)) == 3


async def test_audit_lines_are_written_off_the_event_loop(
    make_config: Any, make_engine: Any, tmp_path: Path
) -> None:
    class Recording(AuditLog):
        threads: list[int] = []

        def _write(self, line: bytes) -> None:
            self.threads.append(threading.get_ident())
            super()._write(line)

    audit = Recording(tmp_path / "audit.jsonl")
    async with make_engine(make_config("hq"), audit=audit) as engine:
        assert (await engine.perform(_hangup())).ok
    # An fsync on a slow disk must not stall the polls and the console sharing this loop.
    assert len(audit.threads) == 2 and threading.get_ident() not in audit.threads
