"""Keeping secrets out of every string a person or a file may see.

The vendor APIs put credentials in query strings, so any URL is redacted before it is shown,
and every secret value read from the config is registered here so that free text (an error
message, a log line) can be scrubbed of it as a last line of defence.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Query parameters that carry credentials in one vendor API or another.
SECRET_PARAMS = frozenset(
    {
        "key",
        "password",
        "pass",
        "passwd",
        "pwd",
        "token",
        "org_token",
        "secret",
        "apikey",
        "api_key",
        "access_token",
        "auth",
    }
)


class SecretRegistry:
    """The secret values known to this process, scrubbed from free text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        # Very short values would mask ordinary digits in phone numbers; they are still
        # kept out of URLs by parameter name.
        if len(value) >= 4:
            with self._lock:
                self._values.add(value)

    def scrub(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


secrets = SecretRegistry()


def redact_url(url: str) -> str:
    """The URL with every credential parameter's value and any user:password@ masked."""
    parts = urlsplit(str(url))
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = urlencode(
        [(k, MASK if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(parts.query, True)],
        safe="*",
    )
    return secrets.scrub(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)))


def scrub(text: str) -> str:
    """Free text with every known secret value masked."""
    return secrets.scrub(text)


class ScrubbingFilter(logging.Filter):
    """A logging filter that masks known secrets in every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            # A traceback's text can carry a URL with credentials: render it now, scrubbed.
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
