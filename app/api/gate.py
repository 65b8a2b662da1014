"""The gate of every HTTP endpoint a volunteer's device calls (`/api/outbox/…`).

Every request is authenticated by the `dh_session` cookie, re-validated through
`accounts.validate_session` each time (idle and absolute timeouts, disabled users), is for
volunteers only, and must come from our own pages: a custom header (which a cross-site form
cannot send) and, when the browser names one, our own origin. Nothing may be cached anywhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.i18n import LANGUAGES
from app.services import accounts
from app.services.actor import Actor
from app.services.db import in_transaction
from models import Role

SESSION_COOKIE = "dh_session"
CSRF_HEADER = "x-dh-offline"
MAX_BODY_BYTES = 512 * 1024
_NO_STORE = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
}


def json_response(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_NO_STORE)


def refusal(status: int, error: str) -> JSONResponse:
    return json_response({"error": error}, status)


def same_origin(request: Request) -> bool:
    """Our own page: the custom header is there, and any origin the browser states is ours."""
    if request.headers.get(CSRF_HEADER) != "1":
        return False
    if request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        # Browsers always send Origin with a POST; only a same-origin GET may omit it.
        return request.method == "GET"
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == request.headers.get("host")


def lang_of(request: Request) -> str:
    lang = request.headers.get("x-dh-lang", "")
    return lang if lang in LANGUAGES else "vi"


def authenticate(request: Request) -> Actor | JSONResponse:
    token = request.cookies.get(SESSION_COOKIE, "")
    # Commits an ending found here (idle, expired).
    actor = in_transaction(lambda db: accounts.validate_session(session=db, token=token)) \
        if token else None
    if actor is None:
        return refusal(401, "session")
    if actor.role != Role.VOLUNTEER:
        return refusal(403, "role")
    if actor.must_enrol_second_factor:  # the role requires one: the session may only enrol
        return refusal(403, "restricted")
    return actor


Handler = Callable[[Request, Actor], Awaitable[Response]]


def guarded(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if not same_origin(request):
            return refusal(403, "origin")
        found = await run_in_threadpool(authenticate, request)
        if isinstance(found, JSONResponse):
            return found
        return await handler(request, found)

    return endpoint
