"""What the fault matrix's cells share, and writing its table at the end of a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pbxtui.sim.faults import gzip_bomb
from tests.faults import doc
from tests.faults.matrix import Env
from tests.faults.network import Certificates, Resolver


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    certificates = Certificates(tmp_path)
    # httpx builds the console's TLS context from this file when it is set (trust_env).
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.bundle))
    # Made once per process, before any cell watches its event loop: packing it takes a
    # second of CPU the console never spends.
    gzip_bomb()
    yield Env(tmp_path, Resolver(monkeypatch), certificates)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    said = doc.write_if_complete()
    if said:
        terminalreporter.write_line(said)
