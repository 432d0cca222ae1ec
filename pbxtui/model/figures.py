"""A tenant's own figures, read rarely (not on every poll): peers and channels counted per
node by the PBX itself, and the credit left. PBX Cloud's ``COUNTPEERS``, ``COUNTCHANNELS`` and
``INFO balance``; shown by ``pbxtui check`` and in the health detail."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field


def _counts(label: str, nodes: Mapping[str, int], total: int | None) -> str:
    if total is None:
        return ""
    each = ", ".join(f"{node} {count}" for node, count in nodes.items())
    return f"{label} {total}" + (f" ({each})" if each else "")


class TenantFigures(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pbx: str
    peers: dict[str, int] = Field(default_factory=dict, description="Per node")
    peers_total: int | None = None
    channels: dict[str, int] = Field(default_factory=dict, description="Per node")
    channels_total: int | None = None
    balance: str = Field("", description="The credit left, as the PBX wrote it")
    problems: tuple[str, ...] = ()
    """What could not be read, one reason each (the rest is still shown)."""
    read_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def lines(self) -> list[str]:
        """``peers 25 (pbx21 13, pbx22 12)``, ``channels 4 (…)``, ``balance 123.45``."""
        shown = [
            _counts("peers", self.peers, self.peers_total),
            _counts("channels", self.channels, self.channels_total),
            f"balance {self.balance}" if self.balance else "",
        ]
        return [line for line in shown if line] + [f"cannot read: {p}" for p in self.problems]

    def summary(self) -> str:
        return " · ".join(self.lines())
