"""Importing what communes keep beyond clients and visits (issue 15): management episodes,
facility admissions and residents, referral outcomes, vocational classes; the template's
drop-downs (every label whole, Có/Không), the commune-code sheet; and the reading rules
(outreach counts are part of the record, dates that do not exist, problems in workbook order).
"""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session, col, select

from app.services import imports
from app.services.imports import SHEETS, commit_import, preview_import, template_xlsx
from app.services.reports import province_report
from models import (
    AuditEvent,
    Client,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    GroupActivity,
    GroupActivityClient,
    OrgKind,
    OutreachContact,
    Referral,
    ReferralStatus,
)
from tests.factories import World, build_world, make_facility
from tests.unit.test_imports import _errors, sup, valid_sheets, workbook

ROOT = Path(__file__).resolve().parents[2]


def world_with_rehab(session: Session) -> tuple[World, int]:
    world = build_world(session)
    rehab = make_facility(session, "Cơ sở cai nghiện ma túy tỉnh A", world.commune_a1,
                          OrgKind.REHAB_FACILITY)
    session.commit()
    return world, rehab


# --- the template's drop-downs ----------------------------------------------------------------


def _offered(book: Any, ws: Worksheet, letter: str) -> list[str] | None:
    """The labels Excel offers in a column's drop-down (row 3), following a defined name to
    its range; None when the column has no drop-down."""
    for rule in ws.data_validations.dataValidation:
        if rule.type == "list" and f"{letter}3" in rule.sqref:
            formula = rule.formula1.lstrip("=")
            if formula.startswith('"'):
                return formula.strip('"').split(",")  # what Excel does with a literal list
            ref = book.defined_names[formula].attr_text
            sheet, cells = ref.rsplit("!", 1)
            target = book[sheet.strip("'")]
            return [c.value for row in target[cells.replace("$", "")] for c in row]
    return None


def test_every_drop_down_offers_every_label_of_its_code_list_whole() -> None:
    book = load_workbook(io.BytesIO(template_xlsx()))
    checked = 0
    for spec in SHEETS:
        ws = book[spec.title]
        for index, column in enumerate(spec.columns, start=1):
            letter = ws.cell(1, index).column_letter
            offered = _offered(book, ws, letter)
            if column.kind in ("choice", "bool"):
                assert column.choices is not None
                assert offered == list(column.choices), (spec.title, column.header)
                checked += 1
            else:
                assert offered is None, (spec.title, column.header)
    assert checked >= 15
    assert book[imports.LIST_SHEET].sheet_state == "hidden"
    # The labels with commas that Excel used to split are offered whole.
    every = {label for labels in imports.code_lists().values() for label in labels}
    assert {"Điều trị, cai nghiện", "Học sinh, sinh viên", "Chiến dịch, ra quân",
            "Cai nghiện tự nguyện tại gia đình, cộng đồng", "Có", "Không"} <= every


