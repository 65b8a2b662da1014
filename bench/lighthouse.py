"""Lighthouse (npm `lighthouse`, mobile preset) on the sign-in, Today and client pages.

    python -m bench.lighthouse --url http://127.0.0.1:PORT/ --db-url URL

Lighthouse drives Debian's Chromium (`CHROME_PATH`). Signed-in pages need the `dh_session`
cookie in the browser itself: the app's frontend reads it from `document.cookie` and sends it
with the hydrate event, so a request header alone (`--extra-headers`) reaches the server's
HTTP routes but not the state. So one Chromium is started here with a debugging port, the
cookie of a session made by the real sign-in service is put into it over CDP (Playwright),
and Lighthouse connects to that browser (`--port`) with `--disable-storage-reset` (otherwise
it clears the cookie). The HTTP cache, the service worker and its cache are emptied over CDP
before every page instead, so each page is measured cold. `--extra-headers` carries the
cookie as well, as documented.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from tests.e2e.server import ROOT, free_port

TARGET = 90
CATEGORIES = ("performance", "accessibility", "best-practices")
CHROME_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu"]
LIGHTHOUSE = ROOT / ".tools" / "node_modules" / ".bin" / "lighthouse"


@dataclass
class PageScores:
    page: str
    path: str
    scores: dict[str, int | None]
    final_url: str = ""
    error: str = ""
    metrics: dict[str, float] = field(default_factory=dict)  # ms (CLS: unitless)

    @property
    def ok(self) -> bool:
        return not self.error and all((s or 0) >= TARGET for s in self.scores.values())


def lighthouse_available() -> str:
    """'' if Lighthouse and Chromium are here, else why not."""
    if not LIGHTHOUSE.exists():
        return f"{LIGHTHOUSE} missing (make setup installs lighthouse@13.5.0 into .tools)"
    if shutil.which("chromium") is None:
        return "Debian's chromium is not installed"
    return ""


@contextmanager
def debug_chromium() -> Iterator[int]:
    """A headless Chromium with a remote-debugging port on 127.0.0.1 and a throw-away profile."""
    exe = shutil.which("chromium")
    assert exe is not None
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dh-lh-") as profile:
        proc = subprocess.Popen(
            [exe, *CHROME_FLAGS, f"--remote-debugging-port={port}",
             "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}",
             "--no-first-run", "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=2)
                    break
                except OSError:
                    time.sleep(0.3)
            yield port
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)


def _prepare_browser(port: int, base_url: str, cookie: tuple[str, str] | None) -> None:
    """Empty the HTTP cache (every page is measured cold, as Lighthouse's own storage reset
    would) and set the session cookie, if any, in the browser Lighthouse will drive."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        context = browser.contexts[0]
        page = context.pages[0] if context.pages else context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.clearBrowserCache")
        # The page before registered the service worker, which keeps the whole shell in its
        # cache: without this the next page would be served from it, not measured cold.
        origin = "/".join(base_url.split("/")[:3])
        cdp.send("Storage.clearDataForOrigin",
                 {"origin": origin, "storageTypes": "service_workers,cache_storage"})
        cdp.detach()
        if cookie is not None:
            context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": base_url,
                                  "sameSite": "Strict"}])
        # Leave the browser running: Lighthouse connects to it next.


def run_one(url: str, port: int, *, cookie: str = "", timeout: float = 300) -> dict[str, Any]:
    """One Lighthouse run (mobile preset = Lighthouse's default) against the browser on `port`."""
    with tempfile.TemporaryDirectory(prefix="dh-lh-out-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [str(LIGHTHOUSE), url, f"--port={port}", "--output=json",
               f"--output-path={out}", "--quiet", "--disable-storage-reset",
               f"--only-categories={','.join(CATEGORIES)}",
               f"--chrome-flags={' '.join(CHROME_FLAGS)}"]
        if cookie:
            cmd.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
        env = dict(os.environ)
        env["CHROME_PATH"] = shutil.which("chromium") or ""
        env["PATH"] = f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{env.get('PATH', '')}"
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or not out.exists():
            raise RuntimeError(f"lighthouse failed ({done.returncode}): {done.stderr[-800:]}")
        keep = os.environ.get("DH_LIGHTHOUSE_REPORTS")  # a folder to keep the full reports in
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            slug = "".join(c if c.isalnum() else "_" for c in url.split("//", 1)[-1])
            shutil.copy(out, Path(keep) / f"{time.strftime('%H%M%S')}-{slug.strip('_')}.json")
        return dict(json.loads(out.read_text()))


