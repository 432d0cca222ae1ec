"""The contacts file: numbers matched in their local and E.164 forms, bad rows skipped with
their line, the file read again when it changes."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from pbxtui.contacts import (
    CallerData,
    ContactsError,
    ProviderChain,
    number_key,
    open_contacts,
    parse_contacts,
    read_contacts,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("0501234567", "+972501234567"),
        ("0501234567", "972501234567"),
        ("0501234567", "00972501234567"),
        ("+972 50-123-4567", "(050) 123 4567"),
        ("201", "201"),
    ],
)
@pytest.mark.parametrize("country_code", [None, "972"])
def test_one_number_in_its_forms_has_one_key(a: str, b: str, country_code: str | None) -> None:
    assert number_key(a, country_code) == number_key(b, country_code) != ""


@pytest.mark.parametrize(
    ("a", "b", "country_code"),
    [
        ("201", "1201", None),  # short numbers match only themselves
        ("0501234567", "0501234568", None),
        ("+15501234567", "0501234567", "972"),  # another country, the same last 9 digits
        ("+441501234567", "+15501234567", "972"),
    ],
)
def test_different_numbers_have_different_keys(a: str, b: str, country_code: str | None) -> None:
    assert number_key(a, country_code) != number_key(b, country_code)


def test_without_a_country_code_the_last_nine_digits_decide() -> None:
    """The documented cost of matching without ``country_code``."""
    assert number_key("+15501234567") == number_key("0501234567")


def test_rows_that_cannot_be_used_are_skipped_naming_their_line() -> None:
    text = (
        "Number,Name,ID,queue_position,email\n"
        "0501234567,Dana,12345,3,dana@example.com\n"
        "\n"
        "0502222222,Omer\n"  # too few fields
        "no digits,Nobody,1,,\n"
        "0503333333,Queue,2,101,\n"  # queue_position out of 0-100
        '0504444444,"Multi\nline name",007,,\n'
        "+972501234567,Dana again,9,,\n"  # Dana's number in E.164
    )
    index = parse_contacts(text, source="contacts.csv")
    assert set(index.entries) == {number_key("0501234567"), number_key("0504444444")}
    dana = index.entries[number_key("0501234567")]
    assert (dana.name, dana.id, dana.queue_position) == ("Dana", 12345, 3)
    assert index.entries[number_key("0504444444")].id == "007"  # a leading zero kept as text
    warnings = "\n".join(index.warnings)
    assert "contacts.csv: line 1: column(s) email ignored" in warnings
    assert "line 4: skipped: 2 fields where the header has 5" in warnings
    assert "line 5: skipped: 'no digits' is not a number" in warnings
    assert "line 6: skipped: queue_position: " in warnings
    assert "line 9: skipped: +972501234567 is the number of line 2 (the first is kept)" in warnings


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "empty"), ("name,id\nDana,1\n", "no number column")],
)
def test_a_file_without_a_number_column_is_refused(text: str, says: str) -> None:
    with pytest.raises(ContactsError, match=says):
        parse_contacts(text, source="contacts.csv")


def test_a_spreadsheet_export_is_read(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("\ufeffnumber;name\r\n0501234567;Dana Lévi\r\n".encode())
    index = read_contacts(path)
    assert index.entries[number_key("0501234567")].name == "Dana Lévi" and not index.warnings


async def test_the_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv"
    path.write_text("number,name\n0501234567,Dana\n")
    async with open_contacts(path, interval=0.01) as contacts:
        assert (await contacts.lookup("+972501234567")).name == "Dana"  # type: ignore[union-attr]
        loads, read = contacts.loads, contacts.next_reading()
        path.write_text("number,name\n0501234567,Dana Levi\n0509999999,Omer\n")
        os.utime(path, ns=(1, 1))  # a change the mtime alone would miss at coarse resolution
        with anyio.fail_after(10):
            await read.wait()
        assert contacts.loads == loads + 1
        assert (await contacts.lookup("0501234567")).name == "Dana Levi"  # type: ignore[union-attr]
        assert len(contacts) == 2
        loads, read = contacts.loads, contacts.next_reading()
        path.write_text("name\nbroken\n")  # unusable: the last good reading stays
        with anyio.fail_after(10):
            await read.wait()
        assert (contacts.loads, contacts.failed_reads) == (loads, 1)
        assert (await contacts.lookup("0509999999")).name == "Omer"  # type: ignore[union-attr]


async def test_a_chain_answers_with_the_first_that_knows() -> None:
    class One:
        def __init__(self, data: CallerData | None) -> None:
            self.data = data

        async def lookup(self, telephone: str, dnid: str = "") -> CallerData | None:
            return self.data

    chain = ProviderChain([One(None), One(CallerData(name="CRM")), One(CallerData(name="x"))])
    assert (await chain.lookup("0501234567")) == CallerData(name="CRM")
    assert await ProviderChain([One(None)]).lookup("1") is None
