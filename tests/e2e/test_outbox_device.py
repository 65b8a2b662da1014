"""A volunteer's day through the device outbox (issue 14), in real Chromium against the real
app: every record form saves on the device first and is sent through the sync API; websocket
cuts (Playwright's `route_web_socket`), lost answers, lie-fi, a cold start with no signal,
sign-out and expiry. The database is counted, not the screen."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import string
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, WebSocketRoute, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import text
from sqlmodel import Session, select

from app.services import clients, outbox
from app.services.actor import load_actor
from app.services.calendar import today_vn
from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from app.services.dto import ClientCreate, ConsentInput
from models import Role, Sex, User
from tests.e2e.conftest import PHONE, close_context
from tests.e2e.test_auth import sign_in

VOLUNTEER = "tnv.demo"
SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
EVENT_SOCKET = re.compile(r"/_event")

# Everything the browser keeps for this origin, as stored (nothing decrypted).
ALL_STORAGE = """async () => {
  const dbs = {};
  for (const info of await indexedDB.databases()) {
    dbs[info.name] = await new Promise((resolve, reject) => {
      const req = indexedDB.open(info.name);
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const db = req.result, out = {};
        const names = [...db.objectStoreNames];
        if (!names.length) { db.close(); resolve(out); return; }
        const tx = db.transaction(names);
        for (const n of names) {
          const r = tx.objectStore(n).getAll();
          r.onsuccess = () => { out[n] = r.result; };
        }
        tx.oncomplete = () => { db.close(); resolve(out); };
      };
    });
  }
  const cached = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) cached.push(await (await cache.match(req)).text());
  }
  return JSON.stringify({ dbs, local: { ...localStorage }, session: { ...sessionStorage }, cached,
                          cookies: document.cookie });
}"""

OUTBOX_ROWS = """() => new Promise((resolve) => {
  const req = indexedDB.open("dh-device");
  req.onsuccess = () => {
    const r = req.result.transaction("outbox").objectStore("outbox").getAll();
    r.onsuccess = () => resolve(r.result.map((row) => (
      { key: row.key, status: row.status, kind: row.kind })));
  };
})"""


def _statuses(page: Page) -> list[str]:
    return [r["status"] for r in page.evaluate(OUTBOX_ROWS)]


def _marker() -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(10))


def _url(db: Path | str) -> str:
    """The database of the app under test: the e2e SQLite file, or a URL (the PostgreSQL lane
    runs these scenarios too: tests/pg/test_outbox_device_pg.py)."""
    return db if isinstance(db, str) else f"sqlite:///{db}"


def _make_client(e2e_db: Path | str) -> tuple[int, str]:
    """A fresh client of the demo volunteer (so they are in the offline snapshot)."""
    full_name = f"Hoàng Thị Thư {_marker()}"
    with Session(engine_for(_url(e2e_db)), expire_on_commit=False) as db:
        user = db.exec(select(User).where(User.username == VOLUNTEER)).one()
        actor = load_actor(db, user_id=user.id or 0, role=Role.VOLUNTEER)
        assert actor is not None
        client = clients.register_client(
            session=db, actor=actor, confirm_duplicates=True,
            data=ClientCreate(full_name=full_name, birth_year=1994, sex=Sex.FEMALE,
                              commune_id=min(actor.commune_ids),
                              consents=[ConsentInput(given_on=today_vn())]),
        )
        db.commit()
    return client.id, full_name


def _count(e2e_db: Path | str, sql: str, **params: Any) -> int:
    with engine_for(_url(e2e_db)).connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def _visits(e2e_db: Path | str, note: str) -> int:
    return _count(e2e_db, "SELECT count(*) FROM visit WHERE notes = :n", n=note)


def _eventually(page: Page, check: Callable[[], bool], timeout: float = 30) -> None:
    """Wait for `check`, letting Playwright run its route handlers meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        page.wait_for_timeout(300)
    raise AssertionError("condition not met in time")


