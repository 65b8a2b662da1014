"""Working where the signal drops: visits logged offline wait encrypted on the phone and are
stored exactly once when the connection returns; expiry keeps them, sign-out wipes them."""

from __future__ import annotations

import hashlib
import secrets
import string
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from playwright.sync_api import Page, expect
from sqlalchemy import text
from sqlmodel import Session, select

from app.services import activities, clients
from app.services.actor import load_actor
from app.services.calendar import today_vn
from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from app.services.dto import ClientCreate, ConsentInput, ReferralCreate
from models import ReferralService, Role, Sex, User
from tests.e2e.server import ARTIFACTS
from tests.e2e.test_auth import sign_in

# Everything the offline database holds, as stored (nothing decrypted).
RAW_QUEUE = """() => new Promise((resolve, reject) => {
  indexedDB.databases().then((dbs) => {
    if (!dbs.some((d) => d.name === "dh-offline")) { resolve(null); return; }
    const req = indexedDB.open("dh-offline");
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction(["queue", "cache"]);
      const queue = tx.objectStore("queue").getAll();
      const cache = tx.objectStore("cache").getAll();
      tx.oncomplete = () => { db.close(); resolve({ queue: queue.result, cache: cache.result }); };
    };
  });
})"""

SEND = """async (records) => {
  const res = await fetch("/api/offline/sync", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-DH-Offline": "1" },
    body: JSON.stringify({ records }),
  });
  return { status: res.status, body: await res.json(), cache: res.headers.get("Cache-Control") };
}"""

DEVICE_STORAGE = """async () => ({
  databases: (await indexedDB.databases()).map((d) => d.name),
  local: Object.keys(localStorage),
  session: Object.keys(sessionStorage).filter((k) => k.startsWith("dh_")),
  caches: await Promise.all((await caches.keys()).map(async (name) => {
    const cache = await caches.open(name);
    const bodies = [];
    for (const req of await cache.keys()) {
      const res = await cache.match(req);
      bodies.push({ path: new URL(req.url).pathname, body: await res.text() });
    }
    return { name, bodies };
  })),
})"""


def _given() -> str:
    return "Thư" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def _make_client(e2e_db: Path) -> tuple[int, str, str]:
    """A client of tnv.demo with an open referral, so they are on Today: (id, name, given)."""
    given = _given()
    full_name = f"Hoàng Thị {given}"
    with Session(engine_for(f"sqlite:///{e2e_db}"), expire_on_commit=False) as db:
        user = db.exec(select(User).where(User.username == "tnv.demo")).one()
        actor = load_actor(db, user_id=user.id or 0, role=Role.VOLUNTEER)
        assert actor is not None
        client = clients.register_client(
            session=db, actor=actor, confirm_duplicates=True,
            data=ClientCreate(full_name=full_name, birth_year=1994, sex=Sex.FEMALE,
                              commune_id=min(actor.commune_ids),
                              consents=[ConsentInput(given_on=today_vn())]),
        )
        activities.create_referral(
            session=db, actor=actor,
            data=ReferralCreate(client_id=client.id, service=ReferralService.MMT,
                                referred_on=today_vn(), consent=True),
        )
        db.commit()
    return client.id, full_name, given


def _stored_visits(e2e_db: Path, client_id: int) -> int:
    with engine_for(f"sqlite:///{e2e_db}").connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM visit WHERE client_id = :c"),
                                {"c": client_id}).scalar_one())


