"""The process's TLS contexts: one per verification setting, built once and shared.

Building the verifying one loads the whole CA bundle (25-35 ms on a 2-core machine), and
every HTTP client built one of its own: the demo spent about 150 ms of its start on them. A
context is safe to share between clients, threads and event loops. Loading the bundle lets
other threads run, so the program starts building it in a thread (``start_building``) while
its commands are still being imported.

The rules are httpx's own (``httpx.create_ssl_context``): ``SSL_CERT_FILE``, else
``SSL_CERT_DIR``, else certifi's bundle. httpx is not imported here, so that the thread
starts before it is."""

from __future__ import annotations

import os
import ssl
import threading

_lock = threading.Lock()
_built: dict[tuple[bool, str, str], ssl.SSLContext] = {}


def tls_context(verify: bool = True) -> ssl.SSLContext:
    """The shared context that checks certificates (``verify``) or does not."""
    # Keyed by the variables too: a process that changes them (a test's own CA) gets a
    # context that follows them.
    key = (verify, os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))
    with _lock:  # a caller arriving while the thread builds it waits for that one
        context = _built.get(key)
        if context is None:
            context = _built[key] = _build(*key)
        return context


def start_building() -> None:
    """Build the verifying context in a thread of its own, from now on."""
    threading.Thread(target=tls_context, name="pbxtui-tls", daemon=True).start()


def _build(verify: bool, cert_file: str, cert_dir: str) -> ssl.SSLContext:
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    if cert_file:
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir:
        return ssl.create_default_context(capath=cert_dir)
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
