"""A cheap phone on slow 3G: time-to-usable, cold and warm, and the bytes of a first load.

Used by `python -m bench.lighthouse` (see docs/BENCHMARKS.md, section "Phone pages").

Throttling is Chromium's own, over CDP on each page: `Network.emulateNetworkConditions` with
DevTools' "Slow 3G" preset (2,000 ms latency, 50,000 B/s down and up) and
`Emulation.setCPUThrottlingRate` 4. Chromium applies the network emulation to the page's HTTP
requests; the websocket's frames and the service worker's own fetches are not slowed by it.

Time-to-usable (TTU), in the page's own clock (`performance.now()`, 0 = navigation start):
the later of
  * the page-specific element is in the DOM, visible (a box of non-zero size) and, where it
    shows data, not empty — sign-in: `#signin-submit`; Today: `#count-overdue`; client page:
    `#client-name` with text; blank app: its text "Xin chào";
  * the last state update of the page's load has arrived over the websocket and a frame has
    been painted after it (message → setTimeout 0 → requestAnimationFrame). The first update
    is the answer to the `hydrate` event that Reflex's frontend sends from its React effect once
    it is mounted: an event round trip through attached handlers. The page's `on_load` events
    follow; the load is over when no update came for QUIET_MS.
Cold: a fresh browser context (empty HTTP cache, no service worker). Warm: a new tab of the
same context after the cold load, once the service worker is active and its cache filled (the
blank app has no service worker: its warm load is the HTTP cache's).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SLOW_3G = {"offline": False, "latency": 2000, "downloadThroughput": 50_000,
           "uploadThroughput": 50_000}
CPU_SLOWDOWN = 4
QUIET_MS = 3000
WARM_GOAL = 1.2
BYTES_GOAL = 1.1
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

# Installed before any script of the page: records when the element shows and when each
# websocket message's frame was painted.
_PROBE = """
(() => {
  const SEL = %s, TEXT = %s, NEED_TEXT = %s;
  const t = (window.__ttu = {el: null, msgs: []});
  const Orig = window.WebSocket;
  window.WebSocket = class extends Orig {
    constructor(...a) {
      super(...a);
      this.addEventListener("message", (e) => {
        if (typeof e.data !== "string" || !e.data.includes("delta")) return;
        setTimeout(() => requestAnimationFrame(() => t.msgs.push(performance.now())), 0);
      });
    }
  };
  const seen = () => {
    if (t.el !== null) return;
    let el = null;
    if (SEL) el = document.querySelector(SEL);
    else if (TEXT) el = [...document.querySelectorAll("p,span,div,h1,h2")]
      .find((n) => n.childElementCount === 0 && n.textContent.trim() === TEXT) || null;
    if (!el) return;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    if (NEED_TEXT && !el.textContent.trim()) return;
    t.el = performance.now();
  };
  new MutationObserver(seen).observe(document, {subtree: true, childList: true,
                                                characterData: true, attributes: true});
  document.addEventListener("DOMContentLoaded", seen);
})();
"""


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    cookie: str = ""  # dh_session token
    selector: str = ""
    text: str = ""
    need_text: bool = False


@dataclass
class Usable:
    name: str
    cold_ms: list[float] = field(default_factory=list)
    warm_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def cold(self) -> float | None:
        return statistics.median(self.cold_ms) if self.cold_ms else None

    @property
    def warm(self) -> float | None:
        return statistics.median(self.warm_ms) if self.warm_ms else None


def _throttle(context: Any, page: Any) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})


def _open(context: Any, target: Target, timeout_s: float = 75) -> float:
    """Navigate a new throttled tab to the target; its time-to-usable in ms."""
    page = context.new_page()
    try:
        page.add_init_script(_PROBE % (json.dumps(target.selector), json.dumps(target.text),
                                       json.dumps(target.need_text)))
        _throttle(context, page)
        page.goto(target.url, wait_until="commit", timeout=timeout_s * 1000)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = page.evaluate(
                "() => window.__ttu && {el: window.__ttu.el, msgs: window.__ttu.msgs,"
                " now: performance.now()}")
            if state and state["el"] is not None and state["msgs"]:
                last = max(state["msgs"])
                if state["now"] - last >= QUIET_MS:
                    return float(max(state["el"], last))
            time.sleep(0.25)
        raise TimeoutError(f"{target.name}: not usable after {timeout_s:.0f} s "
                           f"({page.url}, {page.evaluate('() => window.__ttu')})")
    finally:
        page.close()


def _sw_ready(page: Any, timeout_s: float = 120) -> bool:
    """True once a service worker controls `page`'s origin and its cache holds entries."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready = page.evaluate("""async () => {
            if (!("serviceWorker" in navigator)) return false;
            const reg = await navigator.serviceWorker.getRegistration();
            if (!reg || !reg.active || reg.installing || reg.waiting) return false;
            let n = 0;
            for (const k of await caches.keys()) n += (await (await caches.open(k)).keys()).length;
            return n > 0;
        }""")
        if ready:
            return True
        time.sleep(0.5)
    return False


def _cookie(context: Any, target: Target) -> None:
    """The session, and the readable marker the sign-in sets beside it (app/api/auth.py), as on
    a phone: with it the device code fetches the session's key and caseload once the page is
    drawn, which time-to-usable must include. (The bytes of the first load leave it out: they
    compare the page's own files with and without the service worker's precache.)"""
    if target.cookie:
        origin = "/".join(target.url.split("/")[:3]) + "/"  # the cookie's path is then "/"
        context.add_cookies([{"name": "dh_session", "value": target.cookie, "url": origin,
                              "sameSite": "Strict"},
                             {"name": "dh_signed_in", "value": "bench", "url": origin,
                              "sameSite": "Strict"}])


def time_to_usable(targets: Sequence[Target], rounds: int = 1) -> list[Usable]:
    """Cold then warm TTU of each target, the targets taking turns round after round."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        raise RuntimeError("Chromium is not installed")
    out = {t.name: Usable(t.name) for t in targets}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        try:
            for _ in range(rounds):
                for target in targets:
                    res = out[target.name]
                    context = browser.new_context(viewport={"width": 390, "height": 844},
                                                  locale="vi-VN", is_mobile=True,
                                                  has_touch=True)
                    try:
                        _cookie(context, target)
                        res.cold_ms.append(_open(context, target))
                        # Let the service worker (if the app has one) install and fill its
                        # cache, unthrottled: a phone's first visit ends long before its next.
                        probe = context.new_page()
                        probe.goto(target.url, wait_until="load")
                        if "blank" not in target.name and not _sw_ready(probe):
                            res.errors.append("service worker not ready; warm = HTTP cache")
                        probe.close()
                        res.warm_ms.append(_open(context, target))
                    except (PlaywrightError, TimeoutError) as err:
                        res.errors.append(str(err)[:200])
                    finally:
                        context.close()
        finally:
            browser.close()
    return list(out.values())


