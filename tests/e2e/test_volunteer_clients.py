"""My clients, Register a client and the profile, as a volunteer uses them on a phone.

Each test makes the rows it needs (unique names) in the app's own SQLite file and checks what
the browser shows *and* what was stored.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, create_engine
from sqlmodel import Session, col, select

from app.services import security
from app.services.calendar import today_vn
from app.services.demo import DEMO_PASSWORD
from app.services.text import fold, vi_sort_key
from models import (
    AuditEvent,
    Client,
    Consent,
    Episode,
    EpisodeStatus,
    EpisodeType,
    Place,
    PlaceKind,
    Role,
    RoleAssignment,
    Sex,
    User,
    Visit,
    VisitKind,
)
from tests.e2e.axe import serious_violations
from tests.e2e.server import ROOT
from tests.e2e.test_auth import sign_in
from tests.factories import make_determination

SCREENS = ROOT / "docs" / "screens"
FRAME_EXCLUDE: tuple[str, ...] = ()  # the whole screen, frame included, is scanned


@pytest.fixture
def db(e2e_db: Path, base_url: str) -> Iterator[Engine]:
    """The server's own database file (after the server has prepared it)."""
    engine = create_engine(f"sqlite:///{e2e_db}", connect_args={"timeout": 30})
    yield engine
    engine.dispose()


def _tag() -> str:
    """A short, letters-only suffix that keeps this run's names apart from any other."""
    return "".join(secrets.choice("bcdghklmnpqrstvx") for _ in range(6)).capitalize()


def _demo_volunteer(session: Session) -> tuple[int, int]:
    """(user id, commune id) of tnv.demo."""
    user = session.exec(select(User).where(User.username == "tnv.demo")).one()
    role = session.exec(select(RoleAssignment).where(RoleAssignment.user_id == user.id)).one()
    assert user.id is not None and role.place_id is not None
    return user.id, role.place_id


def _add_client(session: Session, name: str, commune_id: int, volunteer_id: int | None,
                birth_year: int = 1991) -> int:
    client = Client(full_name=name, name_key=fold(name), birth_year=birth_year, sex=Sex.MALE,
                    commune_id=commune_id, assigned_volunteer_id=volunteer_id)
    session.add(client)
    session.flush()
    assert client.id is not None
    return client.id


def _clients_named(db: Engine, name: str) -> list[Client]:
    with Session(db) as session:
        return list(session.exec(select(Client).where(Client.name_key == fold(name))).all())


def _sign_in_as_demo_volunteer(page: Page, base_url: str) -> None:
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")  # the session cookie is set


def _screenshot(page: Page, name: str) -> None:
    """docs/screens/<name>.png at phone size, at rest (nothing hovered by the last tap)."""
    page.mouse.move(0, 0)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


def _fill_first_step(page: Page, name: str, birth_year: int) -> None:
    expect(page.locator("#commune_id option").first).to_be_attached()  # communes loaded
    page.locator("#full_name").fill(name)
    page.locator("#birth_year").fill(str(birth_year))
    page.locator("#phone").fill("0912 345 678")
    page.locator("#consent_case_management").check()


# --- My clients ------------------------------------------------------------------------------


@pytest.mark.pristine_demo
def test_search_without_accents_finds_the_client_and_the_list_is_scoped(
    page: Page, base_url: str
) -> None:
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    page.get_by_role("link", name="Đối tượng", exact=True).first.click()
    expect(page).to_have_url(base_url + "clients")
    expect(page.locator("#client-list")).to_contain_text("Trần Thị Bích")
    _screenshot(page, "clients")
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []

    page.locator("#q").fill("nguyen van an")
    page.locator("#search-submit").click()
    names = page.locator("#client-list .client-name")
    expect(names).to_have_count(1)
    expect(names.first).to_have_text("Nguyễn Văn An")
    page.locator("#q").fill("NGUYỄN văn AN")
    page.locator("#q").press("Enter")
    expect(names).to_have_count(1)
    page.locator("#q").fill("khong co ai ten nay")
    page.locator("#search-submit").click()
    expect(page.locator("#no-results")).to_be_visible()


