"""The CloudPlus panel, logged into as a real CloudPlus client does (vendor-notes §7).

Reports and recordings are not in the ``dialup.php`` API but in the panel, behind a session:
a form login on ``index.php`` with the *panel's* user and password (not the API user: the
panel answers ``fail`` to that one), then pages such as ``API/Reports.php`` with the session
cookie. The cookie lives in the PBX's own HTTP client (one per PBX), as a browser's would.

INFERENCE, as nothing of the panel is published: the form fields are Elastix's
(``input_user``, ``input_pass``, ``submit_login``: the brand's panel is Elastix-based); a
refused login answers ``fail`` or the login form again; a session that has expired answers
the login form (or a redirect to it) instead of the page, and is logged into again, once.
"""

from __future__ import annotations

import re

import anyio
import httpx
from pydantic import SecretStr

from pbxtui.drivers.base import AuthRefused
from pbxtui.drivers.budget import RequestBudget
from pbxtui.drivers.http import VendorHttp, VendorResponse

LOGIN_PATH = "index.php"
REPORTS_PATH = "API/Reports.php"
LOGIN_FORM_RE = re.compile(
    r"""type\s*=\s*["']?password|name\s*=\s*["']?input_pass|window\.top\.location""",
    re.IGNORECASE,
)
REFUSAL_RE = re.compile(r"^\s*(?:\{\s*\"?status\"?\s*:\s*\"fail\"\s*\}|fail|failed)\s*$", re.I)
REFUSED = (
    "the panel refused panel_user/panel_pass ({how}): give the panel's own login, which is "
    "not the API user"
)


def login_page(response: VendorResponse) -> bool:
    """Whether an answer is the panel's login form rather than what was asked."""
    return bool(LOGIN_FORM_RE.search(response.text[:65536]))


def refused(response: VendorResponse) -> str:
    """How a login answer says no ("" when it does not)."""
    if REFUSAL_RE.match(response.text):
        return f"it answered {response.text.strip()[:40]!r}"
    if login_page(response):
        return "it answered its login form again"
    return ""


class PanelSession:
    """A logged-in session on one CloudPlus panel; every request under the PBX's budget."""

    def __init__(
        self,
        *,
        pbx: str,
        base_url: str,
        user: SecretStr,
        password: SecretStr,
        client: httpx.AsyncClient,
        timeout: float,
        budget: RequestBudget,
    ) -> None:
        self.pbx = pbx
        self.base_url = base_url
        self._user = user
        self._password = password
        self._client = client
        self._timeout = timeout
        self._budget = budget
        self._pages: dict[str, VendorHttp] = {}
        self._lock = anyio.Lock()
        self._generation = 0  # logins so far: a request knows whether one came after it
        self.logins = 0

    def _http(self, path: str) -> VendorHttp:
        if path not in self._pages:
            self._pages[path] = VendorHttp(
                pbx=self.pbx,
                url=self.base_url + path,
                client=self._client,
                timeout=self._timeout,
                budget=self._budget,
            )
        return self._pages[path]

    async def login(self, after: int = -1) -> None:
        """Log in, unless someone has since ``after`` (requests racing share one login)."""
        async with self._lock:
            if self._generation > after and after >= 0:
                return
            form = {
                "input_user": self._user.get_secret_value(),
                "input_pass": self._password.get_secret_value(),
                "submit_login": "",
            }
            try:
                response = await self._http(LOGIN_PATH).post_form({}, form)
            except AuthRefused as exc:  # a redirect back to the login page
                raise AuthRefused(self.pbx, REFUSED.format(how=exc.reason)) from None
            how = refused(response)
            if how:
                raise AuthRefused(self.pbx, REFUSED.format(how=how))
            self._generation += 1
            self.logins += 1

    async def get(self, path: str, params: dict[str, str]) -> VendorResponse:
        """A panel page, logging in first when there is no session or it has expired."""
        if self._generation == 0:
            await self.login(after=0)
        for attempt in range(2):
            generation = self._generation
            try:
                response = await self._http(path).get(params)
            except AuthRefused:
                response = None  # redirected to the login page: the session is gone
            if response is not None and not login_page(response):
                return response
            if attempt == 0:
                await self.login(after=generation)
        raise AuthRefused(
            self.pbx, f"the panel answered its login form to {path} even after logging in"
        )
