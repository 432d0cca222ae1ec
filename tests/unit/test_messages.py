"""The engine's changes as messages (JSON lines, the broker): read back as they were."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from pbxtui.model import ChangeKind
from pbxtui.model.events import Change
from pbxtui.model.messages import ChangeMessage


def test_a_change_message_has_the_fields_of_a_change_in_its_order() -> None:
    # ``to_change`` passes them by position.
    assert [f.name for f in dataclasses.fields(Change)] == list(ChangeMessage.model_fields)


@given(
    at=st.datetimes(timezones=st.just(UTC)),
    kind=st.sampled_from(ChangeKind),
    text=st.text(),
    key=st.text(),
    ok=st.booleans(),
    source=st.sampled_from(["poll", "push", "action"]),
)
def test_a_change_read_back_from_json_is_the_change(
    at: datetime, kind: ChangeKind, text: str, key: str, ok: bool, source: str
) -> None:
    change = Change(at, "hq", kind, text, key, ok, source)
    message = ChangeMessage.model_validate_json(ChangeMessage.of(change).model_dump_json())
    assert message.to_change() == change
