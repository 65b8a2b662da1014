"""Build-time bundling of the device code (`assets/device/src/`): the outbox, the vault, the
offline screens and the service worker.

The device code is small ES modules using two npm libraries, `idb` (IndexedDB) and Workbox
(service worker routing and caching), pinned in `assets/device/package.json` and its lock
file. They are installed from the npm registry into `.tools/device/` (by the Makefile, or here
when missing) and bundled with the project's own bun (`bun build`) at every Reflex compile,
into two files the app serves: `/device/app.js` (loaded by every page) and `/sw.js`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from reflex_base.plugins.base import Plugin

from app.i18n import MESSAGES

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assets" / "device"
DEPS = ROOT / ".tools" / "device"
BUNDLES = {"public/device/app.js": "src/main.js", "public/sw.js": "src/sw.js"}
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


class DeviceBundlePlugin(Plugin):
    """Writes the device bundles into the web build at every compile (see the module doc)."""

    def get_static_assets(self, **context: Any) -> list[tuple[Path, str]]:
        return [
            (Path("public/device/app.js"), app_bundle()),
            (Path("public/sw.js"), bundle(BUNDLES["public/sw.js"])),
        ]
