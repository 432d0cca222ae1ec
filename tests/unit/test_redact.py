from __future__ import annotations

import base64
import html
import json
import logging
import re
import re._constants as re_constants
import re._parser as re_parser
from collections.abc import Callable
from html.entities import codepoint2name
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pbxtui.redact import MASK, ScrubbingFilter, redact_url, scrub, secret_pattern, secrets


@pytest.mark.parametrize(
    ("url", "hidden"),
    [
        ("https://h/pbx/proxyapi.php?reqtype=PEERS&tenant=T&key=S3cr3tKey", "S3cr3tKey"),
        ("http://h/api/old/get?username=u&password=Pw0rd!&action=users", "Pw0rd!"),
        ("https://h/API/dialup.php?user=u&pass=hunter22&org=o&exten=201", "hunter22"),
        ("https://admin:topsecret@h/path", "topsecret"),
        ("https://h/api/cdr.php?org_token=tok-123456", "tok-123456"),
    ],
)
def test_redact_url_masks_credentials(url: str, hidden: str) -> None:
    shown = redact_url(url)
    assert hidden not in shown
    assert "***" in shown


def test_redact_url_keeps_the_rest_readable() -> None:
    shown = redact_url("https://h/pbx/proxyapi.php?reqtype=PEERS&tenant=T&key=abc")
    assert shown.startswith("https://h/pbx/proxyapi.php?reqtype=PEERS&tenant=T&key=")


def test_registered_secret_scrubbed_from_free_text() -> None:
    secrets.add("CANARY-value-42")
    assert scrub("failed: CANARY-value-42 rejected") == "failed: *** rejected"
    # Even a secret hiding in a non-credential parameter is scrubbed.
    assert "CANARY" not in redact_url("http://h/x?note=CANARY-value-42")


def test_short_values_are_not_registered() -> None:
    secrets.add("12")
    assert scrub("call 1234") == "call 1234"


def test_logging_filter_scrubs(caplog: pytest.LogCaptureFixture) -> None:
    secrets.add("CANARY-log-secret")
    logger = logging.getLogger("pbxtui.test.redact")
    logger.addFilter(ScrubbingFilter())
    with caplog.at_level(logging.INFO, logger="pbxtui.test.redact"):
        logger.info("key is %s", "CANARY-log-secret")
    assert "CANARY" not in caplog.text and "***" in caplog.text


# -- secrets in every encoding ------------------------------------------------------------------

SPECIALS = "+/&=%?#; '\"<>\\~*@:,$!()[]é€😀"
CANARY = "CANARY+/&=%?# é€😀'\"<>\\x"


def _httpx_query(value: str) -> str:
    return str(httpx.QueryParams({"key": value})).removeprefix("key=")


def _php_json(value: str) -> str:
    return json.dumps(value).replace("/", "\\/")[1:-1]


ENCODERS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "httpx query": _httpx_query,
    "httpx form": lambda v: (
        httpx.Request("POST", "http://h/", data={"k": v}).read().decode().removeprefix("k=")
    ),
    "quote": lambda v: quote(v),
    "quote safe=''": lambda v: quote(v, safe=""),
    "quote_plus": lambda v: quote_plus(v),
    "quote lower hex": lambda v: re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), quote(v, "")),
    "quote twice": lambda v: quote(quote(v, safe=""), safe=""),
    "quote_plus twice": lambda v: quote_plus(quote_plus(v)),
    "quote thrice": lambda v: quote(quote(quote(v, safe=""), safe=""), safe=""),
    "json ascii": lambda v: json.dumps(v)[1:-1],
    "json utf-8": lambda v: json.dumps(v, ensure_ascii=False)[1:-1],
    "json php": _php_json,
    "json of json": lambda v: json.dumps(json.dumps(v))[3:-3],
    "json of a query": lambda v: json.dumps(_httpx_query(v))[1:-1],
    "html": lambda v: html.escape(v),
    "html unquoted": lambda v: html.escape(v, quote=False),
    "html of a query": lambda v: html.escape(_httpx_query(v)),
    "html twice": lambda v: html.escape(html.escape(v)),
    "xml numeric": lambda v: v.encode("ascii", "xmlcharrefreplace").decode(),
    "html named": lambda v: "".join(
        f"&{name};" if (name := codepoint2name.get(ord(c))) else c for c in v
    ),
    "html hex": lambda v: "".join(f"&#x{ord(c):X};" if not c.isalnum() else c for c in v),
}


