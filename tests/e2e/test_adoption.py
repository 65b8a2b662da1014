"""A province adopts the app (issue 15), end to end, through documented commands and screens:

empty database → `migrate` → `create-admin` without a terminal → the administrator sets the
organisation's name and the public address, creates a rehab facility, a provincial supervisor
(Đồng Tháp and Quảng Ninh) and a clinic account of the facility → the supervisor downloads the
import template, fills it with the two provinces' 2022 registers, previews and imports it →
the report screen and its Excel export show the seed figures → the supervisor issues a card to
an imported client and the clinic scans it and records attendance.

The figures are those of the two articles in /work/shared/seeds (PRODUCT.md §4): Đồng Tháp 2022
— 1,619 managed, 427 with good progress (26.4 %), 52 jobs, 25 loans of 875,000,000 đồng;
Quảng Ninh 2022 — 390 admissions (199 voluntary, 177 compulsory, 14 pending), 497 under
management at the end (145, 338, 14), 3 vocational classes with 35 learners.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from app.i18n import t
from app.services.calendar import today_vn
from app.services.db import engine_for
from app.services.imports import commune_codes
from models import Client, Referral, ReferralStatus
from tests.e2e.conftest import PHONE
from tests.e2e.server import ARTIFACTS, ROOT, app_env, running_app
from tests.e2e.test_auth import sign_in

ADMIN_PASSWORD = "Tinh-Nha-Moi-Khoi-Dau-26"
NEW_PASSWORD = "Song-Tien-Ha-Long-2026"
ORG_NAME = "Sở Y tế tỉnh Đồng Tháp và Quảng Ninh (thử nghiệm)"
FACILITY = "Cơ sở cai nghiện ma túy tỉnh Quảng Ninh"
CARD_CLIENT = "Phạm Văn Thẻ"
LONG = 240_000  # ms: importing some 5,400 rows twice (preview, commit) on a 2-core machine


def cli(env: dict[str, str], *args: str, stdin: str = "") -> None:
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def new_province(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """An empty database made usable by the two documented commands, and the app on it."""
    db = tmp_path_factory.mktemp("adoption") / "province.db"
    env = app_env(f"sqlite:///{db}")
    env.pop("DH_PUBLIC_URL", None)
    env.pop("DH_ADMIN_PASSWORD", None)
    cli(env, "migrate")
    # This walk-through signs in without an authenticator app: a fresh deployment requires one
    # of supervisors and administrators (issue 19 item 8; its own browser test is
    # tests/e2e/test_totp_ui.py), which the documented operator command turns off.
    cli(env, "second-factor", "--optional", "supervisor", "admin")
    # No terminal: the password comes on standard input (docs/OPERATIONS.md).
    cli(env, "create-admin", "--username", "qt.tinh", "--full-name", "Nguyễn Văn Quản",
        "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    with running_app(env, name="adoption", own_build=True) as app:
        yield app.url, f"sqlite:///{db}"


OPEN_PAGES: list[Page] = []


def phone(browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport=PHONE, base_url=url, locale="vi-VN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    OPEN_PAGES.append(page)
    return page


@pytest.fixture(autouse=True)
def screenshots_on_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each phone still open when the test fails leaves a screenshot in test-artifacts/."""
    OPEN_PAGES.clear()
    yield
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for i, page in enumerate(OPEN_PAGES):
            if not page.is_closed():
                page.screenshot(path=str(ARTIFACTS / f"adoption-failure-{i}.png"),
                                full_page=True)


def first_sign_in(page: Page, username: str, one_time: str) -> None:
    """A new account: the one-time password, then one of their own."""
    sign_in(page, username, one_time)
    expect(page.locator("#must-change-banner")).to_be_visible()
    page.locator("#current").fill(one_time)
    page.locator("#new").fill(NEW_PASSWORD)
    page.locator("#repeat").fill(NEW_PASSWORD)
    page.locator("#change-password").click()
    expect(page.locator("#must-change-banner")).to_have_count(0)


