"""Spreadsheet import (app/services/imports.py): template, preview, all-or-nothing commit."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, select

from app.services import imports
from app.services.actor import Actor
from app.services.imports import SHEETS, commit_import, preview_import, template_xlsx
from models import (
    AuditEvent,
    Client,
    DrugTest,
    GroupActivity,
    Organisation,
    OrgKind,
    OutreachContact,
    Referral,
    Support,
    Visit,
)
from tests.factories import World, build_world, count

HEADERS = {s.kind: [c.header for c in s.columns] for s in SHEETS}
TITLES = {s.kind: s.title for s in SHEETS}


def workbook(sheets: dict[str, list[list[Any]]], *, notes: bool = True) -> bytes:
    """A filled template: for each kind, the template headers, its notes row, then rows."""
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    for kind, rows in sheets.items():
        spec = next(s for s in SHEETS if s.kind == kind)
        ws = wb.create_sheet(spec.title)
        ws.append([c.header + (" *" if c.required else "") for c in spec.columns])
        if notes:
            ws.append([c.note for c in spec.columns])
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def valid_sheets() -> dict[str, list[list[Any]]]:
    return {
        "models": [["Đội công tác xã hội tình nguyện", "Đội CTXH xã A Một", "TA001",
                    "12/QĐ-UBND", "05/01/2024"]],
        "clients": [
            ["K1", "Nguyễn Văn Hùng", "", 1985, "", "Nam", "001085012345", "0912 345 678",
             "TA001", "Ấp 1", "", "", "", "", "", "heroin", "Không", "01/03/2025",
             "Sử dụng ma túy, Kết quả xét nghiệm"],
            ["K2", "Trần Thị Mai", "", 1992, "15/06/1992", "Nữ", "", "", "TA001", "", "", "", "",
             "", "", "", "Có", "02/03/2025", ""],
            ["K3", "Lê Văn Tài", "Tài béo", 1979, "", "Nam", "", "", "TA001", "", "", "", "", "",
             "", "", "", "03/03/2025", ""],
        ],
        "visits": [
            ["K1", "10/03/2025", "Thăm tại nhà", "tư vấn", "ổn định", "", "10/04/2025"],
            ["K1", "12/04/2025", "Điện thoại/Zalo", "", "", "", ""],
            ["K2", date(2025, 3, 11), "Sinh hoạt cộng đồng", "", "", "", ""],
            ["K3", "11/03/2025", "thăm tại nhà", "", "", "", ""],
        ],
        "contacts": [
            ["05/03/2025", "TA001", "Người sử dụng ma túy", 12, "Tác hại ma túy"],
            ["06/03/2025", "TA001", "Thân nhân", 30, ""],
        ],
        "tests": [
            ["K1", "15/03/2025", "Âm tính", "", "", "", "Trạm y tế"],
            ["K1", "15/04/2025", "Âm tính", "", "", "", ""],
        ],
        "referrals": [["K2", "Methadone", "20/03/2025", "Cơ sở điều trị A", "Có"]],
        "support": [["K3", "Vay vốn", "01/04/2025", "35.000.000", 24, "Quỹ tái hòa nhập", ""]],
        "groups": [["Hội nghị", "26/06/2025", "TA001", "Đội CTXH xã A Một", "Tháng hành động",
                    80, 5]],
    }


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)


def sup(session: Session, world: World) -> Actor:
    actor = world.actor(session, "sup_a1")
    assert actor is not None
    return actor


def _errors(
    result: imports.ImportPreview | imports.ImportResult,
) -> list[tuple[str, int, str, str]]:
    return [(e.sheet, e.row, e.column, e.key) for e in result.errors]


def test_the_template_has_one_sheet_per_kind_with_headers_and_a_notes_row() -> None:
    book = load_workbook(io.BytesIO(template_xlsx()))
    assert [s.title for s in SHEETS] == book.sheetnames[: len(SHEETS)]
    clients = book[TITLES["clients"]]
    assert clients["A1"].value == "Mã trong tệp *"
    assert clients["B1"].value == "Họ và tên *"
    assert clients["A2"].value.startswith("Mã tự đặt")
    assert "Danh mục" in book.sheetnames


def test_the_empty_template_previews_as_nothing_to_import(session: Session, world: World) -> None:
    preview = preview_import(session=session, actor=sup(session, world), data=template_xlsx())
    assert preview.ok and preview.total_rows == 0 and sum(preview.counts.values()) == 0


def test_a_valid_file_previews_then_imports_exactly_its_rows(
        session: Session, world: World) -> None:
    me = sup(session, world)
    data = workbook(valid_sheets())
    before = {m: count(session, m) for m in (Client, Visit, OutreachContact, DrugTest, Referral,
                                             Support, GroupActivity, Organisation)}
    preview = preview_import(session=session, actor=me, data=data)
    assert preview.ok, preview.errors
    expected = {"models": 1, "clients": 3, "visits": 4, "contacts": 2, "tests": 2,
                "referrals": 1, "support": 1, "groups": 1, "episodes": 0, "admissions": 0,
                "outcomes": 0, "classes": 0, "learners": 0}
    assert preview.counts == expected
    assert {m: count(session, m) for m in before} == before  # a preview writes nothing

    result = commit_import(session=session, actor=me, data=data)
    session.commit()
    assert result.committed and result.created == expected and not result.errors
    added = {m.__name__: count(session, m) - n for m, n in before.items()}
    assert added == {"Client": 3, "Visit": 4, "OutreachContact": 2, "DrugTest": 2,
                     "Referral": 1, "Support": 1, "GroupActivity": 1, "Organisation": 1}
    hung = session.exec(select(Client).where(Client.national_id == "001085012345")).one()
    assert (hung.phone, hung.birth_year, hung.commune_id) == ("0912345678", 1985, world.commune_a1)
    loan = session.exec(select(Support)).one()
    assert (loan.amount_vnd, loan.term_months) == (35_000_000, 24)
    group = session.exec(select(GroupActivity)).one()
    team = session.exec(select(Organisation).where(Organisation.kind == OrgKind.VOLUNTEER_TEAM)
                        ).one()
    assert group.organiser_id == team.id
    actions = session.exec(select(AuditEvent.action)).all()
    assert "import.commit" in actions and "import.preview" in actions
    assert actions.count("visit.create") == 4


def test_importing_the_same_file_twice_reports_duplicates_and_writes_nothing(
        session: Session, world: World) -> None:
    me = sup(session, world)
    data = workbook(valid_sheets())
    assert commit_import(session=session, actor=me, data=data).committed
    session.commit()
    clients = count(session, Client)
    again = commit_import(session=session, actor=me, data=data)
    assert not again.committed
    duplicates = {(e.sheet, e.row) for e in again.errors
                  if e.key == "import.error.duplicate_in_database"}
    others = {e.key for e in again.errors if e.key != "import.error.duplicate_in_database"}
    assert {("Đối tượng", 3), ("Đối tượng", 4), ("Đối tượng", 5), ("Tiếp cận", 3),
            ("Tiếp cận", 4), ("Mô hình", 3), ("Hoạt động nhóm", 3)} <= duplicates
    assert others == {"import.error.client_row_invalid"}  # their visits, tests, …
    assert count(session, Client) == clients


def test_one_bad_row_imports_nothing_and_names_sheet_row_and_column(
        session: Session, world: World) -> None:
    me = sup(session, world)
    sheets = valid_sheets()
    sheets["visits"][2][1] = "31/02/2025"  # the third data row: spreadsheet row 5
    before = count(session, Client), count(session, Visit)
    result = commit_import(session=session, actor=me, data=workbook(sheets))
    session.commit()
    assert not result.committed and sum(result.created.values()) == 0
    assert _errors(result) == [("Thăm gặp", 5, "Ngày thăm", "import.error.date_invalid")]
    assert (count(session, Client), count(session, Visit)) == before


def test_domain_rules_come_from_the_services_with_the_column_they_concern(
        session: Session, world: World) -> None:
    sheets = valid_sheets()
    sheets["visits"][0][6] = "01/03/2025"  # appointment before the visit: log_visit refuses
    sheets["clients"][2][3] = 1850  # register_client refuses the birth year
    preview = preview_import(session=session, actor=sup(session, world), data=workbook(sheets))
    assert not preview.ok
    assert ("Thăm gặp", 3, "Hẹn lần sau", "error.appointment_range") in _errors(preview)
    assert ("Đối tượng", 5, "Năm sinh", "error.birth_year_range") in _errors(preview)
    # Rows that depend on the refused client are reported against it, not silently dropped.
    assert ("Thăm gặp", 6, "Mã đối tượng", "import.error.client_row_invalid") in _errors(preview)


def test_duplicates_inside_the_file_name_the_first_row(session: Session, world: World) -> None:
    sheets = valid_sheets()
    sheets["contacts"].append(list(sheets["contacts"][0]))
    preview = preview_import(session=session, actor=sup(session, world), data=workbook(sheets))
    assert _errors(preview) == [("Tiếp cận", 5, "", "import.error.duplicate_in_file")]
    assert preview.errors[0].params == {"first_row": 3} and preview.duplicates == 1


def test_formula_cells_are_refused(session: Session, world: World) -> None:
    sheets = {"contacts": [["05/03/2025", "TA001", "Thân nhân", "=2*6", ""]]}
    data = workbook(sheets)  # openpyxl stores "=..." as a formula cell
    preview = preview_import(session=session, actor=sup(session, world), data=data)
    assert _errors(preview) == [("Tiếp cận", 3, "Số lượt", "import.error.formula")]

    wb = load_workbook(io.BytesIO(workbook({"contacts": []})))
    cell = wb[TITLES["contacts"]].cell(3, 5)
    cell.value, cell.data_type = "=HYPERLINK(\"http://x\")", "s"  # a text that looks like one
    for col, value in enumerate(("05/03/2025", "TA001", "Thân nhân", 3), start=1):
        wb[TITLES["contacts"]].cell(3, col).value = value
    out = io.BytesIO()
    wb.save(out)
    preview = preview_import(session=session, actor=sup(session, world), data=out.getvalue())
    assert _errors(preview) == [("Tiếp cận", 3, "Chủ đề", "import.error.formula")]


@pytest.mark.parametrize(("data", "key"), [
    (b"", "import.error.not_xlsx"),
    (b"Ho ten,Nam sinh\nA,1990\n", "import.error.not_xlsx"),
    (b"PK\x03\x04" + b"\x00" * 200, "import.error.not_xlsx"),
])
def test_files_that_are_not_workbooks_are_refused(session: Session, world: World, data: bytes,
                                                  key: str) -> None:
    preview = preview_import(session=session, actor=sup(session, world), data=data)
    assert _errors(preview) == [("", 0, "", key)]


def test_a_corrupt_workbook_is_refused(session: Session, world: World) -> None:
    good = workbook(valid_sheets())
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename.startswith("xl/worksheets/"):
                body = body[: len(body) // 2]  # cut the sheet's XML in half
            dst.writestr(item, body)
    preview = preview_import(session=session, actor=sup(session, world), data=broken.getvalue())
    assert _errors(preview) == [("", 0, "", "import.error.corrupt")]


def test_files_over_the_limits_are_refused(session: Session, world: World,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    me = sup(session, world)
    big = preview_import(session=session, actor=me, data=b"0" * (imports.MAX_BYTES + 1))
    assert [e.key for e in big.errors] == ["import.error.too_large"]
    monkeypatch.setattr(imports, "MAX_ROWS", 3)
    many = preview_import(session=session, actor=me, data=workbook(valid_sheets()))
    assert [(e.key, e.params) for e in many.errors] == [
        ("import.error.too_many_rows", {"max_rows": 3})]


def test_a_missing_required_column_is_named(session: Session, world: World) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = TITLES["contacts"]
    ws.append(["Ngày", "Mã xã/phường", "Số lượt"])
    ws.append(["05/03/2025", "TA001", 3])
    out = io.BytesIO()
    wb.save(out)
    preview = preview_import(session=session, actor=sup(session, world), data=out.getvalue())
    assert _errors(preview) == [("Tiếp cận", 0, "Nhóm người", "import.error.missing_column")]


def test_places_and_clients_outside_the_scope_are_refused(session: Session, world: World) -> None:
    sheets: dict[str, list[list[Any]]] = {
        "contacts": [["05/03/2025", "TA002", "Thân nhân", 3, ""],  # another commune
                     ["05/03/2025", "XX999", "Thân nhân", 3, ""]],  # no such commune
        "visits": [[f"#{world.clients['a2']}", "10/03/2025", "Thăm tại nhà", "", "", "", ""],
                   ["K9", "10/03/2025", "Thăm tại nhà", "", "", "", ""]],
    }
    preview = preview_import(session=session, actor=sup(session, world), data=workbook(sheets))
    assert sorted(_errors(preview)) == sorted([
        ("Tiếp cận", 3, "Mã xã/phường", "import.error.out_of_scope"),
        ("Tiếp cận", 4, "Mã xã/phường", "import.error.unknown_commune"),
        ("Thăm gặp", 3, "Mã đối tượng", "import.error.unknown_client"),
        ("Thăm gặp", 4, "Mã đối tượng", "import.error.unknown_client"),
    ])


def test_existing_clients_can_be_referred_to_by_record_number(
        session: Session, world: World) -> None:
    sheets = {"visits": [[f"#{world.clients['a1']}", "10/03/2025", "Thăm tại nhà", "", "", "",
                          ""]]}
    result = commit_import(session=session, actor=sup(session, world), data=workbook(sheets))
    assert result.committed and result.created["visits"] == 1
    assert session.exec(select(Visit.client_id)).all() == [world.clients["a1"]]


def test_cell_formats_are_checked_with_clear_keys(session: Session, world: World) -> None:
    sheets: dict[str, list[list[Any]]] = {
        "support": [["K1", "Vay vốn", "01/04/2025", "35.000.000,5", 24, "", ""]],
        "clients": [["K1", "Phạm Văn Bình", "", "một chín tám lăm", "", "Nam?", "", "", "TA001",
                     "", "", "", "", "", "", "", "", "", ""]],
    }
    preview = preview_import(session=session, actor=sup(session, world), data=workbook(sheets))
    assert sorted(_errors(preview)) == sorted([
        ("Đối tượng", 3, "Năm sinh", "import.error.whole_number"),
        ("Đối tượng", 3, "Giới tính", "import.error.choice"),
        ("Đối tượng", 3, "Ngày đồng ý", "import.error.required"),
        ("Hỗ trợ", 3, "Số tiền (đồng)", "import.error.money_format"),
    ])


def test_money_accepts_vietnamese_thousand_separators() -> None:
    assert imports._parse_int("875.000.000", money=True) == 875_000_000
    assert imports._parse_int("875,000,000 đ", money=True) == 875_000_000
    assert imports._parse_int(50_000_000.0, money=True) == 50_000_000
    with pytest.raises(ValueError, match="money_format"):
        imports._parse_int(1.5, money=True)
