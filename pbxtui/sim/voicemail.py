"""Voicemail boxes for the PBX Cloud simulator (``reqtype=VOICEMAIL``).

The first few extensions of the scenario each have a mailbox holding a few messages, left by
callers in the scenario's directory some minutes to days ago, each with real audio (a WAV as
long as the message). Rows are named after Asterisk's ODBC voicemail tables
(``voicemail_users``, ``voicemail_messages``) and sent with PHP's positional duplicates, as
MiRTA's DB listings are (INFERENCE: no answer was ever published). ``delete`` removes a
message for good.
"""

from __future__ import annotations

from dataclasses import dataclass

from pbxtui.sim.audio import wav_bytes
from pbxtui.sim.scenario import Scenario

BOXES = 3
MESSAGES_PER_BOX = 2
CALLERS = (("Dana Levi", "0501234567"), ("Omer Katz", "0527654321"), ("", "0312345678"))


@dataclass
class SimMessage:
    id: str
    mailbox: str
    caller_name: str
    caller: str
    origtime: int
    duration: int
    folder: str = "INBOX"

    @property
    def audio(self) -> bytes:
        return wav_bytes(self.duration, seed=int(self.id))


class VoicemailStore:
    def __init__(self, scenario: Scenario, tenant: str) -> None:
        self.tenant = tenant
        self.names = {n: e.name for n, e in scenario.extensions.items()}
        self.messages: dict[str, SimMessage] = {}
        now = int(scenario.now)
        next_id = 101
        for box_index, number in enumerate(list(scenario.extensions)[:BOXES]):
            for n in range(MESSAGES_PER_BOX):
                name, caller = CALLERS[(box_index + n) % len(CALLERS)]
                ident = str(next_id)
                next_id += 1
                self.messages[ident] = SimMessage(
                    id=ident,
                    mailbox=number,
                    caller_name=name,
                    caller=caller,
                    origtime=now - 3600 * (box_index + 1) - 600 * n,
                    duration=4 + 3 * n + box_index,
                    folder="INBOX" if n == 0 else "Old",
                )
        self.boxes = list(dict.fromkeys(m.mailbox for m in self.messages.values()))
        self.deleted: list[str] = []

    def box_rows(self) -> list[dict[str, str]]:
        rows = []
        for box in self.boxes:
            mine = [m for m in self.messages.values() if m.mailbox == box]
            rows.append(
                {
                    "uniqueid": box,
                    "context": self.tenant,
                    "mailbox": box,
                    "fullname": self.names.get(box, ""),
                    "email": "",
                    "newmessages": str(sum(m.folder == "INBOX" for m in mine)),
                    "oldmessages": str(sum(m.folder != "INBOX" for m in mine)),
                }
            )
        return rows

    def message_rows(self, mailbox: str) -> list[dict[str, str]]:
        return [
            {
                "id": m.id,
                "msgnum": str(position),
                "dir": f"/var/spool/asterisk/voicemail/{self.tenant}/{m.mailbox}/{m.folder}",
                "context": self.tenant,
                "callerid": f'"{m.caller_name}" <{m.caller}>' if m.caller_name else m.caller,
                "origtime": str(m.origtime),
                "duration": str(m.duration),
                "mailboxuser": m.mailbox,
                "mailboxcontext": self.tenant,
            }
            for position, m in enumerate(m for m in self.messages.values() if m.mailbox == mailbox)
        ]

    def delete(self, ident: str) -> bool:
        if self.messages.pop(ident, None) is None:
            return False
        self.deleted.append(ident)
        return True
