"""Who a caller is: caller data in the While1 Voice format, from a CSV file of contacts.

The While1 Voice PBX asks our webservice about each caller and expects nine keys back (all
``null`` for a caller nobody knows); the console shows the same ``name`` beside the numbers in
its panes. Anything that can answer such a question is a ``CallerDataProvider``: the CSV file
here, a CRM that speaks the format (``[lookup]``), a chain of them.

Numbers are matched as people write them (``0501234567``, ``+972 50-123-4567``,
``972501234567``, ``00972501234567``), by a key (``number_key``):

- with ``country_code`` set, a number in that country is keyed by its national significant
  number (the digits after the country code, or after the trunk ``0``), and any other
  international number by ``+`` and its digits: exact matches only;
- without it, by its last 9 digits when it has 9 or more, so the forms above match (two
  numbers of different countries that end in the same 9 digits would too: set
  ``country_code`` where that matters);
- numbers of fewer than 7 digits (extensions, short codes) only match themselves.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError

log = logging.getLogger("pbxtui.contacts")

CALLER_DATA_KEYS = (
    "id",
    "name",
    "queue_position",
    "direct_line",
    "backend_link",
    "route_identifier",
    "outbound_number",
    "language",
    "external_id",
)
NUMBER_COLUMNS = ("number", "telephone", "phone")
"""The column that holds the number, under any of these names."""
MAX_CSV_BYTES = 64 * 1024 * 1024
MAX_VALUE = 2048
MAX_WARNINGS_LOGGED = 20
SUFFIX_DIGITS = 9
SHORT_NUMBER = 7


class CallerData(BaseModel):
    """The While1 Voice caller-data answer: nine keys, each ``None`` when not known."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int | str | None = None
    name: str | None = None
    queue_position: int | None = Field(None, ge=0, le=100)
    direct_line: str | None = None
    backend_link: str | None = None
    route_identifier: str | None = None
    outbound_number: str | None = None
    language: str | None = None
    external_id: str | None = None

    def answer(self) -> dict[str, Any]:
        """The JSON object the PBX expects, every key present in the documented order."""
        return self.model_dump(mode="json")


UNKNOWN_CALLER = CallerData()


class CallerDataProvider(Protocol):
    """Answers who ``telephone`` is (``dnid``: the number it called); ``None``: not known."""

    async def lookup(self, telephone: str, dnid: str = "") -> CallerData | None: ...


class ProviderChain:
    """The first answer of several providers, asked in order (a file, then a CRM)."""

    def __init__(self, providers: Sequence[CallerDataProvider]) -> None:
        self.providers = tuple(providers)

    async def lookup(self, telephone: str, dnid: str = "") -> CallerData | None:
        for provider in self.providers:
            found = await provider.lookup(telephone, dnid)
            if found is not None:
                return found
        return None


def number_key(number: str, country_code: str | None = None) -> str:
    """The key two spellings of one number share (see the module's docstring); "" for a text
    with no digits."""
    digits = re.sub(r"\D", "", number)
    if len(digits) < SHORT_NUMBER:
        return digits
    international = number.lstrip().startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if not country_code:
        return digits[-SUFFIX_DIGITS:]
    if not international and digits.startswith("0"):
        return digits[1:]
    if international or digits.startswith(country_code):
        if digits.startswith(country_code):
            national = digits[len(country_code) :]
            return national[1:] if national.startswith("0") else national
        return "+" + digits
    return digits


class ContactsError(Exception):
    """A contacts file that cannot be used at all (missing, too large, no number column)."""


@dataclass(frozen=True)
class ContactsIndex:
    """One reading of the file: caller data by number key, and what was wrong with it."""

    entries: dict[str, CallerData]
    warnings: tuple[str, ...]


