"""Recordings and voicemail over real HTTP to every vendor's simulator: the reference each
history reader fills fetches the very bytes the simulator served, streamed to a file written
atomically; every broken answer (a text, a wrong type, a body too large, a connection broken
mid-body) leaves no file and no temporary file; progress climbs to the total; memory stays
bounded; voicemail lists, fetches and deletes on PBX Cloud and is refused elsewhere."""

from __future__ import annotations

import gc
import io
import tracemalloc
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pbxtui.drivers import create_driver, download
from pbxtui.drivers.base import AuthRefused, BadAnswer, Driver, NotSupported, PbxUnreachable
from pbxtui.drivers.media import MediaReader, media_for
from pbxtui.model.history import CdrRecord, HistoryQuery
from pbxtui.model.media import DownloadProgress
from pbxtui.sim import SimulatedPbx, build_simulator
from pbxtui.sim.audio import gsm_bytes, wav_bytes
from pbxtui.sim.cdrs import find
from pbxtui.sim.fleet import running_fleet
from pbxtui.sim.media import MediaQuirks
from tests.drivers.history_calls import OUTSIDE, Scripted, finished, still

KINDS = ("pbxcloud", "iexpbx", "globalex", "cloudplus")
SMALL_LIMIT = 4 * 1024 * 1024


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The size limit lowered (it is 256 MiB), so a body over it is quick to send."""
    monkeypatch.setattr(download, "MEDIA_LIMIT", SMALL_LIMIT)


def make(kind: str, name: str = "pbx") -> SimulatedPbx:
    spec = still(first_extension=201)
    if kind in ("globalex", "cloudplus"):
        sim = build_simulator("dialup", name, spec=spec, brand=kind)
        if kind == "cloudplus":  # the panel's reports and downloads, not cdr.php nor the link
            sim.credentials.pop("org_token")
            sim.credentials.pop("recording_link")
        return sim
    return build_simulator(kind, name, spec=spec)


@asynccontextmanager
async def reader_for(
    sim: SimulatedPbx, **overrides: Any
) -> AsyncIterator[tuple[Driver, MediaReader]]:
    async with running_fleet([sim], **overrides) as (config, _, _), httpx.AsyncClient() as client:
        driver = create_driver(config.pbx[0], client)
        yield driver, media_for(driver)


def answered_call(sim: SimulatedPbx) -> Scripted:
    return finished(sim.scenario, caller=OUTSIDE, callee="201", direction="inbound", ago=600)


async def reference_of(driver: Driver, call: Scripted) -> str:
    """The recording reference the PBX's history reader gives the call."""
    query = HistoryQuery(since=datetime.now(UTC) - timedelta(hours=2))
    records: list[CdrRecord] = [r async for page in driver.history(query) for r in page.records]
    record = next(r for r in records if r.unique_id == call.unique_id or r.caller == OUTSIDE)
    assert record.recording, record
    return record.recording


def served_audio(sim: SimulatedPbx, call: Scripted) -> bytes:
    """The bytes the simulator serves for the call's recording."""
    if sim.kind == "iexpbx":
        assert call.call.answered is not None
        return gsm_bytes(call.ended - call.call.answered, seed=call.call.id)
    facts = find(sim.scenario, call.unique_id)
    assert facts is not None
    return wav_bytes(facts.billable, seed=facts.seq)


def media_quirks(sim: SimulatedPbx) -> MediaQuirks:
    quirks = sim.extra["media"]
    assert isinstance(quirks, MediaQuirks)
    return quirks


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("kind", KINDS)
async def test_a_recording_is_the_bytes_the_pbx_served_with_progress_to_the_total(
    kind: str, tmp_path: Path
) -> None:
    sim = make(kind)
    call = answered_call(sim)
    seen: list[DownloadProgress] = []
    async with reader_for(sim) as (driver, media):
        assert media.recording_support()
        ref = await reference_of(driver, call)
        done = await media.download_recording(ref, tmp_path / "call.audio", seen.append)
    expected = served_audio(sim, call)
    assert (tmp_path / "call.audio").read_bytes() == expected
    assert done.size == len(expected) and done.path == tmp_path / "call.audio"
    assert done.content_type.startswith("audio/")
    assert leftovers(tmp_path) == ["call.audio"]
    received = [p.received for p in seen]
    assert received[0] == 0 and received[-1] == len(expected)
    assert received == sorted(received)
    assert {p.total for p in seen} == {len(expected)}