def test_paging_fifty_a_page_in_vietnamese_order(page: Page, base_url: str, db: Engine) -> None:
    tag = _tag()
    login = f"tnv.trang.{tag.lower()}"
    with Session(db) as session:
        _vol, commune = _demo_volunteer(session)
        user = User(username=login, full_name="Tình nguyện viên trang", language="vi",
                    password_hash=security.hash_password(DEMO_PASSWORD))
        session.add(user)
        session.flush()
        assert user.id is not None
        session.add(RoleAssignment(user_id=user.id, role=Role.VOLUNTEER, place_id=commune))
        firsts = ["Đào", "Dương", "Âu", "An", "Bùi", "Ông", "Ôn", "Ưng", "Uông", "Yên", "Ý"]
        for i in range(55):
            _add_client(session, f"{firsts[i % len(firsts)]} {tag} {i:02d}", commune, user.id)
        session.commit()

    sign_in(page, login, DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    page.goto(base_url + "clients")
    expect(page.locator("#result-count")).to_contain_text("55")
    rows = page.locator("#client-list .client-name")
    expect(rows).to_have_count(50)
    expect(page.locator("#page-info")).to_have_text("Trang 1/2")
    shown = rows.all_inner_texts()
    assert shown == sorted(shown, key=vi_sort_key), "a page reads in Vietnamese order"
    page.locator("#page-next").click()
    expect(page.locator("#page-info")).to_have_text("Trang 2/2")
    expect(rows).to_have_count(5)
    assert not set(rows.all_inner_texts()) & set(shown)
    expect(page.locator("#page-next")).to_be_disabled()
    page.locator("#page-previous").click()
    expect(page.locator("#page-info")).to_have_text("Trang 1/2")
    expect(rows).to_have_count(50)


# --- Register a client -----------------------------------------------------------------------


def test_registering_a_minor_asks_for_a_legal_representative_and_stores_named_consent(
    page: Page, base_url: str, db: Engine
) -> None:
    name = f"Đặng Minh {_tag()}"
    birth_year = date.today().year - 15
    _sign_in_as_demo_volunteer(page, base_url)
    page.goto(base_url + "clients/new")
    consent = page.locator("#sensitive-categories")
    for category in ("Việc sử dụng ma tuý", "Kết quả xét nghiệm", "Tình trạng HIV",
                     "Thông tin từ cơ quan công an"):
        expect(consent).to_contain_text(category)
    expect(page.locator("#commune_id option").first).to_be_attached()
    _screenshot(page, "register")
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []

    expect(page.locator("#legal-rep")).to_have_count(0)
    _fill_first_step(page, name, birth_year)
    expect(page.locator("#legal-rep")).to_be_visible()
    page.locator("#consent_referral").check()
    page.locator("#register-submit").click()
    # Checked on the device before anything is saved (assets/device/src/forms.js).
    expect(page.locator("#legal_rep_name-error")).to_contain_text("người đại diện")
    assert _clients_named(db, name) == []

    page.locator("#legal_rep_name").fill("Đặng Thị Hạnh")
    page.locator("#more-details").click()
    page.locator("#substances").fill("Ma tuý đá")
    page.locator("#register-submit").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    expect(page.locator("#client-name")).to_have_text(name)
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []

    [stored] = _clients_named(db, name)
    assert stored.birth_year == birth_year and stored.legal_rep_name == "Đặng Thị Hạnh"
    assert stored.phone == "0912345678" and stored.substances == "Ma tuý đá"
    assert page.url.endswith(f"/clients/{stored.id}")
    with Session(db) as session:
        consents = session.exec(select(Consent).where(Consent.client_id == stored.id)).all()
        volunteer, _commune = _demo_volunteer(session)
    assert stored.assigned_volunteer_id == volunteer
    assert {c.purpose for c in consents} == {"case_management", "referral"}
    assert all(set(c.sensitive_categories.split(",")) ==
               {"drug_use", "test_results", "hiv_status", "police_records"} for c in consents)


def test_a_supervisor_registers_online_and_a_refused_detail_opens_the_details(
    page: Page, base_url: str, db: Engine
) -> None:
    """Supervisors register through the page's own handler (no device outbox). The details
    are drawn only once opened (client_cards.lazy_disclosure); closed, they are sent as
    typed, and the server's message about one of them opens them again."""
    name = f"Tạ Văn {_tag()}"
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).not_to_have_url(base_url)  # signed in
    page.goto(base_url + "clients/new")
    expect(page.locator("#more-details-panel input")).to_have_count(0)  # not drawn yet
    _fill_first_step(page, name, 1988)
    page.locator("#more-details").click()
    page.locator("#address").fill("Số 9 ngõ Chợ")
    page.locator("#national_id").fill("12345")
    page.locator("#more-details").click()  # closed again: what was typed stays
    expect(page.locator("#more-details-panel")).to_be_hidden()
    page.locator("#register-submit").click()
    expect(page.locator("#national_id-error")).to_be_visible()
    expect(page.locator("#more-details")).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#address")).to_have_value("Số 9 ngõ Chợ")
    assert _clients_named(db, name) == []
    page.locator("#national_id").fill("")
    page.locator("#register-submit").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    [stored] = _clients_named(db, name)
    assert stored.address == "Số 9 ngõ Chợ" and stored.national_id is None