def parse_contacts(text: str, *, source: str, country_code: str | None = None) -> ContactsIndex:
    """Read a contacts CSV (a header row, then one contact a row). A row that cannot be used
    is skipped with a warning naming its line; the first of two rows for a number is kept."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ContactsError(f"{source}: empty: expected a header row (number,name,...)") from None
    except csv.Error as exc:
        raise ContactsError(f"{source}: line 1: not CSV: {exc}") from None
    number_column = next((header.index(c) for c in NUMBER_COLUMNS if c in header), None)
    if number_column is None:
        raise ContactsError(
            f"{source}: line 1: no number column in the header ({', '.join(header)[:200]}): "
            f"expected number,{','.join(CALLER_DATA_KEYS[:4])},..."
        )
    warnings: list[str] = []
    unknown = [h for i, h in enumerate(header) if i != number_column and h not in CALLER_DATA_KEYS]
    if unknown:
        warnings.append(
            f"{source}: line 1: column(s) {', '.join(unknown)[:200]} ignored (the caller-data "
            f"keys are {', '.join(CALLER_DATA_KEYS)})"
        )
    columns = {i: h for i, h in enumerate(header) if h in CALLER_DATA_KEYS}
    entries: dict[str, CallerData] = {}
    first_seen: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            warnings.append(f"{source}: line {reader.line_num}: skipped: not CSV ({exc})")
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            warnings.append(
                f"{source}: line {line}: skipped: {len(row)} field{'s' * (len(row) != 1)} "
                f"where the header has {len(header)}"
            )
            continue
        number = row[number_column].strip()
        key = number_key(number, country_code)
        if not key:
            warnings.append(f"{source}: line {line}: skipped: {number[:40]!r} is not a number")
            continue
        values = {columns[i]: _cell(row[i]) for i in columns}
        try:
            data = CallerData.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            problem = exc.errors(include_url=False, include_input=False)[0]
            field = ".".join(str(p) for p in problem["loc"])
            warnings.append(f"{source}: line {line}: skipped: {field}: {problem['msg']}")
            continue
        if key in entries:
            warnings.append(
                f"{source}: line {line}: skipped: {number[:40]} is the number of line "
                f"{first_seen[key]} (the first is kept)"
            )
            continue
        entries[key] = _typed(data)
        first_seen[key] = line
    return ContactsIndex(entries, tuple(warnings))


def _cell(text: str) -> str | None:
    value = text.strip()[:MAX_VALUE]
    return value or None


def _typed(data: CallerData) -> CallerData:
    """An ``id`` of digits is a JSON number, as in the vendor's example (``"id": 12345``);
    one with a leading zero stays text, which a number would lose."""
    ident = data.id
    digits = isinstance(ident, str) and ident.isascii() and ident.isdigit()
    if digits and isinstance(ident, str) and not ident.startswith("0") and len(ident) <= 15:
        return data.model_copy(update={"id": int(ident)})
    return data


def read_contacts(path: Path, country_code: str | None = None) -> ContactsIndex:
    """The file's index (blocking: run it in a worker thread on the event loop)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise ContactsError(f"{path}: cannot read it: {exc.strerror}") from None
    if len(raw) > MAX_CSV_BYTES:
        raise ContactsError(f"{path}: larger than {MAX_CSV_BYTES // 1024 // 1024} MiB")
    text = raw.decode("utf-8-sig", errors="replace")  # a spreadsheet's export starts with a BOM
    return parse_contacts(text, source=str(path), country_code=country_code)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class CsvContacts:
    """A contacts file as a ``CallerDataProvider``, read again when it changes (``watch``)."""

    def __init__(self, path: Path, *, country_code: str | None = None) -> None:
        self.path = path
        self.country_code = country_code
        self._index = ContactsIndex({}, ())
        self._signature: tuple[int, int, int] | None = None
        self.loads = 0
        """How many times the file was read."""
        self.failed_reads = 0
        """How many changes of the file could not be read (the last good reading stays)."""
        self._next_reading = anyio.Event()

    def next_reading(self) -> anyio.Event:
        """Set once the file has next been read, or has failed to be."""
        return self._next_reading

    def _read_done(self) -> None:
        done, self._next_reading = self._next_reading, anyio.Event()
        done.set()

    @property
    def warnings(self) -> tuple[str, ...]:
        return self._index.warnings

    def __len__(self) -> int:
        return len(self._index.entries)

    async def load(self) -> None:
        """Read the file (in a worker thread: a large file never holds up the event loop).
        Raises ``ContactsError``; the index in use is kept until a reading succeeds."""
        signature = _signature(self.path)
        index = await anyio.to_thread.run_sync(read_contacts, self.path, self.country_code)
        self._index, self._signature = index, signature
        self.loads += 1
        for warning in index.warnings[:MAX_WARNINGS_LOGGED]:
            log.warning("%s", warning)
        if len(index.warnings) > MAX_WARNINGS_LOGGED:
            more = len(index.warnings) - MAX_WARNINGS_LOGGED
            log.warning("%s: %d more warnings", self.path, more)

    async def lookup(self, telephone: str, dnid: str = "") -> CallerData | None:
        return self.find(telephone)

    def find(self, telephone: str) -> CallerData | None:
        """``lookup`` without awaiting: a dict look-up, safe on any path (a poll's)."""
        key = number_key(telephone, self.country_code)
        return self._index.entries.get(key) if key else None

    async def watch(self, interval: float = 1.0) -> None:
        """Read the file again whenever it changes, until cancelled. A file that went away or
        became unreadable is said once, and its last good reading stays in use."""
        failing = False
        while True:
            await anyio.sleep(interval)
            signature = _signature(self.path)
            if signature is None or signature == self._signature:
                if signature is None and not failing:
                    log.warning("%s: gone: its last reading is kept in use", self.path)
                failing = failing or signature is None
                continue
            try:
                await self.load()
                failing = False
            except ContactsError as exc:
                self._signature = signature  # said once per change of the file
                self.failed_reads += 1
                log.warning("%s (its last good reading is kept in use)", exc)
            self._read_done()


@asynccontextmanager
async def open_contacts(
    path: Path | str, *, country_code: str | None = None, interval: float = 1.0
) -> AsyncIterator[CsvContacts]:
    """The contacts file read, and watched for changes while the context is open."""
    contacts = CsvContacts(Path(path), country_code=country_code)
    await contacts.load()
    async with anyio.create_task_group() as group:
        group.start_soon(contacts.watch, interval)
        try:
            yield contacts
        finally:
            group.cancel_scope.cancel()