async def test_pbx_cloud_audio_is_a_wav_of_the_talk_and_iexpbx_s_is_gsm_frames(
    tmp_path: Path,
) -> None:
    cloud, iex = make("pbxcloud"), make("iexpbx", "ist")
    cloud_call, iex_call = answered_call(cloud), answered_call(iex)
    async with reader_for(cloud) as (driver, media):
        await media.download_recording(cloud_call.unique_id, tmp_path / "a.wav", None)
    with wave.open(io.BytesIO((tmp_path / "a.wav").read_bytes())) as audio:
        assert audio.getframerate() == 8000 and audio.getnframes() == 60 * 8000
    async with reader_for(iex) as (driver, media):
        ref = await reference_of(driver, iex_call)
        await media.download_recording(ref, tmp_path / "b.gsm", None)
    data = (tmp_path / "b.gsm").read_bytes()
    assert len(data) == 60 * 50 * 33 and all(data[i] >> 4 == 0xD for i in range(0, len(data), 33))


async def test_an_existing_file_is_replaced_only_by_a_whole_recording(tmp_path: Path) -> None:
    sim = make("pbxcloud")
    call = answered_call(sim)
    target = tmp_path / "call.wav"
    target.write_bytes(b"the previous one")
    media_quirks(sim).break_after = 100_000
    async with reader_for(sim) as (_, media):
        with pytest.raises(PbxUnreachable, match="broke while sending"):
            await media.download_recording(call.unique_id, target, None)
        assert target.read_bytes() == b"the previous one"
        media_quirks(sim).break_after = None
        await media.download_recording(call.unique_id, target, None)
    assert target.read_bytes() == served_audio(sim, call)
    assert leftovers(tmp_path) == ["call.wav"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("quirks", "error", "reason"),
    [
        (MediaQuirks(content_type="text/html; charset=UTF-8"), BadAnswer, "text/html"),
        (MediaQuirks(content_type="image/png"), BadAnswer, "image/png instead of the recording"),
        (MediaQuirks(size=SMALL_LIMIT + 1024 * 1024), BadAnswer, "larger than 4 MiB"),
        (MediaQuirks(break_after=70_000), PbxUnreachable, "broke while sending the recording"),
        (
            MediaQuirks(break_after=70_000, declare_length=False),
            PbxUnreachable,
            "broke while sending",
        ),
    ],
    ids=["html-type", "image-type", "too-large", "broken", "broken-chunked"],
)
async def test_a_broken_answer_leaves_no_file(
    kind: str,
    quirks: MediaQuirks,
    error: type[Exception],
    reason: str,
    tmp_path: Path,
    small_limit: None,
) -> None:
    sim = make(kind)
    call = answered_call(sim)
    async with reader_for(sim) as (driver, media):
        ref = await reference_of(driver, call)
        media_quirks(sim).__dict__.update(quirks.__dict__)
        with pytest.raises(error, match=reason):
            await media.download_recording(ref, tmp_path / "call.wav", None)
    assert leftovers(tmp_path) == []


async def test_a_body_over_the_limit_without_a_length_stops_at_the_limit(
    tmp_path: Path, small_limit: None
) -> None:
    sim = make("pbxcloud")
    call = answered_call(sim)
    quirks = media_quirks(sim)
    quirks.size, quirks.declare_length = SMALL_LIMIT + 1024 * 1024, False
    seen: list[int] = []
    async with reader_for(sim) as (_, media):
        with pytest.raises(BadAnswer, match="larger than 4 MiB"):
            await media.download_recording(
                call.unique_id, tmp_path / "x.wav", lambda p: seen.append(p.received)
            )
    assert max(seen) <= SMALL_LIMIT and leftovers(tmp_path) == []


async def test_a_big_recording_streams_in_bounded_memory(tmp_path: Path) -> None:
    sim = make("pbxcloud")
    call = answered_call(sim)
    size = 64 * 1024 * 1024
    media_quirks(sim).size = size
    async with reader_for(sim) as (_, media):
        gc.collect()
        tracemalloc.start()
        try:
            done = await media.download_recording(call.unique_id, tmp_path / "big.wav", None)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert done.size >= size - 16_000 and (tmp_path / "big.wav").stat().st_size == done.size
    # The simulator and the client in one process, both streaming: a few chunks at a time.
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming 64 MiB"


@pytest.mark.parametrize("kind", KINDS)
async def test_an_unknown_recording_is_said_plainly(kind: str, tmp_path: Path) -> None:
    sim = make(kind)
    answered_call(sim)
    unknown = "unknown-1.wav" if kind == "globalex" else "999999"
    async with reader_for(sim) as (_, media):
        with pytest.raises(BadAnswer) as caught:
            await media.download_recording(unknown, tmp_path / "x.wav", None)
    said = str(caught.value)
    assert any(words in said for words in ("no recording", "no such recording", "not found"))
    assert leftovers(tmp_path) == []


