"""What reading a large vendor answer costs, before and after, in the same run.

Run: ``.venv/bin/python benchmarks/bench_parse.py`` (``--quick`` for a tiny smoke run). Prints
figures; asserts nothing. Three answers, each at NOC scale:

* PBX Cloud ``CHANNELS``: 10,000 channel rows (5,000 two-leg calls), read by the driver's
  ``fetch_calls`` from an in-memory transport (no socket: the parse is what is measured);
* IEXPBX ``activecalls``: 10,000 calls in the vendor's ``[{success, count, data}]`` envelope;
* PBX Cloud ``INFO extensions``: 2,000 records of the observed 148 fields, three of them read;
* a dialup.php sweep: 2,000 extension status answers, each read, then the calls derived.

Each is read once cold (the first answer a driver sees) and then as a live poll would see it:
successive answers where every duration has ticked and 10 % of the calls changed (ended and
replaced, or changed state). The same figures are taken with the code of another revision
(``--baseline``, by default the last one before the parsers were reworked), extracted with
``git archive`` and run in a child process, so both columns come from this machine and run.
Times are this process's CPU time (``time.process_time``), so other load on the machine
does not show as parsing cost; garbage collection is included, as it is a cost of the parse.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# The revision of main just before the parsers were reworked: the "before" column.
BASELINE = "71514f0"
ROOT = Path(__file__).resolve().parent.parent


# -- answers -----------------------------------------------------------------------------------
class Churn:
    """A live PBX's calls, one answer per tick: durations tick, 10 % of calls change."""

    def __init__(self, calls: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.next_id = 0
        self.calls = [self.new_call() for _ in range(calls)]

    def new_call(self) -> dict[str, Any]:
        self.next_id += 1
        n = self.next_id
        return {
            "n": n,
            "ext": str(201 + n % 2000),
            "caller": f"05{self.rng.randrange(10**8):08d}",
            "age": self.rng.randrange(3600),
            "up": self.rng.random() < 0.9,
            "queue": "630" if n % 5 == 0 else "",
        }

    def tick(self) -> None:
        for index, call in enumerate(self.calls):
            call["age"] += 1
            roll = self.rng.random()
            if roll < 0.05:
                self.calls[index] = self.new_call()
            elif roll < 0.10:
                call["up"] = not call["up"]


def channels_body(churn: Churn) -> bytes:
    """CHANNELS as the simulator's default (``core show channels concise`` names) gives it."""
    rows = []
    for call in churn.calls:
        n, ext = call["n"], call["ext"]
        linked = f"pbx21-1700000000.{2 * n}"
        trunk = f"PJSIP/trunk-ACME-{2 * n:08x}"
        agent = f"PJSIP/{ext}-ACME-{2 * n + 1:08x}"
        state = "Up" if call["up"] else "Ring"
        both_up = call["up"]
        app, data = ("Queue", "630,t,,,300") if call["queue"] else ("Dial", f"PJSIP/{ext}-ACME")
        common = {"node": "pbx21", "Priority": "1", "Accountcode": "ACME", "LinkedID": linked}
        rows.append(
            {
                **common,
                "Channel": trunk,
                "Context": "ACME-from-trunk",
                "Extension": ext,
                "State": "Up",
                "Application": app,
                "Data": data,
                "CallerID": call["caller"],
                "CallerIDName": "",
                "Duration": str(call["age"]),
                "BridgedTo": agent if both_up else "(None)",
                "UniqueID": linked,
            }
        )
        rows.append(
            {
                **common,
                "Channel": agent,
                "Context": "ACME-internal",
                "Extension": ext,
                "State": state,
                "Application": "AppQueue" if call["queue"] else "AppDial",
                "Data": "(Outgoing Line)",
                "CallerID": call["caller"],
                "CallerIDName": "",
                "Duration": str(max(0, call["age"] - 5)),
                "BridgedTo": trunk if both_up else "(None)",
                "UniqueID": f"pbx21-1700000000.{2 * n + 1}",
            }
        )
    return json.dumps(rows, separators=(",", ":")).encode()


def hms(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def activecalls_body(churn: Churn) -> bytes:
    """activecalls in the documented envelope, one row per call."""
    rows = [
        {
            "channel": f"SIP/trunk-sip-Trunk110-{call['n']:05x}",
            "duration": hms(call["age"]),
            "calltype": "Queue(630)" if call["queue"] else "Dial(SIP/" + call["ext"] + ")",
            "callinfo": "Talking" if call["up"] else "Ringing",
            "src": "90" + call["caller"],
            "dst": call["ext"],
        }
        for call in churn.calls
    ]
    envelope = [{"success": True, "count": len(rows), "data": rows}]
    return json.dumps(envelope, separators=(",", ":")).encode()


def extensions_body(churn: Churn) -> bytes:
    """INFO extensions: one 148-field record per extension (the observed width), of which the
    driver reads three; a tenth of the extensions change state per answer."""
    rows = []
    for index, call in enumerate(churn.calls):
        record = {"ex_id": str(3272 + index), "ex_number": str(1000 + index)}
        record["ex_name"] = f"Agent {index}"
        record |= {f"ex_opt_{n:03d}": "" for n in range(141)}
        record |= {"st_extension": f"{1000 + index}-ACME", "st_peername": f"{1000 + index}-ACME"}
        record["st_state"] = "INUSE" if call["up"] else "NOT_INUSE"
        record["st_timestamp"] = "2026-01-05 10:11:12"
        rows.append(record)
    return json.dumps(rows, separators=(",", ":")).encode()


def status_bodies(extensions: int, churn: Churn) -> dict[str, bytes]:
    """One dialup status answer per watched extension; pairs of them on calls together."""
    busy: dict[str, dict[str, str]] = {}
    for call in churn.calls[: extensions // 2]:
        a = str(1000 + (2 * call["n"]) % extensions)
        b = str(1000 + (2 * call["n"] + 1) % extensions)
        if a in busy or b in busy:
            continue
        uid_a, uid_b = f"1717240000.{2 * call['n']}", f"1717240000.{2 * call['n'] + 1}"
        word = "busy" if call["up"] else "ringing"
        busy[a] = {"Status": word, "Channel": f"SIP/{a}-{call['n']:08x}", "Uniqueid": uid_a}
        busy[a]["BridgedUniqueid"] = uid_b
        busy[b] = {"Status": word, "Channel": f"SIP/{b}-{call['n']:08x}", "Uniqueid": uid_b}
        busy[b]["BridgedUniqueid"] = uid_a
    bodies = {}
    for i in range(extensions):
        exten = str(1000 + i)
        fields = {"exten": exten, "Response": "yes", **busy.get(exten, {"Status": "free"})}
        bodies[exten] = json.dumps({"data": fields}).encode()
    return bodies


# -- measuring (with whatever ``pbxtui`` is importable) ----------------------------------------
def config_for(kind: str, extensions: int = 0) -> Any:
    from pbxtui.config import parse_config

    entries = {
        "pbxcloud": 'kind = "pbxcloud"\ntenant = "ACME"\nkey = "k"',
        "iexpbx": 'kind = "iexpbx"\nusername = "u"\npassword = "p"',
    }
    text = f'[[pbx]]\nname = "big"\nurl = "http://127.0.0.1:9/x"\n{entries[kind]}\ntimeout = 60\n'
    return parse_config(text, source="<bench>").pbx[0]


async def timed_fetches(
    kind: str, resource: str, bodies: Iterator[bytes], answers: int
) -> list[float]:
    """Seconds per fetch of each answer, through the real driver and httpx (PEERS, asked
    beside INFO extensions, answers no peers)."""
    import httpx

    from pbxtui.drivers import create_driver

    current = b""

    def handler(request: httpx.Request) -> httpx.Response:
        body = b"[]" if request.url.params.get("reqtype") == "PEERS" else current
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    times = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        driver = create_driver(config_for(kind), client)
        for _ in range(answers):
            current = next(bodies)
            started = time.process_time()
            records = await getattr(driver, resource)()
            times.append(time.process_time() - started)
            assert records, "the answer read as no records"
    return times


def answers_of(make: Callable[[Churn], bytes], calls: int) -> Iterator[bytes]:
    churn = Churn(calls)
    while True:
        yield make(churn)
        churn.tick()


def dialup_sweeps(extensions: int, answers: int) -> list[float]:
    """Seconds to read one sweep's status answers and derive its calls (no transport)."""
    from datetime import UTC, datetime

    from pbxtui.drivers import dialup
    from pbxtui.drivers.http import VendorResponse

    def parse(exten: str, response: VendorResponse) -> Any:
        return dialup.parse_status("big", dialup.read_fields("big", response))

    # How the driver reads a status answer: through its reader where it has one (it keeps
    # the last reading of each extension), else the two functions the older driver called.
    reader = getattr(dialup, "StatusReader", None)
    read = reader("big").read if reader is not None else parse
    churn = Churn(extensions)
    times = []
    for _ in range(answers):
        responses = {
            exten: VendorResponse(200, body.decode(), "application/json", 1)
            for exten, body in status_bodies(extensions, churn).items()
        }
        started = time.process_time()
        statuses = {exten: read(exten, response) for exten, response in responses.items()}
        calls = dialup.derive_calls("big", statuses, observed={}, at=datetime.now(UTC))
        times.append(time.process_time() - started)
        assert calls
        churn.tick()
    return times


def measure(rows: int, answers: int, extensions: int, repeats: int) -> dict[str, float]:
    """Cold (a driver's first answer) and warm (the answers after it) milliseconds per case,
    each the best of its samples: on a shared machine the least disturbed one is the cost."""
    figures: dict[str, float] = {}
    cases = [
        ("pbxcloud", "fetch_calls", "CHANNELS", channels_body, rows // 2),
        ("iexpbx", "fetch_calls", "activecalls", activecalls_body, rows),
        ("pbxcloud", "fetch_extensions", "INFO extensions", extensions_body, extensions),
    ]
    for kind, resource, label, make, count in cases:
        runs = [
            asyncio.run(timed_fetches(kind, resource, answers_of(make, count), answers))
            for _ in range(repeats)
        ]
        figures[f"{label} cold"] = min(times[0] for times in runs) * 1000
        figures[f"{label} warm"] = min(t for times in runs for t in times[1:]) * 1000
    sweeps = [dialup_sweeps(extensions, answers) for _ in range(repeats)]
    figures["dialup sweep cold"] = min(times[0] for times in sweeps) * 1000
    figures["dialup sweep warm"] = min(t for times in sweeps for t in times[1:]) * 1000
    return figures


# -- the baseline, in a child process ----------------------------------------------------------
def baseline(revision: str, argv: list[str]) -> dict[str, float] | str:
    """The same figures with the package as it was at ``revision``; a reason if impossible."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "pbxtui"],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            return f"revision {revision} not available ({archive.stderr.decode().strip()[:80]})"
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = {**os.environ, "PYTHONPATH": tmp}
        child = subprocess.run(
            [sys.executable, __file__, "--measure-only", *argv],
            capture_output=True,
            env=env,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            return f"revision {revision} failed: {child.stderr.strip().splitlines()[-1:]}"
        figures: dict[str, float] = json.loads(child.stdout)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="CHANNELS rows / IEXPBX calls")
    parser.add_argument("--extensions", type=int, default=2_000, help="dialup extensions")
    parser.add_argument("--answers", type=int, default=6, help="answers read per driver")
    parser.add_argument("--repeats", type=int, default=3, help="fresh drivers per case")
    parser.add_argument("--baseline", default=BASELINE, help="revision for the before column")
    parser.add_argument("--no-baseline", action="store_true", help="only this checkout")
    parser.add_argument("--quick", action="store_true", help="tiny scale (a smoke run)")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.extensions, args.answers, args.repeats = 200, 40, 3, 1
    scale = ["--rows", str(args.rows), "--extensions", str(args.extensions)]
    scale += ["--answers", str(args.answers), "--repeats", str(args.repeats)]
    if args.measure_only:
        print(json.dumps(measure(args.rows, args.answers, args.extensions, args.repeats)))
        return
    import pydantic

    print(f"bench_parse · {os.cpu_count()} CPUs · Python {platform.python_version()}", end="")
    print(f" · pydantic {pydantic.VERSION}")
    print(f"{args.rows:,} rows/calls, {args.extensions:,} dialup extensions; ", end="")
    print(f"{args.repeats} drivers x {args.answers} answers each, 10 % of calls changed each time")
    print("CPU ms per answer, best of the samples (cold: a driver's first; warm: the later ones)")
    after = measure(args.rows, args.answers, args.extensions, args.repeats)
    before = "skipped" if args.no_baseline else baseline(args.baseline, scale)
    head = f"before ({args.baseline})"
    print(f"\n{'case':<24}{head:>20}{'after':>12}{'after/before':>14}")
    for case, value in after.items():
        if isinstance(before, dict) and case in before:
            old = before[case]
            print(f"{case:<24}{old:>17.1f} ms{value:>9.1f} ms{value / old:>14.2f}")
        else:
            print(f"{case:<24}{'-':>20}{value:>9.1f} ms")
    if isinstance(before, str):
        print(f"\nbefore: {before}")


if __name__ == "__main__":
    main()
