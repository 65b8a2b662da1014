"""The law's episodes in a real browser (issue 16): a supervisor records a compulsory-rehab
decision for an adult, closes it, accepts the proposed post-rehab management and sees its 24
months; a voluntary rehab decided in August 2026 shows the term of Law 120/2025/QH15."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.services.demo import DEMO_PASSWORD
from app.services.text import fold
from models import (
    AddictionDetermination,
    Client,
    DurationRule,
    Episode,
    EpisodeStatus,
    EpisodeType,
    Place,
    RoleAssignment,
    Sex,
    User,
)
from tests.e2e.test_auth import sign_in

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"


@pytest.fixture
def db(e2e_db: Path, base_url: str) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{e2e_db}")
    yield engine
    engine.dispose()


def _new_adult(db: Engine, word: str) -> int:
    """A client of the demo commune with no episode yet, born 1990."""
    with Session(db) as s:
        volunteer = s.exec(select(User).where(User.username == "tnv.demo")).one()
        assignment = s.exec(select(RoleAssignment).where(
            RoleAssignment.user_id == volunteer.id)).first()
        assert assignment is not None and assignment.place_id is not None
        commune = s.get(Place, assignment.place_id)
        assert commune is not None and commune.id is not None
        name = f"Phan Văn {word}"
        client = Client(full_name=name, name_key=fold(name), birth_year=1990,
                        birth_date=date(1990, 5, 1), sex=Sex.MALE, commune_id=commune.id,
                        assigned_volunteer_id=volunteer.id)
        s.add(client)
        s.commit()
        assert client.id is not None
        return client.id


def _determined(db: Engine, client_id: int, on: date) -> None:
    """A determination of dependence made on `on` (a voluntary registration needs one)."""
    with Session(db) as s:
        s.add(AddictionDetermination(client_id=client_id, facility_name="Trạm y tế xã",
                                     determined_on=on, dependent=True))
        s.commit()


def _episode(db: Engine, client_id: int, kind: EpisodeType) -> Episode:
    with Session(db) as s:
        return s.exec(select(Episode).where(Episode.client_id == client_id,
                                            Episode.episode_type == kind)).one()


def _open_episode(page: Page, kind: str, start: str, decision: str, number: str, *,
                  toggle: bool = True, saved: bool = True) -> None:
    if toggle:
        page.locator("#open-episode-toggle").click()
    page.locator("#episode_type").select_option(kind)
    page.locator("#start_date").fill(start)
    page.locator("#decision_number").fill(number)
    page.locator("#decision_date").fill(decision)
    page.locator("#decision_authority").fill("Tòa án nhân dân khu vực 1")
    page.locator("#decision_signer").fill("Thẩm phán Lê Văn Tòa")
    page.locator("#open-episode-submit").click()
    if saved:
        expect(page.locator("#saved-notice")).to_contain_text("Đã mở đợt quản lý")


def _word() -> str:
    return "".join(secrets.choice("abcdeghiklmnopqrstuvxy") for _ in range(6)).capitalize()


def test_compulsory_rehab_closed_then_the_proposed_post_rehab_runs_24_months(
    page: Page, base_url: str, db: Engine
) -> None:
    cid = _new_adult(db, _word())
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")
    page.goto(f"{base_url}clients/{cid}")
    # The court's decision (Law 73/2021 period): an adult's compulsory term defaults to 24.
    _open_episode(page, "compulsory", "2025-02-01", "2025-01-25", "15/2025/QĐ-TA")
    expect(page.locator("#episode-end")).to_contain_text("01/02/2027")
    rehab = _episode(db, cid, EpisodeType.COMPULSORY)
    # Completed: proposed on the profile, approved on the caseload.
    page.locator("#propose-closure-toggle").click()
    page.locator("#episode_id").select_option(str(rehab.id))
    page.locator("#end_reason").select_option("completed")
    page.locator("#actual_end").fill("2026-11-30")
    page.locator("#propose-closure-submit").click()
    expect(page.locator("#saved-notice")).to_contain_text("Đã gửi đề nghị kết thúc")
    page.goto(f"{base_url}caseload")
    page.locator(f"#approve-{rehab.id}").click()
    # The post-rehab decision to make, with its term from the episode and the adult's age.
    proposal = page.locator(f"#post_rehab_decision-{rehab.id}")
    expect(proposal).to_contain_text("24 tháng")
    SCREENS.mkdir(parents=True, exist_ok=True)
    proposal.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENS / "law-deadlines-390.png"))
    page.locator(f"#accept-{rehab.id}").click()
    expect(page.locator("#saved-notice")).to_contain_text("Đã mở đợt quản lý sau cai")
    post = _episode(db, cid, EpisodeType.POST_REHAB)
    assert (post.start_date, post.expected_end, post.previous_episode_id) == (
        date(2026, 11, 30), date(2028, 11, 30), rehab.id)
    assert post.status == EpisodeStatus.OPEN
    page.goto(f"{base_url}clients/{cid}")
    expect(page.locator("#episode-term")).to_have_text("24 tháng")
    expect(page.locator("#episode-end")).to_contain_text("30/11/2028")
    page.screenshot(path=str(SCREENS / "law-profile-390.png"))


def test_a_voluntary_rehab_decided_in_august_2026_shows_the_2026_term(
    page: Page, base_url: str, db: Engine
) -> None:
    cid = _new_adult(db, _word())
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")
    page.goto(f"{base_url}clients/{cid}")
    # No determination of dependence yet: refused under the field, which takes the focus.
    _open_episode(page, "voluntary_community", "2026-08-10", "2026-08-05", "88/QĐ-UBND",
                  saved=False)
    expect(page.locator("#episode_type-error")).to_contain_text("xác định là nghiện")
    expect(page.locator("#episode_type")).to_be_focused()
    _determined(db, cid, date(2026, 8, 1))
    _open_episode(page, "voluntary_community", "2026-08-10", "2026-08-05", "88/QĐ-UBND",
                  toggle=False)
    # Law 120/2025/QH15: 24 months for a first rehab (the old 6 months no longer applies).
    expect(page.locator("#episode-term")).to_have_text("24 tháng")
    expect(page.locator("#episode-end")).to_contain_text("10/08/2028")
    assert _episode(db, cid, EpisodeType.VOLUNTARY_COMMUNITY).expected_end == date(2028, 8, 10)
    # The legal records screen of the same client.
    page.locator("#law-link").click()
    expect(page.locator("#back-to-profile")).to_be_visible()
    # The law's forms answer in the page: no browser bubble, the message under the field.
    page.locator("#determination").click()
    page.locator("#determined_on").fill("2026-08-01")
    page.locator("#determination-submit").click()
    expect(page.locator("#facility_name-error")).to_contain_text("Cần ghi cơ sở")
    expect(page.locator("#facility_name")).to_be_focused()
    page.locator("#facility_name").fill("Trạm y tế xã")
    page.locator("#determination-submit").click()
    expect(page.locator("#saved-notice")).to_contain_text("Đã ghi kết quả xác định")
    expect(page.locator("#facility_name-error")).to_have_count(0)
    page.screenshot(path=str(SCREENS / "law-records-390.png"), full_page=True)


def test_an_administrator_sees_which_open_episodes_a_rule_would_change_before_saving_it(
    page: Page, base_url: str, db: Engine
) -> None:
    cid = _new_adult(db, _word())
    with Session(db) as s:
        s.add(Episode(client_id=cid, episode_type=EpisodeType.MMT, start_date=date(2026, 9, 1),
                      decision_date=date(2026, 8, 28)))
        s.commit()
    sign_in(page, "qt.demo", DEMO_PASSWORD)
    # The sign-in is a form post: wait for its answer (the cookie) before leaving the page.
    # Going on at once cancelled the post on a loaded machine, and /admin/rules then had no
    # session ("expired"): the cause of this test's failures in the shared run.
    expect(page).to_have_url(base_url + "admin/users")
    page.goto(f"{base_url}admin/rules")
    expect(page.locator("#rules")).to_contain_text("Law 120/2025/QH15")
    # A (made-up) correction: methadone decided in August-September 2026 reviewed after 13
    # to 36 months.
    months = str(secrets.choice(range(13, 37)))  # another end than an earlier run's row
    basis = f"Hướng dẫn thử nghiệm {_word()} (không có thật)"
    page.locator("#episode_type").select_option("mmt")
    page.locator("#months").fill(months)
    page.locator("#effective_from").fill("2026-08-01")
    # Closed again by October: the shared e2e database's later decisions are not touched.
    page.locator("#effective_to").fill("2026-10-01")
    page.locator("#legal_basis").fill(basis)
    page.locator("#rule-check-add").click()
    expect(page.locator("#rule-impact")).to_be_visible()
    expect(page.locator("#impact-total")).not_to_have_text("0")
    page.screenshot(path=str(SCREENS / "law-rules-390.png"))
    page.locator("#rule-save").click()
    expect(page.locator("#saved-notice")).to_contain_text("Đã lưu quy định.")
    with Session(db) as s:
        # Saved, audited, and no episode's end was rewritten.
        assert s.exec(select(Episode).where(Episode.client_id == cid)).one().expected_end is None
        assert s.exec(select(DurationRule).where(DurationRule.legal_basis == basis)).one()