@pytest.mark.parametrize("encoding", list(ENCODERS))
def test_a_canary_is_scrubbed_in_every_encoding(encoding: str) -> None:
    secrets.add(CANARY)
    encoded = ENCODERS[encoding](CANARY)
    text = f"GET /pbx/proxyapi.php?reqtype=PEERS&note={encoded}&tenant=ACME"
    assert scrub(text) == "GET /pbx/proxyapi.php?reqtype=PEERS&note=***&tenant=ACME"


secret_text = st.text(
    alphabet=st.one_of(st.sampled_from(SPECIALS), st.characters(codec="utf-8")), min_size=4
).filter(lambda s: s.strip() == s and MASK not in s)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(secret=secret_text, encoding=st.sampled_from(list(ENCODERS)))
def test_any_secret_is_scrubbed_in_any_encoding(secret: str, encoding: str) -> None:
    secrets.clear()
    secrets.add(secret)
    encoded = ENCODERS[encoding](secret)
    scrubbed = scrub(f"<{encoded}>")
    assert encoded not in scrubbed
    assert secret not in scrubbed


@settings(max_examples=40, deadline=None, derandomize=True)
@given(secret=secret_text)
def test_a_url_redacted_never_shows_a_secret_in_another_parameter(secret: str) -> None:
    secrets.clear()
    secrets.add(secret)
    url = str(httpx.URL("https://h/api/old/get", params={"note": secret, "password": secret}))
    shown = redact_url(url)
    for encoding in ENCODERS.values():
        assert encoding(secret) not in shown


def test_text_without_a_secret_is_left_alone() -> None:
    secrets.add(CANARY)
    text = "hq calls: HTTP 502 Bad Gateway from https://h/p?reqtype=CHANNELS&key=*** (&amp; %2B)"
    assert scrub(text) == text


def test_basic_auth_credentials_are_scrubbed_as_sent() -> None:
    secrets.add_basic_auth("admin", "hunter2+/x")
    token = base64.b64encode(b"admin:hunter2+/x").decode()
    assert scrub(f"Authorization: Basic {token}") == "Authorization: Basic ***"
    assert scrub("pass=hunter2%2B%2Fx") == "pass=***"


def test_the_log_filter_scrubs_an_encoded_secret_in_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets.add(CANARY)
    logger = logging.getLogger("pbxtui.test.redact.tb")
    logger.addFilter(ScrubbingFilter())
    with caplog.at_level(logging.INFO, logger="pbxtui.test.redact.tb"):
        try:
            raise RuntimeError(f"GET /x?key={_httpx_query(CANARY)}")
        except RuntimeError:
            logger.exception("failed %s", quote(CANARY, safe=""))
    assert _httpx_query(CANARY) not in caplog.text
    assert quote(CANARY, safe="") not in caplog.text
    assert caplog.text.count(MASK) >= 2


def _unbounded_repeats(tree: Any) -> int:
    """How many repeats without an upper bound a parsed pattern holds (``x*``, ``x+``)."""
    count = 0
    for op, arg in tree:
        if op in (re_constants.MAX_REPEAT, re_constants.MIN_REPEAT):
            _low, high, inner = arg
            count += (high == re_constants.MAXREPEAT) + _unbounded_repeats(inner)
        elif op is re_constants.SUBPATTERN:
            count += _unbounded_repeats(arg[-1])
        elif op is re_constants.BRANCH:
            count += sum(_unbounded_repeats(branch) for branch in arg[1])
    return count


@pytest.mark.parametrize("secret", [CANARY, "\\\\\\\\", "%%%%&&&&", "a" * 40])
def test_a_secret_pattern_has_no_unbounded_repeat(secret: str) -> None:
    # A hostile vendor text (a million backslashes in an error) must cost linear time to
    # scrub: a bounded repeat cannot backtrack quadratically (figures: bench_secrets.py).
    assert _unbounded_repeats(re_parser.parse(secret_pattern(secret))) == 0
