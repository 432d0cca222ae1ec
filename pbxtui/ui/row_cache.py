"""One live table's rows, kept per PBX and rebuilt only where something changed.

A PBX whose resources are the same objects as at the last build (the engine replaces a
``ResourceState`` after each poll, never mutates one) and whose filter is the same costs
nothing: its rows are reused as they are. Within a PBX that did change, each record's row is
rebuilt only when the record's *version* changed (what the row shows depends on: the record,
its linked call, the stale flag; see ``TableSpec.version``), and its search text with it: a
filter matches that text, built once per version, never the row's cells again.

``refresh`` answers with what the table must change (rows added or changed, keys gone): an
unchanged row is the very object the table already holds.

A spec whose row follows from its record object alone (``by_record``: the calls, whose
driver hands back an unchanged call as the same object) is brought up to date by the
records' identities, compared a PBX at a time as sets: only the records that arrived or left
are looked at one by one (at 10,000 calls with a tenth changing, 1,000 instead of 10,000).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from pbxtui.model import PbxState, Record, Resource
from pbxtui.ui.cells import PLAIN
from pbxtui.ui.widgets.live_table import Row

if TYPE_CHECKING:
    from pbxtui.ui.views import ViewContext


class Spec(Protocol):
    @property
    def resource(self) -> Resource: ...

    @property
    def depends(self) -> tuple[Resource, ...]: ...

    def records(self, state: PbxState) -> Sequence[Record]: ...

    def keys(self, state: PbxState, records: Sequence[Any]) -> list[str]: ...

    def versions(
        self, state: PbxState, records: Sequence[Any], ctx: ViewContext, *, stale: bool
    ) -> list[object]: ...

    def row(self, record: Any, ctx: ViewContext, *, stale: bool) -> Row: ...

    def keywords(self, record: Any) -> str: ...

    @property
    def by_record(self) -> bool:
        """The row is the same while the record is the same object and the stale flag did
        not change (and the context's ``epoch``, which rebuilds every row, did not)."""
        ...


Entry = tuple[object, Row, str]
"""(version, row, haystack): what the filter matches, lower-cased (every cell's text and the
keywords). A plain tuple: for calls it holds strings and numbers only, which the garbage
collector skips."""
VERSION: Final = 0
ROW: Final = 1
HAYSTACK: Final = 2


def haystack(row: Row, keywords: str) -> str:
    return (" ".join(c[PLAIN] for c in row) + " " + keywords).lower()


@dataclass
class Delta:
    changed: dict[str, Row] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)


@dataclass
class _Group:
    sources: tuple[object, ...]
    needle: str
    entries: dict[str, Entry]
    rows: dict[str, Row]
    """The rows the filter lets through."""
    stale: bool = False
    keys_by_record: dict[int, str] | None = None
    """Each record's key, by the record's ``id`` (a ``by_record`` spec's; else None)."""


