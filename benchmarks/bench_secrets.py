"""What keeping secrets costs: scrubbing text of secrets in every encoding, and writing an
audit line that is on disk before the action goes.

Run by hand: ``.venv/bin/python benchmarks/bench_secrets.py``. Prints figures; asserts
nothing. Scrubbing runs on every error, event, log line and audit field; an audit append runs
twice per action (intent, then outcome), so either being slow would be felt.
"""

from __future__ import annotations

import json
import secrets as random_secrets
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from pbxtui.engine.audit import AuditLog
from pbxtui.redact import redact_url, scrub, secrets

SHORT = (
    "hq calls: bad answer: HTTP 502 Bad Gateway from "
    "https://pbx.example.com/pbx/proxyapi.php?reqtype=CHANNELS&tenant=ACME&key=***"
)


def per_call(fn: object, repeat: int) -> float:
    assert callable(fn)
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat


def bench_scrub() -> None:
    body = json.dumps(
        [
            {"channel": f"SIP/2{n:02d}-0000a{n}", "caller": "0501234567", "app": "Queue(630)"}
            for n in range(10_000)
        ]
    )
    url = "https://h/api/old/get?username=u&password=***&action=users&note=x"
    print(f"scrub (text of {len(body) / 1e6:.2f} MB is a 10,000-call answer)")
    for count in (1, 5, 20, 50):
        secrets.clear()
        for _ in range(count):
            secrets.add(random_secrets.token_urlsafe(18) + "+/&=%é")
        short = per_call(lambda: scrub(SHORT), 2_000)
        redacted = per_call(lambda: redact_url(url), 2_000)
        big = per_call(lambda: scrub(body), 3)
        print(
            f"  {count:>3} secrets: a line {short * 1e6:6.1f} µs, a URL redacted "
            f"{redacted * 1e6:6.1f} µs, 1 MB {big * 1000:7.1f} ms"
        )
    secrets.clear()
    secrets.add("C4NARY+/&=%?# é€'\"<>\\~*")
    print(
        "scrub of hostile texts of 1 MB holding the secret's letters every 1 kB (a vendor's"
        " error built to make a regex backtrack), and of the secret encoded every 1 kB"
    )
    encoded = quote("C4NARY+/&=%?# é€'\"<>\\~*", safe="")
    for name, unit in (
        ("backslashes", "\\"),
        ("%25", "%25"),
        ("&amp;", "&amp;"),
        ("the secret", encoded + " "),
    ):
        text = ("C4NARY" + unit * (1000 // len(unit))) * 1000
        print(f"  {name:<12} {per_call(lambda text=text: scrub(text), 3) * 1000:7.1f} ms")
    secrets.clear()


def bench_audit() -> None:
    with tempfile.TemporaryDirectory() as folder:
        log = AuditLog(Path(folder) / "audit.jsonl", max_bytes=200_000, backups=3)
        times = []
        for n in range(400):
            started = time.perf_counter()
            log.append(
                pbx="hq",
                action="hangup",
                target=f"SIP/201-{n:08x} (0501234567 → 201, 42s)",
                params={"call_id": f"{n}"},
                result="ok",
                message="Channel Hungup",
            )
            times.append(time.perf_counter() - started)
        kept = len(log.read_entries(rotated=True))
    times.sort()
    print(f"audit append, fsync'd, rotated at 200 kB ({tempfile.gettempdir()} filesystem)")
    print(
        f"  median {statistics.median(times) * 1000:.2f} ms, "
        f"p95 {times[int(len(times) * 0.95)] * 1000:.2f} ms, "
        f"max {times[-1] * 1000:.2f} ms over {len(times)} lines ({kept} kept in 4 files)"
    )


if __name__ == "__main__":
    bench_scrub()
    bench_audit()
