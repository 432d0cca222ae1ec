"""Opening the engine's name sources (``[contacts]``, ``[lookup]``) for its lifetime."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack

import anyio

from pbxtui.config import Config
from pbxtui.contacts import ContactsError, CsvContacts, open_contacts
from pbxtui.engine.lookup import LookupClient
from pbxtui.engine.names import CallerNames

log = logging.getLogger("pbxtui.names")


async def open_names(
    config: Config, stack: AsyncExitStack, *, on_change: Callable[[], None]
) -> CallerNames:
    """The configured sources, opened on ``stack`` (closed with it): the contacts file read
    and watched, the CRM's client and its workers running. A contacts file that cannot be
    read is said and left out: a console without names is better than no console."""
    contacts: CsvContacts | None = None
    if config.contacts is not None:
        try:
            contacts = await stack.enter_async_context(
                open_contacts(config.contacts.csv, country_code=config.contacts.country_code)
            )
        except ContactsError as exc:
            log.warning("caller names: %s (the contacts file is not used)", exc)
    lookup: LookupClient | None = None
    settings = config.lookup
    if settings is not None:
        lookup = await stack.enter_async_context(LookupClient(settings))
    names = CallerNames(
        contacts=contacts,
        lookup=lookup,
        ttl=settings.ttl if settings is not None else 600.0,
        concurrency=settings.concurrency if settings is not None else 1,
        country_code=config.contacts.country_code if config.contacts is not None else None,
        on_change=on_change,
    )
    if lookup is not None:
        group = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(group.cancel_scope.cancel)  # runs first on close: the workers stop
        group.start_soon(names.run, name="names lookup")
    return names
