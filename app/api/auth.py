"""Sign-in and the end of a session over plain HTTP: the only places the session cookie is set.

The cookie `dh_session` holds the session token. It is HttpOnly (no script on the page can
read it), SameSite=Strict, and Secure whenever the public address (or the request) is HTTPS.
Reflex's websocket handshake carries it, and `AppState` reads it from the handshake's headers
on the server for every event (see `app/state/session.py`); nothing the browser sends in an
event, and nothing the tab token can replay, authorises anything.

- `POST /api/auth/sign-in` takes the sign-in form as a plain HTML form post: it works before
  the page's script has loaded (a tap while a slow phone is still starting up) and without
  it. It answers with a redirect: to the role's home with the cookie set, or back to the
  sign-in page with the message's key in the query (never the login or the password); an
  empty field is named in `missing` (`login`, `password` or both), so that the page says so
  under that field.
- When the account has a second factor, the password step creates no session: it answers
  with a redirect to the code page (`/second-factor`) and the HttpOnly cookie `dh_second_step`
  (path `/api/auth`, a few minutes), holding a random token whose hash names the pending step.
  `POST /api/auth/second-factor` (again a plain HTML form) takes a code of the authenticator
  app or a recovery code; success ends the step and sets the session cookie exactly like a
  one-step sign-in. The code never travels in a URL and is never logged.
- `GET /api/auth/signed-out` removes the cookie once its session has ended (sign-out, expiry,
  ended elsewhere) and lands on the sign-in page. A live session's cookie is never removed
  here, so a link from another site cannot sign anyone out.

`dh_signed_in` is a second, readable cookie with a random marker per session and no power:
the device code (`assets/device/`) uses it to notice that the session changed.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from reflex.config import get_config
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from app.api.security import origin_allowed
from app.services import accounts
from app.services.account_dto import SecondStep, SignInResult
from app.services.accounts import Throttled
from app.services.db import in_transaction
from app.services.errors import DomainError
from app.services.settings import load_settings
from models import Role, utcnow

log = logging.getLogger(__name__)

SESSION_COOKIE = "dh_session"
MARKER_COOKIE = "dh_signed_in"
SIGN_IN_PATH = "/api/auth/sign-in"
SECOND_STEP_COOKIE = "dh_second_step"
SECOND_FACTOR_PATH = "/api/auth/second-factor"
SECOND_FACTOR_PAGE = "/second-factor"
SIGNED_OUT_PATH = "/api/auth/signed-out"
MAX_FORM_BYTES = 8 * 1024
# What the sign-in page may be told through its query string (anything else is ignored).
ERROR_KEYS = frozenset({"auth.invalid_credentials", "auth.throttled", "signin.required",
                        "auth.second_step_expired"})
# What the code page may be told.
CODE_ERROR_KEYS = frozenset({"auth.code_wrong", "auth.throttled", "signin.code_required"})
# The fields the sign-in form may come back with as empty (`missing=login,password`).
REQUIRED_FIELDS = ("login", "password")
NOTICE_KEYS = frozenset({"signin.expired", "signin.signed_out"})
_NOTICES = {"expired": "signin.expired", "signed_out": "signin.signed_out"}

HOME_ROUTES: dict[str, str] = {
    Role.VOLUNTEER.value: "/today",
    Role.SUPERVISOR.value: "/caseload",
    Role.CLINIC.value: "/scan",
    Role.ADMIN.value: "/admin/users",
}
ACCOUNT_ROUTE = "/account"
_NO_STORE = {"Cache-Control": "no-store"}


def secure_cookies(request: Request) -> bool:
    """Secure whenever the public address is HTTPS, or this request arrived over TLS."""
    public = load_settings().public_url
    if public.startswith("https://"):
        return True
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    return forwarded == "https"


def client_address(request: Request) -> str:
    """The peer as the server sees it; behind Reflex's configured trusted proxies, the address
    they report (the same rule Reflex applies to the websocket)."""
    addr = request.client.host if request.client else ""
    hops = int(get_config().trusted_proxy_hops or 0)
    if hops:
        forwarded = [ip.strip() for ip in request.headers.get("x-forwarded-for", "").split(",")]
        forwarded = [ip for ip in forwarded if ip]
        if len(forwarded) >= hops:
            addr = forwarded[-hops]
    return addr


def cookie_token(cookie_header: str) -> str:
    """The session token in a `Cookie:` header ('' if none). The last `dh_session` wins, as
    Starlette reads it."""
    token = ""
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == SESSION_COOKIE:
            token = value.strip().strip('"')
    return token[:200]


def _back_to_sign_in(key: str, minutes: int | None = None, *,
                     missing: tuple[str, ...] = ()) -> Response:
    fields = {"e": key} if minutes is None else {"e": key, "m": str(minutes)}
    if missing:
        fields["missing"] = ",".join(missing)
    query = urlencode(fields, safe=",")
    return RedirectResponse(f"/?{query}", status_code=303, headers=_NO_STORE)


def _back_to_code_page(key: str, minutes: int | None = None) -> Response:
    fields = {"e": key} if minutes is None else {"e": key, "m": str(minutes)}
    return RedirectResponse(f"{SECOND_FACTOR_PAGE}?{urlencode(fields)}", status_code=303,
                            headers=_NO_STORE)


def _signed_in(request: Request, result: SignInResult) -> Response:
    """The redirect that ends a complete sign-in: home (or the account screen while the
    session may only act on its own account), with the session cookie."""
    restricted = result.must_change_password or result.must_enrol_second_factor
    target = ACCOUNT_ROUTE if restricted else HOME_ROUTES[result.role.value]
    response = RedirectResponse(target, status_code=303, headers=_NO_STORE)
    _set_session_cookies(response, result, secure=secure_cookies(request))
    return response


def _forget_second_step(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SECOND_STEP_COOKIE, path="/api/auth", secure=secure, httponly=True,
                           samesite="strict")


def _set_session_cookies(response: Response, result: SignInResult, *, secure: bool) -> None:
    max_age = load_settings().session_max_hours * 3600
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        MARKER_COOKIE,
        secrets.token_hex(8),
        max_age=max_age,
        path="/",
        secure=secure,
        httponly=False,
        samesite="strict",
    )


def clear_session_cookies(response: Response, *, secure: bool) -> None:
    for name, httponly in ((SESSION_COOKIE, True), (MARKER_COOKIE, False)):
        response.delete_cookie(
            name, path="/", secure=secure, httponly=httponly, samesite="strict"
        )


def _from_our_page(request: Request) -> bool:
    """A form on one of our pages (no login CSRF). Browsers say where a request comes from in
    `Sec-Fetch-Site`; under our `Referrer-Policy: no-referrer` a form post's `Origin` is
    "null", so the Origin rule applies only to clients that send no Sec-Fetch-Site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    return origin_allowed(request.scope)


