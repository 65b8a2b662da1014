"""The device's share of issue 14's figures, in Debian's Chromium against the production build:

- an outbox save (the form read, checked, sealed and written to IndexedDB), 4x CPU throttling;
- 100 records queued offline, then sent when the link returns (until the device has them all
  as sent), no throttling (the server runs on the same 2 cores);
- an offline cold start to a usable Today, 4x CPU throttling: the app opened with no signal
  (lock screen), then unlocked with the password (PBKDF2, 600,000 iterations) until Today is
  drawn from the sealed snapshot; and a reopen in the same tab (key already unlocked).

    python -m bench.device [--rounds 3]

Prints a Markdown table; docs/BENCHMARKS.md has the figures of a run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page, sync_playwright
from sqlalchemy import text

from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from tests.e2e.conftest import CHROMIUM_ARGS, PHONE
from tests.e2e.server import app_env, prepare_database, running_app

VOLUNTEER = "tnv.demo"


def _offline(context: BrowserContext, on: bool) -> None:
    context.set_offline(on)
    for pattern in ("**/api/**", "**/ping"):
        if on:
            context.route(pattern, lambda route: route.abort("internetdisconnected"))
        else:
            context.unroute(pattern)


def _throttle(page: Page, rate: float) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})


def _sign_in(page: Page) -> None:
    page.goto("/")
    page.locator("input[name=login]").fill(VOLUNTEER)
    page.locator("input[type=password]").fill(DEMO_PASSWORD)
    page.locator("#signin-submit").click()
    page.wait_for_url("**/today")
    page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _clients(db: Path) -> list[int]:
    with engine_for(f"sqlite:///{db}").connect() as conn:
        return [int(r[0]) for r in conn.execute(text(
            "SELECT c.id FROM client c JOIN user u ON u.id = c.assigned_volunteer_id "
            "WHERE u.username = :u"), {"u": VOLUNTEER})]


def _save_times(page: Page, client_id: int, rounds: int) -> list[float]:
    _throttle(page, 4)
    out = []
    for i in range(rounds):
        page.goto(f"/clients/{client_id}/visit")
        page.locator("form[data-outbox=visit] textarea[name=notes]").fill(f"bench {i}")
        page.evaluate("performance.clearMeasures('dh-outbox-save')")
        page.locator("#save").click()
        page.wait_for_function("performance.getEntriesByName('dh-outbox-save').length > 0")
        out.append(page.evaluate("performance.getEntriesByName('dh-outbox-save')[0].duration"))
        page.wait_for_url(f"**/clients/{client_id}")
    _throttle(page, 1)
    return out


def _sync_100(page: Page, clients: list[int], today: str) -> float:
    _offline(page.context, True)
    page.evaluate("""async ([ids, day]) => {
        for (let i = 0; i < 100; i++) {
            await window.dhOutbox.save("visit", {client_id: ids[i % ids.length], visit_date: day,
                kind: "home", content: "counselling", notes: "bench " + i, risk_flags: "",
                next_appointment: null});
        }
    }""", [clients, today])
    assert page.evaluate("window.dhOutbox.counts()")["waiting"] >= 100
    _offline(page.context, False)
    started = time.perf_counter()
    page.evaluate("window.dhOutbox.sync()")
    page.wait_for_function("window.dhOutbox.counts().then(c => c.waiting === 0)", timeout=120_000)
    return time.perf_counter() - started


def _cold_start(context: BrowserContext) -> dict[str, float]:
    _offline(context, True)
    page = context.new_page()
    _throttle(page, 4)
    started = time.perf_counter()
    page.goto("/today")
    page.wait_for_selector("#dh-lock", timeout=60_000)
    locked = time.perf_counter() - started
    page.locator("[name=dh-login]").fill(VOLUNTEER)
    page.locator("[name=dh-secret]").fill(DEMO_PASSWORD)
    tap = time.perf_counter()
    page.locator("#dh-unlock-button").click()
    page.wait_for_selector("#dh-offline-view .dhd-card", timeout=60_000)
    unlocked = time.perf_counter() - tap
    derive = page.evaluate("performance.getEntriesByName('dh-unlock-derive')[0].duration") / 1000
    started = time.perf_counter()
    page.reload()
    page.wait_for_selector("#dh-offline-view .dhd-card", timeout=60_000)
    reopened = time.perf_counter() - started
    page.close()
    _offline(context, False)
    return {"locked": locked, "unlocked": unlocked, "derive": derive, "reopened": reopened}


def run(rounds: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="dh-bench-device-"))
    db = tmp / "bench.db"
    env = app_env(f"sqlite:///{db}")
    prepare_database(env)
    results: dict[str, Any] = {"save": [], "sync": [], "cold": []}
    with running_app(env, name="bench-device", own_build=True) as app, sync_playwright() as pw:
        exe = shutil.which("chromium")
        assert exe, "Debian's chromium is needed (make setup-test)"
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        clients = _clients(db)
        from app.services.calendar import today_vn
        for _ in range(rounds):
            context = browser.new_context(viewport=PHONE, base_url=app.url, locale="vi-VN",
                                          service_workers="allow")
            context.set_default_timeout(60_000)
            page = context.new_page()
            _sign_in(page)
            results["save"].extend(_save_times(page, clients[0], 5))
            results["sync"].append(_sync_100(page, clients, today_vn().isoformat()))
            page.close()
            results["cold"].append(_cold_start(context))
            context.close()
        browser.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()
    r = run(args.rounds)
    med = statistics.median
    cold = r["cold"]
    print(f"load average before: {load[0]:.2f}; after: {os.getloadavg()[0]:.2f}; "
          f"rounds: {args.rounds}")
    print("| figure | median | max | target |")
    print("|---|---|---|---|")
    print(f"| outbox save, 4x CPU (ms) | {med(r['save']):.0f} | {max(r['save']):.0f} | ≤ 100 |")
    print(f"| 100 queued records synced (s) | {med(r['sync']):.2f} | {max(r['sync']):.2f} "
          "| ≤ 10 |")
    print(f"| offline cold start to the lock screen, 4x CPU (s) | "
          f"{med(c['locked'] for c in cold):.2f} | {max(c['locked'] for c in cold):.2f} | |")
    print(f"| unlock tap to a drawn Today, 4x CPU (s) | "
          f"{med(c['unlocked'] for c in cold):.2f} | {max(c['unlocked'] for c in cold):.2f} | |")
    print(f"| of which the key derivation (PBKDF2, 600,000 iterations), 4x CPU (s) | "
          f"{med(c['derive'] for c in cold):.2f} | {max(c['derive'] for c in cold):.2f} | |")
    total = [c["locked"] + c["unlocked"] for c in cold]
    print(f"| offline cold start to a usable Today (both, typing excluded), 4x CPU (s) | "
          f"{med(total):.2f} | {max(total):.2f} | ≤ 3 |")
    print(f"| reopened in the same tab to a drawn Today, 4x CPU (s) | "
          f"{med(c['reopened'] for c in cold):.2f} | {max(c['reopened'] for c in cold):.2f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