def create_account(page: Page, username: str, full_name: str, role: str, province: str,
                   scope: str) -> str:
    """On /admin/users: a new account with one scope; returns its one-time password."""
    expect(page.locator("#user-count")).to_be_visible()  # the screen has loaded its list
    page.locator("#create-user").click()
    expect(page.locator("#create-dialog")).to_be_visible()
    page.locator("#username").fill(username)
    page.locator("#full_name").fill(full_name)
    page.locator("#create_role").select_option(role)
    page.locator("#create_province").select_option(label=province)
    expect(page.locator("#create_scope option", has_text=scope).first).to_be_attached()
    page.locator("#create_scope").select_option(label=scope)
    page.locator("#create-submit").click()
    otp = page.locator("#otp-value")
    expect(otp).to_be_visible()
    one_time = otp.inner_text().strip()
    page.locator("#otp-ack").click()
    expect(page.locator("#otp-dialog")).to_have_count(0)
    return one_time


# --- the workbook, filled from the downloaded template ----------------------------------------


class Sheet:
    """Append rows to a template sheet by column header (the notes row stays)."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.columns = {str(c.value).rstrip(" *"): c.column for c in ws[1] if c.value}

    def add(self, **values: Any) -> None:
        row = self.ws.max_row + 1
        for header, value in values.items():
            self.ws.cell(row, self.columns[header.replace("_", " ")], value)


def dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def fill_registers(template: bytes) -> bytes:
    book = load_workbook(io.BytesIO(template))
    sheet = {name: Sheet(book[name]) for name in (
        "Đối tượng", "Xét nghiệm", "Chuyển gửi", "Hỗ trợ", "Đợt quản lý", "Cơ sở cai nghiện",
        "Lớp học nghề")}
    codes = commune_codes()
    dong_thap = [c for c, _n, p in codes if p == "Đồng Tháp"]
    quang_ninh = [c for c, _n, p in codes if p == "Quảng Ninh"]
    serial = 0

    def client(commune: str, name: str = "") -> str:
        nonlocal serial
        serial += 1
        ref = f"K{serial}"
        sheet["Đối tượng"].add(**{
            "Mã trong tệp": ref, "Họ và tên": name or f"Nguyễn Văn Hòa {serial:05d}",
            "Năm sinh": 1970 + serial % 30, "Giới tính": "Nam", "Mã xã/phường": commune,
            "Tiêm chích": "Không", "Ngày đồng ý": "05/01/2022"})
        return ref

    # Đồng Tháp: 1,619 under community management in 2022, of three kinds; 100 ended in 2022.
    kinds = ("Quản lý người sử dụng trái phép chất ma túy",
             "Cai nghiện tự nguyện tại gia đình, cộng đồng", "Quản lý sau cai nghiện")
    managed = []
    for i in range(1619):
        ref = client(dong_thap[i % 100])
        managed.append(ref)
        start = date(2022, 1, 10) + timedelta(days=i % 150)
        ended = i % 16 == 0 and i < 1600
        sheet["Đợt quản lý"].add(**{
            "Mã đối tượng": ref, "Loại đợt": kinds[i % 3], "Số quyết định": f"{i + 1}/QĐ-UBND",
            "Ngày quyết định": dmy(start), "Ngày bắt đầu": dmy(start),
            "Ngày kết thúc dự kiến": dmy(start.replace(year=2023)),
            "Ngày kết thúc": dmy(date(2022, 11, 30)) if ended else None,
            "Lý do kết thúc": "Hoàn thành" if ended else None})
    # 1,004 drug tests: 427 people negative twice; 100 negative once; 25 negative then positive.
    test = sheet["Xét nghiệm"]
    for i, ref in enumerate(managed[:427]):
        first = date(2022, 7, 1) + timedelta(days=i % 60)
        for day in (first, first + timedelta(days=30)):
            test.add(**{"Mã đối tượng": ref, "Ngày xét nghiệm": dmy(day), "Kết quả": "Âm tính"})
    for ref in managed[427:527]:
        test.add(**{"Mã đối tượng": ref, "Ngày xét nghiệm": "01/08/2022", "Kết quả": "Âm tính"})
    for ref in managed[527:552]:
        test.add(**{"Mã đối tượng": ref, "Ngày xét nghiệm": "01/08/2022", "Kết quả": "Âm tính"})
        test.add(**{"Mã đối tượng": ref, "Ngày xét nghiệm": "01/09/2022",
                    "Kết quả": "Dương tính"})
    # 52 job placements and 25 loans of 35,000,000 đồng (875,000,000 in all, typed the
    # Vietnamese way).
    for ref in managed[600:652]:
        sheet["Hỗ trợ"].add(**{"Mã đối tượng": ref, "Loại hỗ trợ": "Giới thiệu việc làm",
                               "Ngày bắt đầu": "15/09/2022"})
    for ref in managed[700:725]:
        sheet["Hỗ trợ"].add(**{"Mã đối tượng": ref, "Loại hỗ trợ": "Vay vốn",
                               "Ngày bắt đầu": "01/10/2022", "Số tiền (đồng)": "35.000.000",
                               "Thời hạn (tháng)": 36,
                               "Nguồn vốn": "Quỹ phát triển tái hòa nhập cộng đồng"})

    # Quảng Ninh: the facility's admissions in 2022 and its residents at the end of the year.
    stays = [("Tự nguyện", date(2022, 3, 1), 199, 54), ("Bắt buộc", date(2022, 5, 1), 177, 0),
             ("Bắt buộc", date(2021, 3, 1), 161, 0),
             ("Chưa có quyết định", date(2022, 10, 1), 14, 0)]
    n = 0
    for kind, start, count, left in stays:
        for i in range(count):
            ref = client(quang_ninh[n % 50])
            n += 1
            leaves = i < left
            sheet["Cơ sở cai nghiện"].add(**{
                "Mã đối tượng": ref, "Cơ sở": FACILITY, "Hình thức": kind,
                "Ngày tiếp nhận": dmy(start),
                "Ngày kết thúc dự kiến": dmy(start + timedelta(days=730)),
                "Ngày ra": "10/07/2022" if leaves else None,
                "Lý do ra": "Hoàn thành" if leaves else None})
    for name, opened, learners in (("Sửa chữa điều hòa", "10/02/2022", 12),
                                ("Trồng rau an toàn", "10/04/2022", 12),
                                ("May công nghiệp", "10/06/2022", 11)):
        sheet["Lớp học nghề"].add(**{"Cơ sở": FACILITY, "Tên lớp, nghề": name,
                                     "Ngày khai giảng": opened, "Số học viên": learners})
    # The client whose card the clinic will scan: referred to the facility two days ago.
    ref = client(quang_ninh[0], CARD_CLIENT)
    sheet["Chuyển gửi"].add(**{"Mã đối tượng": ref, "Dịch vụ": "Điều trị, cai nghiện",
                               "Ngày chuyển gửi": dmy(today_vn() - timedelta(days=2)),
                               "Cơ sở tiếp nhận": FACILITY, "Đồng ý": "Có"})
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- the report ---------------------------------------------------------------------------------


def show_report(page: Page, province: str) -> None:
    page.locator("#place_id").select_option(label=province)
    page.locator("#preset").select_option("custom")
    page.locator("#start").fill("2022-01-01")
    page.locator("#end").fill("2022-12-31")
    page.locator("#report-run").click()
    expect(page.locator("#report-title")).to_contain_text(province, timeout=LONG)
    expect(page.locator("#report-title")).to_contain_text("31/12/2022")


def figure(page: Page, key: str) -> Any:
    return page.locator(f"#fig-{key.replace('.', '-')}")


def sheet_values(book: Any) -> dict[str, Any]:
    """label -> value of every figure row of an exported report."""
    found: dict[str, Any] = {}
    for ws in book.worksheets:
        for row in ws.iter_rows(min_row=5, values_only=True):
            if row and isinstance(row[0], str) and len(row) > 1:
                found.setdefault(row[0], row[1])
    return found


def test_a_new_province_goes_from_an_empty_server_to_its_own_figures(
    browser: Browser, new_province: tuple[str, str]
) -> None:
    url, db_url = new_province
    admin = phone(browser, url)
    sign_in(admin, "qt.tinh", ADMIN_PASSWORD)
    expect(admin).to_have_url(url + "admin/users")

    # Settings: the organisation's name and the public address (warned about until set).
    admin.goto(url + "admin/settings")
    # Typed only once the stored settings are in the form (its load re-keys the form).
    expect(admin.locator("#settings-form")).not_to_have_attribute("data-loaded", "0")
    expect(admin.locator("#public-url-missing")).to_be_visible()
    admin.locator("#organisation_name").fill(ORG_NAME)
    admin.locator("#public_url").fill(url.rstrip("/"))
    admin.locator("#settings-save").click()
    expect(admin.locator("#saved-notice")).to_contain_text("Đã lưu")
    expect(admin.locator("#public-url-missing")).to_have_count(0)

    # A facility of Quảng Ninh.
    admin.goto(url + "facilities")
    admin.locator("#province_id").select_option(label="Quảng Ninh")
    admin.locator("#facility-add").click()
    admin.locator("#name").fill(FACILITY)
    admin.locator("#kind").select_option("rehab_facility")
    admin.locator("#address").fill("Tổ 5, khu 6")
    for service in ("voluntary_rehab", "compulsory_rehab", "vocational"):
        admin.locator(f"#service_{service}").check()
    admin.locator("#facility-save").click()
    expect(admin.locator("#facility-list")).to_contain_text(FACILITY)
    admin.screenshot(path=str(ARTIFACTS / "adoption-facilities.png"), full_page=True)

    # The provincial supervisor of both provinces, and a clinic account of the facility.
    admin.goto(url + "admin/users")
    sup_otp = create_account(admin, "gs.tinh", "Trần Thị Giám Sát", "supervisor", "Đồng Tháp",
                             "Đồng Tháp")
    admin.locator("#user-search").fill("gs.tinh")
    admin.locator("#search-submit").click()
    admin.locator("#manage-gs\\.tinh").click()
    admin.locator("#grant_role").select_option("supervisor")
    admin.locator("#grant_province").select_option(label="Quảng Ninh")
    expect(admin.locator("#grant_scope option", has_text="Quảng Ninh").first).to_be_attached()
    admin.locator("#grant_scope").select_option(label="Quảng Ninh")
    admin.locator("#add-role").click()
    expect(admin.locator("#user-dialog")).to_contain_text("Quảng Ninh")
    admin.keyboard.press("Escape")
    expect(admin.locator("#user-dialog")).to_have_count(0)
    clinic_otp = create_account(admin, "yte.tinh", "Lê Thị Y Tế", "clinic", "Quảng Ninh",
                                FACILITY)
    admin.context.close()

    # The supervisor imports the registers, filled into the template they downloaded.
    sup = phone(browser, url)
    first_sign_in(sup, "gs.tinh", sup_otp)
    sup.goto(url + "import")
    with sup.expect_download() as template:
        sup.locator("#download-template").click()
    workbook = fill_registers(Path(template.value.path()).read_bytes())
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "adoption-registers.xlsx").write_bytes(workbook)
    sup.locator("#import-upload input[type=file]").set_input_files(files=[{
        "name": "so-quan-ly-2022.xlsx", "buffer": workbook,
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    sup.locator("#import-check").click()
    expect(sup.locator("#import-commit")).to_be_visible(timeout=LONG)
    sup.locator("#import-commit").click()
    saved = sup.locator("#saved-notice")
    expect(saved).not_to_be_empty(timeout=LONG)
    rows = 2 * 1619 + 1004 + 52 + 25 + 2 * 551 + 3 + 2
    expect(saved).to_contain_text(f"Đã lưu {rows:,} dòng.".replace(",", "."))

    # The report screen, Đồng Tháp 2022.
    sup.goto(url + "reports")
    show_report(sup, "Đồng Tháp")
    expect(sup.locator("#report-header")).to_have_text(ORG_NAME)
    expect(figure(sup, "report.community.managed")).to_contain_text("1.619")
    good = figure(sup, "report.community.good_progress")
    expect(good).to_contain_text("427")
    expect(good).to_contain_text("trên 1.619 (26,4 %)")
    expect(figure(sup, "report.community.job_referrals")).to_contain_text("52")
    expect(figure(sup, "report.community.loans")).to_contain_text("25")
    expect(figure(sup, "report.community.loan_amount")).to_contain_text("875.000.000 đ")
    # The drill-down button says which figure it opens (its visible number first in its name).
    expect(figure(sup, "report.community.managed").get_by_role("button")).to_have_accessible_name(
        "1.619 " + t("report.open_list_of", "vi", figure=t("report.community.managed", "vi"),
                     value="1.619"))
    sup.screenshot(path=str(ARTIFACTS / "adoption-report.png"), full_page=True)
    with sup.expect_download() as export:
        sup.locator("#download-xlsx").click()
    assert export.value.suggested_filename == "bao-cao-dong-thap-2022.xlsx"
    book = load_workbook(io.BytesIO(Path(export.value.path()).read_bytes()))
    assert book.worksheets[0]["A1"].value == ORG_NAME
    values = sheet_values(book)
    label = {k: t(f"report.{k}", "vi") for k in (
        "community.managed", "community.good_progress", "community.job_referrals",
        "community.loans", "community.loan_amount")}
    assert values[label["community.managed"]] == 1619
    assert values[label["community.good_progress"]] == 427
    assert values[label["community.job_referrals"]] == 52
    assert values[label["community.loans"]] == 25
    assert values[label["community.loan_amount"]] == 875_000_000

    # Quảng Ninh 2022: the facility's figures.
    show_report(sup, "Quảng Ninh")
    expected = {"facility.admitted.voluntary": 199, "facility.admitted.compulsory": 177,
                "facility.admitted.pending": 14, "facility.admitted.total": 390,
                "facility.managed.voluntary": 145, "facility.managed.compulsory": 338,
                "facility.managed.pending": 14, "facility.managed.total": 497,
                "facility.vocational_classes": 3, "facility.vocational_learners": 35}
    for key, value in expected.items():
        # The figure itself, then (drill-down buttons) the words a screen reader adds.
        expect(figure(sup, f"report.{key}").locator(".figure-value")).to_have_text(
            re.compile(rf"^{value}(\s|$)"))
    with sup.expect_download() as export:
        sup.locator("#download-xlsx").click()
    assert export.value.suggested_filename == "bao-cao-quang-ninh-2022.xlsx"
    values = sheet_values(load_workbook(io.BytesIO(Path(export.value.path()).read_bytes())))
    assert {k: values[t(f"report.{k}", "vi")] for k in expected} == expected

    # A card for an imported client; the clinic scans it and records attendance.
    with Session(engine_for(db_url)) as s:
        person = s.exec(select(Client).where(Client.full_name == CARD_CLIENT)).one()
        referral = s.exec(select(Referral).where(Referral.client_id == person.id)).one()
    sup.goto(f"{url}clients/{person.id}/card")
    expect(sup.locator("#client-name")).to_have_text(CARD_CLIENT)  # loaded, with its key
    sup.locator("#issue-form-submit").click()
    expect(sup.locator("#card-qr")).to_be_visible(timeout=30_000)
    expect(sup.locator("#no-public-url")).to_have_count(0)  # the QR links to the address set
    code = sup.locator("#card-code").inner_text().strip()
    sup.context.close()

    clinic = phone(browser, url)
    first_sign_in(clinic, "yte.tinh", clinic_otp)
    expect(clinic).to_have_url(url + "scan")  # clinic staff's home, already loaded
    clinic.locator("#code").fill(code)
    clinic.locator("#code").press("Enter")
    expect(clinic.locator("#scan-name")).to_have_text("Thẻ")
    clinic.locator(f"#attend-{referral.id}").click()
    expect(clinic.locator("#attendance-done")).to_contain_text(
        t("card.attendance.recorded", "vi"))
    clinic.context.close()
    with Session(engine_for(db_url)) as s:
        done = s.exec(select(Referral).where(col(Referral.id) == referral.id)).one()
        assert done.status == ReferralStatus.USED
    assert os.path.getsize(ARTIFACTS / "adoption-registers.xlsx") > 0
