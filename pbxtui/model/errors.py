"""Errors whose text is safe to show anywhere (no secret, no URL with credentials)."""

from __future__ import annotations


class ShowableError(Exception):
    """``str()`` is a readable reason that may go on screen, in logs and in JSON as it is."""
