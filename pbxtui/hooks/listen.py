"""``pbxtui listen``: the receiver without the console. Each accepted event is one JSON line on
standard output; each refusal one line on standard error (never with the token)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

import anyio

from pbxtui.config import Config
from pbxtui.contacts import ContactsError, open_contacts
from pbxtui.hooks.app import routes_of
from pbxtui.hooks.server import HookServerError, serve_hooks
from pbxtui.hooks.stats import HookStats, Refusal
from pbxtui.masking import mask_tree
from pbxtui.model.push import PushEvent

Echo = Callable[[str], None]
KEPT_WHEN_MASKED = frozenset({"call_id", "received_at", "pbx", "route", "kind", "queue"})
"""Identifiers and times ``--mask-numbers`` leaves (but for a number shown elsewhere)."""


def event_line(event: PushEvent, *, mask: bool = False) -> str:
    if not mask:
        return event.model_dump_json()
    document = mask_tree(event.model_dump(mode="json"), keep=KEPT_WHEN_MASKED)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


async def listen(config: Config, *, out: Echo, err: Echo, mask: bool = False) -> int:
    """Serve until cancelled (or until standard output goes away); the exit code."""
    # What the receiver and the contacts file have to say (a slow provider, a malformed
    # row) is for the person running this; refusals are said below, one line each.
    for name in ("pbxtui.hooks", "pbxtui.contacts"):
        logging.getLogger(name).setLevel(logging.WARNING)
    closed = anyio.Event()

    def refused(refusal: Refusal) -> None:
        err(f"pbxtui: {refusal.line()}")

    async def sink(event: PushEvent) -> None:
        if closed.is_set():
            return
        try:
            out(event_line(event, mask=mask))
        except BrokenPipeError:  # | head -1
            closed.set()

    try:
        async with AsyncExitStack() as stack:
            contacts = None
            if config.contacts is not None:
                contacts = await stack.enter_async_context(
                    open_contacts(config.contacts.csv, country_code=config.contacts.country_code)
                )
                err(f"pbxtui: {len(contacts)} contacts from {config.contacts.csv}")
            server = await stack.enter_async_context(
                serve_hooks(config, sink, stats=HookStats(on_refusal=refused), contacts=contacts)
            )
            err(f"pbxtui: listening on {server.url} (Ctrl-C stops)")
            for pbx in config.pbx:
                paths = "  ".join(f"/hook/{pbx.name}/{route}" for route in routes_of(pbx.kind))
                err(f"  {pbx.name:<12} {pbx.kind:<9} {paths or 'sends no webhooks'}")
            await closed.wait()
    except (HookServerError, ContactsError) as exc:
        err(f"pbxtui: {exc}")
        return 1
    return 0