def _scores(report: dict[str, Any]) -> dict[str, int | None]:
    cats = report.get("categories", {})
    return {c: (None if cats.get(c, {}).get("score") is None
                else round(cats[c]["score"] * 100)) for c in CATEGORIES}


METRICS = {"FCP": "first-contentful-paint", "LCP": "largest-contentful-paint",
           "TBT": "total-blocking-time", "SI": "speed-index", "CLS": "cumulative-layout-shift"}


def _metrics(report: dict[str, Any]) -> dict[str, float]:
    audits = report.get("audits", {})
    return {short: float(audits[name]["numericValue"]) for short, name in METRICS.items()
            if isinstance(audits.get(name, {}).get("numericValue"), (int, float))}


def _failing_audits(report: dict[str, Any], limit: int = 6) -> list[str]:
    """The audits that cost the most points (for the notes in docs/BENCHMARKS.md)."""
    audits = report.get("audits", {})
    bad = []
    for cat in CATEGORIES:
        for ref in report.get("categories", {}).get(cat, {}).get("auditRefs", []):
            audit = audits.get(ref["id"], {})
            score = audit.get("score")
            if ref.get("weight", 0) > 0 and score is not None and score < 0.9:
                bad.append((ref["weight"] * (1 - score), f"{cat}:{ref['id']}"))
    return [name for _, name in sorted(bad, reverse=True)[:limit]]


def signed_in_token(engine: Engine) -> tuple[str, int]:
    """A live session of a volunteer made by the real sign-in service; and one of their clients."""
    from sqlmodel import Session

    from app.services import accounts
    from bench.generate import PASSWORD
    from bench.ws_load import pick_volunteers

    volunteer = pick_volunteers(engine, 1)[0]
    with Session(engine) as db:
        result = accounts.authenticate(session=db, login=volunteer.login, password=PASSWORD,
                                       client_addr="127.0.0.1")
        db.commit()
    return result.token, volunteer.client_ids[0]


def run_lighthouse(base_url: str, engine: Engine) -> list[PageScores]:
    why = lighthouse_available()
    if why:
        return [PageScores("all", "", {c: None for c in CATEGORIES}, error=why)]
    base = base_url.rstrip("/")
    token, client_id = signed_in_token(engine)
    # Trailing slash: the page itself, not the server's redirect to it (/today -> /today/).
    pages = [("sign-in", "/", ""), ("today", "/today/", token),
             ("client", f"/clients/{client_id}/", token)]
    results: list[PageScores] = []
    for _name, path, _tok in pages:  # a fresh server's first answers are not what users get
        with contextlib.suppress(OSError):
            urllib.request.urlopen(base + path, timeout=30).read()
    with debug_chromium() as port:
        for name, path, tok in pages:
            _prepare_browser(port, base_url, ("dh_session", tok) if tok else None)
            try:
                report = run_one(base + path, port, cookie=f"dh_session={tok}" if tok else "")
            except (RuntimeError, subprocess.TimeoutExpired) as err:
                results.append(PageScores(name, path, {c: None for c in CATEGORIES},
                                          error=str(err)[:300]))
                continue
            final = str(report.get("finalDisplayedUrl") or report.get("finalUrl") or "")
            scores = PageScores(name, path, _scores(report), final_url=final,
                                metrics=_metrics(report))
            if not final.rstrip("/").endswith(path.rstrip("/")):
                scores.error = f"ended on {final} (not signed in?)"
            scores.error = (scores.error + " " if scores.error else "") + (
                "lowest: " + ", ".join(_failing_audits(report)) if not scores.ok else "")
            results.append(scores)
    return results


def format_results(results: Sequence[PageScores]) -> str:
    lines = [f"  {'page':<10}{'path':<16}" + "".join(f"{c:>16}" for c in CATEGORIES)]
    for r in results:
        lines.append(f"  {r.page:<10}{r.path:<16}" + "".join(
            f"{'—' if r.scores[c] is None else r.scores[c]:>16}" for c in CATEGORIES)
            + f"  {'ok' if r.ok else 'MISSED'}")
        if r.metrics:
            lines.append("    " + ", ".join(
                f"{k} {v:.2f}" if k == "CLS" else f"{k} {v / 1000:.1f} s"
                for k, v in r.metrics.items()) + " (simulated mobile: slow 4G, 4x CPU slowdown)")
        if r.error:
            lines.append(f"    {r.error}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lighthouse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--db-url", required=True)
    args = parser.parse_args(argv)
    from app.services.db import engine_for

    print(format_results(run_lighthouse(args.url, engine_for(args.db_url))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
