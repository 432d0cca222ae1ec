"""Who may send: the address allow-list, a rate per source, and the shared token."""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_SOURCES = 4096
"""Rate buckets kept; the least recently seen source is forgotten first."""


class AllowList:
    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[IpNetwork, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in networks
        )

    def allows(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0
        except ValueError:
            return False  # not an IP address (a unix socket, a forged proxy header)
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket's view of an IPv4 sender
        return any(address in network for network in self.networks)


class RateLimiter:
    """A token bucket per source: ``rate`` requests a second, in bursts of as many.

    ``clock`` is injectable so tests decide when time passes, rather than racing it."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sources: int = MAX_SOURCES,
    ) -> None:
        self.rate = rate
        self.burst = max(rate, 1.0)
        self._clock = clock
        self._sources = sources
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def admit(self, source: str) -> bool:
        now = self._clock()
        tokens, then = self._buckets.pop(source, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        admitted = tokens >= 1.0
        self._buckets[source] = (tokens - 1.0 if admitted else tokens, now)
        while len(self._buckets) > self._sources:
            self._buckets.popitem(last=False)
        return admitted


def bearer(authorization: str) -> str:
    """The token of an ``Authorization: Bearer …`` header, or ""."""
    scheme, _, value = authorization.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def token_matches(expected: str, given: str) -> bool:
    """Compared in constant time, so the answer's timing never tells how much was right."""
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
