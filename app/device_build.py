"""Build-time bundling of the device code (`assets/device/src/`): the outbox, the vault, the
offline screens and the service worker.

The device code is small ES modules using two npm libraries, `idb` (IndexedDB) and Workbox
(service worker routing and caching), pinned in `assets/device/package.json` and its lock
file. They are installed from the npm registry into `.tools/device/` (by the Makefile, or here
when missing) and bundled with the project's own bun (`bun build`) at every Reflex compile,
into three files the app serves: `/device/boot.js` (loaded by every page: it loads
`/device/app.js` once the page has drawn its data, or sooner when needed) and `/sw.js`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

from reflex_base.plugins.base import Plugin

from app.frontend_build import route_manifest, write_built
from app.i18n import MESSAGES

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assets" / "device"
DEPS = ROOT / ".tools" / "device"
BUNDLES = {"public/device/boot.js": "src/boot.js", "public/device/app.js": "src/main.js",
           "public/sw.js": "src/sw.js"}
# The catalogue texts the device shows (its own, and the field messages it shares with the
# server's checks), built into the bundle: a page opened with no server still has them.
TEXT_PREFIXES = ("device.", "due.", "rec.service.", "error.", "rec.error.", "offline.error.",
                 "rec.saved.", "vol.reg.saved", "privacy.error.")


def _tool(name: str) -> str:
    local = ROOT / ".tools" / "node_modules" / ".bin" / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: run `make setup` (it installs the JS tools)")
    return found


def ensure_deps() -> Path:
    """The device code's npm packages, installed from the lock file if missing or stale.
    (`npm install` with the lock file beside it installs exactly the locked versions; `npm ci`
    refuses to run in a folder under another package.json, as .tools/ is.)"""
    stamp = DEPS / ".installed-lock.json"  # the lock file the installed packages came from
    lock = SOURCE / "package-lock.json"
    if not stamp.exists() or stamp.read_bytes() != lock.read_bytes() \
            or not (DEPS / "node_modules" / "idb").is_dir():
        DEPS.mkdir(parents=True, exist_ok=True)
        shutil.copy(SOURCE / "package.json", DEPS / "package.json")
        shutil.copy(lock, DEPS / "package-lock.json")
        subprocess.run(  # noqa: S603 - argv list of our own tools, no shell
            [_tool("npm"), "install", "--prefix", str(DEPS), "--include=dev", "--no-audit",
             "--no-fund", "--loglevel=error"],
            check=True, cwd=ROOT,
        )
        shutil.copy(lock, stamp)
    return DEPS / "node_modules"


def bundle(entry: str) -> str:
    """One entry point bundled with its imports into a single classic script.

    Production mode, as a library's own build would set it: Workbox leaves out its development
    logging and its argument checks with their messages (the worker: 9.3 KB gzip without it,
    4.8 KB with), which every phone downloads at its first load (issue 20)."""
    env = dict(os.environ, NODE_PATH=str(ensure_deps()))
    out = subprocess.run(  # noqa: S603 - argv list of our own tools, no shell
        [_tool("bun"), "build", str(SOURCE / entry), "--target", "browser", "--format", "iife",
         "--minify", "--define", 'process.env.NODE_ENV="production"'],
        check=True, cwd=ROOT, env=env, capture_output=True, text=True,
    )
    return out.stdout


def device_texts() -> dict[str, dict[str, str]]:
    keys = sorted(k for k in MESSAGES if k.startswith(TEXT_PREFIXES))
    return {"vi": {k: MESSAGES[k][0] for k in keys}, "en": {k: MESSAGES[k][1] for k in keys}}


def app_bundle() -> str:
    texts = json.dumps(device_texts(), ensure_ascii=False, sort_keys=True)
    return f"var __DH_TEXTS={texts};\n" + bundle(BUNDLES["public/device/app.js"])


# --- the order of the service worker's pack ----------------------------------------------------
# The worker asks for the offline screens' files the page has not loaded in one request, one
# gzip stream (app/api/device_pack.py), whose 32 KB window compresses best what neighbours
# share. Which order that is can only be known once the build has made the files; finding it
# costs a second of compressing, too dear for the server at each request, so it is found here,
# once per build, and written into the worker (`PACK_ORDER` in sw.js, read by pack.js).
PACK_ORDER_MARK = '"__DH_PACK_ORDER__"'
SPA_FALLBACK = "/__spa-fallback.html"
_WINDOW = 32 * 1024  # gzip's


def precache_list(manifest: Path) -> list[str]:
    """The worker's list of files to keep (sw.js manifestFiles: the route manifest, then
    routes.js offlineFiles), computed by that very code with bun."""
    script = (f"import {{ offlineFiles }} from {json.dumps(str(SOURCE / 'src' / 'routes.js'))};\n"
              f"const text = await Bun.file({json.dumps(str(manifest))}).text();\n"
              "console.log(JSON.stringify(offlineFiles(text)));\n")
    with tempfile.TemporaryDirectory() as tmp:
        entry = Path(tmp) / "list.mjs"
        entry.write_text(script)
        out = subprocess.run(  # noqa: S603 - argv list of our own tools, no shell
            [_tool("bun"), "run", str(entry)], check=True, cwd=ROOT, capture_output=True,
            text=True)
    return [f"/assets/{manifest.name}", *json.loads(out.stdout)]


def _deflated(data: bytes) -> int:
    return len(zlib.compress(data, 9))


def similarity_order(bodies: dict[str, bytes]) -> list[str]:
    """The names of `bodies` in an order one gzip stream compresses well: from each start,
    greedily the file that adds least to the last 32 KB; the best of those orders."""
    best: tuple[int, list[str]] | None = None
    for start in bodies:
        order, left = [start], [n for n in bodies if n != start]
        while left:
            tail = b"".join(bodies[n] for n in order)[-_WINDOW:]
            nearest = min(left, key=lambda n: _deflated(tail + bodies[n]))
            order.append(nearest)
            left.remove(nearest)
        size = _deflated(b"".join(bodies[n] for n in order))
        if best is None or size < best[0]:
            best = (size, order)
    return best[1] if best else []


def pack_order(static_dir: Path, listed: list[str], manifest: dict[str, Any]) -> str:
    """The worker's PACK_ORDER: positions in `listed` + [SPA_FALLBACK] of the files a pack may
    hold, in similarity order. Left out: what every page loads (the entry, the root and their
    imports), which the worker always finds in the browser's cache."""
    always: set[str] = set()
    root = next((r for r in manifest.get("routes", {}).values() if r.get("id") == "root"), {})
    for node in (manifest.get("entry", {}), root):
        always.update([node.get("module", ""), *node.get("imports", []), *node.get("css", [])])
    candidates = [*listed, SPA_FALLBACK]
    bodies = {url: (static_dir / url.lstrip("/")).read_bytes() for url in candidates[1:]
              if url not in always and (static_dir / url.lstrip("/")).is_file()}
    return ",".join(str(candidates.index(url)) for url in similarity_order(bodies))


def write_pack_order(static_dir: Path) -> None:
    """Writes the pack's order into the built worker (and its gzip copy; a copy in another
    encoding, which could not be remade here, is removed so that it never serves the old)."""
    worker = static_dir / "sw.js"
    built = route_manifest(static_dir)
    if not worker.is_file() or built is None:
        return
    order = pack_order(static_dir, precache_list(built[0]), built[1])
    code = worker.read_text()
    if code.count(PACK_ORDER_MARK) != 1:
        raise RuntimeError(f"sw.js: expected one {PACK_ORDER_MARK}")
    write_built(worker, code.replace(PACK_ORDER_MARK, json.dumps(order)))


class DeviceBundlePlugin(Plugin):
    """Writes the device bundles into the web build at every compile, and the pack's order
    into the worker after a production build (see the module doc and above)."""

    def get_static_assets(self, **context: Any) -> list[tuple[Path, str]]:
        return [
            (Path("public/device/boot.js"), bundle(BUNDLES["public/device/boot.js"])),
            (Path("public/device/app.js"), app_bundle()),
            (Path("public/sw.js"), bundle(BUNDLES["public/sw.js"])),
        ]

    def post_build(self, **context: Any) -> None:
        write_pack_order(Path(context["static_dir"]))