@dataclass
class RowCache:
    _groups: dict[str, _Group] = field(default_factory=dict)
    _epoch: object = None
    records: dict[str, Any] = field(default_factory=dict)
    """Every record of every PBX shown, filtered or not, by key."""

    def refresh(self, spec: Spec, ctx: ViewContext, needle: str = "") -> Delta:
        needle = needle.lower()
        delta = Delta()
        fresh = ctx.epoch != self._epoch
        self._epoch = ctx.epoch
        for name in [n for n in self._groups if n not in ctx.pbxs]:
            self._drop(self._groups.pop(name), delta)
        for name, state in ctx.pbxs.items():
            sources = tuple(state.resource(r) for r in spec.depends)
            old = self._groups.get(name)
            if old is None or fresh:
                group = self._build(spec, ctx, state, sources, needle, old)
                self._diff(old, group, delta)
            elif all(a is b for a, b in zip(old.sources, sources, strict=True)):
                if old.needle == needle:
                    continue
                # Only the filter changed: each row's search text is already there.
                group = _refiltered(old, needle)
                self._diff(old, group, delta)
            elif old.needle == needle:
                known = self._by_identity(spec, ctx, state, sources, old, delta)
                group = known or self._update(spec, ctx, state, sources, old, delta)
            else:
                group = _refiltered(self._update(spec, ctx, state, sources, old, Delta()), needle)
                self._diff(old, group, delta)
            self._groups[name] = group
        return delta

    def _update(
        self,
        spec: Spec,
        ctx: ViewContext,
        state: PbxState,
        sources: tuple[object, ...],
        old: _Group,
        delta: Delta,
    ) -> _Group:
        """A PBX's new poll, same filter: rows are rebuilt where the version changed, and
        the delta is made of those and of the keys gone (no walk over every row again)."""
        stale = state.resource(spec.resource).stale
        needle = old.needle
        found = spec.records(state)
        keys = spec.keys(state, found)
        if len(set(keys)) < len(keys):
            # A key twice (a PBX listing a channel twice): the last one is shown, as a
            # build from scratch shows it.
            group = self._build(spec, ctx, state, sources, needle, old)
            self._diff(old, group, delta)
            return group
        versions = spec.versions(state, found, ctx, stale=stale)
        before = old.entries
        get = before.get
        entries = {
            key: entry
            for key, version, entry in zip(keys, versions, map(get, keys), strict=True)
            if entry is not None and entry[VERSION] == version
        }
        rows = dict(old.rows)
        if len(entries) < len(keys):
            for key, record, version in zip(keys, found, versions, strict=True):
                if key in entries:
                    continue
                entries[key] = entry = _entry(spec, ctx, record, version, stale)
                _place(key, entry, needle, rows, delta)
        records = self.records
        records.update(zip(keys, found, strict=True))
        gone = before.keys() - entries.keys()
        for key in gone:
            records.pop(key, None)
            if rows.pop(key, None) is not None:
                delta.removed.append(key)
        return _Group(sources, needle, entries, rows, stale, _keyed(spec, keys, found))

    def _build(
        self,
        spec: Spec,
        ctx: ViewContext,
        state: PbxState,
        sources: tuple[object, ...],
        needle: str,
        old: _Group | None,
    ) -> _Group:
        """A PBX's rows from scratch (its first poll, a new filter, a new look)."""
        stale = state.resource(spec.resource).stale
        entries: dict[str, Entry] = {}
        found = spec.records(state)
        keys = spec.keys(state, found)
        versions = spec.versions(state, found, ctx, stale=stale)
        for key, record, version in zip(keys, found, versions, strict=True):
            entries[key] = _entry(spec, ctx, record, version, stale)
        records = self.records
        if old is not None:
            for key in old.entries.keys() - entries.keys():
                records.pop(key, None)
        records.update(zip(keys, found, strict=True))
        rows = _filtered(entries, needle)
        return _Group(sources, needle, entries, rows, stale, _keyed(spec, keys, found))

    def _by_identity(
        self,
        spec: Spec,
        ctx: ViewContext,
        state: PbxState,
        sources: tuple[object, ...],
        old: _Group,
        delta: Delta,
    ) -> _Group | None:
        """``_update`` for a ``by_record`` spec: the records that arrived and left are found
        as sets of identities; None where that does not apply (the stale flag changed, or
        one key came twice), for ``_update`` to do."""
        before = old.keys_by_record
        stale = state.resource(spec.resource).stale
        if before is None or stale != old.stale:
            return None
        found = spec.records(state)
        now = dict(zip(map(id, found), found, strict=True))
        arrived = [now[i] for i in now.keys() - before.keys()]
        left = before.keys() - now.keys()
        if not arrived and not left:
            return _Group(sources, old.needle, old.entries, old.rows, stale, before)
        vacated = {before[i] for i in left}
        keys = spec.keys(state, arrived)
        fresh = set(keys)
        if (
            len(fresh) < len(keys)
            or len(now) < len(found)
            or (fresh & old.entries.keys()) - vacated
        ):
            return None  # a key twice: the generic way keeps the last, as a dict does
        versions = spec.versions(state, arrived, ctx, stale=stale)
        needle, records = old.needle, self.records
        entries, rows = dict(old.entries), dict(old.rows)
        keys_by_record = dict(before)
        for i in left:
            del keys_by_record[i]
        for key, record, version in zip(keys, arrived, versions, strict=True):
            keys_by_record[id(record)] = key
            records[key] = record
            entries[key] = entry = _entry(spec, ctx, record, version, stale)
            _place(key, entry, needle, rows, delta)
        for key in vacated - fresh:
            del entries[key]
            records.pop(key, None)
            if rows.pop(key, None) is not None:
                delta.removed.append(key)
        return _Group(sources, needle, entries, rows, stale, keys_by_record)

    def _diff(self, old: _Group | None, new: _Group, delta: Delta) -> None:
        before = old.rows if old is not None else {}
        for key, row in new.rows.items():
            if before.get(key) is not row:
                delta.changed[key] = row
        delta.removed.extend(key for key in before if key not in new.rows)

    def _drop(self, group: _Group, delta: Delta) -> None:
        delta.removed.extend(group.rows)
        for key in group.entries:
            self.records.pop(key, None)

    def rows(self) -> dict[str, Row]:
        """Every row the filter lets through (for tests and one-off builds)."""
        found: dict[str, Row] = {}
        for group in self._groups.values():
            found.update(group.rows)
        return found


def _entry(spec: Spec, ctx: ViewContext, record: Any, version: object, stale: bool) -> Entry:
    row = spec.row(record, ctx, stale=stale)
    return (version, row, haystack(row, spec.keywords(record)))


def _place(key: str, entry: Entry, needle: str, rows: dict[str, Row], delta: Delta) -> None:
    """A rebuilt row into the rows shown (and the delta) if the filter lets it through, else
    out of them."""
    if not needle or needle in entry[HAYSTACK]:
        rows[key] = delta.changed[key] = entry[ROW]
    elif rows.pop(key, None) is not None:
        delta.removed.append(key)


def _keyed(spec: Spec, keys: list[str], found: Sequence[Any]) -> dict[int, str] | None:
    if not spec.by_record or len(set(keys)) < len(keys):
        return None  # a key twice: the generic way, always
    return dict(zip(map(id, found), keys, strict=True))


def _filtered(entries: dict[str, Entry], needle: str) -> dict[str, Row]:
    if not needle:
        return {key: entry[ROW] for key, entry in entries.items()}
    return {key: entry[ROW] for key, entry in entries.items() if needle in entry[HAYSTACK]}


def _refiltered(group: _Group, needle: str) -> _Group:
    rows = _filtered(group.entries, needle)
    return _Group(group.sources, needle, group.entries, rows, group.stale, group.keys_by_record)
