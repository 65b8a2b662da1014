"""Issue 17 in a real browser: a supervisor takes an access request from receipt to its PDF,
and a deletion request to an anonymised record that no longer appears in search; the
volunteer's profile offers consent but never "Ai đã xem hồ sơ này"."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.services.demo import DEMO_PASSWORD
from app.services.text import fold
from models import Client, DataRequest, ProcessingLimit, RoleAssignment, Sex, User
from tests.e2e.test_auth import sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture
def db(e2e_db: Path, base_url: str) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{e2e_db}")
    yield engine
    engine.dispose()


def _demo_commune(session: Session) -> int:
    volunteer = session.exec(select(User).where(User.username == "tnv.demo")).one()
    assignment = session.exec(select(RoleAssignment).where(
        RoleAssignment.user_id == volunteer.id)).first()
    assert assignment is not None and assignment.place_id is not None
    return assignment.place_id


def _new_client(db: Engine, name: str, birth_year: int, sex: Sex, **extra: str) -> int:
    """A client of the demo volunteer's commune, straight in the database."""
    with Session(db) as s:
        client = Client(full_name=name, name_key=fold(name), birth_year=birth_year, sex=sex,
                        commune_id=_demo_commune(s), **extra)
        s.add(client)
        s.commit()
        assert client.id is not None
        return client.id


def _enter_request(page: Page, client_id: int, kind: str, requester: str) -> None:
    page.goto("/privacy")
    page.locator("#request-new-toggle").click()
    page.locator("#client_id").fill(str(client_id))
    page.locator("#kind").select_option(kind)
    page.locator("#requester_name").fill(requester)
    page.locator("#request-save").click()
    expect(page.locator("#desk-saved")).to_be_visible()


def test_an_access_request_from_receipt_to_the_pdf(page: Page, base_url: str,
                                                   db: Engine) -> None:
    run_access_request(page, base_url, db)


def test_a_deletion_request_anonymises_the_record_and_search_no_longer_finds_it(
        page: Page, base_url: str, db: Engine) -> None:
    run_deletion_request(page, base_url, db)


def run_access_request(page: Page, base_url: str, db: Engine) -> None:
    """Receipt, acknowledgement, the PDF, the clock on the home (also run on PostgreSQL)."""
    cid = _new_client(db, "Lý Văn Truy Cập", 1991, Sex.MALE)
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")
    _enter_request(page, cid, "access", "Lý Văn Truy Cập")
    with Session(db) as s:
        rid = s.exec(select(DataRequest.id).where(DataRequest.client_id == cid)).one()
    card = page.locator(f"#request-{rid}")
    expect(card).to_contain_text("còn 2 ngày làm việc")
    card.locator(f"#ack-{rid}").click()
    expect(page.locator("#desk-saved")).to_be_visible()
    with page.expect_download() as info:
        page.locator(f"#access-pdf-{rid}").click()
    download = info.value
    assert download.suggested_filename == f"du-lieu-yeu-cau-{rid}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    # The supervisor's home shows the request's clock.
    page.goto("/caseload")
    expect(page.locator(f"#clock-{rid}")).to_contain_text("còn 10 ngày làm việc")


def run_deletion_request(page: Page, base_url: str, db: Engine) -> None:
    """Deletion carried out: the record is anonymised and search no longer finds it."""
    name = f"Đào Thị Xóa {secrets.token_hex(2).upper()}"
    cid = _new_client(db, name, 1987, Sex.FEMALE, phone="0912345678")
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")
    page.goto("/clients")
    page.locator("#q").fill(fold(name))
    page.locator("#search-submit").click()
    expect(page.locator("#client-list")).to_contain_text(name)
    _enter_request(page, cid, "deletion", name)
    with Session(db) as s:
        rid = s.exec(select(DataRequest.id).where(DataRequest.client_id == cid)).one()
    page.locator(f"#delete-{rid}").click()
    expect(page.locator(f"#request-{rid}")).to_contain_text("Đã trả lời")
    with page.expect_download() as info:
        page.locator(f"#letter-{rid}").click()
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")
    with Session(db) as s:
        stored = s.get(Client, cid)
        assert stored is not None and stored.anonymised_at is not None
        assert (stored.full_name, stored.phone) == ("—", "")
    page.goto("/clients")
    page.locator("#q").fill(fold(name))
    page.locator("#search-submit").click()
    expect(page.locator("#no-results")).to_be_visible()


def test_the_volunteer_gets_consent_but_not_the_audit_link(page: Page, base_url: str,
                                                           db: Engine) -> None:
    with Session(db) as s:
        vol = s.exec(select(User).where(User.username == "tnv.demo")).one()
        cid = s.exec(select(Client.id).where(Client.assigned_volunteer_id == vol.id)).first()
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    page.goto(f"/clients/{cid}")
    expect(page.locator("#action-consent")).to_be_visible()
    expect(page.locator("#action-audit")).to_have_count(0)
    page.goto(f"/clients/{cid}/audit")
    expect(page.locator("#audit-list")).to_have_count(0)


def test_a_restriction_request_is_carried_out_on_the_desk_and_lifted(
        page: Page, base_url: str, db: Engine) -> None:
    """Issue 17's carried-out requests: nothing ticked is refused under the form with the
    focus there (no browser bubble); ticked, the purpose stops until it is lifted."""
    name = f"Hà Văn Hạn {secrets.token_hex(2).upper()}"
    cid = _new_client(db, name, 1990, Sex.MALE)
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")
    _enter_request(page, cid, "restriction", name)
    with Session(db) as s:
        rid = s.exec(select(DataRequest.id).where(DataRequest.client_id == cid)).one()
    page.locator(f"#restrict-{rid}").click()
    problem = page.locator(f"#purpose_case_management-{rid}-error")
    expect(problem).to_contain_text("Chọn mục đích")
    expect(page.locator(f"#purpose_case_management-{rid}")).to_be_focused()
    page.locator(f"#purpose_reporting-{rid}").check()
    page.locator(f"#restrict-{rid}").click()
    expect(page.locator(f"#request-{rid}")).to_contain_text("Đã trả lời")
    limits = page.locator("#limits")
    expect(limits).to_contain_text(str(cid))
    expect(limits).to_contain_text("Thống kê đã khử định danh")
    with Session(db) as s:
        limit_id = s.exec(select(ProcessingLimit.id).where(
            ProcessingLimit.client_id == cid)).one()
    page.locator(f"#lift-{limit_id}").click()
    expect(page.locator("#desk-saved")).to_be_visible()
    expect(page.locator(f"#limit-{limit_id}")).to_have_count(0)
    with Session(db) as s:
        lifted = s.get(ProcessingLimit, limit_id)
        assert lifted is not None and lifted.lifted_on is not None
