"""A load generator in its own process: one of the fleets in ``fleets``, served on loopback.

``python -m benchmarks.load_server noc --pbxs 20 --calls 10000 --write-config /tmp/noc.toml``
serves the fleet (one uvicorn server per simulated PBX, as ``pbxtui sim`` does), writes a
config that points at it, prints one JSON line ``{"ready": true, "ports": {...}}`` and serves
until SIGTERM, SIGINT or ``--max-seconds`` (so a forgotten one stops by itself).
Each simulator lists the arrival time of every request it got at ``/_sim/requests``, and
takes faults at ``/_sim/faults`` (``{"hang": true}``), as ``pbxtui sim`` documents.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import anyio
import click

from benchmarks.fleets import FLEETS, FleetSize
from pbxtui.sim.fleet import build_fleet, running_fleet


@click.command()
@click.argument("fleet", type=click.Choice(sorted(FLEETS)))
@click.option("--pbxs", type=int, default=FleetSize.pbxs)
@click.option("--calls", type=int, default=FleetSize.calls, help="Calls over the whole fleet.")
@click.option("--churn", type=float, default=FleetSize.churn, help="Share changing per second.")
@click.option("--extensions", type=int, default=FleetSize.extensions, help="Per PBX.")
@click.option("--latency", type=float, default=0.0, help="Seconds before every answer.")
@click.option("--poll-interval", type=float, default=1.0)
@click.option("--timeout", type=float, default=3.0)
@click.option("--max-seconds", type=float, default=3600.0)
@click.option("--write-config", type=click.Path(path_type=Path, dir_okay=False), required=True)
def main(
    fleet: str,
    pbxs: int,
    calls: int,
    churn: float,
    extensions: int,
    latency: float,
    poll_interval: float,
    timeout: float,
    max_seconds: float,
    write_config: Path,
) -> None:
    size = FleetSize(pbxs=pbxs, calls=calls, churn=churn, extensions=extensions)
    sims = build_fleet(FLEETS[fleet](size))
    for sim in sims:
        sim.faults.update({"latency": latency})
    overrides = {"poll_interval": poll_interval, "timeout": timeout}

    async def serve() -> None:
        async with running_fleet(sims, write_config=write_config, **overrides) as (_, _, ports):
            calls = {sim.name: len(sim.scenario.calls) for sim in sims}
            ready = {"ready": True, "ports": ports, "calls": calls}
            print(json.dumps(ready), flush=True)
            with (
                anyio.move_on_after(max_seconds),
                anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals,
            ):
                async for _ in signals:
                    break

    anyio.run(serve)
    sys.exit(0)


if __name__ == "__main__":
    main()
