"""HTTP security headers on every response, and the websocket's Origin check.

Wraps the whole Reflex backend (see `app/app.py`). Personal data travels only over the
websocket and `/api/`; both refuse other origins, and nothing but hashed static files may be
kept by a cache.

Content-Security-Policy: `'unsafe-inline'` for scripts is needed by the prerendered pages'
inline bootstrap scripts, and `'unsafe-eval'` by Reflex itself: a server event that shows a
toast or runs `rx.call_script` reaches the browser as code that Reflex's client evaluates.
Everything else is locked to our own origin, and no page may be framed.

That policy and the page-only headers (Permissions-Policy, X-Frame-Options, COOP) are for
documents. An answer no browser renders as a page (a script, a stylesheet, an image, JSON, the
service worker's pack) gets the short set usual for such answers: `default-src 'none'`, no
framing, nosniff, no referrer; ~0.5 KB less on each of a page's dozen files (issue 20). The
service worker's script is the exception: a worker runs under the CSP of its script's answer,
so `/sw.js` gets one of its own (its own origin, nothing inline, no eval).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from app.api.asgi import ASGIApp, Message, Receive, Scope, Send, header, static_dir
from app.services.settings import load_settings

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
_ALWAYS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# Not a document (see the module doc): what a script, a stylesheet or a JSON answer needs.
_SUBRESOURCE = (
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
WORKER_SCRIPT = "/sw.js"
_WORKER = (
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'"),
    *_SUBRESOURCE[1:],
)
_SECURITY_HEADER_NAMES = frozenset(name for name, _ in (*_ALWAYS, *_SUBRESOURCE))
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
# What can carry personal data is never stored. The static shell (prerendered pages without
# personal data, scripts, manifest) is revalidated on every use so a deploy shows at once, and
# may be kept by the service worker for offline use; content-hashed build output is immutable.
_PERSONAL_PREFIXES = ("/api/", "/_event", "/_upload")
# Vite's build output: every file name carries a hash of its content.
_HASHED_PREFIXES = ("/assets/",)
_IMMUTABLE = b"public, max-age=31536000, immutable"
# Not content-hashed, not personal: left to the server's own validators.
_STATIC_PREFIXES = ("/icons/", "/fonts/")

# The browser's own random id (not a person, not a session, authorises nothing): the card
# scan is limited per device as well as per user and address, so several accounts signed in
# on one clinic tablet cannot multiply the limit (`cards.resolve_scan`). Set by the server on
# an answer that is never stored by a cache (sign-in included, which every scanner passes
# through), HttpOnly so no script reads it; the websocket handshake then carries it.
DEVICE_COOKIE = "dh_device"
DEVICE_COOKIE_DAYS = 400  # the longest a browser keeps a cookie
_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")


def device_cookie(cookie_header: str) -> str:
    """The browser's device id in a `Cookie:` header ('' if none or malformed)."""
    found = ""
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == DEVICE_COOKIE:
            found = value.strip().strip('"')
    return found if _DEVICE_ID.fullmatch(found) else ""


def _device_cookie_header(tls: bool) -> tuple[bytes, bytes]:
    value = (f"{DEVICE_COOKIE}={secrets.token_urlsafe(16)}; Path=/; "
             f"Max-Age={DEVICE_COOKIE_DAYS * 86400}; HttpOnly; SameSite=Strict")
    return b"set-cookie", (value + ("; Secure" if tls else "")).encode("latin-1")


def _without_cors(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The answer without CORS permission, and without `Origin` in its `Vary`.

    A page's module scripts carry an Origin header and the service worker's requests do not: a
    `Vary: Origin` made the browser's HTTP cache miss, and every build file the page had just
    loaded was downloaded again when the worker kept it for offline use (issue 20).
    """
    out: list[tuple[bytes, bytes]] = []
    for key, value in headers:
        name = key.lower()
        if name.startswith(b"access-control-"):
            continue
        if name == b"vary":
            kept = [v.strip() for v in value.split(b",") if v.strip().lower() != b"origin"]
            if not kept:
                continue
            value = b", ".join(dict.fromkeys(kept))
        out.append((key, value))
    return out


def _security_headers_for(path: str, headers: list[tuple[bytes, bytes]]
                          ) -> tuple[tuple[bytes, bytes], ...]:
    """The page's full set for a document (HTML, or XML such as SVG, which can run script when
    opened) and for an answer of unknown type; the worker's for its script; else the short set."""
    if path == WORKER_SCRIPT:
        return _WORKER
    kind = next((v for k, v in headers if k.lower() == b"content-type"), b"").lower()
    if not kind or kind.startswith(b"text/html") or b"xml" in kind:
        return _ALWAYS
    return _SUBRESOURCE


