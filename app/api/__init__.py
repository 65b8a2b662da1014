"""Plain HTTP endpoints mounted into the Reflex backend (`rx.App(api_transformer=...)`).

Reflex mounts its own routes under this app, after ours; everything else travels over the
websocket. Only what cannot is here: sign-in and the end of a session (the HttpOnly cookie is
set and removed only over HTTP), the device outbox (`app/api/outbox.py`), which a phone
with no websocket must reach by plain requests, a client's photo in an <img>, and the service
worker's precache of several build files in one answer (`app/api/device_pack.py`).
"""

from __future__ import annotations

from starlette.applications import Starlette

from app.api.auth import ROUTES as AUTH_ROUTES
from app.api.device_pack import ROUTES as DEVICE_PACK_ROUTES
from app.api.outbox import ROUTES as OUTBOX_ROUTES
from app.api.photos import ROUTES as PHOTO_ROUTES


def api_app() -> Starlette:
    """A fresh Starlette app with our routes; Reflex adds CORS and mounts itself inside."""
    return Starlette(routes=[*AUTH_ROUTES, *OUTBOX_ROUTES, *PHOTO_ROUTES, *DEVICE_PACK_ROUTES])


__all__ = ["api_app"]
