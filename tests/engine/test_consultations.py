"""Pending attended transfers: the legs of each step, the book that outlives a process, and
consultations seen on the PBX whoever started them (pure, and on a file)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pbxtui.engine.consultations import (
    ConsultationBook,
    consultation_leg,
    detect,
    transferer_leg,
    transferer_of,
)
from pbxtui.model import Call, CallState, Consultation

NOW = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)


def _call(**kw: object) -> Call:
    base: dict[str, object] = {"pbx": "hq", "observed_at": NOW}
    return Call.model_validate(base | kw)


ORIGINAL = _call(
    id="PJSIP/trunk-ACME-01",
    channel="PJSIP/trunk-ACME-01",
    caller="0501234567",
    callee="224",
    extension="224",
    bridged_channel="PJSIP/224-ACME-02",
)
HELD = ORIGINAL.model_copy(update={"state": CallState.HELD})
CONSULT = _call(
    id="PJSIP/224-ACME-03",
    channel="PJSIP/224-ACME-03",
    caller="224",
    callee="205",
    extension="205",
    bridged_channel="PJSIP/205-ACME-04",
)


def consultation() -> Consultation:
    return Consultation(
        pbx="hq",
        held=ORIGINAL,
        transferer="224",
        destination="205",
        started_at=NOW,
        before=(ORIGINAL.key,),
    )


def test_each_step_hangs_up_the_right_leg() -> None:
    assert transferer_of(ORIGINAL) == "224"
    c = consultation()
    calls = [HELD, CONSULT]
    leg = transferer_leg(c, calls)
    # complete: the transferer's leg of the held call (its channel is the bridged one)
    assert leg is not None and leg.id == "PJSIP/224-ACME-02"
    # cancel: the consultation call
    assert consultation_leg(c, calls) == CONSULT
    assert consultation_leg(c, [HELD]) is None


def test_the_book_outlives_the_process_and_forgets_what_ended(tmp_path: Path) -> None:
    path = tmp_path / "consultations.json"
    ConsultationBook(path).add(consultation())
    later = ConsultationBook(path)  # another console, or `pbxtui transfer --complete`
    assert later.pending("hq", None) == (consultation(),)
    assert later.find("hq", "224", [HELD, CONSULT]) == consultation()
    assert later.find("hq", ORIGINAL.id, [HELD, CONSULT]) == consultation()
    # the held call has gone (completed from a phone, or hung up): forgotten, on disk too
    assert later.pending("hq", [CONSULT]) == ()
    assert ConsultationBook(path).pending("hq", None) == ()


def test_a_damaged_book_is_ignored_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "consultations.json"
    path.write_text("{not json")
    assert ConsultationBook(path).pending("hq", None) == ()


def test_a_held_call_whose_extension_is_on_another_call_is_offered() -> None:
    (found,) = detect("hq", [HELD, CONSULT], known=[])
    assert (found.transferer, found.destination, found.held) == ("224", "205", HELD)
    assert detect("hq", [HELD, CONSULT], known=[consultation()]) == []
    assert detect("hq", [ORIGINAL, CONSULT], known=[]) == []  # nobody is on hold