def _form_fields(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[-1] for name, values in parsed.items() if values}


async def _our_form(request: Request) -> dict[str, str] | Response:
    """The fields of a form posted from one of our pages, or the refusal to answer with: 403
    from anywhere else, 413 past `MAX_FORM_BYTES` (declared or sent)."""
    if not _from_our_page(request):
        return PlainTextResponse("forbidden origin", status_code=403, headers=_NO_STORE)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return PlainTextResponse("too large", status_code=413, headers=_NO_STORE)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return PlainTextResponse("too large", status_code=413, headers=_NO_STORE)
    return _form_fields(body)


async def sign_in(request: Request) -> Response:
    """The sign-in form, posted by the browser (`application/x-www-form-urlencoded`)."""
    fields = await _our_form(request)
    if isinstance(fields, Response):
        return fields
    login = fields.get("login", "")[:200].strip()
    password = fields.get("password", "")[:1000]
    if not login or not password:
        empty = tuple(name for name, value in (("login", login), ("password", password))
                      if not value)
        return _back_to_sign_in("signin.required", missing=empty)
    addr = client_address(request)

    def attempt() -> SignInResult | SecondStep:
        return in_transaction(
            lambda db: accounts.begin_sign_in(
                session=db, login=login, password=password, client_addr=addr
            )
        )

    try:
        result = await run_in_threadpool(attempt)
    except Throttled as err:
        return _back_to_sign_in(err.key, int(err.params.get("minutes", 1)))
    except DomainError as err:
        key = err.key if err.key in ERROR_KEYS else "auth.invalid_credentials"
        return _back_to_sign_in(key)
    if isinstance(result, SecondStep):
        response = RedirectResponse(SECOND_FACTOR_PAGE, status_code=303, headers=_NO_STORE)
        response.set_cookie(
            SECOND_STEP_COOKIE,
            result.token,
            max_age=int((result.expires_at - utcnow()).total_seconds()),
            path="/api/auth",
            secure=secure_cookies(request),
            httponly=True,
            samesite="strict",
        )
        return response
    return _signed_in(request, result)


