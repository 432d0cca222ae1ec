"""Keeping secrets out of every string a person or a file may see.

The vendor APIs put credentials in query strings, so any URL is redacted before it is shown,
and every secret value read from the config is registered here so that free text (an error
message, a log line) can be scrubbed of it as a last line of defence.

A secret rarely comes back as it was written: httpx percent-encodes it in the query string
(``+`` → ``%2B``, space → ``+``), a PHP vendor echoes it through ``json_encode`` (``/`` →
``\\/``, ``é`` → ``\\u00e9``) or an HTML page (``&`` → ``&amp;``), a proxy encodes it again
(``%2B`` → ``%252B``). Listing every encoder's output would miss the next one, so each
character of a secret is matched in any of its encodings, in any mixture and hex case: one
pattern per secret finds it whichever way it was encoded. Letters and digits no encoder
changes, so a text without a secret's longest run of them is not searched for it at all.
"""

from __future__ import annotations

import base64
import html.entities
import logging
import re
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
MIN_SECRET_LENGTH = 4
"""Shorter values would mask ordinary digits in phone numbers; they are still kept out of
URLs by parameter name."""

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

# JSON's two-character escapes: the character after the backslash.
_JSON_SHORT = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "\b": "b",
    "\f": "f",
    "\n": "n",
    "\r": "r",
    "\t": "t",
}


# Encoded again and again is bounded: an unbounded repeat lets a hostile text (a vendor's
# error of a million backslashes) cost quadratic time to scrub.
AGAIN = "(?:25){0,4}"  # %2B → %252B → %25252B …
BACKSLASHES = r"\\{1,8}"  # \u00e9 → \\u00e9 … (a JSON escape, escaped again)


def _hex(value: int, width: int) -> str:
    """``0x2b`` → ``2[bB]``: hex digits in either case, as encoders differ."""
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{value:0{width}x}")


def _char_forms(char: str) -> str:
    """A pattern matching ``char`` raw or in any encoding a client, vendor or proxy applies.
    ASCII letters and digits are left as they are by every encoder, so they match only as
    they are: that is what lets ``scrub`` skip a secret whose letters are not in a text."""
    if char.isascii() and char.isalnum():
        return char
    code = ord(char)
    forms = [re.escape(char)]
    # Percent-encoding of each UTF-8 byte, possibly encoded again (%2B → %252B → %25252B).
    forms.append("".join(f"%{AGAIN}{_hex(byte, 2)}" for byte in char.encode("utf-8")))
    if char == " ":
        forms += [r"\+", f"%{AGAIN}{_hex(ord('+'), 2)}"]  # quote_plus, then quoted again
    if char == "+":
        forms.append(" ")  # a query decoded as a form: an unencoded + reads as a space
    # JSON string escapes, possibly escaped again (\u00e9 → \\u00e9).
    if code < 0x10000:
        forms.append(rf"{BACKSLASHES}u{_hex(code, 4)}")
    else:
        high, low = divmod(code - 0x10000, 0x400)
        forms.append(
            rf"{BACKSLASHES}u{_hex(0xD800 + high, 4)}{BACKSLASHES}u{_hex(0xDC00 + low, 4)}"
        )
    if char in _JSON_SHORT:
        forms.append(BACKSLASHES + re.escape(_JSON_SHORT[char]))
    # HTML and XML character references (&#43; &#x2B; &plus;), possibly escaped again.
    amp = "&(?:amp;){0,4}"
    forms += [f"{amp}#0{{0,8}}{code};", f"{amp}#[xX]0{{0,8}}{_hex(code, 1)};"]
    name = html.entities.codepoint2name.get(code)
    if name:
        forms.append(f"{amp}{name};")
    if char == "'":
        forms.append(f"{amp}apos;")
    return "(?:" + "|".join(forms) + ")"


def secret_pattern(value: str) -> str:
    """The regular expression that finds ``value`` raw or encoded, character by character."""
    return "".join(_char_forms(char) for char in value)


def _anchor(value: str) -> str:
    """The longest run of ASCII letters and digits in ``value``: no encoding changes it, so a
    text without it cannot hold ``value`` in any encoding ("" when there is none)."""
    runs = re.findall(r"[A-Za-z0-9]+", value)
    return max(runs, key=len, default="")


@dataclass(frozen=True)
class _Secret:
    pattern: re.Pattern[str]
    anchor: str


class SecretRegistry:
    """The secret values known to this process, scrubbed from free text in any encoding."""

    def __init__(self) -> None:
        self._secrets: dict[str, _Secret] = {}
        self._ordered: tuple[_Secret, ...] = ()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        if len(value) >= MIN_SECRET_LENGTH:
            self._register(value, secret_pattern(value))

    def add_basic_auth(self, user: str, password: str) -> None:
        """Credentials httpx sends as ``Authorization: Basic base64(user:password)`` (a URL's
        ``user:password@``): the password in every encoding, and the base64 as it is sent."""
        self.add(password)
        if len(password) >= MIN_SECRET_LENGTH:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            for form in {token, token.rstrip("="), token.replace("+", "-").replace("/", "_")}:
                self._register(form, re.escape(form))

    def _register(self, key: str, pattern: str) -> None:
        with self._lock:
            if key not in self._secrets:
                self._secrets[key] = _Secret(re.compile(pattern), _anchor(key))
                # Longest first, so a secret that contains another is masked whole.
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._ordered = tuple(self._secrets[k] for k in ordered)

    def scrub(self, text: str) -> str:
        for secret in self._ordered:
            if secret.anchor in text:
                text = secret.pattern.sub(MASK, text)
        return text

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._ordered = ()


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
    """Free text with every known secret value masked, whichever way it was encoded."""
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
