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
import sys
import tempfile
import time
import urllib.parse
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
        # The page before may have been another user's: without this the sign-in page of a
        # second round had the clinic's session of the round before and was measured as its
        # redirect to /scan.
        context.clear_cookies()
        if cookie is not None:
            context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": base_url,
                                  "sameSite": "Strict"}])
            # With the readable marker the sign-in sets beside it (app/api/auth.py), as on a
            # phone: the device code then fetches the session's key and caseload, which a
            # page with the session cookie alone never did here.
            context.add_cookies([{"name": "dh_signed_in", "value": "bench", "url": base_url,
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


def signed_in_token(engine: Engine, nth: int = 0) -> tuple[str, int]:
    """A live session of a volunteer made by the real sign-in service; and one of their clients.
    `nth`: another volunteer, so that two measurements never share a session."""
    from bench.ws_load import pick_volunteers

    volunteer = pick_volunteers(engine, nth + 1)[nth]
    return _session_for(engine, volunteer.login), volunteer.client_ids[0]


def _session_for(engine: Engine, login: str) -> str:
    from sqlmodel import Session

    from app.services import accounts
    from bench.generate import PASSWORD

    with Session(engine) as db:
        result = accounts.authenticate(session=db, login=login, password=PASSWORD,
                                       client_addr="127.0.0.1")
        db.commit()
    return str(result.token)


def clinic_token(engine: Engine) -> str:
    """A live session of an active clinic worker (the scan page is their home); '' if none."""
    from sqlalchemy import select
    from sqlmodel import Session, col

    from models import Role, RoleAssignment, User

    with Session(engine) as db:
        login = db.exec(
            select(User.username)  # type: ignore[call-overload]
            .join(RoleAssignment, col(RoleAssignment.user_id) == col(User.id))
            .where(col(RoleAssignment.role) == Role.CLINIC, col(User.is_active).is_(True))
            .order_by(col(User.username)).limit(1)
        ).first()
    return _session_for(engine, login[0]) if login else ""


def volunteer_pages(engine: Engine) -> list[tuple[str, str, str]]:
    """(name, path, session token) of every page a volunteer or clinic worker uses.

    Trailing slash: the page itself, not the server's redirect to it (/today -> /today/)."""
    token, client_id = signed_in_token(engine)
    clinic = clinic_token(engine) or token
    c = f"/clients/{client_id}"
    return [
        ("sign-in", "/", ""),
        ("today", "/today/", token),
        ("my clients", "/clients/", token),
        ("client", f"{c}/", token),
        ("visit form", f"{c}/visit/", token),
        ("drug test form", f"{c}/test/", token),
        ("referral form", f"{c}/referral/", token),
        ("support form", f"{c}/support/", token),
        ("register", "/clients/new/", token),
        ("outreach", "/outreach/", token),
        ("group activity", "/group-activity/", token),
        ("scan (clinic)", "/scan/", clinic),
    ]


def _lighthouse_page(port: int, base: str, name: str, path: str, tok: str) -> PageScores:
    """One cold Lighthouse run of base+path in the browser on `port`."""
    report: dict[str, Any] | None = None
    for attempt in range(2):  # Lighthouse's own trace failures (NO_NAVSTART, …) say "run again"
        _prepare_browser(port, base + "/", ("dh_session", tok) if tok else None)
        try:
            report = run_one(base + path, port, cookie=f"dh_session={tok}" if tok else "")
            break
        except (RuntimeError, subprocess.TimeoutExpired) as err:
            if attempt == 1 or "run Lighthouse again" not in str(err):
                return PageScores(name, path, {c: None for c in CATEGORIES},
                                  error=" ".join(str(err).split())[:300])
    assert report is not None
    final = str(report.get("finalDisplayedUrl") or report.get("finalUrl") or "")
    scores = PageScores(name, path, _scores(report), final_url=final, metrics=_metrics(report))
    if urllib.parse.urlsplit(final).path.rstrip("/") != path.rstrip("/"):
        scores.error = f"ended on {final} (not signed in?)"
    scores.error = (scores.error + " " if scores.error else "") + (
        "lowest: " + ", ".join(_failing_audits(report)) if not scores.ok else "")
    return scores


def run_lighthouse(base_url: str, engine: Engine, blank_url: str = "", rounds: int = 1,
                   blank_every: int = 4, only: Sequence[str] = ()) -> list[PageScores]:
    """Every volunteer and clinic page, cold, `rounds` times; with `blank_url`, the blank app is
    measured in the same browser before the first page and again after every `blank_every`
    pages of each round (interleaved, so that the machine's load falls on both). `only`: the
    names of the pages to measure (all when empty)."""
    why = lighthouse_available()
    if why:
        return [PageScores("all", "", {c: None for c in CATEGORIES}, error=why)]
    base = base_url.rstrip("/")
    pages = [p for p in volunteer_pages(engine) if not only or p[0] in only]
    results: list[PageScores] = []
    for _name, path, _tok in pages:  # a fresh server's first answers are not what users get
        with contextlib.suppress(OSError):
            urllib.request.urlopen(base + path, timeout=30).read()
    with debug_chromium() as port:
        for _round in range(rounds):
            for i, (name, path, tok) in enumerate(pages):
                if blank_url and i % blank_every == 0:
                    results.append(_lighthouse_page(port, blank_url.rstrip("/"), BLANK, "/", ""))
                results.append(_lighthouse_page(port, base, name, path, tok))
            if blank_url:
                results.append(_lighthouse_page(port, blank_url.rstrip("/"), BLANK, "/", ""))
    return results


BLANK = "blank app"
TBT_RATIO_GOAL = 2.0
LCP_RATIO_GOAL = 1.1


@dataclass
class PageSummary:
    """Medians over the rounds of one page, and its ratios to the blank app's medians."""

    page: str
    path: str
    runs: int
    performance: float | None
    tbt_ms: float | None
    lcp_ms: float | None
    blank: PageSummary | None = None
    errors: list[str] = field(default_factory=list)

    def _ratio(self, mine: float | None, floor: float | None) -> float | None:
        return None if mine is None or not floor else mine / floor

    @property
    def tbt_ratio(self) -> float | None:
        return self._ratio(self.tbt_ms, self.blank.tbt_ms if self.blank else None)

    @property
    def lcp_ratio(self) -> float | None:
        return self._ratio(self.lcp_ms, self.blank.lcp_ms if self.blank else None)

    def verdicts(self) -> dict[str, bool | None]:
        """performance ≥ blank, TBT ≤ 2× blank, LCP ≤ 1.1× blank (None: not measured)."""
        b = self.blank
        perf = (None if self.performance is None or b is None or b.performance is None
                else self.performance >= b.performance)
        def within(mine: float | None, floor: float | None, goal: float) -> bool | None:
            # Against the goal itself, not a ratio: a floor of 0 ms (the blank app's median TBT
            # can be) has no ratio, and only 0 ms is within twice it.
            return None if mine is None or floor is None else mine <= goal * floor

        return {"performance": perf,
                "TBT": within(self.tbt_ms, b and b.tbt_ms, TBT_RATIO_GOAL),
                "LCP": within(self.lcp_ms, b and b.lcp_ms, LCP_RATIO_GOAL)}


def _median(values: list[float]) -> float | None:
    import statistics

    return statistics.median(values) if values else None


def summarise(results: Sequence[PageScores]) -> list[PageSummary]:
    """Medians per page (in first-seen order), each compared with the blank app's medians."""
    by_page: dict[str, list[PageScores]] = {}
    for r in results:
        by_page.setdefault(r.page, []).append(r)

    def one(name: str, rs: list[PageScores]) -> PageSummary:
        good = [r for r in rs if r.metrics]
        return PageSummary(
            name, rs[0].path, len(good),
            _median([float(r.scores["performance"]) for r in good
                     if r.scores.get("performance") is not None]),
            _median([r.metrics["TBT"] for r in good if "TBT" in r.metrics]),
            _median([r.metrics["LCP"] for r in good if "LCP" in r.metrics]),
            errors=[r.error for r in rs if r.error and not r.error.startswith("lowest:")])

    blank = one(BLANK, by_page.pop(BLANK)) if BLANK in by_page else None
    out = [blank] if blank else []
    for name, rs in by_page.items():
        s = one(name, rs)
        s.blank = blank
        out.append(s)
    return out


def format_summary(summaries: Sequence[PageSummary]) -> str:
    """A markdown table: medians, ratios to the blank app, pass/miss per goal."""
    def mark(v: bool | None) -> str:
        return "—" if v is None else ("pass" if v else "**miss**")

    def num(v: float | None, fmt: str) -> str:
        return "—" if v is None else format(v, fmt)

    lines = ["| page | runs | performance | TBT | LCP | perf ≥ blank | TBT ≤ 2× | LCP ≤ 1.1× |",
             "|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        if s.blank is None:
            lines.append(f"| {s.page} | {s.runs} | {num(s.performance, '.0f')} | "
                         f"{num(s.tbt_ms, '.0f')} ms | {num(s.lcp_ms and s.lcp_ms / 1000, '.2f')}"
                         " s | (floor) | (floor) | (floor) |")
            continue
        v = s.verdicts()
        lines.append(
            f"| {s.page} | {s.runs} | {num(s.performance, '.0f')} | {num(s.tbt_ms, '.0f')} ms "
            f"({num(s.tbt_ratio, '.1f')}×) | {num(s.lcp_ms and s.lcp_ms / 1000, '.2f')} s "
            f"({num(s.lcp_ratio, '.2f')}×) | {mark(v['performance'])} | {mark(v['TBT'])} | "
            f"{mark(v['LCP'])} |")
        for e in s.errors[:2]:
            lines.append(f"| ↳ {s.page}: {e[:160]} |  |  |  |  |  |  |  |")
    return "\n".join(lines)


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


def phone_pages_report(app_url: str, blank_url: str, engine: Engine, *, rounds: int,
                       ttu_rounds: int, parts: Sequence[str], only: Sequence[str] = ()) -> str:
    """Issue 20's figures as markdown: Lighthouse on every page vs the blank app, slow-3G
    time-to-usable cold and warm, and the first load's bytes with the service worker."""
    from bench import mobile

    out: list[str] = []
    if "lighthouse" in parts:
        t0 = time.perf_counter()
        results = run_lighthouse(app_url, engine, blank_url=blank_url, rounds=rounds,
                                 only=only)
        out.append(f"**Lighthouse 13, mobile preset, cold; {rounds} round(s), the blank app "
                   f"measured between every 4 pages; medians** "
                   f"({time.perf_counter() - t0:.0f} s)\n\n" + format_summary(summarise(results)))
    token, client_id = signed_in_token(engine, nth=1)
    base = app_url.rstrip("/")
    if "ttu" in parts:
        t0 = time.perf_counter()
        targets = [mobile.Target(BLANK, blank_url.rstrip("/") + "/", text="Xin chào"),
                   mobile.Target("sign-in", base + "/", selector="#signin-submit"),
                   mobile.Target("today", base + "/today/", token, selector="#count-overdue"),
                   mobile.Target("client", f"{base}/clients/{client_id}/", token,
                                 selector="#client-name", need_text=True)]
        usable = mobile.time_to_usable(targets, rounds=ttu_rounds)
        out.append(f"**Time-to-usable, slow 3G (2 s latency, 50 kB/s) + 4× CPU over CDP; "
                   f"{ttu_rounds} round(s), medians** ({time.perf_counter() - t0:.0f} s)\n\n"
                   + mobile.format_usable(usable, BLANK))
    if "bytes" in parts:
        out.append("**First load of /today, signed in (unthrottled, fresh profile)**\n\n"
                   + mobile.format_first_load(mobile.first_load(base + "/today/", token)))
    return "\n\n".join(out)


PARTS = ("lighthouse", "ttu", "bytes")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lighthouse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="", help="an app already running (else started here "
                        "on a copy of the bench data set)")
    parser.add_argument("--db-url", default="", help="its database (with --url)")
    parser.add_argument("--blank-url", default="", help="the blank app already running (else "
                        "built and started here from data/bench/blank_app)")
    parser.add_argument("--size", default="small", help="data set when started here")
    # Five: TBT on these pages is a few long tasks either side of the first paint, and its
    # median over three runs flipped the verdict against a floor of 4–24 ms from run to run.
    parser.add_argument("--rounds", type=int, default=5, help="Lighthouse rounds")
    parser.add_argument("--ttu-rounds", type=int, default=3, help="time-to-usable rounds")
    parser.add_argument("--only", default=",".join(PARTS), help=f"subset of {PARTS}")
    parser.add_argument("--pages", default="", help="Lighthouse: only these pages (names as "
                        "in the table, comma-separated; e.g. 'today,client')")
    parser.add_argument("--write", action="store_true",
                        help="append the figures to docs/BENCHMARKS.md")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    from datetime import UTC, datetime

    from app.services.db import engine_for
    from bench import page_weight, report
    from bench import run as bench_run

    started = datetime.now(UTC)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    blank_env = dict(os.environ)
    blank_env["PATH"] = f"{ROOT / '.tools' / 'node_modules' / '.bin'}:" \
                        f"{Path(sys.executable).parent}:{blank_env.get('PATH', '')}"
    blank_env.pop("REFLEX_DB_URL", None)
    blank_env.pop("REFLEX_REDIS_URL", None)
    with contextlib.ExitStack() as stack:
        if args.url:
            app_url, db_url = args.url, args.db_url
        else:
            db_url = bench_run.sqlite_copy(bench_run.ensure_sqlite(args.size), "served")
            app_url = stack.enter_context(bench_run._app(db_url, "bench-app")).url
        blank_url = args.blank_url or stack.enter_context(
            page_weight.serve_folder(page_weight.blank_app_folder(), blank_env, "bench-blank"))
        text = phone_pages_report(app_url, blank_url, engine_for(db_url), rounds=args.rounds,
                                  ttu_rounds=args.ttu_rounds, parts=parts,
                                  only=[p.strip() for p in args.pages.split(",") if p.strip()])
    print(text)
    if args.write:
        load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
        report.append(
            f"### Run {started:%Y-%m-%d %H:%M} UTC — phone pages vs blank app (issue 20) — "
            f"commit {report.git_commit()}\n\n"
            f"`python -m bench.lighthouse {' '.join(argv or sys.argv[1:])}`; data set "
            f"`{args.size}`; load average before {load_before}, after {load_after} "
            f"(2 cores, shared). Read the ratios; absolute times on this machine are not a "
            f"phone's.\n\n{text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
