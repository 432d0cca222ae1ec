"""Naming calls from the sources that need no request (pure: no CRM, no loop)."""

from __future__ import annotations

from datetime import UTC, datetime

from pbxtui.engine.names import CallerNames, is_name
from pbxtui.model import (
    Call,
    Capabilities,
    DirectoryEntry,
    Extension,
    PbxHealth,
    PbxState,
    Resource,
    ResourceState,
)

NOW = datetime.now(UTC)


def state(calls: tuple[Call, ...], extensions: tuple[Extension, ...] = ()) -> PbxState:
    return PbxState(
        name="hq",
        kind="iexpbx",
        capabilities=Capabilities(resources=frozenset(Resource), actions=frozenset()),
        health=PbxHealth(pbx="hq", kind="iexpbx"),
        resources={
            Resource.CALLS: ResourceState(calls, fetched_at=NOW),
            Resource.EXTENSIONS: ResourceState(extensions, fetched_at=NOW),
        },
    )


def call(caller: str, callee: str = "201", caller_name: str = "") -> Call:
    return Call(
        pbx="hq", id=f"c-{caller}", channel=f"c-{caller}", caller=caller, callee=callee,
        caller_name=caller_name,
    )  # fmt: skip


def test_a_caller_id_that_is_only_a_number_names_nobody() -> None:
    assert not is_name("0501234567") and not is_name("+972 50-123-4567") and not is_name("")
    assert not is_name("<unknown>")
    assert is_name("Dana Cohen") and is_name("Servis 2")


def test_directory_then_extensions_and_the_pbxs_own_name_first() -> None:
    names = CallerNames()
    names.set_directory("hq", [DirectoryEntry(pbx="hq", name="John Lash", number="908502590259")])
    ext = (Extension(pbx="hq", id="201", number="201", name="Dana"),)
    calls = (
        call("+908502590259"),
        call("0502223344", caller_name="Given By The PBX"),
        call("0503334455", caller_name="0503334455"),
    )
    named = {c.caller: c for c in names.name_state(state(calls, ext)).calls()}
    assert named["+908502590259"].caller_name == "John Lash"
    assert named["0502223344"].caller_name == "Given By The PBX"
    assert named["0503334455"].caller_name == "0503334455"  # nobody knows better: kept
    assert {c.callee_name for c in named.values()} == {"Dana"}


def test_naming_the_same_calls_again_gives_the_same_tuple() -> None:
    names = CallerNames()
    first = state((call("0501112233"), call("0502223344")))
    named = names.name_state(first).records(Resource.CALLS)
    # Something changed elsewhere (another PBX's directory): these calls come out alike.
    names.set_directory("other", [DirectoryEntry(pbx="other", name="X", number="0509999999")])
    again = names.name_state(first).records(Resource.CALLS)
    assert again is named
    names.set_directory("hq", [DirectoryEntry(pbx="hq", name="Avi", number="0502223344")])
    renamed = names.name_state(first).records(Resource.CALLS)
    assert renamed is not named
    assert [c.caller_name for c in renamed if isinstance(c, Call)] == ["", "Avi"]
