"""The engine as the model's MediaSource (what the History screen's `R` calls) over real HTTP,
and deleting a voicemail message as an action: the policy (read-only, protected, in flight,
unsupported), the audit's intent and outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pbxtui.engine import AuditLog, Engine
from pbxtui.engine.media import EngineMedia
from pbxtui.model import ActionStatus, DeleteVoicemail
from pbxtui.model.media import DownloadProgress, MediaError, MediaSource
from pbxtui.model.voicemail import VoicemailSource
from pbxtui.sim import build_simulator
from tests.conftest import served
from tests.drivers.history_calls import OUTSIDE, finished, still


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_the_engine_downloads_a_recording_as_the_media_port_says(tmp_path: Path) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    call = finished(sim.scenario, caller=OUTSIDE, callee="201", direction="inbound", ago=300)
    async with served(sim) as config, Engine(config) as engine:
        media: MediaSource = EngineMedia(engine)
        assert "INFO recording" in media.recording_support("hq")
        seen: list[DownloadProgress] = []
        done = await media.download_recording("hq", call.unique_id, tmp_path / "a.wav", seen.append)
        assert done.path.read_bytes()[:4] == b"RIFF" and seen[-1].received == done.size
        with pytest.raises(MediaError, match=r"^hq: .*no recording"):
            await media.download_recording("hq", "1.1", tmp_path / "b.wav")
        with pytest.raises(MediaError, match="no PBX named 'elsewhere'"):
            media.recording_support("elsewhere")
    assert names_in(tmp_path) == ["a.wav"]


async def test_a_destination_that_cannot_be_written_is_a_media_error(tmp_path: Path) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    call = finished(sim.scenario, caller=OUTSIDE, callee="201", direction="inbound", ago=300)
    async with served(sim) as config, Engine(config) as engine:
        before = sim.faults.requests
        with pytest.raises(MediaError, match=r"^hq: cannot write .*folder does not exist"):
            await EngineMedia(engine).download_recording(
                "hq", call.unique_id, tmp_path / "missing" / "a.wav"
            )
        assert sim.faults.requests == before  # nothing asked of the PBX


async def test_voicemail_delete_is_an_action_through_the_policy_and_audit(tmp_path: Path) -> None:
    sim = build_simulator("pbxcloud", "hq", spec=still(first_extension=201))
    store = sim.extra["voicemail"]
    message = next(iter(store.messages))
    audit = AuditLog(tmp_path / "audit.jsonl")
    async with served(sim) as config:
        async with Engine(config, read_only=True, audit=audit) as engine:
            outcome = await engine.perform(DeleteVoicemail(pbx="hq", message=message))
            assert outcome.status is ActionStatus.READ_ONLY and message in store.messages
        async with Engine(config, audit=audit) as engine:
            source: VoicemailSource = EngineMedia(engine)
            boxes = await source.mailboxes("hq")
            assert boxes and "VOICEMAIL" in source.voicemail_support("hq")
            outcome = await engine.perform(DeleteVoicemail(pbx="hq", message=message))
            assert outcome.ok and message not in store.messages
            blank = await engine.perform(DeleteVoicemail(pbx="hq", message=" "))
            assert blank.status is ActionStatus.REFUSED
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["result"]) for a in lines] == [
        ("voicemail_delete", "read-only"),
        ("voicemail_delete", "intent"),
        ("voicemail_delete", "ok"),
        ("voicemail_delete", "refused"),
    ]


async def test_voicemail_delete_is_unsupported_where_the_api_has_none() -> None:
    sim = build_simulator("iexpbx", "ist", spec=still(first_extension=201))
    async with served(sim) as config, Engine(config) as engine:
        outcome = await engine.perform(DeleteVoicemail(pbx="ist", message="1"))
        assert outcome.status is ActionStatus.UNSUPPORTED
        assert "delete voicemail message is not supported by ist's API (IEXPBX)" in outcome.message
        with pytest.raises(MediaError, match="not supported by ist's API"):
            await EngineMedia(engine).mailboxes("ist")
