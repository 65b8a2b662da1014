"""Bytes of JavaScript and CSS a phone downloads for the first screen, against a blank app.

    python -m bench.page_weight [--url http://127.0.0.1:PORT/]

The first screen is the sign-in page of the production build (`reflex run --env prod
--single-port`), opened in Debian's Chromium through Playwright at 390×844. Every response is
recorded from Playwright's network events with the bytes that crossed the wire for its body
(`request.sizes()["responseBodySize"]`, i.e. compressed as served) and its `content-encoding`.

The floor is a blank Reflex app (one page, `rx.text`) with the same `rxconfig` plugins and
theme, built and served the same way from a temporary folder (kept in `data/bench/blank_app`
so that its frontend packages are installed once).

Reflex serves pre-compressed files made at build time (`frontend_compression_formats`,
default `["gzip"]`, through `reflex/utils/precompressed_staticfiles.py`); Chromium only asks
for brotli over HTTPS, and the build makes no `.br` files anyway, so the served bytes are
gzip. What brotli would save is computed as well (Node's zlib, quality 11) and reported.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.server import ROOT, app_env, free_port

TARGET_RATIO = 1.3
BLANK_DIR = ROOT / "data" / "bench" / "blank_app"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

BLANK_RXCONFIG = '''"""A blank app: the real one's plugins and theme (the page-weight floor)."""
import reflex as rx

