"""The ``pbxtui`` program as a process of its own starts without what it never uses."""

from __future__ import annotations

import json
import subprocess
import sys

PROGRAM = """
import json, sys
sys.argv = ["pbxtui", "--version"]
from pbxtui import program
try:
    program.run()
except SystemExit:
    pass
import httpx
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if sys.modules[m] is not None),
    "cli": sys.modules.get("httpx._main") is not None,
    "client": bool(httpx.AsyncClient),
}))
"""


def test_the_program_starts_without_httpx_s_command_line_client() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=True
    )
    version, said = done.stdout.splitlines()
    found = json.loads(said)
    assert version.startswith("pbxtui, version ")
    assert "pbxtui.engine.engine" in found["loaded"] and found["client"]
    assert not found["cli"] and "pygments" not in found["loaded"]