def _expire_my_session(page: Page, e2e_db: Path) -> None:
    """Last seen 31 minutes ago: idle past the limit (only this browser's session)."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "dh_session")
    token_hash = hashlib.sha256(unquote(token).encode("utf-8")).hexdigest()
    with engine_for(f"sqlite:///{e2e_db}").begin() as conn:
        changed = conn.execute(
            text("UPDATE authsession SET last_seen_at = datetime(last_seen_at, :delta) "
                 "WHERE token_hash = :h"),
            {"delta": f"-{int(timedelta(minutes=31).total_seconds())} seconds", "h": token_hash},
        ).rowcount
    assert changed == 1


def _ready_for_offline(page: Page) -> None:
    """The device key is in this tab and the service worker controls the page."""
    page.wait_for_function("sessionStorage.getItem('dh_offline_keys') !== null")
    page.wait_for_function("navigator.serviceWorker.controller !== null")


def _log_visit_offline(page: Page, client_id: int, note: str) -> None:
    page.locator("#dho-new-visit").click()
    form = page.locator("#dho-form")
    form.locator("select[name=client_id]").select_option(str(client_id))
    form.get_by_label("Tư vấn").check()
    form.locator("textarea[name=notes]").fill(note)
    page.locator("#dho-save").click()
    expect(page.locator("#dho-form")).to_have_count(0)


def _statuses(page: Page) -> list[str]:
    raw = page.evaluate(RAW_QUEUE)
    return [] if raw is None else sorted(row["status"] for row in raw["queue"])


def _visit_record(key: str, client_id: int) -> dict[str, Any]:
    return {"key": key, "kind": "visit", "created_at": "2026-01-01T00:00:00Z",
            "payload": {"client_id": client_id, "visit_date": today_vn().isoformat(),
                        "kind": "home"}}


def test_visits_logged_offline_wait_encrypted_and_are_stored_exactly_once(
    page: Page, base_url: str, e2e_db: Path
) -> None:
    client_id, full_name, given = _make_client(e2e_db)
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    _ready_for_offline(page)
    context = page.context
    context.set_offline(True)
    expect(page.locator("#offline-banner")).to_be_visible()
    expect(page.locator("#dh-offline")).to_contain_text("Ghi khi mất mạng")
    notes = [f"tâm sự riêng {secrets.token_hex(4)}" for _ in range(3)]
    for note in notes:
        _log_visit_offline(page, client_id, note)
    expect(page.locator("#dh-offline-counts")).to_have_attribute("data-waiting", "3")

    # The tab is closed and opened again, still offline: the three are still waiting.
    page.close()
    again = context.new_page()
    again.goto("/today")
    expect(again.locator("#offline-banner")).to_be_visible()
    expect(again.locator("#dh-offline-counts")).to_have_attribute("data-waiting", "3")
    ARTIFACTS.mkdir(exist_ok=True)
    again.screenshot(path=str(ARTIFACTS / "offline-reopened-390.png"), full_page=True)
    assert again.evaluate("document.documentElement.scrollWidth") <= 390
    raw = again.evaluate(RAW_QUEUE)
    assert [row["status"] for row in raw["queue"]] == ["waiting"] * 3
    dump = str(raw)
    for secret in (full_name, given, *notes, "counselling"):
        assert secret not in dump
    assert again.evaluate("sessionStorage.getItem('dh_offline_keys')") is None

    # Back online: the same session's key opens the queue and it is sent, in order, once.
    context.set_offline(False)
    expect(again.locator("#dh-offline-counts")).to_have_attribute("data-sent", "3",
                                                                  timeout=30_000)
    expect(again.locator("#dh-offline-list")).to_contain_text("Đã gửi")
    assert _stored_visits(e2e_db, client_id) == 3

    # The same queue sent twice more stores nothing more.
    keys = [row["key"] for row in raw["queue"]]
    for _ in range(2):
        answer = again.evaluate(SEND, [_visit_record(key, client_id) for key in keys])
        assert answer["status"] == 200 and answer["cache"] == "no-store"
        assert [r["status"] for r in answer["body"]["results"]] == ["duplicate"] * 3
    assert _stored_visits(e2e_db, client_id) == 3


def test_expiry_keeps_the_queue_until_sign_in_and_sign_out_leaves_nothing(
    page: Page, base_url: str, e2e_db: Path
) -> None:
    client_id, full_name, _given_name = _make_client(e2e_db)
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    _ready_for_offline(page)
    page.context.set_offline(True)
    for _ in range(2):
        _log_visit_offline(page, client_id, "ổn định")
    _expire_my_session(page, e2e_db)

    page.context.set_offline(False)
    page.wait_for_timeout(3000)  # the sync is tried, refused (401) and nothing is sent
    assert _statuses(page) == ["waiting", "waiting"]
    assert _stored_visits(e2e_db, client_id) == 0
    assert page.evaluate("sessionStorage.getItem('dh_offline_keys')") is None

    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    expect(page.locator("#dh-offline-counts")).to_have_attribute("data-sent", "2",
                                                                 timeout=30_000)
    assert _statuses(page) == ["sent", "sent"]
    assert _stored_visits(e2e_db, client_id) == 2

    # A deliberate sign-out: nothing personal stays on the device.
    page.locator("#sign-out").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.wait_for_function("indexedDB.databases().then((d) => d.length === 0)")
    storage = page.evaluate(DEVICE_STORAGE)
    assert storage["databases"] == []
    # Sign-out ends with a real page load (the HttpOnly cookie is removed over HTTP), and the
    # new page's Reflex writes its colour mode ("theme": light/dark) at start.
    assert set(storage["local"]) <= {"dh_lang", "theme"}
    assert storage["session"] == []
    for cache in storage["caches"]:
        assert cache["name"].startswith("dh-shell-")
        for entry in cache["bodies"]:
            assert not entry["path"].startswith("/api/")
            assert full_name not in entry["body"]


def test_the_api_refuses_other_origins_missing_headers_and_other_roles(
    page: Page, base_url: str
) -> None:
    page.goto("/")
    no_header = page.evaluate(
        "fetch('/api/offline/bootstrap', {credentials: 'same-origin'}).then((r) => r.status)")
    assert no_header == 403
    signed_out = page.evaluate(SEND, [])
    assert signed_out["status"] == 401 and signed_out["cache"] == "no-store"
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")
    supervisor = page.evaluate(
        "fetch('/api/offline/bootstrap', {headers: {'X-DH-Offline': '1'}}).then((r) => r.status)")
    assert supervisor == 403


def test_a_rejected_record_shows_why_and_saves_once_fixed(
    page: Page, base_url: str, e2e_db: Path
) -> None:
    client_id, _full_name, _given_name = _make_client(e2e_db)
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    _ready_for_offline(page)
    page.context.set_offline(True)
    page.locator("#dho-new-visit").click()
    form = page.locator("#dho-form")
    form.locator("select[name=client_id]").select_option(str(client_id))
    visit_day = form.locator("input[name=visit_date]").input_value()
    form.locator("input[name=next_appointment]").fill(visit_day)  # must be after the visit
    page.locator("#dho-save").click()
    # Saved (encrypted) on the device before the signal comes back.
    expect(page.locator("#dh-offline-counts")).to_have_attribute("data-waiting", "1")
    page.context.set_offline(False)

    rejected = page.locator("#dh-offline-list li[data-status=rejected]")
    expect(rejected).to_contain_text("Lịch hẹn tiếp theo phải sau ngày thăm", timeout=30_000)
    assert _stored_visits(e2e_db, client_id) == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#dh-offline").screenshot(path=str(ARTIFACTS / "offline-rejected-390.png"))
    rejected.get_by_role("button", name="Sửa và gửi lại").click()
    form.locator("input[name=next_appointment]").fill("")
    page.locator("#dho-save").click()
    expect(page.locator("#dh-offline-list li[data-status=sent]")).to_have_count(1, timeout=30_000)
    expect(page.locator("#dh-offline-list li[data-status=rejected]")).to_have_count(0)
    assert _stored_visits(e2e_db, client_id) == 1
