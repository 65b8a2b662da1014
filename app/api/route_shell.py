"""The app shell of a dynamic route (a client's page and its forms), naming its route's code.

Reflex prerenders the pages with a fixed address (Today, the sign-in page …): each names its
route's module as `<link rel="modulepreload">`, and the browser fetches it with the entry. A
dynamic route (`/clients/12`, `/clients/12/visit`, …) has no file: Reflex's static server
answers it with the bare SPA fallback page, which names only the entry and the root. Its route
module was then asked for only once the entry had run and matched the address, and the shared
frame's file only once that module had come: two round trips in a row before the first paint
(issue 20, docs/BENCHMARKS.md).

`route_shell(app)` wraps the app: a GET or HEAD whose path matches a dynamic route of the
build's route manifest (and no route with a fixed address) is answered with the route's frame,
prerendered at a placeholder address (`/clients/_/visit`, `frontend_build.frame_path`): the
page's top bar, headings and labels, painted before any code runs, and the `modulepreload`s of
the route's module and the files it imports, as every prerendered page has. A build without
frames (a development build) gets the fallback page plus those `modulepreload`s. Nothing
inline is added to either (the Content-Security-Policy is unchanged), and React Router
hydrates them as any prerendered page. Any other request, and every request when there is no
build, goes to Reflex as before; the fallback file itself (what the service worker keeps for
offline use) is untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.api.asgi import SPA_FALLBACK, ASGIApp, Receive, Scope, Send, header, static_dir
from app.frontend_build import frame_path, parse_route_manifest

_MANIFEST_SRC = re.compile(r'"(/assets/manifest-[A-Za-z0-9_-]+\.js)"')
_NOT_PAGES = ("/api/", "/_", "/assets/", "/device/")  # our API, Reflex's, build files
_PRELOAD = re.compile(r'<link rel="modulepreload" href="[^"]*"/>')


def _matches(pattern: str, segments: list[str]) -> bool:
    parts = [p for p in pattern.split("/") if p]
    return len(parts) == len(segments) and all(
        p == s or (p.startswith(":") and s) for p, s in zip(parts, segments, strict=True)
    )


def dynamic_route(manifest: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The manifest's entry of the dynamic route `path` is, or None when `path` is a route
    with a fixed address (served as its own prerendered page) or no route at all."""
    segments = [s for s in path.split("/") if s]
    routes = [r for r in manifest.get("routes", {}).values() if r.get("id") != "root"]
    patterns = [(r.get("path") or "", r) for r in routes]
    usable = [(p, r) for p, r in patterns if "*" not in p and "?" not in p]
    if any(":" not in p and _matches(p, segments) for p, _ in usable):
        return None
    dynamic = [(p, r) for p, r in usable if ":" in p and _matches(p, segments)]
    if not dynamic:
        return None
    # React Router's ranking, as far as these routes need it: more fixed segments win.
    _, route = max(dynamic, key=lambda pr: sum(not s.startswith(":") for s in pr[0].split("/")))
    return route


def route_files(manifest: dict[str, Any], path: str) -> list[str] | None:
    """The build files of the dynamic route `path` is, module first, or None when `path` is a
    route with a fixed address or no route at all (`dynamic_route`)."""
    route = dynamic_route(manifest, path)
    return None if route is None else _files_of(route)


def _files_of(route: dict[str, Any]) -> list[str]:
    """A route's build files from its manifest entry, module first, each once."""
    files = [route.get("module"), *route.get("imports", [])]
    return [f for f in dict.fromkeys(files) if isinstance(f, str) and f.startswith("/assets/")]


def with_preloads(html: str, files: list[str]) -> str:
    """`html` with a modulepreload for each of `files` it does not name yet, after its own."""
    links = "".join(
        f'<link rel="modulepreload" href="{f}"/>' for f in files if f'href="{f}"' not in html
    )
    own = list(_PRELOAD.finditer(html))
    at = own[-1].end() if own else html.find("</head>")
    if at < 0:
        return html
    return html[:at] + links + html[at:]


def frame_file(folder: Path, route: dict[str, Any]) -> Path | None:
    """The prerendered frame of a dynamic `route` in the build `folder`, if it has one."""
    at = frame_path(str(route.get("path") or ""))
    if at is None:
        return None
    page = folder.joinpath(*at.strip("/").split("/"), "index.html")
    return page if page.is_file() else None


@dataclass
class _Build:
    """The fallback page and route manifest of one build, and the shells made from them."""

    stamp: tuple[int, int]
    folder: Path
    html: str
    manifest: dict[str, Any]
    shells: dict[str, tuple[bytes, bytes, str]] = field(default_factory=dict)

    def shell(self, path: str) -> tuple[bytes, bytes, str] | None:
        """(page, gzipped page, ETag) for `path`, or None when it is not a dynamic route."""
        route = dynamic_route(self.manifest, path)
        if route is None:
            return None
        key = str(route.get("id"))
        if key not in self.shells:
            frame = frame_file(self.folder, route)
            page = frame.read_text() if frame is not None else self.html
            body = with_preloads(page, _files_of(route)).encode()
            etag = '"dh-' + hashlib.sha256(body).hexdigest()[:20] + '"'
            self.shells[key] = (body, gzip.compress(body, 9, mtime=0), etag)
        return self.shells[key]


def load_build(folder: Path, known: _Build | None = None) -> _Build | None:
    """The build in `folder` (`known` again while its fallback page has not changed), or None
    when there is no build or its fallback page names no readable manifest."""
    page = folder / SPA_FALLBACK
    try:
        st = page.stat()
        stamp = (st.st_mtime_ns, st.st_size)
        if known is not None and known.stamp == stamp:
            return known
        html = page.read_text()
        found = _MANIFEST_SRC.search(html)
        if not found:
            return None
        manifest = parse_route_manifest((folder / found.group(1).lstrip("/")).read_text())
    except (OSError, ValueError):
        return None
    return _Build(stamp, folder, html, manifest)


def route_shell(app: ASGIApp, folder: Callable[[], Path] = static_dir) -> ASGIApp:
    """`app`, with the shell of a dynamic route answered here (see the module doc)."""
    build: _Build | None = None

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal build
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            return await app(scope, receive, send)
        path = scope.get("path", "")
        if path.startswith(_NOT_PAGES) or "." in path.rsplit("/", 1)[-1]:
            return await app(scope, receive, send)
        build = load_build(folder(), build)
        shell = build.shell(path) if build is not None else None
        if shell is None:
            return await app(scope, receive, send)
        body, zipped, etag = shell
        headers = [(b"content-type", b"text/html; charset=utf-8"), (b"etag", etag.encode()),
                   (b"vary", b"Accept-Encoding")]
        if etag in (t.strip() for t in (header(scope, b"if-none-match") or "").split(",")):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            return await send({"type": "http.response.body", "body": b""})
        if "gzip" in (header(scope, b"accept-encoding") or "").lower():
            body = zipped
            headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body",
                    "body": b"" if scope["method"] == "HEAD" else body})

    return wrapped


__all__ = ["dynamic_route", "frame_file", "load_build", "route_files", "route_shell",
           "with_preloads"]