def test_a_possible_duplicate_is_shown_then_saved_as_a_new_person_when_confirmed(
    page: Page, base_url: str, db: Engine
) -> None:
    name = f"Hồ Văn {_tag()}"
    with Session(db) as session:
        volunteer, commune = _demo_volunteer(session)
        _add_client(session, name, commune, volunteer, birth_year=1987)
        commune_name = session.get(Place, commune).name  # type: ignore[union-attr]
        session.commit()
    _sign_in_as_demo_volunteer(page, base_url)
    page.goto(base_url + "clients/new")
    _fill_first_step(page, fold(name), 1987)  # typed without accents: still the same person
    page.locator("#register-submit").click()
    warning = page.locator("#dh-question")  # the sync API's question, shown by the device
    expect(warning).to_contain_text(name)
    expect(warning).to_contain_text("1987")
    expect(warning).to_contain_text(commune_name)
    assert len(_clients_named(db, name)) == 1, "nothing is saved before the confirmation"

    page.locator("#dh-register-new").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    stored = _clients_named(db, name)
    assert len(stored) == 2
    with Session(db) as session:
        event = session.exec(
            select(AuditEvent).where(AuditEvent.action == "client.create",
                                     AuditEvent.target_id == max(c.id or 0 for c in stored))
        ).one()
    assert event.detail == "duplicates_confirmed"


def test_double_tapping_save_creates_one_client(page: Page, base_url: str, db: Engine) -> None:
    name = f"Lý Thị {_tag()}"
    _sign_in_as_demo_volunteer(page, base_url)
    page.goto(base_url + "clients/new")
    _fill_first_step(page, name, 1994)
    # Two taps in the same instant: both reach the server before any reply.
    page.evaluate("""() => {
        const button = document.getElementById('register-submit');
        button.click(); button.click();
    }""")
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    expect(page.locator("#client-name")).to_have_text(name)
    page.wait_for_timeout(1500)  # let a second save, if any, land
    assert len(_clients_named(db, name)) == 1


# --- Profile ---------------------------------------------------------------------------------


def test_another_communes_client_by_url_is_not_found_and_the_attempt_is_audited(
    page: Page, base_url: str, db: Engine
) -> None:
    with Session(db) as session:
        _volunteer, commune = _demo_volunteer(session)
        other = session.exec(
            select(Place).where(Place.parent_id == session.get(Place, commune).parent_id,  # type: ignore[union-attr]
                                col(Place.id) != commune)
        ).first()
        assert other is not None and other.id is not None
        stranger = _add_client(session, f"Mai Văn {_tag()}", other.id, None)
        session.commit()
    _sign_in_as_demo_volunteer(page, base_url)
    page.goto(base_url + f"clients/{stranger}")
    expect(page.locator("#not-found")).to_be_visible()
    expect(page.locator("#not-found")).to_contain_text("Không tìm thấy đối tượng")
    assert "Mai Văn" not in page.content()
    with Session(db) as session:
        denied = session.exec(
            select(AuditEvent).where(AuditEvent.action == "client.read",
                                     AuditEvent.target_id == stranger,
                                     AuditEvent.outcome == "denied")
        ).all()
    assert denied