def format_usable(results: Sequence[Usable], blank_name: str) -> str:
    floor = next((r for r in results if r.name == blank_name), None)

    def sec(v: float | None) -> str:
        return "—" if v is None else f"{v / 1000:.2f} s"

    def ratio(v: float | None, f: float | None) -> str:
        return "—" if v is None or not f else f"{v / f:.2f}×"

    lines = ["| page | runs | cold | cold vs blank | warm | warm vs blank | warm ≤ 1.2× blank |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        fc, fw = (floor.cold, floor.warm) if floor else (None, None)
        if r is floor:
            verdict = "(floor)"
        elif r.warm is None or not fw:
            verdict = "—"
        else:
            verdict = "pass" if r.warm / fw <= WARM_GOAL else "**miss**"
        lines.append(f"| {r.name} | {len(r.cold_ms)}/{len(r.warm_ms)} | {sec(r.cold)} | "
                     f"{ratio(r.cold, fc)} | {sec(r.warm)} | {ratio(r.warm, fw)} | {verdict} |")
        for e in r.errors[:2]:
            lines.append(f"| ↳ {r.name}: {e[:160]} |  |  |  |  |  |  |")
    return "\n".join(lines)


# --- bytes of the first load, with and without the service worker's precache ---------------


@dataclass
class FirstLoad:
    page_bytes: int  # the page alone (service workers blocked)
    page_requests: int
    total_bytes: int  # the page and the service worker's precache
    total_requests: int
    sw_bytes: int
    sw_requests: int
    sw_ready: bool
    repeated: list[str] = field(default_factory=list)  # files fetched more than once
    offline_missing: list[str] = field(default_factory=list)  # offline routes not cached
    offline_routes: int = 0

    @property
    def ratio(self) -> float:
        return self.total_bytes / max(1, self.page_bytes)


def offline_routes() -> list[str]:
    """The route paths the service worker keeps for offline use (OFFLINE_ROUTES in
    assets/device/src/routes.js, read from there so the check follows the worker)."""
    source = (Path(__file__).resolve().parents[1] / "assets" / "device" / "src" / "routes.js")
    match = re.search(r"OFFLINE_ROUTES\s*=\s*\[(.*?)\]", source.read_text(), re.S)
    assert match, "routes.js has no OFFLINE_ROUTES"
    return re.findall(r'"([^"]*)"', match.group(1))


# After the first load: the offline routes whose module is not in the worker's cache.
_MISSING_OFFLINE = """async (paths) => {
    const manifest = window.__reactRouterManifest;
    if (!manifest) return ["(no route manifest)"];
    const held = new Set();
    for (const k of await caches.keys()) {
        for (const r of await (await caches.open(k)).keys()) held.add(new URL(r.url).pathname);
    }
    return Object.values(manifest.routes)
        .filter((r) => r.id !== "root" && paths.includes(r.path ?? ""))
        .filter((r) => !held.has(r.module)).map((r) => r.path ?? "");
}"""


def _load_bytes(url: str, cookie: str, allow_sw: bool) -> tuple[int, int, int, int, bool,
                                                                  list[str], list[str]]:
    """(bytes, requests, of which by the service worker: bytes, requests; SW ready; repeats;
    offline routes whose code is not in the worker's cache at the end)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    # Playwright reports a Chromium service worker's own requests only with this switch.
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    exe = shutil.which("chromium")
    got: list[Any] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="vi-VN", is_mobile=True,
                has_touch=True, service_workers="allow" if allow_sw else "block")
            if cookie:
                origin = "/".join(url.split("/")[:3]) + "/"
                context.add_cookies([{"name": "dh_session", "value": cookie, "url": origin,
                                      "sameSite": "Strict"}])
            context.on("requestfinished", lambda req: got.append(req))
            page = context.new_page()
            page.goto(url, wait_until="networkidle", timeout=120_000)
            ready = _sw_ready(page) if allow_sw else False
            page.wait_for_timeout(3000)
            missing = page.evaluate(_MISSING_OFFLINE, offline_routes()) if allow_sw else []
            total = n = sw_total = sw_n = 0
            urls: dict[str, int] = {}
            for req in got:
                try:
                    resp = req.response()
                    if resp is None or resp.from_service_worker:
                        continue  # answered from the worker's cache: no bytes on the wire
                    sizes = req.sizes()
                except PlaywrightError:
                    continue
                body = int(sizes.get("responseBodySize", 0))
                path = "/" + req.url.split("//", 1)[-1].split("/", 1)[-1].split("?")[0]
                if body == 0 and path == "/sw.js" and resp.status == 200:
                    # Chromium reports no body size for the worker's own script (fetched for
                    # the worker before it runs); its Content-Length is what came over the wire.
                    body = int(resp.headers.get("content-length", "0") or 0)
                size = body + int(sizes.get("responseHeadersSize", 0))
                total += size
                n += 1
                if req.service_worker is not None:
                    sw_total += size
                    sw_n += 1
                if body > 0:  # a revalidation (304: headers only) is not a second download
                    urls[path] = urls.get(path, 0) + 1
        finally:
            browser.close()
    repeats = sorted(p for p, c in urls.items() if c > 1)
    return total, n, sw_total, sw_n, ready, repeats, missing


def first_load(url: str, cookie: str) -> FirstLoad:
    alone = _load_bytes(url, cookie, allow_sw=False)
    full = _load_bytes(url, cookie, allow_sw=True)
    return FirstLoad(alone[0], alone[1], full[0], full[1], full[2], full[3], full[4], full[5],
                     full[6], len(offline_routes()))


def format_first_load(r: FirstLoad) -> str:
    verdict = "pass" if r.ratio <= BYTES_GOAL else "**miss**"
    return (f"| first load of /today, signed in | bytes (body + headers) | requests |\n"
            f"|---|---|---|\n"
            f"| the page alone (service worker blocked) | {r.page_bytes / 1024:.0f} KiB | "
            f"{r.page_requests} |\n"
            f"| with the service worker's precache | {r.total_bytes / 1024:.0f} KiB | "
            f"{r.total_requests} |\n"
            f"| of which fetched by the service worker | {r.sw_bytes / 1024:.0f} KiB | "
            f"{r.sw_requests} |\n\n"
            f"Ratio {r.ratio:.2f}× (goal ≤ {BYTES_GOAL}×): {verdict}. Service worker active with "
            f"a filled cache: {'yes' if r.sw_ready else 'NO'}. Code of every offline screen "
            f"in its cache at the end ({r.offline_routes} routes of routes.js): "
            f"{'yes' if not r.offline_missing else 'NO, missing ' + ', '.join(r.offline_missing)}."
            f" Files downloaded more than once: {', '.join(r.repeated) or 'none'}.")
