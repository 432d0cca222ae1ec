"""The one TLS context per setting that every HTTP client of the process shares."""

from __future__ import annotations

import ssl

import pytest

from pbxtui.tls import tls_context


def test_the_verifying_context_checks_certificates_and_names_and_is_built_once() -> None:
    context = tls_context()
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # the CA bundle is loaded
    assert tls_context(True) is context


def test_the_unverified_context_checks_nothing_and_is_another_one() -> None:
    context = tls_context(False)
    assert context.verify_mode is ssl.CERT_NONE and not context.check_hostname
    assert context is not tls_context(True)


def test_a_changed_ca_file_gets_a_context_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    default = tls_context()
    monkeypatch.setenv("SSL_CERT_FILE", ssl.get_default_verify_paths().openssl_cafile)
    try:
        other = tls_context()
    except (FileNotFoundError, ssl.SSLError):
        pytest.skip("this machine's OpenSSL has no CA file of its own")
    assert other is not default and other.verify_mode is ssl.CERT_REQUIRED
