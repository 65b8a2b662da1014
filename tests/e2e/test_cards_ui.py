"""QR cards in a real browser: the card screen, typed codes, revoked cards, the /k link, printing.

Each test makes its own client (through the services, in the SQLite file the server uses) with
an open referral to the demo clinic, so the clinic user (yte.demo) may see them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from app.services import activities, cards, clients
from app.services.actor import load_actor
from app.services.calendar import today_vn
from app.services.cards import format_short_code
from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from app.services.dto import ClientCreate, ConsentInput, ReferralCreate
from models import Card, Client, ReferralService, Role, RoleAssignment, Sex, User
from tests.e2e.axe import serious_violations
from tests.e2e.conftest import PHONE
from tests.e2e.test_auth import sign_in

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "docs" / "screens"
FRAME_EXCLUDE = ("#lang-switch",)  # the shared frame's button, checked by its own tests
GIVEN_NAMES = ("Mai", "Lan", "Hương", "Thảo", "Ngọc", "Trang", "Yến", "Linh")


@dataclass(frozen=True)
class ReferredClient:
    client_id: int
    referral_id: int
    given_name: str


def make_referred_client(e2e_db: Path, *, given: str | None = None) -> ReferredClient:
    """A client of tnv.demo with an open MMT referral to the demo clinic (yte.demo's)."""
    given = given or secrets.choice(GIVEN_NAMES) + secrets.choice("abcdeghiklmnopqrstuvxy") * 2
    engine = engine_for(f"sqlite:///{e2e_db}")
    with Session(engine, expire_on_commit=False) as s:
        volunteer = s.exec(select(User).where(User.username == "tnv.demo")).one()
        actor = load_actor(s, user_id=volunteer.id or 0, role=Role.VOLUNTEER)
        assert actor is not None
        clinic_id = s.exec(
            select(RoleAssignment.facility_id).join(User, User.id == RoleAssignment.user_id)  # type: ignore[arg-type]
            .where(User.username == "yte.demo")
        ).one()
        client = clients.register_client(
            session=s, actor=actor, confirm_duplicates=True,
            data=ClientCreate(full_name=f"Hoàng Thị {given}", birth_year=1992, sex=Sex.FEMALE,
                              commune_id=min(actor.commune_ids),
                              consents=[ConsentInput(given_on=today_vn())]),
        )
        referral = activities.create_referral(
            session=s, actor=actor,
            data=ReferralCreate(client_id=client.id, service=ReferralService.MMT,
                                facility_id=clinic_id, consent=True,
                                referred_on=today_vn() - timedelta(days=2)),
        )
        s.commit()
        return ReferredClient(client.id, referral.id, given)


def issue_card_directly(e2e_db: Path, client_id: int) -> cards.IssuedCard:
    """A card issued as the demo volunteer; the answer is the only place its clear token and
    code exist (the database keeps keyed hashes)."""
    engine = engine_for(f"sqlite:///{e2e_db}")
    with Session(engine, expire_on_commit=False) as s:
        volunteer = s.exec(select(User).where(User.username == "tnv.demo")).one()
        actor = load_actor(s, user_id=volunteer.id or 0, role=Role.VOLUNTEER)
        issued = cards.issue_card(session=s, actor=actor, client_id=client_id)
        s.commit()
        return issued


def card_status(e2e_db: Path, card_id: int) -> str:
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        card = s.get(Card, card_id)
        assert card is not None
        s.refresh(card)
        return str(card.status)


def phone_page(browser: Browser, base_url: str) -> Page:
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN")
    context.set_default_timeout(20_000)
    return context.new_page()


def type_code(page: Page, code: str) -> None:
    """As a person or a USB/Bluetooth scanner would: type, then Enter."""
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")


# ---- tests ------------------------------------------------------------------------------------


def test_a_volunteer_issues_reissues_and_downloads_a_card(page: Page, base_url: str,
                                                          e2e_db: Path) -> None:
    person = make_referred_client(e2e_db, given="Hương")
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    page.goto(f"/clients/{person.client_id}/card")
    expect(page.locator("#no-card")).to_be_visible()
    page.locator("#issue-form-submit").click()
    expect(page.locator("#card-qr")).to_be_visible()
    first_code = page.locator("#card-code").inner_text()
    assert len(first_code) == 14 and first_code.count("-") == 3
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "card.png"), full_page=False)
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []
    with page.expect_download() as download:
        page.locator("#download-card").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert person.given_name not in download.value.suggested_filename
    page.locator("#reissue").click()
    page.locator("#reissue-form-submit").click()
    expect(page.locator("#card-code")).not_to_have_text(first_code)
    expect(page.locator(".card-history-row")).to_have_count(2)
    expect(page.locator("#card-history")).to_contain_text("Đã cấp thẻ mới")


