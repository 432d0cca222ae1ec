"""The webhook receiver: ``/hook/{pbx}/{route}``, GET or POST, as a Starlette app.

Every request goes through the same gate, in this order: the source's address
(``allow_from``, 403), its rate (429), the token (401), the PBX and the route (404: an unknown
name, or a route its kind does not send), the body's size (413, never read past
``max_body``), its parameters (400/415/422). A request refused at any step is counted in
``HookStats`` with its reason and reaches nothing else. The token is checked before the PBX
name, so a sender without it learns nothing of which PBXs exist.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from pbxtui import redact
from pbxtui.config import Config, WebhooksConfig
from pbxtui.hooks.caller_data import CallerDataService
from pbxtui.hooks.dedupe import RecentKeys
from pbxtui.hooks.delivery import Delivery
from pbxtui.hooks.guard import AllowList, RateLimiter, bearer, token_matches
from pbxtui.hooks.params import BadParams, body_params, clean, merged, query_params
from pbxtui.hooks.stats import UNKNOWN_PBX, HookStats, Refusal
from pbxtui.hooks.vendors import ROUTES, Params, Unreadable
from pbxtui.model.push import PushEvent

BODY_SECONDS = 10.0
"""A body that takes longer to arrive is refused (408): a slow sender holds no slot forever."""
SHOWN = 40
"""Characters of a sender's path segment quoted back in a refusal."""

log = logging.getLogger("pbxtui.hooks")


