"""A PBX's tenant figures (peers and channels per node, the credit left), read rarely: once
soon after start, then every ``driver.figures_seconds``, through the PBX's own request budget
like any poll, never on a poll loop (COUNTPEERS may take tens of seconds)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio

from pbxtui.drivers.base import Driver, DriverError
from pbxtui.engine.poller import log_bug
from pbxtui.model.figures import TenantFigures
from pbxtui.redact import scrub

FIRST_READ_SECONDS = 3.0  # after start: the first polls of the live lists go first
READ_ALLOWANCE = 60.0  # three slow figures in a row, each with its own timeout (30 s)


async def read_figures(driver: Driver) -> TenantFigures | None:
    """The figures now; a PBX that cannot give them says why in ``problems``."""
    try:
        with anyio.fail_after(READ_ALLOWANCE):
            return await driver.tenant_figures()
    except DriverError as exc:
        return TenantFigures(pbx=driver.name, problems=(scrub(exc.reason),))
    except TimeoutError:
        return TenantFigures(pbx=driver.name, problems=(f"no answer within {READ_ALLOWANCE:g} s",))
    except Exception as exc:
        log_bug(f"{driver.name}: reading its figures failed", exc)
        return TenantFigures(pbx=driver.name, problems=(f"internal error: {type(exc).__name__}",))


async def keep_reading(
    driver: Driver,
    publish: Callable[[TenantFigures], Awaitable[None]],
    *,
    first: float | None = None,
) -> None:
    """Read and publish the figures until cancelled (nothing where the API has none)."""
    if driver.figures_seconds <= 0:
        return
    await anyio.sleep(FIRST_READ_SECONDS if first is None else first)
    while True:
        figures = await read_figures(driver)
        if figures is not None:
            await publish(figures)
        await anyio.sleep(driver.figures_seconds)