async def test_pbx_cloud_without_an_id_is_refused_before_sending_and_says_so(
    tmp_path: Path,
) -> None:
    sim = make("pbxcloud")
    async with reader_for(sim) as (driver, media):
        before = sim.faults.requests
        with pytest.raises(BadAnswer, match="no recording id given"):
            await media.download_recording("  ", tmp_path / "x.wav", None)
        assert sim.faults.requests == before
        # What the PBX itself answers without an id, read as a reason, not as audio.
        http = driver.http
        response = await http.client.get(
            http.url,
            params={"reqtype": "INFO", "info": "recording", "tenant": "ACME"}
            | {"key": sim.credentials["key"]},
        )
        assert response.text == "No id specified"


async def test_credentials_refused_are_said_without_the_secret(tmp_path: Path) -> None:
    for kind in KINDS:
        sim = make(kind)
        call = answered_call(sim)
        async with reader_for(sim) as (driver, media):
            ref = await reference_of(driver, call)
            sim.faults.auth_refused = True
            if kind == "cloudplus":  # a session already open stays open: end it
                sim.extra["sim"].panel.expire()
            try:
                await media.download_recording(ref, tmp_path / "x.wav", None)
            except (AuthRefused, BadAnswer) as exc:
                said = str(exc)
            else:
                if kind == "globalex":  # the link carries no credential: nothing to refuse
                    (tmp_path / "x.wav").unlink()
                    continue
                raise AssertionError(f"{kind}: a refusal was written as audio")
        for secret in sim.credentials.values():
            if isinstance(secret, str) and len(secret) > 8:
                assert secret not in said, kind
        assert leftovers(tmp_path) == []


async def test_cloudplus_logs_into_the_panel_again_when_its_session_ends(tmp_path: Path) -> None:
    sim = make("cloudplus")
    call = answered_call(sim)
    panel = sim.extra["sim"].panel
    async with reader_for(sim) as (driver, media):
        ref = await reference_of(driver, call)
        panel.expire()
        await media.download_recording(ref, tmp_path / "a.wav", None)
    assert (tmp_path / "a.wav").read_bytes() == served_audio(sim, call)


async def test_a_globalex_pbx_without_a_link_or_panel_has_no_recordings(tmp_path: Path) -> None:
    sim = make("globalex")
    sim.credentials.pop("recording_link")
    async with reader_for(sim) as (_, media):
        assert media.recording_support() == ""
        with pytest.raises(NotSupported, match="recording_link"):
            await media.download_recording("x.wav", tmp_path / "x.wav", None)


# -- voicemail ---------------------------------------------------------------------------------
async def test_pbx_cloud_voicemail_lists_fetches_and_deletes(tmp_path: Path) -> None:
    sim = make("pbxcloud")
    store = sim.extra["voicemail"]
    async with reader_for(sim) as (_, media):
        boxes = await media.mailboxes()
        assert [b.mailbox for b in boxes] == store.boxes
        assert boxes[0].name and boxes[0].new == 1 and boxes[0].old == 1
        messages = await media.voicemail_messages(boxes[0].mailbox)
        assert [m.id for m in messages] == [
            m.id for m in store.messages.values() if m.mailbox == boxes[0].mailbox
        ]
        first = messages[0]
        assert first.caller and first.received is not None and first.folder == "INBOX"
        seen: list[int] = []
        await media.download_voicemail(
            first.id, tmp_path / "vm.wav", lambda p: seen.append(p.received)
        )
        assert (tmp_path / "vm.wav").read_bytes() == store.messages[first.id].audio
        assert seen[-1] == len(store.messages[first.id].audio)
        result = await media.delete_voicemail(first.id)
        assert result.ok and first.id not in store.messages
        again = await media.delete_voicemail(first.id)
        assert not again.ok
        left = await media.voicemail_messages(boxes[0].mailbox)
        assert first.id not in [m.id for m in left]
        with pytest.raises(BadAnswer, match="no recording"):
            await media.download_voicemail(first.id, tmp_path / "gone.wav", None)
    assert leftovers(tmp_path) == ["vm.wav"]


@pytest.mark.parametrize("kind", ["iexpbx", "globalex", "cloudplus"])
async def test_voicemail_is_refused_plainly_where_the_api_has_none(
    kind: str, tmp_path: Path
) -> None:
    sim = make(kind)
    async with reader_for(sim) as (_, media):
        assert media.voicemail_support() == ""
        before = sim.faults.requests
        for attempt in (
            media.mailboxes(),
            media.voicemail_messages("201"),
            media.download_voicemail("1", tmp_path / "x.wav", None),
            media.delete_voicemail("1"),
        ):
            with pytest.raises(NotSupported, match=r"not supported by pbx's API .*voicemail"):
                await attempt
        assert sim.faults.requests == before
