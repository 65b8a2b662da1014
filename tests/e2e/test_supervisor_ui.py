"""The supervisor's screens in a real browser: caseload and reassignment, the report and its
Excel download, and the spreadsheet import (all or nothing)."""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.pages.reports import quarter_of
from app.services.calendar import today_vn
from app.services.demo import DEMO_PASSWORD
from app.services.imports import SHEETS
from app.services.text import fold
from models import (
    Client,
    Organisation,
    OrgKind,
    Place,
    Role,
    RoleAssignment,
    Sex,
    User,
)
from tests.e2e.test_auth import sign_in

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
DESKTOP = {"width": 1280, "height": 800}
_LETTERS = "abcdeghiklmnopqrstuvxy"


def _unique_word() -> str:
    return "".join(secrets.choice(_LETTERS) for _ in range(6)).capitalize()


@pytest.fixture
def db(e2e_db: Path, base_url: str) -> Iterator[Engine]:
    """The e2e server's own SQLite file (the server is up: `base_url`)."""
    engine = create_engine(f"sqlite:///{e2e_db}")
    yield engine
    engine.dispose()


def _demo_commune(session: Session) -> Place:
    volunteer = session.exec(select(User).where(User.username == "tnv.demo")).one()
    assignment = session.exec(select(RoleAssignment).where(
        RoleAssignment.user_id == volunteer.id)).first()
    assert assignment is not None and assignment.place_id is not None
    place = session.get(Place, assignment.place_id)
    assert place is not None
    return place


def _sign_in_supervisor(page: Page, base_url: str) -> None:
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "caseload")


def test_caseload_shows_the_demo_clients_and_reassigns_two_clients(
    page: Page, base_url: str, db: Engine
) -> None:
    word = _unique_word()
    with Session(db) as s:
        commune = _demo_commune(s)
        tnv = s.exec(select(User).where(User.username == "tnv.demo")).one()
        other = User(username=f"tnv.{word.lower()}", full_name=f"Tình nguyện viên {word}",
                     password_hash="-")
        s.add(other)
        s.flush()
        s.add(RoleAssignment(user_id=other.id or 0, role=Role.VOLUNTEER, place_id=commune.id))
        mine = [Client(full_name=f"A {word} {n}", name_key=fold(f"A {word} {n}"), birth_year=1990,
                       sex=Sex.MALE, commune_id=commune.id or 0, assigned_volunteer_id=tnv.id)
                for n in ("Một", "Hai")]
        s.add_all(mine)
        s.commit()
        ids = [c.id for c in mine]
        other_id = other.id
    _sign_in_supervisor(page, base_url)
    table = page.locator("#caseload-table")
    expect(table).to_contain_text("Nguyễn Văn An")  # a demo client
    expect(table).to_contain_text("Trần Thị Bích")
    for cid in ids:
        page.locator(f"#select-{cid}").click()
    expect(page.locator("#selected-count")).to_contain_text("2")
    page.locator("#to_volunteer").select_option(str(other_id))
    page.locator("#reassign-submit").click()
    expect(page.locator("#form-success")).to_contain_text("2")
    with Session(db) as s:
        assigned = {c.assigned_volunteer_id for c in s.exec(
            select(Client).where(col(Client.id).in_(ids))).all()}
    assert assigned == {other_id}
    expect(page.locator(f"#case-{ids[0]}")).to_contain_text(f"Tình nguyện viên {word}")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENS / "caseload-390.png"))
    page.set_viewport_size(DESKTOP)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENS / "caseload.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]


def _figure(workbook: Any, label: str) -> Any:
    for ws in workbook.worksheets:
        for row in ws.iter_rows(values_only=True):
            if row and row[0] == label:
                return row[1]
    raise AssertionError(f"{label!r} not in the workbook")


def test_the_quarter_report_downloads_as_excel_with_the_database_figures(
    page: Page, base_url: str, db: Engine
) -> None:
    page.set_viewport_size(DESKTOP)
    _sign_in_supervisor(page, base_url)
    page.goto(base_url + "reports")
    expect(page.locator("#report-title")).to_contain_text("Đồng Tháp")
    expect(page.locator("#fig-report-community-managed")).to_be_visible()
    with page.expect_download() as info:
        page.locator("#download-xlsx").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()), data_only=True)
    _start, end = quarter_of(today_vn())
    with Session(db) as s:
        province = s.exec(select(Place).where(col(Place.name) == "Đồng Tháp")).one()
        area = select(Place.id).where(or_(col(Place.id) == province.id,
                                          col(Place.parent_id) == province.id))
        teams = s.exec(select(func.count()).select_from(Organisation).where(
            col(Organisation.kind) == OrgKind.VOLUNTEER_TEAM, col(Organisation.active),
            col(Organisation.place_id).in_(area),
            or_(col(Organisation.founded_on).is_(None), col(Organisation.founded_on) <= end),
        )).one()
    assert teams >= 1
    assert _figure(book, "Đội công tác xã hội tình nguyện") == teams
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "report.png"), full_page=True)


def _workbook(rows: list[list[Any]]) -> bytes:
    spec = next(s for s in SHEETS if s.kind == "clients")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = spec.title
    ws.append([c.header + (" *" if c.required else "") for c in spec.columns])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _client_row(ref: str, name: str, commune_code: str, year: Any = 1991) -> list[Any]:
    return [ref, name, "", year, "", "Nam", "", "", commune_code, "", "", "", "", "", "", "",
            "Không", "01/03/2025", ""]


def _upload(page: Page, tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    page.locator("#import-upload input[type=file]").set_input_files(str(path))
    page.locator("#import-check").click()
    expect(page.locator("#import-summary")).to_contain_text(name)


def test_import_commits_valid_rows_and_refuses_a_file_with_a_bad_row(
    page: Page, base_url: str, db: Engine, tmp_path: Path
) -> None:
    word = _unique_word()
    with Session(db) as s:
        code = _demo_commune(s).code
    _sign_in_supervisor(page, base_url)
    page.goto(base_url + "import")
    with page.expect_download() as info:
        page.locator("#download-template").click()
    template = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    assert template.sheetnames[0] == SHEETS[0].title

    good = [f"Nhập {word} Một", f"Nhập {word} Hai"]
    _upload(page, tmp_path, _workbook([_client_row("K1", good[0], code),
                                       _client_row("K2", good[1], code)]), "tot.xlsx")
    page.locator("#import-commit").click()
    expect(page.locator("#saved-notice")).to_contain_text("2")
    with Session(db) as s:
        saved = s.exec(select(Client.full_name).where(col(Client.full_name).in_(good))).all()
    assert sorted(saved) == sorted(good)

    bad = [f"Lỗi {word} Một", f"Lỗi {word} Hai"]
    _upload(page, tmp_path, _workbook([_client_row("K1", bad[0], code),
                                       _client_row("K2", bad[1], code, year="abc")]), "loi.xlsx")
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("Đối tượng")
    expect(errors).to_contain_text("Năm sinh")
    expect(page.locator("#import-error-0")).to_contain_text("3")  # Excel row of K2
    expect(page.locator("#import-commit")).to_have_count(0)
    with Session(db) as s:
        assert not s.exec(select(Client).where(col(Client.full_name).in_(bad))).all()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "import.png"), full_page=True)