def test_the_template_lists_every_commune_code_with_its_name() -> None:
    book = load_workbook(io.BytesIO(template_xlsx()))
    codes = book[imports.CODES_SHEET]
    rows = list(codes.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3321
    by_code = {code: (name, province) for code, name, province in rows}
    assert len(by_code) == 3321 and all(re.fullmatch(r"\d{5}", c) for c in by_code)
    assert all(name and province for name, province in by_code.values())


def test_import_md_and_the_template_agree() -> None:
    """Each sheet of the template has its section in docs/IMPORT.md with exactly its columns,
    and every accepted value of a code list is written there."""
    text = (ROOT / "docs" / "IMPORT.md").read_text()
    for spec in SHEETS:
        heading = rf"### Sheet “{re.escape(spec.title)}” \(`{spec.kind}`\)\n"
        match = re.search(heading + r"(.*?)(?=\n### |\Z)", text, re.S)
        assert match, f"IMPORT.md has no section for {spec.title}"
        lines = [ln for ln in match.group(1).splitlines()
                 if ln.startswith("| ") and not ln.startswith("| Column ")]
        headers = [ln.split("|")[1].strip() for ln in lines]
        assert headers == [c.header for c in spec.columns], spec.title
        for line, column in zip(lines, spec.columns, strict=True):
            assert ("yes" in line.split("|")[2]) == column.required, (spec.title, column.header)
            for label in column.choices or {}:
                assert label in line, (spec.title, column.header, label)


# --- the registers ------------------------------------------------------------------------------


def register_sheets() -> dict[str, list[list[Any]]]:
    sheets = valid_sheets()
    sheets["clients"].append(["K4", "Đỗ Văn Bình", "", 1990, "", "Nam", "", "", "TA001", "", "",
                              "", "", "", "", "", "", "04/03/2025", ""])
    sheets["referrals"].append(["K1", "Điều trị, cai nghiện", "21/03/2025", "", "Có"])
    sheets["episodes"] = [
        ["K1", "Quản lý sau cai nghiện", "15/QĐ-UBND", "01/02/2025", "01/02/2025", "", "", ""],
        ["K2", "Quản lý người sử dụng trái phép chất ma túy", "", "", "01/01/2025",
         "31/12/2025", "", ""],
        # An episode that ended, then the next one: both stored, oldest first.
        ["K3", "Cai nghiện tự nguyện tại gia đình, cộng đồng", "", "", "01/04/2025", "",
         "01/05/2025", "Tái nghiện"],
        ["K3", "Cai nghiện tự nguyện tại gia đình, cộng đồng", "", "", "02/05/2025", "", "", ""],
    ]
    sheets["admissions"] = [
        ["K4", "Cơ sở cai nghiện ma túy tỉnh A", "Bắt buộc", "7/QĐ-TA", "01/03/2025",
         "05/03/2025", "", "", ""],
        ["K3", "Cơ sở cai nghiện ma túy tỉnh A", "Tự nguyện", "", "", "05/03/2025", "",
         "30/03/2025", "Hoàn thành"],
    ]
    sheets["outcomes"] = [
        ["K2", "Methadone", "20/03/2025", "Đã đến, sử dụng dịch vụ", "25/03/2025"],
        ["K1", "Điều trị, cai nghiện", "21/03/2025", "Từ chối", "22/03/2025"],
    ]
    sheets["classes"] = [
        ["Cơ sở cai nghiện ma túy tỉnh A", "Sửa chữa điều hòa", "10/03/2025", 12],
        ["Cơ sở cai nghiện ma túy tỉnh A", "Trồng rau an toàn", "10/04/2025", 12],
        ["Cơ sở cai nghiện ma túy tỉnh A", "May công nghiệp", "10/05/2025", 11],
    ]
    sheets["learners"] = [
        ["K3", "Cơ sở cai nghiện ma túy tỉnh A", "Sửa chữa điều hòa", "10/03/2025"],
        ["K4", "cơ sở cai nghiện ma túy tỉnh a", "sửa chữa điều hòa", "10/03/2025"],
    ]
    return sheets


def test_episodes_admissions_outcomes_and_classes_are_imported_and_reported(
    session: Session,
) -> None:
    world, rehab = world_with_rehab(session)
    me = sup(session, world)
    result = commit_import(session=session, actor=me, data=workbook(register_sheets()))
    session.commit()
    assert result.committed, _errors(result)
    assert {k: result.created[k] for k in (
        "episodes", "admissions", "outcomes", "classes", "learners")} == {
        "episodes": 4, "admissions": 2, "outcomes": 2, "classes": 3, "learners": 2}
    imported = select(Client.id).where(col(Client.full_name).in_(
        ["Nguyễn Văn Hùng", "Trần Thị Mai", "Lê Văn Tài", "Đỗ Văn Bình"]))
    episodes = session.exec(select(Episode).where(
        col(Episode.client_id).in_(imported))).all()
    post = next(e for e in episodes if e.episode_type == EpisodeType.POST_REHAB)
    assert (post.decision_number, post.decision_date, post.status) == (
        "15/QĐ-UBND", date(2025, 2, 1), EpisodeStatus.OPEN)
    assert post.expected_end == date(2026, 2, 1)  # from the rule in force (12 months)
    ended = next(e for e in episodes if e.actual_end == date(2025, 5, 1))
    assert (ended.status, ended.end_reason) == (EpisodeStatus.CLOSED, EndReason.RELAPSE)
    compulsory = next(e for e in episodes if e.episode_type == EpisodeType.COMPULSORY)
    assert (compulsory.provider_id, compulsory.decision_number) == (rehab, "7/QĐ-TA")
    outcomes = {(str(r.service), r.status, r.feedback_on) for r in session.exec(
        select(Referral).where(col(Referral.client_id).in_(imported))).all()}
    assert outcomes == {("mmt", ReferralStatus.USED, date(2025, 3, 25)),
                        ("treatment", ReferralStatus.DECLINED, date(2025, 3, 22))}
    classes = session.exec(select(GroupActivity).where(GroupActivity.organiser_id == rehab)).all()
    assert sorted(c.attendees_total for c in classes) == [11, 12, 12]
    repair = next(c for c in classes if c.topic == "Sửa chữa điều hòa")
    linked = session.exec(select(GroupActivityClient.client_id).where(
        GroupActivityClient.activity_id == repair.id)).all()
    assert repair.attendees_clients == 2 and set(linked) == set(session.exec(
        select(Client.id).where(col(Client.full_name).in_(["Lê Văn Tài", "Đỗ Văn Bình"]))).all())
    report = province_report(session=session, actor=world.actor(session, "sup_a"),
                             place_id=world.province_a, period_start=date(2025, 1, 1),
                             period_end=date(2025, 12, 31))
    figures = {k: f.value for k, f in report.figures().items()}
    assert figures["report.facility.admitted.compulsory"] == 1
    assert figures["report.facility.admitted.voluntary"] == 1
    assert figures["report.facility.managed.compulsory"] == 1
    assert figures["report.facility.vocational_classes"] == 3
    assert figures["report.facility.vocational_learners"] == 35
    closes = session.exec(select(AuditEvent).where(AuditEvent.action == "episode.close")).all()
    assert len(closes) == 2


def test_register_rows_are_checked_like_any_other(session: Session) -> None:
    world, _rehab = world_with_rehab(session)
    sheets = register_sheets()
    sheets["episodes"][0][7] = "Hoàn thành"  # a reason without an end date
    sheets["admissions"][0][1] = "Cơ sở điều trị A"  # a clinic, not a rehab facility
    sheets["outcomes"][0][2] = "19/03/2025"  # no referral that day
    sheets["classes"][0][3] = "mười"
    sheets["learners"].append(["K1", "Cơ sở cai nghiện ma túy tỉnh A", "Hàn", "10/03/2025"])
    preview = preview_import(session=session, actor=sup(session, world), data=workbook(sheets))
    found = _errors(preview)
    assert ("Đợt quản lý", 3, "Ngày kết thúc", "episode.error.end_pair") in found
    assert ("Cơ sở cai nghiện", 3, "Cơ sở", "import.error.not_rehab_facility") in found
    assert ("Kết quả chuyển gửi", 3, "Ngày chuyển gửi", "import.error.unknown_referral") in found
    assert ("Lớp học nghề", 3, "Số học viên", "import.error.whole_number") in found
    assert ("Học viên lớp nghề", 5, "Tên lớp, nghề", "import.error.unknown_class") in found
    # In workbook order: sheet by sheet as in the template, then row by row.
    titles = [s.title for s in SHEETS]
    order = [(titles.index(sheet), row) for sheet, row, _c, _k in found]
    assert order == sorted(order)


def test_two_outreach_sessions_on_one_day_with_different_counts_are_two_records(
    session: Session,
) -> None:
    world, _rehab = world_with_rehab(session)
    sheets = valid_sheets()
    sheets["contacts"].append(["05/03/2025", "TA001", "Người sử dụng ma túy", 8, "Tác hại ma túy"])
    result = commit_import(session=session, actor=sup(session, world), data=workbook(sheets))
    session.commit()
    assert result.committed, _errors(result)
    assert sorted(c.count for c in session.exec(select(OutreachContact)).all()) == [8, 12, 30]
    # The same count again is the same record.
    again = valid_sheets()
    again["contacts"].append(list(again["contacts"][0]))
    preview = preview_import(session=session, actor=sup(session, world), data=workbook(again))
    assert ("Tiếp cận", 5, "", "import.error.duplicate_in_file") in _errors(preview)


def test_a_date_that_does_not_exist_is_called_so(session: Session) -> None:
    world, _rehab = world_with_rehab(session)
    sheets = valid_sheets()
    sheets["contacts"][0][0] = "31/02/2022"
    sheets["contacts"][1][0] = "2022/02/03"
    found = _errors(preview_import(session=session, actor=sup(session, world),
                                   data=workbook(sheets)))
    assert ("Tiếp cận", 3, "Ngày", "import.error.date_invalid") in found
    assert ("Tiếp cận", 4, "Ngày", "import.error.date_format") in found
