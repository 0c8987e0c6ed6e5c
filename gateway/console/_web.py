"""The console's HTTP plumbing: templates (autoescaped), security headers on every answer, errors as pages,
form bodies, the console's state on the app, and the dependencies of its pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from importlib import resources
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from gateway.api.services import ServiceSlot
from gateway.console._reader import EvidenceReader
from gateway.console._session import LOGIN_COOKIE, SESSION_COOKIE, Operator, Sealer
from gateway.console.errors import ConsoleError, ConsoleInputInvalid, ConsoleNotFound, CsrfRefused, SignedOut
from gateway.evidence import EvidenceLog
from gateway.settings import ConsoleSettings, Settings
from gateway.transfers.service import TransferService
from gateway.trust.nonces import secret_from_key
from gateway.trust.setup import Trust
from standards.errors import CarbonlinkError

log = logging.getLogger("carbonlink.console")

PREFIX = "/console"
#: Every console answer carries these: no script but the console's own files, no inline script or style,
#: no framing, no referrer (login links carry one-time tickets), nothing cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
MAX_FORM_BYTES = 16 * 1024
MAX_FORM_FIELDS = 16

TEMPLATES = Environment(
    loader=PackageLoader("gateway.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters["thousands"] = lambda n: f"{int(n):,}"

#: The console's sections in the navigation bar, in order: ``(path under /console, label)``. Later
#: capabilities (conformance runs, feeds and subscriptions, ...) add theirs with :func:`add_section`.
SECTIONS: list[tuple[str, str]] = [("/messages", "Messages"), ("/evidence", "Evidence"),
                                   ("/participants", "Participants"), ("/health", "Health")]


def add_section(path: str, label: str) -> None:
    """Show another console page in the navigation (e.g. ``add_section("/conformance", "Conformance")``);
    its router renders with :func:`render` and guards with :data:`OperatorDep`."""
    if (path, label) not in SECTIONS:
        SECTIONS.append((path, label))


@dataclass
class ConsoleState:
    """What the console keeps per app: its settings, the token sealer, the evidence reader."""

    settings: Settings
    sealer: Sealer
    reader: EvidenceReader
    dev_login: bool
    last_holds_error: str | None = field(default=None)

    @property
    def section(self) -> ConsoleSettings:
        return self.settings.console

    @property
    def secure_cookies(self) -> bool:
        return self.settings.issuer.startswith("https://")


def build_state(trust: Trust) -> ConsoleState:
    settings = trust.settings
    configured = settings.console.console_secret
    secret = (configured.get_secret_value().encode() if configured is not None
              else secret_from_key(trust.keyring.current))
    return ConsoleState(settings=settings, sealer=Sealer(secret),
                        reader=EvidenceReader(settings.transfers.evidence_url()),
                        dev_login=settings.console.dev_login_enabled(settings.environment))


def state_of(request: Request) -> ConsoleState:
    if not request.app.state.trust.settings.console.console_enabled:
        raise ConsoleNotFound("the console is off at this gateway (CARBONLINK_CONSOLE_ENABLED)")
    state = getattr(request.app.state, "console", None)
    if state is None:
        state = build_state(request.app.state.trust)
        request.app.state.console = state
    assert isinstance(state, ConsoleState)
    return state


def trust_of(request: Request) -> Trust:
    trust = request.app.state.trust
    assert isinstance(trust, Trust)
    return trust


def evidence_log(request: Request) -> EvidenceLog:
    """The transfer path's evidence log (with its signer): operator actions are appended to it."""
    slot: ServiceSlot[TransferService] = request.app.state.transfers
    return slot.get().recorder.evidence


def transfer_slot(request: Request) -> ServiceSlot[TransferService]:
    slot: ServiceSlot[TransferService] = request.app.state.transfers
    return slot


def current_operator(request: Request) -> Operator:
    return state_of(request).sealer.operator(request.cookies.get(SESSION_COOKIE))


StateDep = Annotated[ConsoleState, Depends(state_of)]
OperatorDep = Annotated[Operator, Depends(current_operator)]


def render(request: Request, template: str, status: int = 200, operator: Operator | None = None,
           **context: Any) -> HTMLResponse:
    """A page: the template rendered with the operator, its CSRF token and the navigation."""
    state = state_of(request)
    csrf = state.sealer.csrf_token(operator.sid) if operator else ""
    html = TEMPLATES.get_template(template).render(
        operator=operator, csrf=csrf, sections=SECTIONS, prefix=PREFIX, path=request.url.path,
        environment=state.settings.environment, **context)
    return HTMLResponse(html, status_code=status)


async def read_form(request: Request) -> dict[str, str]:
    """A console form (``application/x-www-form-urlencoded``, small, no repeated fields)."""
    if (request.headers.get("content-type") or "").split(";")[0].strip().lower() != \
            "application/x-www-form-urlencoded":
        raise ConsoleInputInvalid("a console form is sent as application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise ConsoleInputInvalid("the form is too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConsoleInputInvalid("the form cannot be read") from exc
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise ConsoleInputInvalid(f"the form field {name!r} appears twice")
        form[name] = value
    return form


def check_origin(request: Request) -> None:
    """A form must come from a console page: a browser's Sec-Fetch-Site and Origin say where it came from."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise CsrfRefused("the form was sent from another site")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        issuer = state_of(request).settings.issuer
        if origin not in (expected, issuer):
            raise CsrfRefused("the form was sent from another origin")


async def checked_form(request: Request, sid: str | None) -> dict[str, str]:
    """The form of a POST, after the CSRF checks (origin, and the token bound to ``sid``)."""
    check_origin(request)
    form = await read_form(request)
    state_of(request).sealer.check_csrf(sid, form.get("csrf"))
    return form


def login_sid(request: Request) -> str | None:
    return request.cookies.get(LOGIN_COOKIE)


def _error_page(request: Request, exc: CarbonlinkError) -> Response:
    if isinstance(exc, SignedOut) and request.method == "GET":
        return RedirectResponse(PREFIX + "/login", status_code=303)
    from gateway.errors import status_for  # here: gateway.errors' status table imports the console's errors

    status = status_for(exc)
    if status >= 500:
        log.warning("console page %s failed (%s): %s", request.url.path, exc.code, exc.message)
    try:
        operator: Operator | None = current_operator(request)
    except ConsoleError:
        operator = None
    return render(request, "error.html", status=status, operator=operator, code=exc.code, message=exc.message)


class ConsoleRoute(APIRoute):
    """Every console route: coded errors become an error page (sign-in for a signed-out GET), and every
    answer, page or error or file, gets :data:`SECURITY_HEADERS`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except CarbonlinkError as exc:
                response = _error_page(request, exc)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return guarded


STATIC_FILES = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8",
                "htmx.min.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml"}


def static_file(name: str) -> bytes | None:
    if name not in STATIC_FILES:
        return None
    return (resources.files("gateway.console") / "static" / name).read_bytes()