config = rx.Config(
    app_name="blank",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    default_color_mode="light",
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", radius="large"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
'''
BLANK_APP = '''import reflex as rx


def index() -> rx.Component:
    return rx.text("Xin chào")


app = rx.App(html_lang="vi")
app.add_page(index, route="/", title="Blank")
'''


@dataclass
class Asset:
    url: str
    kind: str  # playwright resource type
    encoding: str
    wire_bytes: int  # body bytes as transferred
    raw_bytes: int  # decoded body
    brotli_bytes: int = 0


@dataclass
class PageWeight:
    url: str
    assets: list[Asset] = field(default_factory=list)

    def total(self, kinds: tuple[str, ...] = ("script", "stylesheet"),
              attr: str = "wire_bytes") -> int:
        return sum(getattr(a, attr) for a in self.assets if a.kind in kinds)

    def count(self, kinds: tuple[str, ...] = ("script", "stylesheet")) -> int:
        return sum(1 for a in self.assets if a.kind in kinds)

    def encodings(self) -> list[str]:
        return sorted({a.encoding or "identity" for a in self.assets
                       if a.kind in ("script", "stylesheet")})


@dataclass
class WeightResult:
    app: PageWeight
    blank: PageWeight

    @property
    def ratio(self) -> float:
        return self.app.total() / max(1, self.blank.total())

    @property
    def ok(self) -> bool:
        return self.ratio <= TARGET_RATIO


# --- serving an app from any folder ---------------------------------------------------------


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"app not ready after {timeout}s:\n{log.read_text()[-3000:]}")


@contextmanager
def serve_folder(folder: Path, env: dict[str, str], name: str,
                 timeout: float = 600) -> Iterator[str]:
    """`reflex run --env prod --single-port` in `folder` on a free port of 127.0.0.1."""
    port = free_port()
    log = ROOT / "test-artifacts" / f"{name}-server.log"
    log.parent.mkdir(exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "reflex"), "run", "--env", "prod",
             "--single-port", "--backend-port", str(port), "--loglevel", "warning"],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait(url, proc, log, timeout)
            yield url
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)


def blank_app_folder() -> Path:
    """The blank app's folder, written (again) if its source is missing or changed."""
    pkg = BLANK_DIR / "blank"
    pkg.mkdir(parents=True, exist_ok=True)
    for path, text in ((BLANK_DIR / "rxconfig.py", BLANK_RXCONFIG),
                       (pkg / "__init__.py", ""), (pkg / "blank.py", BLANK_APP)):
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    return BLANK_DIR


# --- measuring ------------------------------------------------------------------------------


def _brotli_sizes(files: list[bytes]) -> list[int]:
    """Brotli (quality 11) sizes from Node's zlib: the Python venv has no brotli module."""
    node = shutil.which("node", path=str(ROOT / ".tools" / "node_modules" / ".bin"))
    if node is None or not files:
        return [0] * len(files)
    script = (
        "const z=require('zlib');let d='';process.stdin.on('data',c=>d+=c).on('end',()=>{"
        "const out=JSON.parse(d).map(b=>z.brotliCompressSync(Buffer.from(b,'base64'),"
        "{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length);"
        "process.stdout.write(JSON.stringify(out));});"
    )
    import base64

    payload = json.dumps([base64.b64encode(f).decode() for f in files])
    done = subprocess.run([node, "-e", script], input=payload.encode(), capture_output=True,
                          check=True, timeout=120)
    return [int(n) for n in json.loads(done.stdout)]


def measure(url: str, *, settle_ms: int = 1500) -> PageWeight:
    """Open `url` as a phone would (fresh profile, no cache) and record every response."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Response, sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        raise RuntimeError("Chromium is not installed (make setup-test installs Debian's)")
    weight = PageWeight(url)
    seen: list[Response] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844},
                                          locale="vi-VN", is_mobile=True, has_touch=True)
            page = context.new_page()
            page.on("response", lambda resp: seen.append(resp))
            page.goto(url, wait_until="networkidle", timeout=60_000)
            page.wait_for_timeout(settle_ms)
            bodies: list[bytes] = []
            for resp in seen:
                if not resp.url.startswith(url.rstrip("/")):
                    continue
                kind = resp.request.resource_type
                try:
                    body = resp.body()
                    sizes = resp.request.sizes()
                except PlaywrightError:  # a redirect or an aborted request has no body
                    continue
                weight.assets.append(Asset(
                    url=resp.url[len(url.rstrip("/")):] or "/", kind=kind,
                    encoding=resp.headers.get("content-encoding", ""),
                    wire_bytes=int(sizes.get("responseBodySize", 0)), raw_bytes=len(body)))
                bodies.append(body)
            for asset, size in zip(weight.assets, _brotli_sizes(bodies), strict=True):
                asset.brotli_bytes = size
        finally:
            browser.close()
    return weight


def run_page_weight(app_url: str | None = None) -> WeightResult:
    """Measure the app (started here unless `app_url`) and the blank app (always started)."""
    default_db = f"sqlite:///{ROOT / 'data' / 'bench' / 'pw.db'}"
    env = app_env(os.environ.get("DH_BENCH_DB_URL", default_db))
    if app_url is None:
        from tests.e2e.server import prepare_database, running_app

        prepare_database(env)
        with running_app(env, name="bench-weight") as running:
            app = measure(running.url)
    else:
        app = measure(app_url)
    blank_env = dict(env)
    blank_env.pop("REFLEX_DB_URL", None)
    with serve_folder(blank_app_folder(), blank_env, name="bench-blank") as url:
        blank = measure(url)
    return WeightResult(app, blank)


def _kb(n: int) -> str:
    return f"{n / 1024:.1f}"


def format_result(r: WeightResult) -> str:
    lines = [f"  {'':<28}{'files':>6}{'wire KiB':>10}{'raw KiB':>9}{'brotli KiB':>11}"
             f"  encodings"]
    for label, w in (("sign-in page (JS+CSS)", r.app), ("blank Reflex app (JS+CSS)", r.blank)):
        lines.append(f"  {label:<28}{w.count():>6}{_kb(w.total()):>10}"
                     f"{_kb(w.total(attr='raw_bytes')):>9}{_kb(w.total(attr='brotli_bytes')):>11}"
                     f"  {','.join(w.encodings())}")
    everything = ("document", "script", "stylesheet", "font", "image", "fetch", "manifest",
                  "other")
    lines.append(f"  everything on the first screen (incl. HTML, fonts, icons): app "
                 f"{_kb(r.app.total(everything))} KiB in {r.app.count(everything)} responses, "
                 f"blank {_kb(r.blank.total(everything))} KiB")
    lines.append(f"  ratio JS+CSS as served {r.ratio:.2f} (target ≤ {TARGET_RATIO}) "
                 f"{'ok' if r.ok else 'MISSED'}")
    plain = [a for a in r.app.assets if a.kind in ("script", "stylesheet") and not a.encoding]
    if plain:
        lines.append("  served uncompressed: " + "; ".join(
            f"{a.url.rsplit('/', 1)[-1]} {a.wire_bytes} B" for a in plain))
    extra = sorted((a for a in r.app.assets if a.kind in ("script", "stylesheet")),
                   key=lambda a: -a.wire_bytes)[:5]
    lines.append("  largest: " + "; ".join(f"{a.url.rsplit('/', 1)[-1]} {_kb(a.wire_bytes)}"
                                          for a in extra))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.page_weight", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=None, help="an app already running (else started)")
    args = parser.parse_args(argv)
    print(format_result(run_page_weight(args.url)))
    return 0


def as_dict(r: WeightResult) -> dict[str, Any]:
    return {"app_bytes": r.app.total(), "blank_bytes": r.blank.total(), "ratio": r.ratio}


if __name__ == "__main__":
    raise SystemExit(main())