def _signed_in(page: Page) -> None:
    """Signed in online: the device has the user's key (wrapped with the password) and the
    snapshot, and the service worker controls the page."""
    sign_in(page, VOLUNTEER, DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/today$"))
    page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    # The worker takes over once it has cached every screen's code: slow on a loaded machine,
    # and an install that failed (a file not fetched) is only tried again at the next load,
    # as a phone would on the next screen it opens.
    for attempt in range(3):
        try:
            page.wait_for_function("navigator.serviceWorker.controller !== null",
                                   timeout=60_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.reload()
            page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    page.wait_for_function("""() => new Promise((resolve) => {
      const req = indexedDB.open("dh-device");
      req.onsuccess = () => {
        const r = req.result.transaction("vaults").objectStore("vaults").count();
        r.onsuccess = () => resolve(r.result > 0);
      };
    })""")


def _offline(context: BrowserContext, on: bool) -> None:
    """No signal: the browser's offline switch, and every request to the server refused (the
    switch alone does not stop requests a service-worker-controlled page makes)."""
    context.set_offline(on)
    for pattern in ("**/api/**", "**/ping"):
        if on:
            context.route(pattern, lambda route: route.abort("internetdisconnected"))
        else:
            context.unroute(pattern)


class SocketCutter:
    """The app's websocket through Playwright: passed to the server until `cut()`, which
    closes the open ones and refuses new ones; `hang()` leaves new ones unanswered (lie-fi)."""

    def __init__(self, context: BrowserContext) -> None:
        self.mode = "pass"
        self.open: list[WebSocketRoute] = []
        context.route_web_socket(EVENT_SOCKET, self._handle)

    def _handle(self, ws: WebSocketRoute) -> None:
        if self.mode == "cut":
            ws.close()
        elif self.mode == "pass":
            ws.connect_to_server()
            self.open.append(ws)
        # "hang": never connected, never answered

    def cut(self) -> None:
        self.mode = "cut"
        for ws in self.open:
            ws.close()
        self.open.clear()


def _form_ready(page: Page) -> None:
    """The record form is React's (typing before then would be lost when React takes the
    server's HTML over) and, offline, filled from the device."""
    page.wait_for_selector("form[data-outbox][data-dh-ready]", state="attached")
    if page.evaluate("document.documentElement.dataset.dhLink") == "offline":
        page.wait_for_selector("form[data-outbox][data-dh-ready=offline]", state="attached")


def _fill_visit(page: Page, client_id: int, note: str, *, day: str | None = None) -> None:
    page.goto(f"/clients/{client_id}/visit")
    form = page.locator("form[data-outbox=visit]")
    _form_ready(page)
    form.locator("textarea[name=notes]").fill(note)
    if day:
        form.locator("input[name=visit_date]").fill(day)


# Records, at each of the device's own requests and at the service worker's registration,
# whether the page had already drawn its data (the app's <html data-dh-drawn>) and painted;
# and when it was drawn (`__dhDrawnAt`, on the page's clock).
_FIRST_CONTACT_PROBE = """(() => {
  window.__dhContacts = [];
  new MutationObserver(() => {
    if (window.__dhDrawnAt === undefined && document.documentElement.hasAttribute("data-dh-drawn"))
      window.__dhDrawnAt = performance.now();
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-dh-drawn"] });
  const note = (what) => window.__dhContacts.push({ what,
    drawn: document.documentElement.hasAttribute("data-dh-drawn"),
    painted: performance.getEntriesByType("paint")
      .some((e) => e.name === "first-contentful-paint") });
  const fetch0 = window.fetch;
  window.fetch = function (input, init) {
    const url = String(input && input.url ? input.url : input);
    if (url.includes("/api/outbox/") || url.includes("/ping")) {
      note(new URL(url, location.href).pathname);
    }
    return fetch0.apply(this, arguments);
  };
  const register0 = navigator.serviceWorker && navigator.serviceWorker.register;
  if (register0) {
    navigator.serviceWorker.register = function () {
      note("sw");
      return register0.apply(this, arguments);
    };
  }
})();"""


def test_the_device_talks_to_the_server_only_after_the_page_has_drawn_its_data(
    page: Page, e2e_db: Path | str
) -> None:
    """Issue 20: on a slow link the device's key, caseload and service worker must not compete
    with the page's own data. Its first requests wait for the page to be drawn (or a save)."""
    client_id, full_name = _make_client(e2e_db)
    _signed_in(page)
    page.add_init_script(_FIRST_CONTACT_PROBE)
    for route in ("/today", f"/clients/{client_id}"):
        page.goto(route)
        _eventually(page, lambda: any(c["what"] == "/api/outbox/snapshot"
                                      for c in page.evaluate("window.__dhContacts")))
        contacts = page.evaluate("window.__dhContacts")
        assert {"sw", "/api/outbox/device"} <= {c["what"] for c in contacts}, contacts
        assert all(c["drawn"] and c["painted"] for c in contacts), contacts
        # Nor does the device code itself come before: its first lines load it after.
        code, drawn_at = page.evaluate("""[performance.getEntriesByName(
            location.origin + "/device/app.js")[0].startTime, window.__dhDrawnAt]""")
        assert drawn_at is not None and code > drawn_at, (route, code, drawn_at)
    expect(page.get_by_text(full_name).first).to_be_visible()


def _signed_in_without_worker(browser: Browser, base_url: str) -> tuple[BrowserContext, Page]:
    """Signed in with no service worker: the device code then comes over the network, where a
    test can hold it."""
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN",
                                  service_workers="block")
    page = context.new_page()
    sign_in(page, VOLUNTEER, DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/today$"))
    page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    return context, page


def test_a_record_saved_before_the_device_code_has_come_is_held_then_saved_once(
    browser: Browser, base_url: str, e2e_db: Path | str
) -> None:
    """The device code (/device/app.js) is loaded once the page has drawn its data; a save
    tapped before it has come, on a slow link, is held by its first lines (boot.js), never
    sent as the browser's own GET, and saved through the outbox once the code is there."""
    client_id, _name = _make_client(e2e_db)
    context, page = _signed_in_without_worker(browser, base_url)
    try:
        held: list[Route] = []
        context.route("**/device/app.js", lambda route: held.append(route))
        page.goto(f"/clients/{client_id}/visit")
        page.wait_for_selector("html[data-dh-drawn]", state="attached")
        page.wait_for_function("""Object.keys(document.querySelector("form[data-outbox=visit]"))
            .some((k) => k.startsWith("__react"))""")
        _eventually(page, lambda: len(held) == 1)  # asked for once the page was drawn
        note = f"early {_marker()}"
        page.locator("textarea[name=notes]").fill(note)
        page.locator("#save").click()
        page.locator("#save").click()  # a second tap while waiting: one record all the same
        page.wait_for_timeout(1000)
        assert page.url.endswith(f"/clients/{client_id}/visit"), page.url  # no GET, no reload
        assert page.evaluate("window.dhOutbox") is None
        assert _visits(e2e_db, note) == 0
        for route in held:
            route.continue_()
        context.unroute("**/device/app.js")
        page.wait_for_url(re.compile(rf"/clients/{client_id}$"))
        _eventually(page, lambda: _visits(e2e_db, note) == 1)
        page.wait_for_timeout(1500)
        assert _visits(e2e_db, note) == 1
    finally:
        close_context(context)


def test_a_save_while_the_device_code_cannot_come_stays_in_the_form_and_goes_at_the_next_tap(
    browser: Browser, base_url: str, e2e_db: Path | str
) -> None:
    """The device code refused (a server error): the held save is not sent as the browser's
    own GET, not asked for again and again, and goes once at the next tap, when it comes."""
    client_id, _name = _make_client(e2e_db)
    context, page = _signed_in_without_worker(browser, base_url)
    try:
        asked: list[str] = []

        def refuse(route: Route) -> None:
            asked.append(route.request.url)
            route.fulfill(status=503, body="")

        context.route("**/device/app.js", refuse)
        page.goto(f"/clients/{client_id}/visit")
        page.wait_for_selector("html[data-dh-drawn]", state="attached")
        page.wait_for_function("""Object.keys(document.querySelector("form[data-outbox=visit]"))
            .some((k) => k.startsWith("__react"))""")
        note = f"refused {_marker()}"
        page.locator("textarea[name=notes]").fill(note)
        page.locator("#save").click()
        page.wait_for_timeout(2000)
        assert len(asked) <= 2, len(asked)  # the page's own load, the tap's: no more
        assert page.url.endswith(f"/clients/{client_id}/visit"), page.url
        expect(page.locator("textarea[name=notes]")).to_have_value(note)
        assert _visits(e2e_db, note) == 0
        context.unroute("**/device/app.js")
        page.locator("#save").click()
        page.wait_for_url(re.compile(rf"/clients/{client_id}$"))
        _eventually(page, lambda: _visits(e2e_db, note) == 1)
        page.wait_for_timeout(1500)
        assert _visits(e2e_db, note) == 1
    finally:
        close_context(context)


def test_one_write_path_exactly_once_across_websocket_cuts_double_taps_and_lost_answers(
    page: Page, e2e_db: Path | str
) -> None:
    client_id, full_name = _make_client(e2e_db)
    sockets = SocketCutter(page.context)
    _signed_in(page)

    # Cut before: the websocket is gone when the volunteer taps save, twice.
    before = f"before {_marker()}"
    _fill_visit(page, client_id, before)
    expect(page.locator("#client-name")).to_have_text(full_name)  # the page has loaded
    sockets.cut()
    page.locator("#save").dblclick()
    expect(page.locator("#dh-notice")).to_contain_text("Đã gửi lúc", timeout=15_000)
    _eventually(page, lambda: _visits(e2e_db, before) == 1)
    page.wait_for_url(re.compile(rf"/clients/{client_id}$"))

    # Cut after the server stored it: the answer is lost (and the socket with it).
    sockets.mode = "pass"
    after = f"after {_marker()}"
    lost: list[str] = []

    def lose_answer(route: Route) -> None:
        route.fetch()  # the server receives and stores the record...
        lost.append(route.request.post_data or "")
        sockets.cut()
        try:
            route.abort("connectionreset")  # ...and the device never hears back
        except Exception:  # noqa: BLE001 - the device gave up waiting first: lost either way
            pass

    page.context.route("**/api/outbox/sync", lose_answer)
    _fill_visit(page, client_id, after)
    page.locator("#save").click()
    expect(page.locator("#dh-notice")).to_contain_text("Đã lưu trên máy", timeout=15_000)
    _eventually(page, lambda: bool(lost))
    assert _visits(e2e_db, after) == 1
    page.wait_for_url(re.compile(rf"/clients/{client_id}$"))
    page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    rows = page.evaluate(OUTBOX_ROWS)
    assert [r["status"] for r in rows if r["key"] in lost[0]] == ["waiting"]
    page.context.unroute("**/api/outbox/sync")
    page.locator("#dh-send-now").click()
    _eventually(page, lambda: all(r["status"] == "sent" for r in page.evaluate(OUTBOX_ROWS)))
    # Resending the same key stored nothing more; nothing went over the websocket.
    assert _visits(e2e_db, after) == 1
    assert _visits(e2e_db, before) == 1
    assert full_name  # the client exists; their records are counted by note above


def test_lie_fi_goes_offline_within_10_s_keeps_the_record_and_sends_it_once(
    page: Page, e2e_db: Path | str
) -> None:
    client_id, _name = _make_client(e2e_db)
    sockets = SocketCutter(page.context)
    _signed_in(page)
    # The phone says "online", pages come, but nothing answers: not the sync API, not the socket.
    held: list[Route] = []
    page.context.route("**/api/outbox/**", lambda route: held.append(route))
    page.context.route("**/ping", lambda route: held.append(route))
    sockets.mode = "hang"
    note = f"liefi {_marker()}"
    _fill_visit(page, client_id, note)
    started = time.monotonic()
    page.locator("#save").click()
    page.wait_for_selector("html[data-dh-link=offline]", state="attached", timeout=10_000)
    assert time.monotonic() - started <= 10.5
    page.wait_for_url(re.compile(rf"/clients/{client_id}$"))
    page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    assert [r["status"] for r in page.evaluate(OUTBOX_ROWS)].count("waiting") == 1
    assert _visits(e2e_db, note) == 0
    # The server answers again: the record goes, once (retry with backoff, or "Gửi ngay").
    page.context.unroute("**/api/outbox/**")
    page.context.unroute("**/ping")
    for route in held:
        try:
            route.abort()
        except Exception:  # noqa: BLE001 - already ended by the device's own timeout
            pass
    _eventually(page, lambda: page.locator("html[data-dh-link=online]").count() == 1, timeout=40)
    if page.locator("#dh-send-now").is_enabled():
        page.locator("#dh-send-now").click()
    _eventually(page, lambda: _visits(e2e_db, note) == 1, timeout=40)
    page.wait_for_timeout(1000)
    assert _visits(e2e_db, note) == 1
    page.locator("#dh-open-records").first.click()
    expect(page.locator("#dh-record-list li[data-status=sent]").first).to_contain_text("Đã gửi:")
    page.screenshot(path=str(SCREENS / "offline-sent.png"))


def _areas(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """Each place of the storage dump: every store of every database, every cached answer."""
    out: list[tuple[str, Any]] = [(f"db {db}/{store}", rows)
                                  for db, stores in data["dbs"].items()
                                  for store, rows in stores.items()]
    out += [(f"cache #{i}", text) for i, text in enumerate(data["cached"])]
    out += [("localStorage", data["local"]), ("sessionStorage", data["session"]),
            ("cookies", data["cookies"])]
    return out


def _storage_has_nothing_of(page: Page, *secrets_: str) -> None:
    dump = page.evaluate(ALL_STORAGE)
    data = json.loads(dump)
    for secret in secrets_:
        where = [f"{area}: {json.dumps(value, ensure_ascii=False)[:300]}"
                 for area, value in _areas(data) if secret in json.dumps(value, ensure_ascii=False)]
        assert not where, f"{secret!r} readable in browser storage: {where}"
    # No key left to open the sealed device data with, no draft, nothing in local storage.
    assert not [k for k in data["session"]
                if k.startswith(("dh_device", "dh_draft", "dh_saved", "dh_fix"))]
    assert set(data["local"]) <= {"dh_lang", "theme"}  # the language and Reflex's colour mode


def _expire_my_session(page: Page, e2e_db: Path | str) -> None:
    """Last seen 31 minutes ago: idle past the limit (only this browser's session)."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "dh_session")
    token_hash = hashlib.sha256(unquote(token).encode("utf-8")).hexdigest()
    with engine_for(_url(e2e_db)).begin() as conn:
        seen = conn.execute(text("SELECT last_seen_at FROM authsession WHERE token_hash = :h"),
                            {"h": token_hash}).scalar_one()
        if isinstance(seen, str):  # SQLite answers text
            seen = datetime.fromisoformat(seen)
        changed = conn.execute(
            text("UPDATE authsession SET last_seen_at = :at WHERE token_hash = :h"),
            {"at": seen - timedelta(minutes=31), "h": token_hash},
        ).rowcount
    assert changed == 1


@pytest.mark.timeout(600)  # three online sign-ins, each waiting for the worker's precache
def test_sign_out_and_expiry_leave_no_name_on_screen_and_nothing_readable(
    page: Page, e2e_db: Path | str
) -> None:
    client_id, full_name = _make_client(e2e_db)
    # Online sign-out, after a save (its confirmation names the client).
    _signed_in(page)
    _fill_visit(page, client_id, f"before sign-out {_marker()}")
    page.locator("#save").click()
    page.wait_for_url(re.compile(rf"/clients/{client_id}$"))
    expect(page.locator("#saved-notice")).to_contain_text(full_name, timeout=15_000)
    page.goto(f"/clients/{client_id}")
    expect(page.get_by_text(full_name).first).to_be_visible()
    page.locator("#sign-out").click()
    page.locator("#dh-signout-keep").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_text(full_name)).to_have_count(0)
    _storage_has_nothing_of(page, full_name, VOLUNTEER, "Nguyễn Thị Hoa")

    # Offline sign-out, from the device's own screens.
    _signed_in(page)
    _offline(page.context, True)
    page.goto(f"/clients/{client_id}")
    expect(page.locator("#dh-client-name")).to_have_text(full_name, timeout=15_000)
    page.locator("#dh-sign-out").click()
    page.locator("#dh-signout-keep").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_text(full_name)).to_have_count(0)
    _storage_has_nothing_of(page, full_name, VOLUNTEER, "Nguyễn Thị Hoa")
    # Back online, the first page that reaches the server ends the session there too (only the
    # server can remove its HttpOnly cookie); nothing of it shows meanwhile.
    _offline(page.context, False)
    page.goto("/today")
    expect(page.get_by_text(full_name)).to_have_count(0)
    _eventually(page, lambda: not [c for c in page.context.cookies() if c["name"] == "dh_session"])
    page.wait_for_url(re.compile(r"/(\?n=\w+)?$"))

    # Idle expiry, noticed by the server at the next event.
    _signed_in(page)
    page.goto(f"/clients/{client_id}")
    expect(page.get_by_text(full_name).first).to_be_visible()
    _expire_my_session(page, e2e_db)
    page.goto("/today")
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_text(full_name)).to_have_count(0)
    _storage_has_nothing_of(page, full_name, VOLUNTEER, "Nguyễn Thị Hoa")


def _save(page: Page) -> None:
    page.locator("#save").click()
    page.wait_for_url(re.compile(r"/clients/[^/]+$"))  # back to the client's page
    expect(page.locator("#dh-notice")).to_contain_text("Đã lưu trên máy", timeout=15_000)


def test_a_day_without_signal_cold_start_20_records_3_days_a_new_client_exactly_once(
    page: Page, e2e_db: Path | str
) -> None:
    client_id, full_name = _make_client(e2e_db)
    marker = _marker()
    new_name = f"Lò Văn Mới {marker}"
    _signed_in(page)
    context = page.context
    page.close()

    # Relaunched from the home screen with no signal: the lock screen, then the caseload.
    _offline(context, True)
    page = context.new_page()
    page.goto("/today")
    expect(page.locator("#dh-lock")).to_be_visible(timeout=20_000)
    page.screenshot(path=str(SCREENS / "offline-locked.png"))
    page.locator("[name=dh-login]").fill(VOLUNTEER)
    page.locator("[name=dh-secret]").fill("not the password")
    page.locator("#dh-unlock-button").click()
    expect(page.locator("#dh-unlock-message")).to_contain_text("Còn 4 lần", timeout=20_000)
    page.locator("[name=dh-secret]").fill(DEMO_PASSWORD)
    page.locator("#dh-unlock-button").click()
    expect(page.locator("#dh-offline-view")).to_be_visible(timeout=20_000)
    page.locator(".dhd-nav a", has_text="Đối tượng").click()
    page.locator("#dh-search").fill("hoang THI thu")  # no diacritics, any case
    expect(page.locator("#dh-client-list")).to_contain_text(full_name)
    page.goto("/today")
    expect(page.locator("#dh-offline-view")).to_be_visible(timeout=20_000)
    page.screenshot(path=str(SCREENS / "offline-unlocked.png"))

    today = today_vn()
    days = [(today - timedelta(days=2 - d)).isoformat() for d in range(3)]
    made = 0
    temp_id = ""
    for d, day in enumerate(days):
        if d == 0:
            # A new client, registered with no signal.
            page.goto("/clients/new")
            form = page.locator("form[data-outbox=client]")
            _form_ready(page)
            form.locator("[name=full_name]").fill(new_name)
            form.locator("[name=birth_year]").fill("1993")
            form.locator("[name=sex]").select_option("male")
            form.locator("[name=commune_id]").select_option(index=0)
            form.locator("[name=consent_case_management]").check()
            form.locator("[type=submit]").click()
            expect(page.locator("#dh-notice")).to_contain_text("Đã lưu trên máy", timeout=15_000)
            page.wait_for_url(re.compile(r"/clients/tmp"))
            temp_id = unquote(page.url.rsplit("/", 1)[1])
            expect(page.locator("#dh-client-name")).to_have_text(new_name)
        for i in range(7 if d < 2 else 6):
            target = temp_id if i % 3 == 0 else client_id
            _fill_visit(page, target, f"{marker} d{d} #{i}", day=day)  # type: ignore[arg-type]
            _save(page)
            made += 1
        # Evening: signal for a moment; the first answer is lost (the server stored the batch).
        _offline(context, False)
        dropped: list[int] = []

        def drop_first(route: Route) -> None:
            if dropped:
                route.continue_()
                return
            route.fetch()
            dropped.append(1)
            route.abort("connectionreset")

        context.route("**/api/outbox/sync", drop_first)
        page.goto("/today")
        page.wait_for_selector("html[data-dh-unlocked]", state="attached")
        _eventually(page, lambda: bool(dropped), timeout=40)
        page.locator("#dh-send-now").click()
        _eventually(page, lambda: "waiting" not in _statuses(page), timeout=60)
        context.unroute("**/api/outbox/sync")
        _offline(context, True)

    assert made == 20
    stored = _count(e2e_db, "SELECT count(*) FROM visit WHERE notes LIKE :m", m=f"{marker} d%")
    assert stored == 20
    assert _count(e2e_db, "SELECT count(*) FROM client WHERE full_name = :n", n=new_name) == 1
    new_id = _count(e2e_db, "SELECT id FROM client WHERE full_name = :n", n=new_name)
    for_new = _count(e2e_db, "SELECT count(*) FROM visit WHERE notes LIKE :m AND client_id = :c",
                     m=f"{marker} d%", c=new_id)
    assert for_new == 8  # i = 0, 3, 6 on days 1-2; 0, 3 on day 3


def test_a_record_refused_because_the_client_was_reassigned_is_kept_readable_and_resent_once(
    page: Page, e2e_db: Path | str
) -> None:
    client_id, full_name = _make_client(e2e_db)
    volunteer = _count(e2e_db, 'SELECT id FROM "user" WHERE username = :u', u=VOLUNTEER)
    _signed_in(page)
    _offline(page.context, True)
    note = f"reassigned {_marker()}"
    _fill_visit(page, client_id, note)
    _save(page)
    page.locator("#dh-open-records").first.click()
    expect(page.locator("#dh-record-list li[data-status=waiting]")).to_have_count(1)
    page.screenshot(path=str(SCREENS / "offline-waiting.png"))

    # Meanwhile the supervisor took the client off this volunteer's caseload.
    with engine_for(_url(e2e_db)).begin() as conn:
        conn.execute(text("UPDATE client SET assigned_volunteer_id = NULL WHERE id = :c"),
                     {"c": client_id})
    _offline(page.context, False)
    page.goto("/today")
    page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    _eventually(page, lambda: "kept" in _statuses(page))
    assert _visits(e2e_db, note) == 0
    page.locator("#dh-open-records").first.click()
    kept = page.locator("#dh-record-list li[data-status=kept]")
    expect(kept).to_contain_text("Bị từ chối")
    expect(kept).to_contain_text(note)  # the whole record, as typed
    page.screenshot(path=str(SCREENS / "offline-refused.png"))

    # The assignment is put right; the volunteer resends the same record: stored once.
    with engine_for(_url(e2e_db)).begin() as conn:
        conn.execute(text("UPDATE client SET assigned_volunteer_id = :v WHERE id = :c"),
                     {"v": volunteer, "c": client_id})
    # "Sửa" opens the visit's own form with what was typed, and saving it resends that record.
    kept.locator("[data-fix]").click()
    page.wait_for_url(re.compile(rf"/clients/{client_id}/visit$"))
    notes = page.locator("form[data-outbox=visit] textarea[name=notes]")
    expect(notes).to_have_value(note, timeout=20_000)
    corrected = f"{note} (đã sửa)"
    notes.fill(corrected)
    page.locator("#save").click()
    page.wait_for_url(re.compile(rf"/clients/{client_id}$"))
    page.locator("#dh-open-records").first.click()
    sent = page.locator("#dh-record-list li[data-status=sent]")
    expect(sent.first).to_contain_text("Đã gửi", timeout=20_000)
    expect(page.locator("#dh-record-list li[data-status=kept]")).to_have_count(0)
    page.screenshot(path=str(SCREENS / "offline-corrected.png"))
    _eventually(page, lambda: _visits(e2e_db, corrected) == 1)
    page.locator("#dh-send-now").first.click()
    page.wait_for_timeout(1500)
    assert _visits(e2e_db, corrected) == 1
    assert _visits(e2e_db, note) == 0  # the same record, corrected: one row
    assert full_name not in json.dumps(page.evaluate(OUTBOX_ROWS))


def test_fixing_a_refused_new_client_opens_its_details_with_what_was_typed(
    page: Page, e2e_db: Path | str
) -> None:
    """The register form draws its optional details only when they are opened: "Sửa" opens
    them when the refused record has something there (a value or the server's message)."""
    name = f"Lý Văn Sửa {_marker()}"
    address = f"Số 5 ngõ {_marker()}"
    with Session(engine_for(_url(e2e_db)), expire_on_commit=False) as db:
        user = db.exec(select(User).where(User.username == VOLUNTEER)).one()
        actor = load_actor(db, user_id=user.id or 0, role=Role.VOLUNTEER)
        assert actor is not None
        commune = min(actor.commune_ids)
    _signed_in(page)
    # As the form's reader would give it (assets/device/src/forms.js), with an identity
    # number the device's own check would have stopped: the server refuses it.
    payload = {
        "full_name": name, "other_names": "", "phone": None, "national_id": "12345",
        "address": address, "former_address": "", "family_contact": "", "priority_group": "",
        "substances": "", "legal_rep_name": "Lý Thị Mẹ", "legal_rep_phone": "",
        "birth_year": today_vn().year - 16,  # a minor: the representative's fields appear
        "commune_id": commune, "sex": "male", "injects": True,
        "consents": [{"purpose": "case_management", "given_on": today_vn().isoformat(),
                      "sensitive_categories": ["drug_use", "test_results", "hiv_status",
                                               "police_records"]}],
        "consent_given_by": "subject", "consent_representative_name": "",
        "consent_representative_relation": "", "consent_method": "screen",
        "consent_form_number": "",
    }
    page.evaluate("(p) => window.dhOutbox.save('client', p).then(() => window.dhOutbox.sync())",
                  payload)
    _eventually(page, lambda: "kept" in _statuses(page))
    page.locator("#dh-open-records").first.click()
    page.locator("#dh-record-list li[data-status=kept] [data-fix]").click()
    page.wait_for_url(re.compile(r"/clients/new$"))
    expect(page.locator("#more-details")).to_have_attribute("aria-expanded", "true",
                                                            timeout=20_000)
    expect(page.locator("#national_id")).to_have_value("12345")
    expect(page.locator("#national_id-error")).to_be_visible()
    expect(page.locator("#address")).to_have_value(address)
    expect(page.locator("#injects")).to_be_checked()
    expect(page.locator("#full_name")).to_have_value(name)
    # The consent given is put back, and the minor's representative (drawn once the page has
    # the birth year) too: nothing typed has to be typed again.
    expect(page.locator("#consent_case_management")).to_be_checked()
    expect(page.locator("#legal_rep_name")).to_have_value("Lý Thị Mẹ", timeout=15_000)
    page.locator("#national_id").fill("")
    page.locator("#register-submit").click()
    # The new client's page: under its number once the server has answered, or under the
    # device's temporary one (tmp:<key>) when the answer took longer than the device waits.
    page.wait_for_url(re.compile(r"/clients/(\d+|tmp(:|%3A)[\w-]+)$"), timeout=30_000)
    _eventually(page, lambda: _count(
        e2e_db, "SELECT count(*) FROM client WHERE full_name = :n AND address = :a "
        "AND injects AND national_id IS NULL AND legal_rep_name = :r", n=name, a=address,
        r="Lý Thị Mẹ") == 1, timeout=60)


def _decide_as_supervisor(e2e_db: Path | str, note: str, *, apply_to: int | None = None,
                          dismiss: str = "") -> None:
    """The demo supervisor applies (to `apply_to`) or dismisses the kept record noted `note`."""
    with Session(engine_for(_url(e2e_db)), expire_on_commit=False) as db:
        boss = db.exec(select(User).where(User.username == "gs.demo")).one()
        actor = load_actor(db, user_id=boss.id or 0, role=Role.SUPERVISOR)
        [item] = [i for i in outbox.review_items(session=db, actor=actor)
                  if i.payload.get("notes") == note]
        if dismiss:
            outbox.dismiss_item(session=db, actor=actor, review_id=item.review_id, reason=dismiss)
        else:
            outbox.apply_item(session=db, actor=actor, review_id=item.review_id,
                              client_id=apply_to)
        db.commit()


def test_refused_records_decided_since_reach_the_device_and_one_can_be_given_up(
    page: Page, e2e_db: Path | str
) -> None:
    client_id, _name = _make_client(e2e_db)
    marker = _marker()
    notes = {what: f"{what} {marker}" for what in ("applied", "dismissed", "withdrawn")}
    _signed_in(page)
    _offline(page.context, True)
    for note in notes.values():
        _fill_visit(page, client_id, note)
        _save(page)
    # Meanwhile the client was taken off this volunteer's caseload: all three are refused.
    with engine_for(_url(e2e_db)).begin() as conn:
        conn.execute(text("UPDATE client SET assigned_volunteer_id = NULL WHERE id = :c"),
                     {"c": client_id})
    _offline(page.context, False)
    page.goto("/today")
    page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    _eventually(page, lambda: _statuses(page).count("kept") == 3)

    # The supervisor applies one to the client and dismisses another, on their own screen.
    _decide_as_supervisor(e2e_db, notes["applied"], apply_to=client_id)
    _decide_as_supervisor(e2e_db, notes["dismissed"], dismiss="Đã ghi lần thăm này rồi")
    page.locator("#dh-send-now").click()
    _eventually(page, lambda: sorted(_statuses(page)) == ["dismissed", "kept", "sent"])
    page.locator("#dh-open-records").first.click()
    expect(page.locator("#dh-record-list li[data-status=dismissed]")).to_contain_text(
        "Người giám sát đã bỏ qua: Đã ghi lần thăm này rồi")

    # The volunteer gives the last one up: asked first, under the record, named by its row.
    kept = page.locator("#dh-record-list li[data-status=kept]")
    withdraw = kept.locator("[data-withdraw]")
    expect(withdraw).to_have_attribute("aria-label", re.compile(r"^Bỏ bản ghi này: Lần thăm, "))
    withdraw.click()
    page.locator("#dh-withdraw-yes").click()
    expect(page.locator("#dh-record-list li[data-status=kept]")).to_have_count(0)
    expect(page.locator("#dh-record-list li[data-status=dismissed]")).to_have_count(2)
    expect(page.locator("#dh-record-list")).to_contain_text("Bạn đã bỏ bản ghi này.")
    page.screenshot(path=str(SCREENS / "offline-given-up.png"))

    assert _visits(e2e_db, notes["applied"]) == 1
    assert _visits(e2e_db, notes["dismissed"]) == 0
    assert _visits(e2e_db, notes["withdrawn"]) == 0
    with Session(engine_for(_url(e2e_db))) as db:
        me = db.exec(select(User).where(User.username == VOLUNTEER)).one()
        actor = load_actor(db, user_id=me.id or 0, role=Role.VOLUNTEER)
        mine = {i.payload.get("notes"): i for i in outbox.own_items(session=db, actor=actor)}
    assert (mine[notes["withdrawn"]].status, mine[notes["withdrawn"]].decision) == (
        "dismissed", "withdrawn")
    assert mine[notes["dismissed"]].decision == "dismissed"
    # Nothing more is sent for any of them.
    page.locator("#dh-send-now").first.click()
    page.wait_for_timeout(1500)
    assert _visits(e2e_db, notes["applied"]) == 1


def test_a_group_activity_is_recorded_offline_with_who_came_from_the_device(
    page: Page, e2e_db: Path | str
) -> None:
    client_id, full_name = _make_client(e2e_db)
    topic = f"Sinh hoạt câu lạc bộ {_marker()}"
    _signed_in(page)
    _offline(page.context, True)
    page.goto("/outreach")
    page.locator("#to-group").click()  # reached offline too
    page.wait_for_url(re.compile(r"/group-activity$"))
    _form_ready(page)
    form = page.locator("form[data-outbox=group_activity]")
    # Who came: the volunteer's own clients, from the device, filtered without accents.
    page.locator("input[type=search][form=client-filter-only]").fill(
        "hoang THI thu " + full_name.rsplit(" ", 1)[1])
    shown = page.locator("#client-list .client-pick[data-shown='1']")
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text(full_name)
    shown.locator("input[type=checkbox]").check()
    form.locator("[name=kind]").select_option(index=1)
    form.locator("[name=place_id]").select_option(index=0)
    form.locator("[name=topic]").fill(topic)
    form.locator("[name=attendees_total]").fill("12")
    form.locator("[type=submit]").click()
    expect(page.locator("#dh-notice")).to_contain_text("Đã lưu trên máy", timeout=15_000)
    expect(page.locator("#saved-notice")).to_contain_text("Đã lưu buổi sinh hoạt nhóm ngày")
    expect(page.locator("#saved-notice")).to_be_focused()

    _offline(page.context, False)
    page.goto("/today")
    page.wait_for_selector("html[data-dh-unlocked]", state="attached")
    _eventually(page, lambda: _count(
        e2e_db, "SELECT count(*) FROM groupactivity WHERE topic = :t", t=topic) == 1, timeout=60)
    assert _count(e2e_db, "SELECT attendees_total FROM groupactivity WHERE topic = :t",
                  t=topic) == 12
    assert _count(e2e_db, "SELECT count(*) FROM groupactivityclient WHERE client_id = :c AND "
                          "activity_id = (SELECT id FROM groupactivity WHERE topic = :t)",
                  c=client_id, t=topic) == 1


def test_a_form_opened_at_its_own_address_keeps_the_deployments_service_worker(
    page: Page, e2e_db: Path | str
) -> None:
    """A client's form opened at its address is the SPA shell: once React has drawn it, its
    head no longer names the build. The device's first contact there must register the same
    worker again, never a "dev" one, which would replace the deployment's worker and drop the
    offline screens' code with its cache (the offline cold start then reloads for ever)."""
    _signed_in(page)
    registration = ("navigator.serviceWorker.getRegistration().then((r) => [r.active && "
                    "r.active.scriptURL, r.installing && r.installing.scriptURL, r.waiting && "
                    "r.waiting.scriptURL])")
    [before, _, _] = page.evaluate(registration)
    assert re.search(r"/sw\.js\?build=(?!dev$)[\w-]+$", before), before
    client_id = _count(e2e_db, "SELECT min(c.id) FROM client c JOIN \"user\" u ON u.id = "
                       "c.assigned_volunteer_id WHERE u.username = :u AND c.status = 'active'",
                       u=VOLUNTEER)
    page.goto(f"/clients/{client_id}/visit")
    page.wait_for_selector("html[data-dh-drawn]", state="attached")
    expect(page.locator("form[data-outbox=visit]")).to_be_visible()
    page.wait_for_timeout(6_000)  # the first contact comes at most 4 s after the page is drawn
    assert page.evaluate(registration) == [before, None, None]