@pytest.mark.pristine_demo
def test_profile_shows_episode_end_timeline_and_actions(page: Page, base_url: str) -> None:
    _sign_in_as_demo_volunteer(page, base_url)
    page.goto(base_url + "clients")
    page.locator("#client-list li", has_text="Nguyễn Văn An").locator("a").click()
    expect(page.locator("#client-name")).to_have_text("Nguyễn Văn An")
    expect(page.locator("#episode")).to_contain_text("Cai tự nguyện tại gia đình, cộng đồng")
    expect(page.locator("#episode-end")).to_have_text(re.compile(r"\d{2}/\d{2}/\d{4} · "))
    expect(page.locator("#episode-term")).to_have_text(re.compile(r"^\d+ tháng$"))
    expect(page.locator("#episode-left")).to_contain_text(re.compile(r"Còn \d+ ngày"))
    timeline = page.locator("#timeline li")
    expect(timeline.first).to_be_visible()
    kinds = page.locator("#timeline").inner_text()
    assert "Thăm tại nhà" in kinds and "Chuyển gửi" in kinds
    # Volunteers enter the authority's decisions for their own clients (policy).
    expect(page.locator("#open-episode-toggle")).to_be_visible()
    expect(page.locator("#propose-closure-toggle")).to_be_visible()
    for action in ("visit", "test", "referral", "support", "card"):
        expect(page.locator(f"#action-{action}")).to_be_visible()
    expect(page.locator("#action-card")).to_have_attribute(
        "href", re.compile(r"/clients/\d+/card$"))
    _screenshot(page, "profile")
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []


def test_the_filters_narrow_my_clients_to_an_episode_type_and_to_the_overdue(
    page: Page, base_url: str, db: Engine
) -> None:
    tag = _tag()
    login = f"tnv.loc.{tag.lower()}"
    today = today_vn()
    with Session(db) as session:
        # A commune of another province: these clients stay off the demo supervisor's lists.
        _vol, demo_commune = _demo_volunteer(session)
        province = session.get(Place, demo_commune).parent_id  # type: ignore[union-attr]
        elsewhere = session.exec(
            select(Place).where(Place.kind == PlaceKind.COMMUNE,
                                col(Place.parent_id) != province).order_by(col(Place.id))
        ).first()
        assert elsewhere is not None and elsewhere.id is not None
        commune = elsewhere.id
        user = User(username=login, full_name="Tình nguyện viên lọc", language="vi",
                    password_hash=security.hash_password(DEMO_PASSWORD))
        session.add(user)
        session.flush()
        assert user.id is not None
        session.add(RoleAssignment(user_id=user.id, role=Role.VOLUNTEER, place_id=commune))
        late = _add_client(session, f"Ân Quá Hạn {tag}", commune, user.id)
        on_time = _add_client(session, f"Bảo Đúng Hạn {tag}", commune, user.id)
        missed = _add_client(session, f"Cúc Lỡ Hẹn {tag}", commune, user.id)
        _add_client(session, f"Dũng Bình Thường {tag}", commune, user.id)
        for client_id, end in ((late, today - timedelta(days=3)),
                               (on_time, today + timedelta(days=60))):
            session.add(Episode(client_id=client_id, episode_type=EpisodeType.MMT,
                                start_date=today - timedelta(days=200), expected_end=end))
        session.add(Visit(client_id=missed, visit_date=today - timedelta(days=9),
                          kind=VisitKind.HOME, next_appointment=today - timedelta(days=2)))
        session.commit()

    sign_in(page, login, DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    page.goto(base_url + "clients")
    names = page.locator("#client-list .client-name")
    expect(names).to_have_count(4)
    page.locator("#episode_type").select_option("mmt")
    expect(names).to_have_count(2)
    expect(page.locator("#client-list")).to_contain_text(f"Ân Quá Hạn {tag}")
    expect(page.locator("#client-list")).to_contain_text(f"Bảo Đúng Hạn {tag}")
    page.locator("#overdue").check()
    expect(names).to_have_count(1)
    expect(names.first).to_have_text(f"Ân Quá Hạn {tag}")
    _screenshot(page, "clients-filtered")
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []
    page.locator("#episode_type").select_option("")
    expect(names).to_have_count(2)
    assert set(names.all_inner_texts()) == {f"Ân Quá Hạn {tag}", f"Cúc Lỡ Hẹn {tag}"}
    expect(page.locator("#result-count")).to_contain_text("2")
    page.locator("#overdue").uncheck()
    expect(names).to_have_count(4)


def test_a_volunteer_opens_an_episode_then_proposes_its_closure(
    page: Page, base_url: str, db: Engine
) -> None:
    name = f"Tạ Văn {_tag()}"
    started = today_vn() - timedelta(days=40)
    with Session(db) as session:
        volunteer, commune = _demo_volunteer(session)
        client_id = _add_client(session, name, commune, volunteer)
        # A voluntary rehab needs a valid determination of dependence made before it (LAW.md).
        make_determination(session, client_id, started - timedelta(days=10))
        session.commit()
    _sign_in_as_demo_volunteer(page, base_url)
    page.goto(base_url + f"clients/{client_id}")
    expect(page.locator("#client-name")).to_have_text(name)
    expect(page.locator("#no-episode")).to_be_visible()
    expect(page.locator("#propose-closure-toggle")).to_have_count(0)  # nothing open yet

    page.locator("#open-episode-toggle").click()
    page.locator("#episode_type").select_option("voluntary_community")
    page.locator("#start_date").fill(started.isoformat())
    page.locator("#decision_number").fill("15/QĐ-UBND")
    page.locator("#open-episode-submit").click()
    # The confirmation names what was saved, at the top of the screen, in view.
    notice = page.locator("#saved-notice")
    expect(notice).to_contain_text(f"Đã mở đợt quản lý cho {name}")
    expect(notice).to_be_in_viewport()
    expect(notice).to_be_focused()
    expect(page.locator("#episode")).to_contain_text("Cai tự nguyện tại gia đình, cộng đồng")
    expect(page.locator("#episode")).to_contain_text("Đang thực hiện")

    page.locator("#propose-closure-toggle").click()
    page.locator("#end_reason").select_option("completed")
    ended = today_vn() - timedelta(days=1)
    page.locator("#actual_end").fill(ended.isoformat())
    page.wait_for_timeout(300)  # let the last tap settle before the screenshot
    _screenshot(page, "profile-propose-closure")
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []
    page.locator("#propose-closure-submit").click()
    expect(notice).to_contain_text(f"Đã gửi đề nghị kết thúc đợt quản lý của {name}")
    expect(notice).to_be_in_viewport()
    expect(page.locator("#episode")).to_contain_text("Đã đề nghị kết thúc")
    expect(page.locator("#propose-closure-toggle")).to_have_count(0)
    with Session(db) as session:
        [episode] = session.exec(select(Episode).where(Episode.client_id == client_id)).all()
    assert (episode.status, episode.end_reason, episode.actual_end, episode.decision_number) == (
        EpisodeStatus.CLOSURE_PROPOSED, "completed", ended, "15/QĐ-UBND")


def test_the_client_pages_closed_forms_are_drawn_when_first_opened_and_keep_what_was_typed(
    page: Page, base_url: str, db: Engine
) -> None:
    tag = _tag()
    first, second = f"Lã Văn {tag}", f"Lã Thị {tag}"
    with Session(db) as session:
        volunteer, commune = _demo_volunteer(session)
        first_id = _add_client(session, first, commune, volunteer)
        _add_client(session, second, commune, volunteer)
        session.commit()
    _sign_in_as_demo_volunteer(page, base_url)
    page.goto(base_url + f"clients/{first_id}")
    expect(page.locator("#client-name")).to_have_text(first)
    toggle = page.locator("#open-episode-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    # Closed: its fields are not on the page at all (a phone draws them only when asked).
    expect(page.locator("#open-episode-form")).to_have_count(0)
    expect(page.locator("#photo-form")).to_have_count(0)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.locator("#decision_number").fill("7/QĐ-UBND")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#open-episode-form")).to_be_hidden()
    toggle.click()
    expect(page.locator("#decision_number")).to_have_value("7/QĐ-UBND")
    # The photo's drop zone, drawn on opening, still names its file input.
    page.locator("#photo-toggle").click()
    expect(page.locator("#photo-upload input[type=file]")).to_have_attribute(
        "aria-label", "Chọn hoặc chụp ảnh")
    # Another client starts with every section closed and undrawn.
    page.goto(base_url + "clients")
    page.locator("#q").fill(second)
    page.locator("#search-submit").click()
    page.locator("#client-list li", has_text=second).locator("a").click()
    expect(page.locator("#client-name")).to_have_text(second)
    expect(page.locator("#open-episode-toggle")).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#open-episode-form")).to_have_count(0)


def test_a_supervisor_sees_the_name_of_the_volunteer_in_charge(
    page: Page, base_url: str, db: Engine
) -> None:
    name = f"Kiều Văn {_tag()}"
    with Session(db) as session:
        volunteer, commune = _demo_volunteer(session)
        client_id = _add_client(session, name, commune, volunteer)
        full_name = session.get(User, volunteer).full_name  # type: ignore[union-attr]
        session.commit()
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).not_to_have_url(base_url)  # signed in
    page.goto(base_url + f"clients/{client_id}")
    expect(page.locator("#client-name")).to_have_text(name)
    expect(page.locator("#assigned-to")).to_have_text(full_name)
