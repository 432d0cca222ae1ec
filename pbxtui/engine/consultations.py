"""Attended transfers between their two steps: remembered, found again, and finished.

``AttendedTransfer`` starts a consultation: the transferer's extension calls the destination
while the other party holds. The second step is a hangup: *complete* hangs up the transferer's
leg of the held call (the switch then joins the held party and the consulted one), *cancel*
hangs up the consultation call. A consultation outlives the process that started it: the book
keeps the ones pbxtui started in a small file, so a console started later, or
``pbxtui transfer --complete``, finds them; and a held call whose extension is on another call
is offered as one too, whoever started it.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from pbxtui.model import Call, CallState, Consultation

logger = logging.getLogger("pbxtui.engine")

_BOOK = TypeAdapter(list[Consultation])


def transferer_of(call: Call) -> str:
    """The internal party of ``call``: its extension, else a number in its channel name."""
    if call.extension:
        return call.extension
    match = re.search(r"/(\d{2,6})[-@]", call.channel)
    return match.group(1) if match else ""


def _mentions(channel: str, number: str) -> bool:
    return bool(number) and re.search(rf"/{re.escape(number)}[-@]", channel) is not None


def _involves(call: Call, number: str) -> bool:
    if not number:
        return False
    return number in (call.extension, call.caller, call.callee) or _mentions(call.channel, number)


def _same_call(a: Call, b: Call) -> bool:
    return a.key == b.key or bool(a.unique_id and a.unique_id == b.unique_id)


def consult_calls(consultation: Consultation, calls: Sequence[Call]) -> list[Call]:
    """The calls of the consultation: not the held one, between transferer and destination."""
    before = set(consultation.before)
    return [
        c
        for c in calls
        if c.pbx == consultation.pbx
        and not _same_call(c, consultation.held)
        and (c.key not in before or not before)
        and (_involves(c, consultation.destination) or _involves(c, consultation.transferer))
    ]


def transferer_leg(consultation: Consultation, calls: Sequence[Call]) -> Call | None:
    """The transferer's leg of the held call: hanging it up completes the transfer.

    When the held call's record names the other party's channel first, the Call returned is
    the same call aimed at the transferer's channel (``bridged_channel``), so a driver hanging
    up ``call.id`` drops exactly that leg.
    """
    consult = {c.key for c in consult_calls(consultation, calls)}
    transferer = consultation.transferer
    candidates = [
        c for c in calls if _same_call(c, consultation.held) and c.key not in consult
    ] or [
        c
        for c in calls
        if c.pbx == consultation.pbx
        and c.key not in consult
        and c.state is CallState.HELD
        and (_mentions(c.channel, transferer) or _mentions(c.bridged_channel, transferer))
    ]
    if not candidates:
        return None
    call = candidates[0]
    if not _mentions(call.channel, transferer) and _mentions(call.bridged_channel, transferer):
        leg = call.bridged_channel
        return call.model_copy(update={"id": leg, "channel": leg, "bridged_channel": call.channel})
    return call


def consultation_leg(consultation: Consultation, calls: Sequence[Call]) -> Call | None:
    """The consultation call to hang up to cancel (the destination's side when known)."""
    found = consult_calls(consultation, calls)
    if not found:
        return None
    towards = [c for c in found if _involves(c, consultation.destination)]
    return (towards or found)[0]


def _other_party(call: Call, transferer: str) -> str:
    for number in (call.callee, call.caller, call.extension):
        if number and number != transferer:
            return number
    return ""


def detect(pbx: str, calls: Sequence[Call], known: Iterable[Consultation]) -> list[Consultation]:
    """Consultations visible on the PBX but not in the book: a held call whose extension is
    on another call (started from a phone, or by a pbxtui whose book is elsewhere)."""
    covered = [c.held for c in known]
    found: list[Consultation] = []
    for call in calls:
        if call.state is not CallState.HELD or any(_same_call(call, h) for h in covered):
            continue
        transferer = transferer_of(call)
        consult = next(
            (c for c in calls if not _same_call(c, call) and _involves(c, transferer)), None
        )
        if not transferer or consult is None:
            continue
        destination = _other_party(consult, transferer)
        if destination:
            found.append(
                Consultation(pbx=pbx, held=call, transferer=transferer, destination=destination)
            )
    return found


class ConsultationBook:
    """The consultations pbxtui started and has not finished, kept in ``path`` (if any)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: dict[tuple[str, str], Consultation] = {}
        self._load()

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            entries = _BOOK.validate_json(self.path.read_bytes())
        except FileNotFoundError:
            return
        except (OSError, ValidationError, ValueError) as exc:
            logger.warning("ignoring the pending transfers in %s: %s", self.path, exc)
            return
        self._entries = {(c.pbx, c.key): c for c in entries}

    def _save(self) -> None:
        if self.path is None:
            return
        data = _BOOK.dump_json(list(self._entries.values()))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".consultations-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.path)
        except OSError as exc:
            logger.warning("cannot keep the pending transfers in %s: %s", self.path, exc)

    def add(self, consultation: Consultation) -> None:
        self._entries[(consultation.pbx, consultation.key)] = consultation
        self._save()

    def remove(self, consultation: Consultation) -> None:
        if self._entries.pop((consultation.pbx, consultation.key), None) is not None:
            self._save()

    def of(self, pbx: str) -> list[Consultation]:
        return [c for (name, _), c in self._entries.items() if name == pbx]

    def pending(self, pbx: str, calls: Sequence[Call] | None) -> tuple[Consultation, ...]:
        """This PBX's pending consultations given its live ``calls`` (None: calls unknown).

        A remembered one whose held call has gone is finished (hung up, or completed from a
        phone) and is forgotten; detected ones are added.
        """
        remembered = self.of(pbx)
        if calls is None:
            return tuple(remembered)
        alive = [c for c in remembered if any(_same_call(call, c.held) for call in calls)]
        for gone in remembered:
            if gone not in alive:
                self.remove(gone)
        return (*alive, *detect(pbx, calls, alive))

    def find(self, pbx: str, ident: str, calls: Sequence[Call]) -> Consultation | None:
        """The pending consultation whose held call or transferer is ``ident``."""
        for consultation in self.pending(pbx, calls):
            held = consultation.held
            if ident in (
                held.id,
                held.channel,
                held.unique_id,
                held.bridged_channel,
                consultation.transferer,
            ):
                return consultation
        return None
