"""The supervisor's review of refused records in a real browser (issue 14): a volunteer's
visit for a client reassigned meanwhile is kept by the sync, the supervisor reads it whole on
a phone and applies it — exactly one visit, still the volunteer's."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.services import outbox
from app.services.actor import load_actor
from app.services.calendar import today_vn
from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from models import Client, Role, RoleAssignment, User, Visit
from tests.e2e.test_auth import sign_in

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
DEVICE = "0f0e0d0c-0b0a-4908-8706-050403020100"


@pytest.fixture
def db(e2e_db: Path, base_url: str) -> Iterator[Engine]:
    """The e2e server's own SQLite file (the server is up: `base_url`)."""
    yield engine_for(f"sqlite:///{e2e_db}")


def _kept_visit(db: Engine, note: str) -> tuple[int, int]:
    """tnv.demo's visit for one of their clients, sent after the client was given to another
    volunteer: the sync keeps it. Returns (client id, volunteer id)."""
    with Session(db, expire_on_commit=False) as s:
        volunteer = s.exec(select(User).where(User.username == "tnv.demo")).one()
        assert volunteer.id is not None
        client = s.exec(select(Client).where(Client.assigned_volunteer_id == volunteer.id)
                        .order_by(col(Client.id))).first()
        assert client is not None and client.id is not None
        other = User(username=f"tnv.{secrets.token_hex(3)}", full_name="Tình nguyện viên khác",
                     password_hash="-")
        s.add(other)
        s.flush()
        s.add(RoleAssignment(user_id=other.id or 0, role=Role.VOLUNTEER,
                             place_id=client.commune_id))
        client.assigned_volunteer_id = other.id
        client.version += 1
        s.add(client)
        s.commit()
        actor = load_actor(s, user_id=volunteer.id, role=Role.VOLUNTEER)
        client_id = client.id
    record = {"key": str(uuid.uuid4()), "kind": "visit",
              "saved_at": datetime.now(UTC).isoformat(),
              "payload": {"client_id": client_id, "visit_date": today_vn().isoformat(),
                          "kind": "home", "notes": note}}
    [result] = outbox.apply_batch(actor=actor, device_id=DEVICE, records=[record], engine=db)
    assert result.status == "kept" and result.reason == "outbox.reason.client_unavailable"
    return client_id, volunteer.id


def test_a_refused_visit_is_read_and_applied_by_the_supervisor_exactly_once(
    page: Page, base_url: str, db: Engine
) -> None:
    note = f"Gặp ở chợ, ổn định {secrets.token_hex(3)}"
    client_id, volunteer_id = _kept_visit(db, note)
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")
    # The supervisor's home says records wait, and leads to them.
    expect(page.locator("#refused-notice")).to_contain_text("chờ bạn xem xét")
    page.locator("#refused-notice").click()
    expect(page).to_have_url(base_url + "review")
    items = page.locator("#review-list [id^='review-item-']")
    expect(items.first).to_contain_text("Lần thăm")
    expect(items.first).to_contain_text("không còn phụ trách đối tượng này")
    SCREENS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENS / "review-390.png"), full_page=True)
    items.first.get_by_role("button", name="Xem").click()
    expect(page.locator("#review-fields")).to_contain_text(note)
    page.screenshot(path=str(SCREENS / "review-open-390.png"), full_page=True)
    page.locator("#review-apply").click()
    expect(page.get_by_text("Đã áp dụng bản ghi.")).to_be_visible()
    with Session(db) as s:
        visits = s.exec(select(Visit).where(Visit.notes == note)).all()
        assert [(v.client_id, v.author_id) for v in visits] == [(client_id, volunteer_id)]