def routes_of(kind: str) -> tuple[str, ...]:
    """The webhook routes a PBX of this kind sends (none for PBX Cloud)."""
    return tuple(name for name, route in ROUTES.items() if route.kind == kind)


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _source(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _shown(text: str) -> str:
    return redact.scrub(clean(text, SHOWN))


class HookReceiver:
    """The ASGI app. ``clock`` is injectable so tests decide when rate buckets refill."""

    def __init__(
        self,
        config: Config,
        delivery: Delivery,
        stats: HookStats,
        caller_data: CallerDataService,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if config.webhooks is None:
            raise ValueError("the config has no [webhooks] table")
        hooks: WebhooksConfig = config.webhooks
        self.kinds = {pbx.name: pbx.kind for pbx in config.pbx}
        self.token = hooks.token.get_secret_value() if hooks.token is not None else ""
        self.max_body = hooks.max_body
        self.allow = AllowList(hooks.allowed_networks())
        self.rate = RateLimiter(hooks.rate, clock=clock)
        self.recent = RecentKeys(clock=clock)
        self.delivery = delivery
        self.stats = stats
        self.caller_data = caller_data
        self.app = Starlette(
            routes=[Route("/hook/{pbx}/{route}", self.endpoint, methods=["GET", "POST"])],
            exception_handlers={404: self.no_route, 405: self.no_route},
        )
        # A trailing slash is no route: Starlette would answer 307 to the slash-less path, and
        # a PBX that follows redirects would deliver the call there a second time.
        self.app.router.redirect_slashes = False

    # -- the gate before any route: who sends, and how often --------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        source = _source(scope)
        refusal: tuple[int, str] | None = None
        if not self.allow.allows(source):
            refusal = (403, f"source {source} is not in allow_from")
        elif not self.rate.admit(source):
            refusal = (429, f"over {self.rate.rate:g} requests a second")
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, reason = refusal
        pbx, route = self._target(str(scope.get("path", "")))
        self._refused(Refusal(status, reason, source, pbx, route))
        headers = {"Retry-After": "1"} if status == 429 else None
        await PlainTextResponse(reason, status, headers=headers)(scope, receive, send)

    def _target(self, path: str) -> tuple[str, str]:
        """(the PBX, if it is one configured; the route) a path names, for the counts."""
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "hook":
            return (parts[2] if parts[2] in self.kinds else UNKNOWN_PBX), _shown(parts[3])
        return UNKNOWN_PBX, ""

    def _refused(self, refusal: Refusal) -> None:
        self.stats.refused(refusal)
        if refusal.status != 429:  # a flood is counted, not logged line by line
            log.info("%s", refusal.line())

    async def no_route(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        reason = "method not allowed: GET or POST" if status == 405 else "no such route"
        pbx, route = self._target(request.url.path)
        self._refused(Refusal(status, reason, _source(request.scope), pbx, route))
        return PlainTextResponse(reason, status)

    # -- /hook/{pbx}/{route} ------------------------------------------------------------------
    async def endpoint(self, request: Request) -> Response:
        name = str(request.path_params["pbx"])
        route_name = str(request.path_params["route"])
        known = name in self.kinds
        pbx = name if known else UNKNOWN_PBX
        try:
            return await self._handle(request, name, route_name)
        except Refused as refused:
            source = _source(request.scope)
            self._refused(Refusal(refused.status, refused.reason, source, pbx, _shown(route_name)))
            headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
            return PlainTextResponse(refused.reason, refused.status, headers=headers)

    async def _handle(self, request: Request, name: str, route_name: str) -> Response:
        try:
            query = query_params(request.scope.get("query_string", b""))
        except BadParams as bad:
            raise Refused(bad.status, bad.reason) from None
        self._check_token(query.get("token", ""), request.headers.get("authorization", ""))
        kind = self.kinds.get(name)
        if kind is None:
            raise Refused(404, f"no PBX named {_shown(name)!r} in the config")
        route = ROUTES.get(route_name)
        if route is None or route.kind != kind:
            routes = ", ".join(routes_of(kind)) or "none: it sends no webhooks"
            raise Refused(404, f"no route {_shown(route_name)!r} for a {kind} PBX ({routes})")
        params = self._without_token(merged(query, await self._body_params(request)))
        if route_name == "caller_data":
            return await self._caller_data(name, params)
        try:
            event = route.read(name, params)
        except Unreadable as exc:
            raise Refused(422, str(exc)) from None
        return self._deliver(event, self._dedupe_key(name, route_name, route.dedupe_on, params))

    def _without_token(self, params: Params) -> Params:
        """The token masked wherever else a sender put it (a template's wrong field), so no
        event, line or log carries it, whatever the scrubber has been told."""
        if not self.token:
            return params
        return {k: v.replace(self.token, redact.MASK) for k, v in params.items()}

    def _check_token(self, in_query: str, authorization: str) -> None:
        if not self.token:
            return
        given = in_query or bearer(authorization)
        if not given:
            raise Refused(401, "no token (give ?token= or Authorization: Bearer)")
        if not token_matches(self.token, given):
            raise Refused(401, "wrong token")

    async def _body_params(self, request: Request) -> Params:
        if request.method != "POST":
            return {}
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise Refused(413, f"body larger than {self.max_body} bytes")
        body = bytearray()
        try:
            with anyio.fail_after(BODY_SECONDS):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > self.max_body:
                        raise Refused(413, f"body larger than {self.max_body} bytes")
        except TimeoutError:
            raise Refused(408, f"body not received within {BODY_SECONDS:g} s") from None
        try:
            return body_params(bytes(body), request.headers.get("content-type", ""))
        except BadParams as bad:
            raise Refused(bad.status, bad.reason) from None

    def _dedupe_key(self, pbx: str, route: str, names: tuple[str, ...], params: Params) -> str:
        for name in names:
            if params.get(name):
                return f"{pbx}\x1f{route}\x1f{params[name]}"
        same = sorted((k, v) for k, v in params.items() if k not in redact.SECRET_PARAMS)
        return f"{pbx}\x1f{route}\x1f{same!r}"

    def _deliver(self, event: PushEvent, key: str) -> Response:
        if self.recent.seen(key):
            self.stats.duplicate(event.pbx)
            return Response(status_code=200)
        if not self.delivery.offer(event):
            raise Refused(503, "busy: events arrive faster than the state takes them in")
        self.recent.add(key)
        self.stats.accepted(event.pbx)
        return Response(status_code=200)

    async def _caller_data(self, pbx: str, params: Params) -> Response:
        """Answered whatever happens: a caller is on the line. The ringing call goes to the
        sink too (when the request names a caller)."""
        telephone, dnid = params.get("telephone", ""), params.get("dnid", "")
        try:
            event = ROUTES["caller_data"].read(pbx, params)
        except Unreadable:
            event = None
        if event is not None:
            if self.delivery.offer(event):
                self.stats.accepted(pbx)
            else:
                self.stats.dropped(pbx)
        data = await self.caller_data.answer(telephone, dnid)
        return JSONResponse(data.answer())