def _is_tls(scope: Scope) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    return (header(scope, b"x-forwarded-proto") or "").split(",")[0].strip() == "https"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(scope: Scope) -> bool:
    """No Origin (not a browser page), or our own origin: exactly the configured public
    address (DH_PUBLIC_URL) when there is one, else an Origin naming this very host."""
    origin = header(scope, b"origin")
    if origin is None:
        return True
    public = load_settings().public_url
    if public:
        return _origin_of(origin) == _origin_of(public)
    host = header(scope, b"host")
    return host is not None and urlsplit(origin).netloc == host


def _page_directory(path: str) -> bool:
    """A prerendered page stored as `<path>/index.html` (e.g. /today): served at /today
    itself rather than redirected to /today/ (a round trip less on a slow network, and the
    address the app's own navigation uses)."""
    if not path or path.endswith("/") or "." in path.rsplit("/", 1)[-1] or ".." in path:
        return False
    return (static_dir() / path.lstrip("/") / "index.html").is_file()


def _password_in_query(scope: Scope) -> bool:
    from app.api.auth import has_password_in_query

    return has_password_in_query(bytes(scope.get("query_string", b"")))


async def _forbidden_origin(send: Send) -> None:
    """The answer to an HTTP request another site made: 403, nothing passed on."""
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"text/plain"), *_ALWAYS],
        }
    )
    await send({"type": "http.response.body", "body": b"forbidden origin"})


class SecurityHeaders:
    """ASGI middleware: headers on every HTTP response; foreign origins refused at the door."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if not origin_allowed(scope) or _password_in_query(scope):
                await send({"type": "websocket.close", "code": 4403})
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path.startswith("/_event") and not origin_allowed(scope):
            # Socket.IO's HTTP transport: the same door as the websocket.
            await _forbidden_origin(send)
            return
        if _password_in_query(scope):
            # A sign-in form that fell back to GET (or a hand-made link): the password is not
            # read, not logged and not kept; the browser lands on the page without it.
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", (path or "/").encode("latin-1")),
                        (b"cache-control", b"no-store"),
                        *_ALWAYS,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if scope.get("method") in ("GET", "HEAD") and _page_directory(path):
            scope = dict(scope)
            scope["path"] = path + "/"
            scope["raw_path"] = (path + "/").encode("latin-1")
        tls = _is_tls(scope)
        same_origin = origin_allowed(scope)
        if not same_origin and scope.get("method") == "OPTIONS":
            # A CORS preflight from another site: no permission, nothing passed on.
            await _forbidden_origin(send)
            return
        personal = path.startswith(_PERSONAL_PREFIXES)
        if personal:
            cache_control: bytes | None = b"no-store"
        elif path.startswith(_HASHED_PREFIXES):
            cache_control = _IMMUTABLE
        elif path.startswith(_STATIC_PREFIXES):
            cache_control = None
        else:
            cache_control = b"no-cache"
        new_device = cache_control == b"no-store" and not device_cookie(
            header(scope, b"cookie") or "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in _SECURITY_HEADER_NAMES
                ]
                headers.extend(_security_headers_for(path, message.get("headers", [])))
                if tls:
                    headers.append(_HSTS)
                if cache_control is not None:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", cache_control))
                if not same_origin or not personal:
                    # Reflex's CORS layer reflects any Origin with credentials allowed: another
                    # site gets no CORS permission at all from us. Our own pages and files need
                    # none (same origin), so they carry no CORS headers and vary on no Origin.
                    headers = _without_cors(headers)
                if new_device:
                    headers.append(_device_cookie_header(tls))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_headers(app: ASGIApp) -> ASGIApp:
    """The api_transformer form Reflex expects: wrap the backend app."""
    return SecurityHeaders(app)
