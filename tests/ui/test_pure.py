"""The console's pure parts: formatting, the command grammar, column fitting, coalescing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from pbxtui.model import CallState, Change, ChangeKind, EngineUpdate, Resource
from pbxtui.ui.cells import shown, style_of
from pbxtui.ui.commands import CommandError, parse_command
from pbxtui.ui.format import (
    Cut,
    Level,
    describe_call,
    fit_text,
    format_age,
    level,
    mask_number,
    mask_text,
    truncate,
)
from pbxtui.ui.updates import UpdateBuffer
from pbxtui.ui.views import (
    AgentsSpec,
    CallsSpec,
    ExtensionsSpec,
    PeersSpec,
    QueuesSpec,
    ViewContext,
    notices,
)
from pbxtui.ui.widgets.columns import Column, Keep, fit_widths
from tests.ui.fakes import NOW, fixed_states, fleet_config

NAMES = ["hq", "istanbul", "branch", "eu"]


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("0501234567", "050*****67"),
        ("+972501234567", "+972*******67"),
        ("201", "201"),
        ("*51", "*51"),
        ("", ""),
    ],
)
def test_mask_number(number: str, masked: str) -> None:
    assert mask_number(number) == masked


def test_mask_text_masks_numbers_inside_sentences() -> None:
    text = "hq: call 0501234567 → 201 answered"
    assert mask_text(text) == "hq: call 050*****67 → 201 answered"


def test_small_formatters() -> None:
    assert [format_age(s) for s in (None, 4, 75, 7300, 200000)] == ["—", "4s", "1m", "2h", "2d"]
    assert truncate("line one\nline two", 10) == "line one …"
    assert level(None, 1, 2) is Level.NORMAL
    assert [level(v, 10, 20) for v in (9, 10, 20)] == [Level.NORMAL, Level.WARN, Level.ALERT]


def test_command_grammar() -> None:
    calls = parse_command("calls hq", NAMES)
    assert (calls.kind, calls.pane, calls.pbxs, calls.needle) == ("pane", "calls", ("hq",), "")
    agents = parse_command(":agents paused", NAMES)
    assert (agents.pane, agents.section, agents.pbxs, agents.needle) == (
        "queues",
        "agents",
        None,
        "paused",
    )
    assert parse_command("pbx all", NAMES).pbxs == tuple(NAMES)
    assert parse_command("pbx @eu HQ", NAMES).pbxs == ("eu", "hq")
    assert parse_command("pbx", NAMES).pbxs is None
    assert parse_command("sort duration desc", NAMES).reverse is True
    assert parse_command("q", NAMES).kind == "quit"
    assert parse_command("refresh eu", NAMES).pbxs == ("eu",)
    for bad in ("", "frobnicate", "pbx nowhere", "calls @nowhere", "sort", "sort x sideways"):
        with pytest.raises(CommandError):
            parse_command(bad, NAMES)


def test_fit_widths_shrinks_flexible_columns_only() -> None:
    columns = [
        Column("a", "A", 1),
        Column("b", "B", 20, 5),
        Column("c", "C", 10, 4),
        Column("d", "D", 8),
    ]
    assert fit_widths(columns, 200) == [1, 20, 10, 8]
    fitted = fit_widths(columns, 40)
    assert sum(fitted) + len(columns) == 40  # one blank between columns
    assert fitted[0] == 1 and fitted[3] == 8 and fitted[1] >= 5 and fitted[2] >= 4
    assert fit_widths(columns, 10) == [1, 5, 4, 8]  # below the minimum: scroll sideways


def test_fit_widths_cuts_numbers_last() -> None:
    columns = [
        Column("name", "Name", 20, 6),
        Column("channel", "Channel", 30, 10, keep=Keep.DETAIL),
        Column("pbx", "PBX", 8, 4, keep=Keep.PBX),
        Column("caller", "Caller", 13, 11, keep=Keep.DATA),
    ]
    # 8 cells short: the name gives them all, nothing else moves.
    assert fit_widths(columns, 71 + 4 - 8) == [12, 30, 8, 13]
    # The name at its minimum, the channel next, and only then the PBX and the number.
    assert fit_widths(columns, 6 + 10 + 8 + 13 + 4) == [6, 10, 8, 13]
    assert fit_widths(columns, 6 + 10 + 4 + 13 + 4) == [6, 10, 4, 13]
    assert fit_widths(columns, 6 + 10 + 4 + 12 + 4) == [6, 10, 4, 12]
    # Spare room: a column that may grow takes it (a long channel shown whole).
    growing = [replace(columns[1], max_width=44), columns[3]]
    assert fit_widths(growing, 200) == [44, 13]


def test_real_tables_at_80_columns_keep_numbers_and_pbx_names_whole() -> None:
    """The widths the console gives at 80x24 (79 cells beside the scrollbar)."""
    calls = dict(
        zip((c.key for c in CallsSpec.columns), fit_widths(CallsSpec.columns, 79), strict=True)
    )
    assert calls["caller"] >= len("905321234567") and calls["callee"] >= len("905321234567")
    assert calls["pbx"] >= len("istanbul")
    assert calls["channel"] >= 10
    for spec in (CallsSpec, ExtensionsSpec, PeersSpec, QueuesSpec, AgentsSpec):
        widths = fit_widths(spec.columns, 79)
        assert sum(widths) + len(widths) <= 79, spec.name


@pytest.mark.parametrize(
    ("cut", "width", "shown"),
    [
        (Cut.END, 12, "SIP/Trunk11…"),
        (Cut.START, 12, "…10-000020a1"),
        (Cut.MIDDLE, 12, "SIP/Tr…020a1"),
        (Cut.CHANNEL, 19, "…Trunk110-000020a1"),
        (Cut.CHANNEL, 12, "Trunk…0020a1"),
        (Cut.CHANNEL, 21, "SIP/Trunk110-000020a1"),
    ],
)
def test_fit_text_cuts_where_told(cut: Cut, width: int, shown: str) -> None:
    assert fit_text("SIP/Trunk110-000020a1", width, cut) == shown
    assert len(shown) <= width


def test_channels_of_one_trunk_stay_apart_when_cut() -> None:
    one, two = "SIP/trunk-sip-Trunk110-000020a1", "SIP/trunk-sip-Trunk110-000020b7"
    for width in range(6, 32):
        assert fit_text(one, width, Cut.CHANNEL) != fit_text(two, width, Cut.CHANNEL), width
    assert fit_text("istanbul-2", 6, Cut.MIDDLE).endswith("-2")


def test_update_buffer_coalesces_but_keeps_every_change() -> None:
    states = fixed_states(fleet_config())
    buffer = UpdateBuffer()
    change = Change(at=NOW, pbx="hq", kind=ChangeKind.CALL_STARTED, text="hq: call")
    assert buffer.add(EngineUpdate("hq", Resource.CALLS, states["hq"], (change,)))
    assert not buffer.add(EngineUpdate("hq", Resource.PEERS, states["hq"], (change,)))
    assert not buffer.add(EngineUpdate("eu", Resource.CALLS, states["eu"]))
    taken, changes = buffer.take()
    assert set(taken) == {"hq", "eu"} and len(changes) == 2
    assert not buffer.pending
    assert buffer.add(EngineUpdate("hq", Resource.CALLS, states["hq"]))


def test_notices_say_what_is_missing_or_failing() -> None:
    states = fixed_states(fleet_config())
    ctx = ViewContext(now=NOW, pbxs=states)
    lines = [text for _, text in notices([Resource.QUEUES, Resource.AGENTS], ctx)]
    assert "branch: this API has no queues or queue agents" in lines
    assert any(line.startswith("eu: queues failing (no data yet): no answer") for line in lines)


def test_calls_rows_mark_long_calls_and_tick() -> None:
    """A row holds no time: its duration is drawn from the call's start when painted, so the
    same call an hour later is the same row, and only what is drawn moves on."""
    states = fixed_states(fleet_config())
    ctx = ViewContext(now=NOW, pbxs=states)
    rows, records = CallsSpec().build(ctx)
    stuck = next(k for k, c in records.items() if c.duration > 7000)
    assert shown(rows[stuck][6], NOW)[0] == "2:07:01"
    later = ViewContext(now=NOW + timedelta(seconds=60), pbxs=states)
    rows_later, _ = CallsSpec().build(later)
    assert rows_later[stuck] == rows[stuck]
    assert shown(rows_later[stuck][6], later.now)[0] == "2:08:01"
    alert = style_of(shown(rows[stuck][6], NOW)[1])
    assert alert == ctx.palette.level(Level.ALERT)  # past 1 h
    filtered, _ = CallsSpec().build(ctx, "ringing")
    assert len(filtered) == 1


def test_confirmations_name_the_normalized_state() -> None:
    call = next(c for c in fixed_states(fleet_config())["hq"].calls() if c.caller == "0306217702")
    odd = call.model_copy(update={"state": CallState.OTHER, "state_raw": "Hold?"})
    assert "  ringing  " in describe_call(call, NOW, mask=False)
    assert "  other  " in describe_call(odd, NOW, mask=False)
    assert "Hold?" not in describe_call(odd, NOW, mask=False)
