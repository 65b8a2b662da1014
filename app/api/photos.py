"""The one way a client's photo leaves the server: `GET /api/photos/<name>`, for a signed-in
user who may read that client (app/services/photos.py decides and audits). Our own pages only,
never cached; anything else — no session, another client, an unknown name — is a plain 404.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.services import accounts, photos
from app.services.db import in_transaction
from app.services.errors import DomainError

SESSION_COOKIE = "dh_session"
_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def _not_found() -> Response:
    return Response(status_code=404, headers=_HEADERS)


def _photo(token: str, name: str) -> tuple[bytes, str] | None:
    def call(db: Session) -> tuple[bytes, str] | None:
        actor = accounts.validate_session(session=db, token=token)
        if actor is None or actor.restricted:  # a new password or a second factor first
            return None
        return photos.read_photo(session=db, actor=actor, name=name)

    try:
        return in_transaction(call)
    except DomainError:
        return None


async def photo(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or request.headers.get("sec-fetch-site", "same-origin") != "same-origin":
        return _not_found()
    found = await run_in_threadpool(_photo, token, str(request.path_params["name"])[:64])
    if found is None:
        return _not_found()
    data, kind = found
    return Response(data, media_type=kind, headers=_HEADERS)


ROUTES = [Route("/api/photos/{name}", photo, methods=["GET"])]
