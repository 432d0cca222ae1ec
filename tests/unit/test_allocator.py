"""The console pins glibc's allocator settings where there is glibc, and is quiet elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from pbxtui.allocator import settle_allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_glibc_takes_the_settings() -> None:
    # In a process of its own: the settings are the whole process's.
    code = "from pbxtui.allocator import settle_allocator; print(settle_allocator())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True", done.stderr


def test_without_glibc_nothing_is_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    assert settle_allocator() is False
