"""HTTP security headers on every response, and the websocket's Origin check.

Wraps the whole Reflex backend (see `app/app.py`). Personal data travels only over the
websocket and `/api/`; both refuse other origins, and nothing but hashed static files may be
kept by a cache.

Content-Security-Policy: `'unsafe-inline'` for scripts is needed by the prerendered pages'
inline bootstrap scripts, and `'unsafe-eval'` by Reflex itself: a server event that shows a
toast or runs `rx.call_script` reaches the browser as code that Reflex's client evaluates.
Everything else is locked to our own origin, and no page may be framed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

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
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
# What can carry personal data is never stored. The static shell (prerendered pages without
# personal data, scripts, manifest) is revalidated on every use so a deploy shows at once, and
# may be kept by the service worker for offline use; content-hashed build output is immutable.
_PERSONAL_PREFIXES = ("/api/", "/_event", "/_upload")
_HASHED_PREFIXES = ("/assets/", "/icons/", "/fonts/")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _is_tls(scope: Scope) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    return (_header(scope, b"x-forwarded-proto") or "").split(",")[0].strip() == "https"


def origin_allowed(scope: Scope) -> bool:
    """No Origin (not a browser page) or an Origin naming this very host."""
    origin = _header(scope, b"origin")
    if origin is None:
        return True
    host = _header(scope, b"host")
    return host is not None and urlsplit(origin).netloc == host


class SecurityHeaders:
    """ASGI middleware: headers on every HTTP response; foreign origins refused at the door."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            if not origin_allowed(scope):
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
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"text/plain"), *_ALWAYS],
                }
            )
            await send({"type": "http.response.body", "body": b"forbidden origin"})
            return
        tls = _is_tls(scope)
        if path.startswith(_PERSONAL_PREFIXES):
            cache_control: bytes | None = b"no-store"
        elif path.startswith(_HASHED_PREFIXES):
            cache_control = None
        else:
            cache_control = b"no-cache"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in {h for h, _ in _ALWAYS}
                ]
                headers.extend(_ALWAYS)
                if tls:
                    headers.append(_HSTS)
                if cache_control is not None:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", cache_control))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_headers(app: ASGIApp) -> ASGIApp:
    """The api_transformer form Reflex expects: wrap the backend app."""
    return SecurityHeaders(app)
