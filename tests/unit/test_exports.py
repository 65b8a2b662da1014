"""Exports (app/services/exports.py): report xlsx/PDF and client line lists, all audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.services import exports
from app.services.errors import PermissionDenied
from app.services.exports import LineListFilters, client_line_list, export_report
from app.services.reports import province_report
from models import AuditEvent, Client, Setting
from tests.factories import make_client, prepare_database, reset_database
from tests.fixtures_reports import DT_END, DT_START, SeedWorld, build_seed_world


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory,
           pg_server_url: str | None) -> Iterator[tuple[Engine, SeedWorld]]:
    url = pg_server_url or f"sqlite:///{Path(tmp_path_factory.mktemp('exp')) / 'e.db'}"
    engine = prepare_database(url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_seed_world(s)
    yield engine, world
    reset_database(engine)


@pytest.fixture
def dt(seeded: tuple[Engine, SeedWorld]) -> Iterator[tuple[Session, SeedWorld]]:
    with Session(seeded[0], expire_on_commit=False) as s:
        yield s, seeded[1]
        s.rollback()


def _xlsx(dt: tuple[Session, SeedWorld]) -> bytes:
    db, world = dt
    return export_report(session=db, actor=world.actor(db, "sup_dt"), place_id=world.dt_province,
                         period_start=DT_START, period_end=DT_END, fmt="xlsx")


def _rows_by_label(sheet: object) -> dict[str, tuple[object, ...]]:
    return {row[0]: row[1:] for row in sheet.iter_rows(min_row=5, values_only=True)  # type: ignore[attr-defined]
            if row[0]}


def test_the_report_workbook_has_one_sheet_per_table_with_the_figures(
        dt: tuple[Session, SeedWorld]) -> None:
    book = load_workbook(io.BytesIO(_xlsx(dt)))
    assert book.sheetnames == [
        "Tiếp cận, tư vấn", "Kết nối, chuyển gửi", "Hội nghị, sự kiện", "Mô hình",
        "Quản lý tại cộng đồng", "Cơ sở cai nghiện", "Hoạt động tình nguyện viên", "Theo tháng",
        "Kết quả chuyển gửi", "Đợt quản lý theo loại",
    ]
    community = book["Quản lý tại cộng đồng"]
    assert community["A1"].value == "CHƯƠNG TRÌNH ĐỒNG HÀNH"
    assert "01/04/2021" in community["A2"].value and "31/03/2022" in community["A2"].value
    assert [c.value for c in community[4]] == ["Chỉ tiêu", "Số liệu", "Trên tổng số", "Tỷ lệ (%)"]
    rows = _rows_by_label(community)
    assert rows["Người nghiện được quản lý tại cộng đồng"][0] == 1619
    assert rows["Có chuyển biến tốt (nhiều lần xét nghiệm âm tính)"] == (427, 1619, 26.4)
    assert rows["Tổng số tiền cho vay (đồng)"][0] == 875_000_000
    models = _rows_by_label(book["Mô hình"])
    assert models["Xã, phường triển khai mô hình"][:2] == (127, 143)


def test_the_organisation_header_comes_from_the_settings_table(
        dt: tuple[Session, SeedWorld]) -> None:
    db, _world = dt
    db.add(Setting(key="report_header", value="CÔNG AN TỈNH ĐỒNG THÁP — PHÒNG PC04"))
    db.flush()
    book = load_workbook(io.BytesIO(_xlsx(dt)))
    assert book["Mô hình"]["A1"].value == "CÔNG AN TỈNH ĐỒNG THÁP — PHÒNG PC04"


def test_the_report_pdf_is_an_a4_document(dt: tuple[Session, SeedWorld]) -> None:
    db, world = dt
    report = province_report(session=db, actor=world.actor(db, "sup_dt"),
                             place_id=world.dt_province, period_start=DT_START,
                             period_end=DT_END)
    pdf = exports.report_pdf(report)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf  # A4 portrait in points
    assert b"DejaVu" in pdf  # the Unicode font is embedded (Vietnamese needs it)


def test_report_exports_are_audited_and_need_the_export_right(
        dt: tuple[Session, SeedWorld]) -> None:
    db, world = dt
    _xlsx(dt)
    export_report(session=db, actor=world.actor(db, "sup_dt"), place_id=world.dt_province,
                  period_start=DT_START, period_end=DT_END, fmt="pdf")
    db.flush()
    details = db.exec(select(AuditEvent.detail).where(AuditEvent.action == "export",
                                                      AuditEvent.outcome == "ok")).all()
    assert details == ["report fmt=xlsx 2021-04-01..2022-03-31",
                       "report fmt=pdf 2021-04-01..2022-03-31"]
    with pytest.raises(PermissionDenied):
        export_report(session=db, actor=world.actor(db, "vol_dt"), place_id=world.dt_communes[0],
                      period_start=DT_START, period_end=DT_END, fmt="xlsx")


# --- line lists ----------------------------------------------------------------------------


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Vietnamese correctly
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_a_deidentified_line_list_has_no_names_ids_phones_or_addresses(
        dt: tuple[Session, SeedWorld]) -> None:
    db, world = dt
    me = world.actor(db, "sup_dt")
    filters = LineListFilters(place_id=world.dt_communes[0])
    data = client_line_list(session=db, actor=me, filters=filters, deidentified=True)
    rows = _csv_rows(data)
    assert rows[0] == ["Mã ẩn danh", "Nhóm năm sinh", "Giới tính", "Xã/phường",
                       "Đợt quản lý đang mở", "Trạng thái"]
    clients = db.exec(select(Client).where(Client.commune_id == world.dt_communes[0],
                                           Client.status == "active")).all()
    assert len(rows) - 1 == len(clients) > 0
    text = data.decode("utf-8-sig")
    for client in clients:
        assert client.full_name not in text and client.phone not in text
        assert str(client.birth_year) not in [r[1] for r in rows[1:]]
    assert all(r[0].startswith("DH-") and len(r[0]) == 13 for r in rows[1:])
    assert all(r[1].count("-") == 1 and int(r[1][-4:]) - int(r[1][:4]) == 4 for r in rows[1:])
    again = client_line_list(session=db, actor=me, filters=filters, deidentified=True)
    assert [r[0] for r in _csv_rows(again)] == [r[0] for r in rows]  # stable pseudonyms


def test_an_identified_line_list_names_the_clients_and_is_audited(
        dt: tuple[Session, SeedWorld]) -> None:
    db, world = dt
    me = world.actor(db, "sup_dt")
    filters = LineListFilters(place_id=world.dt_communes[0])
    rows = _csv_rows(client_line_list(session=db, actor=me, filters=filters, deidentified=False))
    assert rows[0][:3] == ["Số hồ sơ", "Họ và tên", "Tên gọi khác"]
    assert all(r[1].startswith("Người Thử") for r in rows[1:])
    book = load_workbook(io.BytesIO(client_line_list(
        session=db, actor=me, filters=filters, deidentified=True, fmt="xlsx")))
    assert book.active is not None and book.active.max_row == len(rows)
    db.flush()
    details = db.exec(select(AuditEvent.detail).where(AuditEvent.action == "export",
                                                       AuditEvent.target_type == "place")).all()
    n = len(rows) - 1
    assert details == [f"line_list fmt=csv deidentified=0 rows={n}",
                       f"line_list fmt=xlsx deidentified=1 rows={n}"]


def test_line_lists_are_refused_outside_the_scope_and_to_volunteers(
        dt: tuple[Session, SeedWorld]) -> None:
    db, world = dt
    with pytest.raises(PermissionDenied):
        client_line_list(session=db, actor=world.actor(db, "sup_other"),
                         filters=LineListFilters(place_id=world.dt_province), deidentified=True)
    with pytest.raises(PermissionDenied):
        client_line_list(session=db, actor=world.actor(db, "vol_dt"),
                         filters=LineListFilters(place_id=world.dt_communes[0]),
                         deidentified=True)


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(
        dt: tuple[Session, SeedWorld]) -> None:
    db, world = dt
    make_client(db, world.dt_communes[5], None, name="Đỗ Văn Giang",
                address='=HYPERLINK("http://x","bấm")')
    data = client_line_list(session=db, actor=world.actor(db, "sup_dt"),
                            filters=LineListFilters(place_id=world.dt_communes[5]),
                            deidentified=False, fmt="xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    addresses = [row[8] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://x\",\"bấm\")" in addresses
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def _cells(data: bytes, delimiter: str) -> list[str]:
    """Every cell as a spreadsheet using `delimiter` as its list separator would cut them."""
    text = data.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_a_csv_cell_never_starts_a_formula_whatever_the_list_separator(
        dt: tuple[Session, SeedWorld], delimiter: str) -> None:
    db, world = dt
    hostile = ["X;=1+2", "Y,=2+3", "Z;  -4+cmd|' /C calc'!A0", "@SUM(1)", "+84 912", "\t=1"]
    for i, name in enumerate(hostile):
        make_client(db, world.dt_communes[5], None, name=f"Người {i} {name}",
                    address=name, phone="=1+1")
    data = client_line_list(session=db, actor=world.actor(db, "sup_dt"),
                            filters=LineListFilters(place_id=world.dt_communes[5]),
                            deidentified=False, fmt="csv")
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Vietnamese right
    lines = data.decode("utf-8-sig").split("\r\n")
    # Every field quoted, the header too.
    assert all(line.startswith('"') and line.endswith('"') for line in lines if line)
    cells = _cells(data, delimiter)
    risky = [c for c in cells if c.lstrip(' "').startswith(("=", "+", "-", "@"))]
    assert risky == []
    assert any("X;'=1+2" in c for c in _cells(data, ","))  # the text itself is kept


def test_the_people_in_an_export_are_audited_one_by_one_by_id(
        dt: tuple[Session, SeedWorld]) -> None:
    db, world = dt
    me = world.actor(db, "sup_dt")
    filters = LineListFilters(place_id=world.dt_communes[0])
    rows = _csv_rows(client_line_list(session=db, actor=me, filters=filters, deidentified=False))
    db.flush()
    people = db.exec(select(AuditEvent.target_id).where(
        AuditEvent.action == "export", AuditEvent.target_type == "client")).all()
    assert sorted(people) == sorted(int(r[0]) for r in rows[1:])
    details = set(db.exec(select(AuditEvent.detail).where(
        AuditEvent.action == "export", AuditEvent.target_type == "client")).all())
    assert details == {f"line_list place={world.dt_communes[0]} fmt=csv deidentified=0"}