def test_a_typed_code_with_lower_case_and_dashes_shows_the_client(browser: Browser,
                                                                   base_url: str,
                                                                   e2e_db: Path) -> None:
    person = make_referred_client(e2e_db)
    card = issue_card_directly(e2e_db, person.client_id)
    page = phone_page(browser, base_url)
    sign_in(page, "yte.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "scan")
    type_code(page, format_short_code(card.short_code).lower())
    expect(page.locator("#scan-name")).to_have_text(person.given_name)
    expect(page.locator(f"#attend-{person.referral_id}")).to_be_visible()
    expect(page.locator("#code")).to_have_value("")  # the code does not stay on screen
    assert "Hoàng Thị" not in page.content()  # the given name only
    page.context.close()


def test_a_revoked_card_says_so(browser: Browser, base_url: str, e2e_db: Path) -> None:
    person = make_referred_client(e2e_db)
    card = issue_card_directly(e2e_db, person.client_id)
    volunteer = phone_page(browser, base_url)
    sign_in(volunteer, "tnv.demo", DEMO_PASSWORD)
    expect(volunteer).to_have_url(base_url + "today")
    volunteer.goto(f"/clients/{person.client_id}/card")
    volunteer.locator("#revoke").click()
    volunteer.locator("#reason").select_option("lost")
    volunteer.locator("#revoke-submit").click()
    expect(volunteer.locator("#no-card")).to_be_visible()
    volunteer.context.close()
    assert card_status(e2e_db, card.id or 0) == "revoked"
    clinic = phone_page(browser, base_url)
    sign_in(clinic, "yte.demo", DEMO_PASSWORD)
    expect(clinic).to_have_url(base_url + "scan")
    type_code(clinic, format_short_code(card.short_code))
    expect(clinic.locator("#scan-revoked")).to_contain_text("thu hồi")
    expect(clinic.locator("#scan-name")).to_have_count(0)
    clinic.context.close()


def test_the_card_link_opened_signed_out_shows_only_sign_in_then_the_scan(
    page: Page, base_url: str, e2e_db: Path
) -> None:
    person = make_referred_client(e2e_db)
    card = issue_card_directly(e2e_db, person.client_id)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url + " " + (r.post_data or "")))
    page.goto(f"{base_url}k#DH1-{card.token}")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    expect(page.locator("#card-link")).to_be_attached()
    page.wait_for_function("() => !window.location.hash")  # the token left the address bar
    assert person.given_name not in page.content()
    assert page.evaluate("() => sessionStorage.getItem('dh_card')") is not None
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill("yte.demo")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.locator("#signin-submit").click()
    expect(page).to_have_url(base_url + "scan")
    expect(page.locator("#scan-name")).to_have_text(person.given_name)
    assert page.evaluate("() => sessionStorage.getItem('dh_card')") is None
    assert not [u for u in sent if card.token in u], "the token went out in a URL or a POST"


def test_signing_out_drops_a_pending_card_link(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}k#DH1-{'A' * 32}")
    page.wait_for_function("() => sessionStorage.getItem('dh_card') !== null")
    page.evaluate("() => window.dhWipeDevice()")
    assert page.evaluate("() => sessionStorage.getItem('dh_card')") is None


def test_a_supervisor_downloads_an_a4_sheet_of_a_communes_cards(page: Page, base_url: str,
                                                                e2e_db: Path) -> None:
    person = make_referred_client(e2e_db)  # registered, no card yet
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        commune = str(s.get(Client, person.client_id).commune_id)
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")
    page.goto("/cards/print")
    expect(page.locator("#commune_id option")).not_to_have_count(0)
    # The clients without a card are the default: the cards in use stay valid.
    expect(page.locator("#sheet-new")).to_be_checked()
    page.locator("#commune_id").select_option(commune)
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []
    with page.expect_download() as download:
        page.locator("#print-a4").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    expect(page.locator("#form-success")).to_be_visible()
    page.screenshot(path=str(SCREENS / "cards-print.png"))
    # Nobody of that commune is left without a card now: the sheet says so, prints nothing.
    page.locator("#print-a4").click()
    expect(page.locator("#form-error")).to_contain_text("đã có thẻ")