async def second_factor(request: Request) -> Response:
    """The code page's form: a code of the authenticator app, or a recovery code, for the
    pending second step named by the `dh_second_step` cookie."""
    fields = await _our_form(request)
    if isinstance(fields, Response):
        return fields
    code = fields.get("otp", "")[:64].strip()
    token = request.cookies.get(SECOND_STEP_COOKIE, "")
    secure = secure_cookies(request)
    if not token:
        return _back_to_sign_in("auth.second_step_expired")
    if not code:
        return _back_to_code_page("signin.code_required")
    addr = client_address(request)

    def attempt() -> SignInResult:
        return in_transaction(
            lambda db: accounts.complete_sign_in(
                session=db, token=token, code=code, client_addr=addr
            )
        )

    try:
        result = await run_in_threadpool(attempt)
    except Throttled as err:
        return _back_to_code_page(err.key, int(err.params.get("minutes", 1)))
    except DomainError as err:
        if err.key == "auth.code_wrong":
            return _back_to_code_page(err.key)
        response = _back_to_sign_in("auth.second_step_expired")
        _forget_second_step(response, secure=secure)
        return response
    response = _signed_in(request, result)
    _forget_second_step(response, secure=secure)
    return response


async def signed_out(request: Request) -> Response:
    """Remove the cookie of a session that has ended, then show the sign-in page's notice."""
    notice = request.query_params.get("n", "")
    token = request.cookies.get(SESSION_COOKIE, "")

    def live() -> bool:
        return token != "" and in_transaction(
            lambda db: accounts.validate_session(session=db, token=token, touch=False)
        ) is not None

    if await run_in_threadpool(live):
        # Not ended: nothing to remove (a cross-site link cannot sign anyone out).
        return RedirectResponse("/", status_code=303, headers=_NO_STORE)
    target = "/"
    if notice in _NOTICES:
        target = "/?" + urlencode({"n": notice})
    response = RedirectResponse(target, status_code=303, headers=_NO_STORE)
    clear_session_cookies(response, secure=secure_cookies(request))
    return response


def has_password_in_query(query_string: bytes) -> bool:
    """A query string naming a password (a form that fell back to GET, a hand-made link)."""
    if not query_string:
        return False
    text = query_string.decode("latin-1").lower()
    if not any(word in text for word in ("password", "passwd", "pwd", "pass", "otp")):
        return False
    try:
        names = parse_qs(text, keep_blank_values=True, max_num_fields=200)
    except ValueError:
        return True
    return any(
        "password" in name or "passwd" in name or name in ("pwd", "pass", "otp")
        for name in names
    )


def without_query(path: str) -> str:
    return urlsplit(path).path or "/"


ROUTES = [
    Route(SIGN_IN_PATH, sign_in, methods=["POST"]),
    Route(SECOND_FACTOR_PATH, second_factor, methods=["POST"]),
    Route(SIGNED_OUT_PATH, signed_out, methods=["GET"]),
]
