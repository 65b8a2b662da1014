"""What the app's own ASGI layers share (`security.py`, `route_shell.py`) and the routes that
serve build files (`device_pack.py`): the message types, a request header, and where the
production build that Reflex's static server serves lives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# The page the build answers an address with no page of its own (React Router's SPA shell),
# in the build's root folder.
SPA_FALLBACK = "__spa-fallback.html"


def header(scope: Scope, name: bytes) -> str | None:
    """The request header `name` (lower-case bytes), or None when the request has none."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def static_dir() -> Path:
    """The production build's root folder, as Reflex's static server serves it."""
    from reflex.utils import prerequisites
    from reflex_base import constants

    return (prerequisites.get_web_dir() / constants.Dirs.STATIC).resolve()
