"""A small Reflex websocket client for security tests: one browser tab, minus the browser.

The wire (Socket.IO over a websocket, Reflex's `/_event` namespace) is `bench.ws_load`'s
`ReflexSocket`; this module only adds what the tests need on top: send one event, collect
every frame (delta update) it produces until the server goes quiet, and keep every frame the
tab ever received so a test can search them for data that must never reach this tab.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from bench.ws_load import ReflexSocket, SocketClosed

Frame = dict[str, Any]
QUIET = 0.35  # seconds without a frame after which an event counts as answered
EVENT_TIMEOUT = 30.0


@dataclass
class Tab:
    """One signed-in (or signed-out) tab: its socket and every frame it received."""

    url: str
    # The session cookie the handshake carries ('' = none) and the tab token (new if '').
    cookie: str = ""
    token: str = ""
    sock: ReflexSocket = field(init=False)
    frames: list[Frame] = field(default_factory=list)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.token = self.token or str(uuid.uuid4())
        self.sock = ReflexSocket(self.url, self.token, self.cookie)

    async def open(self) -> Tab:
        await self.sock.connect()
        return self

    async def close(self) -> None:
        await self.sock.close()

    async def call(
        self,
        name: str,
        payload: dict[str, Any] | None = None,
        path: str = "/",
        query: dict[str, str] | None = None,
        quiet: float = QUIET,
    ) -> list[Frame]:
        """Send one event; return the frames it produced (it is done once the tab goes quiet).

        Every event carries a unique `asPath` fragment so that the router var changes and the
        server always answers with at least one frame (see `bench.ws_load`).
        """
        self._seq += 1
        router: dict[str, Any] = {"pathname": path, "asPath": f"{path}#t{self._seq}"}
        if query:
            router["query"] = query
        await self.sock.emit(
            "event", {"name": name, "payload": payload or {}, "router_data": router}
        )
        got: list[Frame] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + EVENT_TIMEOUT
        while True:
            if self.sock.closed:
                raise SocketClosed(f"{name}: socket closed")
            wait = quiet if got else max(0.1, deadline - loop.time())
            try:
                frame = await asyncio.wait_for(self.sock.updates.get(), wait)
            except TimeoutError:
                if got:
                    break
                raise TimeoutError(f"{name}: no answer") from None
            got.append(frame)
            if not frame.get("delta") and not frame.get("events") and frame.get("final"):
                break
        self.frames.extend(got)
        return got


HYDRATE = "reflex___state____state.hydrate_and_load"


async def hydrate(tab: Tab, path: str = "/") -> list[Frame]:
    """What the browser sends first on every (re)connect: the full state snapshot."""
    return await tab.call(HYDRATE, {}, path)


def frames_text(frames: list[Frame]) -> str:
    """Everything the frames carried, as one string (non-ASCII kept as is) to search in."""
    return "\n".join(json.dumps(f, ensure_ascii=False) for f in frames)


def events_of(frames: list[Frame]) -> list[Frame]:
    """The client-side events (toasts, redirects, cookie changes) the server asked for."""
    return [e for f in frames for e in (f.get("events") or [])]


def redirects_to(frames: list[Frame]) -> list[str]:
    return [str((e.get("payload") or {}).get("path", "")) for e in events_of(frames)
            if e.get("name") == "_redirect"]


def has_toast_error(frames: list[Frame]) -> bool:
    return any(e.get("name") == "_call_function" and "toast" in json.dumps(e)
               and "error" in json.dumps(e) for e in events_of(frames))


def leaves_for_sign_in(frames: list[Frame]) -> bool:
    """The tab is sent away through the endpoint that removes the (HttpOnly) session cookie
    and shows the sign-in page."""
    return any("/api/auth/signed-out" in json.dumps(e) for e in events_of(frames))
