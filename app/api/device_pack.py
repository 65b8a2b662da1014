"""`GET /device/pack?f=<name>,<name>…`: several build files in one answer, for the service
worker's precache (assets/device/src/sw.js, issue 20).

At its install the worker keeps the code of every screen a volunteer uses offline (issue 14).
What the page has just loaded it takes from the browser's HTTP cache; the rest (the other
screens' modules, ~13 files) used to be 13 requests, each with its own ~0.9 KB of headers and
compressed on its own. Here they come as one gzip stream: the screens share much of their code
(the record forms' fields, callouts and buttons), which one stream compresses once. The same 13
files: 68 KB in 13 answers, 45 KB in one (docs/BENCHMARKS.md, 2026-12-07).

The answer: a first line with the JSON list of the files' byte lengths, in the order asked
(`null` for a file left out; the worker knows their names), then their bytes one after the
other (`assets/device/src/pack.js` reads it; the worker asks for the screens in an order that
puts similar code side by side). Only hashed build files of
`/assets/` and the SPA fallback page (`__spa-fallback.html`, the page the worker answers an
uncached screen with offline): the same public files the static server gives anyone. An
unknown name is left out and the worker fetches it alone. Nothing personal, no session needed.

`&d=<name>,<name>…&p=<path>&h=<hash>` (what the worker holds of the screen the phone opened:
its build files, and the page at that path as this server answers it; `h`: the first 8 bytes
of the SHA-256 of the dictionary they make): the answer is then a raw deflate stream made
with the last 32 KB of those as deflate's preset dictionary, which the worker puts back in
front (`inflateWith` in pack.js). The other screens' code, and the fallback page, refer back to
what they share with that screen instead of carrying it: ~2 KB less on the pack after /today
(issue 20). A dictionary the server cannot make the same (a page of another build) is a 400,
and the worker asks again without one; without `h`, a gzip answer as before.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import zlib
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.api.asgi import SPA_FALLBACK, static_dir
from app.api.route_shell import load_build

PACK_PATH = "/device/pack"
MAX_FILES = 64
# Bounds the work one request can ask of the server (the offline screens: ~0.3 MB raw). Anyone
# may ask, so a pack is compressed off the event loop, which the worker's sockets share.
MAX_BYTES = 1_000_000
# A Vite build file: a name, a dash, a content hash; JavaScript or CSS.
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,160}\.(?:js|css)")
# The one page besides them (SPA_FALLBACK, from the build's root folder): in the pack, not a
# request of its own with its ~0.9 KB of headers (issue 20).


def assets_dir() -> Path:
    """The production build's `/assets/` folder, as Reflex's static server serves it."""
    return static_dir() / "assets"


def requested_names(query: str) -> tuple[str, ...] | None:
    """The file names asked for (`f=a.js,b.js`, in that order, no repeats); None when malformed."""
    names: list[str] = []
    for name in query.split(","):
        if name != SPA_FALLBACK and (not _NAME.fullmatch(name) or ".." in name):
            return None
        if name not in names:
            names.append(name)
    return tuple(names) if 0 < len(names) <= MAX_FILES else None


# Deflate looks back at most 32 KB: all of a preset dictionary that can count.
WINDOW = 32 * 1024


def page_document(root: Path, path: str) -> bytes | None:
    """The page this server answers at `path`: a dynamic route's shell (route_shell), or a
    prerendered page of the build in `root`; None for anything else."""
    if not path.startswith("/") or ".." in path or "//" in path or "." in path.rsplit("/", 1)[-1]:
        return None
    build = load_build(root)
    shell = build.shell(path) if build is not None else None
    if shell is not None:
        return shell[0]
    page = (root / path.strip("/") / "index.html").resolve()
    inside = page.is_relative_to(root.resolve())
    return page.read_bytes() if inside and page.is_file() else None


def dictionary(folder: Path, names: tuple[str, ...], page: str = "") -> bytes | None:
    """The preset dictionary the files `names` of `folder` and the page at `page` make (their
    last 32 KB, in that order); None if one of them is not a build file or page there."""
    parts: list[bytes] = []
    for name in names:
        path = folder / name
        if name == SPA_FALLBACK or path.parent != folder or not path.is_file():
            return None
        parts.append(path.read_bytes()[-WINDOW:])
    if page:
        document = page_document(folder.parent, page)
        if document is None:
            return None
        parts.append(document[-WINDOW:])
    return b"".join(parts)[-WINDOW:]


def dictionary_hash(zdict: bytes) -> str:
    """What the worker sends as `h` (pack.js dictionaryHash)."""
    return hashlib.sha256(zdict).hexdigest()[:16]


@functools.lru_cache(maxsize=16)
def packed(folder: Path, names: tuple[str, ...], zdict: bytes = b"") -> tuple[bytes, bytes]:
    """The pack of those of `names` that exist in `folder` (the fallback page: in its parent,
    the build's root), as is and compressed: gzip, or with `zdict` raw deflate with that preset
    dictionary (build files never change under their name, and the fallback page only with the
    build, so a pack is made once per list)."""
    lengths: list[int | None] = []  # the worker knows the names: it asked for them
    bodies: list[bytes] = []
    total = 0
    for name in names:
        home = folder.parent if name == SPA_FALLBACK else folder
        path = home / name
        if path.parent != home or not path.is_file() or total > MAX_BYTES:
            lengths.append(None)  # fetched alone
            continue
        total += path.stat().st_size
        if total > MAX_BYTES:
            lengths.append(None)  # this one and the rest: fetched file by file
            continue
        body = path.read_bytes()
        lengths.append(len(body))
        bodies.append(body)
    raw = json.dumps(lengths, separators=(",", ":")).encode() + b"\n" + b"".join(bodies)
    if zdict:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=zdict)  # raw deflate
    else:
        packer = zlib.compressobj(9, zlib.DEFLATED, 31, 9)  # wbits 31: a gzip stream
    return raw, packer.compress(raw) + packer.flush()


async def pack(request: Request) -> Response:
    names = requested_names(request.query_params.get("f", ""))
    if names is None:
        return Response(status_code=400)
    query = request.query_params
    if "h" in query:
        held = requested_names(query["d"]) if "d" in query else ()
        page = query.get("p", "")
        zdict = held is not None and (held or page) and await run_in_threadpool(
            dictionary, assets_dir(), held, page)
        if not zdict or dictionary_hash(zdict) != query["h"]:
            return Response(status_code=400)  # the worker then asks without a dictionary
        _, deflated = await run_in_threadpool(packed, assets_dir(), names, zdict)
        return Response(deflated, media_type="application/octet-stream")
    raw, gzipped = await run_in_threadpool(packed, assets_dir(), names)
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return Response(raw, media_type="application/octet-stream",
                        headers={"Vary": "Accept-Encoding"})
    return Response(gzipped, media_type="application/octet-stream",
                    headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})


ROUTES = [Route(PACK_PATH, pack, methods=["GET"])]
