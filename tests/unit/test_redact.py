from __future__ import annotations

import logging

import pytest

from pbxtui.redact import ScrubbingFilter, redact_url, scrub, secrets


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
