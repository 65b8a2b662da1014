"""Deployment settings (app/services/deployment.py): who may set them, what is accepted, and
that the organisation's name, logo and contact line reach reports, exports and cards."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import Session, select

from app.services import cards, deployment, exports
from app.services.card_render import CardPrint, card_pdf
from app.services.deployment import SettingsInput, normalise_public_url
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.reports import province_report
from models import AuditEvent
from tests.factories import World


def png(width: int, height: int, colour: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def settings(**values: str) -> SettingsInput:
    base = {"organisation_name": "", "programme_name": "", "public_url": "", "contact_line": ""}
    base.update(values)
    return SettingsInput(**base)


def test_only_an_administrator_changes_the_settings(session: Session, world: World) -> None:
    for who in ("sup_a", "vol_a1", "clinic_a"):
        with pytest.raises(PermissionDenied):
            deployment.update_settings(session=session, actor=world.actor(session, who),
                                       data=settings(organisation_name="X"))
        with pytest.raises(PermissionDenied):
            deployment.set_logo(session=session, actor=world.actor(session, who),
                                content=png(10, 10))
    assert deployment.read_settings(session).organisation_name == ""


def test_settings_are_saved_cleaned_and_audited_once_per_change(
    session: Session, world: World
) -> None:
    admin = world.actor(session, "admin")
    saved = deployment.update_settings(session=session, actor=admin, data=settings(
        organisation_name="  Sở Y tế   tỉnh Đồng Tháp ", public_url="https://dh.dongthap.gov.vn/",
        contact_line="Phòng PCTNXH — 0277 3851 234", programme_name="Chương trình Bạn Đồng Hành"))
    assert saved.organisation_name == "Sở Y tế tỉnh Đồng Tháp"
    assert saved.public_url == "https://dh.dongthap.gov.vn"
    assert deployment.public_url(session) == "https://dh.dongthap.gov.vn"
    assert cards.programme_name(session) == "Chương trình Bạn Đồng Hành"
    deployment.update_settings(session=session, actor=admin, data=settings(
        organisation_name="Sở Y tế tỉnh Đồng Tháp", public_url="https://dh.dongthap.gov.vn",
        contact_line="Phòng PCTNXH — 0277 3851 234", programme_name="Chương trình Bạn Đồng Hành"))
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "settings.update")).all()
    assert len(events) == 1 and "report_header" in events[0].detail
    assert "Sở Y tế" not in events[0].detail  # names of settings, not their values


@pytest.mark.parametrize("raw", [
    "http://dh.example.vn", "javascript:alert(1)", "https://", "ftp://x.vn",
    "https://user:pw@dh.example.vn", "https://dh.example.vn/?next=x", "dh.example.vn",
    "https://dh.example.vn/#k", "https://dh example.vn",
])
def test_a_public_address_must_be_a_plain_https_address(raw: str, session: Session,
                                                        world: World) -> None:
    assert normalise_public_url(raw) is None
    with pytest.raises(ValidationFailed) as err:
        deployment.update_settings(session=session, actor=world.actor(session, "admin"),
                                   data=settings(public_url=raw))
    assert err.value.fields == {"public_url": "deploy.error.public_url"}


def test_accepted_public_addresses() -> None:
    assert normalise_public_url("https://dh.tinh.gov.vn:8443/app/") == \
        "https://dh.tinh.gov.vn:8443/app"
    assert normalise_public_url("http://127.0.0.1:3000") == "http://127.0.0.1:3000"
    assert normalise_public_url("  ") == ""


def test_a_logo_is_any_small_image_reencoded_as_a_bounded_png(
    session: Session, world: World
) -> None:
    admin = world.actor(session, "admin")
    for bad in (b"", b"GIF89a" + b"\0" * 40, b"<svg/>", b"x" * (deployment.MAX_LOGO_BYTES + 1)):
        with pytest.raises(ValidationFailed):
            deployment.set_logo(session=session, actor=admin, content=bad)
    jpeg = io.BytesIO()
    Image.new("RGB", (1600, 800), "navy").save(jpeg, format="JPEG")
    assert deployment.set_logo(session=session, actor=admin, content=jpeg.getvalue()).has_logo
    stored = deployment.logo_png(session)
    assert stored is not None
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "PNG" and image.size == (400, 200)
    assert deployment.remove_logo(session=session, actor=admin).has_logo is False
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert "settings.logo" in actions and "settings.logo_removed" in actions


def test_reports_and_exports_carry_the_organisation_its_logo_and_contact(
    session: Session, world: World
) -> None:
    admin = world.actor(session, "admin")
    deployment.update_settings(session=session, actor=admin, data=settings(
        organisation_name="Công an tỉnh A", contact_line="Đội PC04 — 0203 000 000"))
    deployment.set_logo(session=session, actor=admin, content=png(120, 60))
    sup = world.actor(session, "sup_a")
    period = {"place_id": world.province_a, "period_start": date(2025, 1, 1),
              "period_end": date(2025, 12, 31)}
    report = province_report(session=session, actor=sup, **period)
    assert report.header == "Công an tỉnh A" and report.contact == "Đội PC04 — 0203 000 000"
    xlsx = exports.export_report(session=session, actor=sup, fmt="xlsx", **period)
    book = load_workbook(io.BytesIO(xlsx))
    first = book.worksheets[0]
    assert first["A1"].value == "Công an tỉnh A"
    texts = [c.value for row in first.iter_rows() for c in row if isinstance(c.value, str)]
    assert "Liên hệ: Đội PC04 — 0203 000 000" in texts
    assert all(len(ws._images) == 1 for ws in book.worksheets)
    pdf = exports.export_report(session=session, actor=sup, fmt="pdf", **period)
    assert b"/Subtype /Image" in pdf


def test_a_printed_card_carries_the_logo_only_when_one_is_set() -> None:
    card = CardPrint(programme_name="Chương trình Đồng Hành", given_name="Cường",
                     short_code="ABCD-EFGH-JK-M", payload="DH1-" + "A" * 26)
    assert b"/Subtype /Image" not in card_pdf([card])
    with_logo = CardPrint(**{**card.__dict__, "logo_png": png(300, 80)})
    assert b"/Subtype /Image" in card_pdf([with_logo])


@pytest.mark.parametrize(("start", "end", "name"), [
    (date(2022, 1, 1), date(2022, 12, 31), "bao-cao-dong-thap-2022.xlsx"),
    (date(2022, 4, 1), date(2022, 6, 30), "bao-cao-dong-thap-2022-q2.xlsx"),
    (date(2022, 2, 1), date(2022, 2, 28), "bao-cao-dong-thap-2022-02.xlsx"),
    (date(2021, 12, 15), date(2022, 10, 31), "bao-cao-dong-thap-2021-12-15-2022-10-31.xlsx"),
])
def test_export_file_names_say_the_place_and_the_period(start: date, end: date,
                                                        name: str) -> None:
    assert exports.report_file_name("Đồng Tháp", start, end, "xlsx") == name


def test_the_data_protection_officer_is_a_setting_printed_on_the_consent_form(
        session: Session, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services import privacy
    from app.services.privacy import consent

    printed: list[str] = []
    real = consent.pdf_document

    def capture(title: str, paragraphs: list[str], *args: object) -> bytes:
        printed[:] = paragraphs
        return real(title, paragraphs, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(consent, "pdf_document", capture)
    vol, cid = world.actor(session, "vol_a1"), world.clients["a1"]
    privacy.consent_form_pdf(session=session, actor=vol, client_id=cid)
    assert not any("bảo vệ dữ liệu cá nhân:" in p for p in printed)  # not set: no line
    with pytest.raises(ValidationFailed):
        deployment.update_settings(session=session, actor=world.actor(session, "admin"),
                                   data=settings(dpo_name="x" * 121))
    saved = deployment.update_settings(
        session=session, actor=world.actor(session, "admin"),
        data=settings(dpo_name=" Nguyễn Thị  Hoa ", dpo_contact="dpo@dongthap.gov.vn"))
    assert (saved.dpo_name, saved.dpo_contact) == ("Nguyễn Thị Hoa", "dpo@dongthap.gov.vn")
    assert deployment.dpo_line(session) == "Nguyễn Thị Hoa — dpo@dongthap.gov.vn"
    pdf = privacy.consent_form_pdf(session=session, actor=vol, client_id=cid)
    assert pdf.startswith(b"%PDF")
    assert ("Người phụ trách bảo vệ dữ liệu cá nhân: Nguyễn Thị Hoa — dpo@dongthap.gov.vn"
            in printed)
