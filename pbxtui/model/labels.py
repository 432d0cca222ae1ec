"""Short texts naming calls, agents and durations: the same words in events, audit lines,
confirmations and the CLI (pure)."""

from __future__ import annotations

from pbxtui.model.records import Agent, Call


def format_duration(seconds: int) -> str:
    """``0:07``, ``12:30``, ``1:02:03``."""
    seconds = max(0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def labelled(number: str, name: str) -> str:
    """``0501234567 (Dana Cohen)``: a number with its name, when it has one."""
    if number and name and name != number:
        return f"{number} ({name})"
    return number or name


def call_label(call: Call) -> str:
    """``0501234567 (Dana Cohen) → 201 (Noa)``, falling back on the channel when numbers
    are unknown."""
    raw = call.caller or call.caller_name or call.channel
    source = labelled(call.caller, call.caller_name) or raw
    target = call.callee or (call.extension if call.extension != raw else "")
    if target and call.callee:
        target = labelled(call.callee, call.callee_name)
    return f"{source} → {target}" if target else f"{source} (other party unknown)"


def agent_label(agent: Agent) -> str:
    """``agent 201 (Dana) in 630``."""
    name = f" ({agent.name})" if agent.name else ""
    queue = f" in {agent.queue_id}" if agent.queue_id else ""
    return f"agent {agent.extension or agent.id}{name}{queue}"
