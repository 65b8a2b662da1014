"""Spreadsheet import of the registers communes keep today (see docs/IMPORT.md).

`template_xlsx` gives the workbook to fill: one sheet per kind of record, Vietnamese headers,
a notes row under them. `preview_import` checks a filled workbook and says what would be
created, and every problem with its sheet, row number and column header; `commit_import`
does the same and writes everything or nothing.

Checking happens in three passes, so that each rule lives in one place:

1. *Reading* (here): the file itself (size, a real xlsx, no formulas, row limit), the column
   headers, and each cell's format (dates dd/mm/yyyy, whole numbers, money in whole đồng,
   code lists), references between sheets, and duplicates inside the file.
2. *Against the database* (here), before anything is written: references to existing
   clients, communes and organisations, the actor's scope, and rows that already exist.
3. *The domain rules*: each row goes through the ordinary service (`register_client`,
   `log_visit`, `record_drug_test`, …) exactly as if typed in a form, inside a savepoint.
   A preview always rolls the savepoint back; a commit keeps it only if no row failed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col
from vietnam_provinces import Province, Ward

from app.services import audit
from app.services.activities import (
    complete_referral,
    log_outreach_contact,
    log_visit,
    record_drug_test,
    record_group_activity,
    record_support,
)
from app.services.activities import create_referral as create_referral_record
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.clients import DuplicateCandidates, register_client
from app.services.dto import (
    ClientCreate,
    ConsentInput,
    DrugTestCreate,
    EpisodeCreate,
    GroupActivityCreate,
    OutreachContactCreate,
    ReferralCreate,
    SupportCreate,
    VisitCreate,
)
from app.services.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from app.services.law import record_episode
from app.services.policy import (
    Action,
    PlaceTarget,
    authorize,
    authorize_grant,
    can,
    client_target,
)
from app.services.text import clean, fold, vi_sort_key
from models import (
    Client,
    ClientStatus,
    ContactCategory,
    DrugTest,
    EndReason,
    Episode,
    EpisodeType,
    GroupActivity,
    GroupActivityClient,
    GroupActivityKind,
    Organisation,
    OrgKind,
    OutreachContact,
    Place,
    PlaceKind,
    Referral,
    ReferralService,
    ReferralStatus,
    Sex,
    Support,
    SupportKind,
    TestResult,
    Visit,
    VisitKind,
)

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a zip bomb is refused before openpyxl unpacks it
MAX_ERRORS = 1000
HEADER_ROW = 1
NOTES_ROW = 2

# --- code lists: the label people type (Vietnamese) -> stored value ------------------------

SEX = {"Nam": Sex.MALE, "Nữ": Sex.FEMALE, "Khác": Sex.OTHER}
VISIT_KINDS = {
    "Thăm tại nhà": VisitKind.HOME, "Điện thoại/Zalo": VisitKind.PHONE,
    "Sinh hoạt cộng đồng": VisitKind.COMMUNITY_MEETING,
    "Đến cơ sở điều trị": VisitKind.CLINIC_ATTENDANCE,
}
CONTACT_CATEGORIES = {
    "Người sử dụng ma túy": ContactCategory.PERSON_WHO_USES_DRUGS,
    "Thân nhân": ContactCategory.RELATIVE, "Người nhiễm HIV": ContactCategory.PERSON_WITH_HIV,
    "Nhóm nguy cơ cao": ContactCategory.HIGH_RISK, "Học sinh, sinh viên": ContactCategory.STUDENT,
    "Khác": ContactCategory.OTHER,
}
TEST_RESULTS = {"Âm tính": TestResult.NEGATIVE, "Dương tính": TestResult.POSITIVE,
                "Không hợp lệ": TestResult.INVALID}
SERVICES = {
    "Điều trị, cai nghiện": ReferralService.TREATMENT, "Methadone": ReferralService.MMT,
    "Xét nghiệm HIV": ReferralService.HIV_TEST, "ARV": ReferralService.ARV,
    "PrEP": ReferralService.PREP, "Lao, viêm gan": ReferralService.TB_HEPATITIS,
    "Sức khỏe tâm thần": ReferralService.MENTAL_HEALTH,
    "Khám sức khỏe": ReferralService.HEALTH_CHECK, "Trợ giúp pháp lý": ReferralService.LEGAL_AID,
    "Giấy tờ tùy thân": ReferralService.IDENTITY_PAPERS, "Học nghề": ReferralService.VOCATIONAL,
    "Việc làm": ReferralService.JOB, "Vay vốn": ReferralService.LOAN,
}
SUPPORT_KINDS = {
    "Học nghề": SupportKind.VOCATIONAL_TRAINING, "Giới thiệu việc làm": SupportKind.JOB_PLACEMENT,
    "Vay vốn": SupportKind.LOAN, "Học văn hóa": SupportKind.SCHOOLING,
    "Trợ giúp xã hội": SupportKind.SOCIAL_ASSISTANCE,
}
GROUP_KINDS = {
    "Hội nghị": GroupActivityKind.CONFERENCE,
    "Nói chuyện chuyên đề": GroupActivityKind.THEMATIC_TALK,
    "Sinh hoạt câu lạc bộ": GroupActivityKind.CLUB_MEETING,
    "Chiến dịch, ra quân": GroupActivityKind.CAMPAIGN_EVENT,
    "Tập huấn": GroupActivityKind.TRAINING,
}
MODEL_KINDS = {
    "Đội công tác xã hội tình nguyện": OrgKind.VOLUNTEER_TEAM,
    "Điểm tư vấn": OrgKind.COUNSELLING_POINT, "Câu lạc bộ": OrgKind.SUPPORT_CLUB,
}
CONSENT_CATEGORIES = {
    "Sử dụng ma túy": "drug_use", "Kết quả xét nghiệm": "test_results", "Sức khỏe": "health",
    "Hồ sơ công an": "police_records",
}
YES_NO = {"Có": True, "Không": False}
EPISODE_TYPES = {
    "Quản lý người sử dụng trái phép chất ma túy": EpisodeType.ILLEGAL_USE,
    "Cai nghiện tự nguyện tại gia đình, cộng đồng": EpisodeType.VOLUNTARY_COMMUNITY,
    "Cai nghiện tự nguyện tại cơ sở": EpisodeType.VOLUNTARY_FACILITY,
    "Điều trị thay thế (Methadone)": EpisodeType.MMT,
    "Cai nghiện bắt buộc": EpisodeType.COMPULSORY,
    "Quản lý trong thời gian lập hồ sơ bắt buộc": EpisodeType.PENDING_COMPULSORY,
    "Quản lý sau cai nghiện": EpisodeType.POST_REHAB,
}
END_REASONS = {
    "Hoàn thành": EndReason.COMPLETED, "Bỏ dở": EndReason.QUIT,
    "Tái nghiện": EndReason.RELAPSE, "Chuyển nơi khác": EndReason.MOVED,
    "Chấp hành án phạt tù": EndReason.IMPRISONED, "Chết": EndReason.DIED,
}
ADMISSION_TYPES = {
    "Tự nguyện": EpisodeType.VOLUNTARY_FACILITY, "Bắt buộc": EpisodeType.COMPULSORY,
    "Chưa có quyết định": EpisodeType.PENDING_COMPULSORY,
}
REFERRAL_OUTCOMES = {
    "Đã đến, sử dụng dịch vụ": ReferralStatus.USED, "Từ chối": ReferralStatus.DECLINED,
    "Hết hạn": ReferralStatus.EXPIRED,
}
_RESOLVED_LATER = frozenset({"client", "place", "org"})
_TRUE_WORDS = {"co", "x", "1", "true", "yes"}
_FALSE_WORDS = {"khong", "0", "false", "no"}


# --- the template's shape ------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    header: str
    name: str  # field of the service's input model (errors come back under this name)
    kind: str  # text, int, money, date, bool, choice, choices, place, client, org, ref
    required: bool = False
    note: str = ""
    choices: dict[str, Any] | None = None
    # Error fields of the service that belong to this column (besides `name`).
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetSpec:
    kind: str  # clients, visits, contacts, tests, referrals, support, groups, models
    title: str  # the sheet's name in the workbook
    columns: tuple[Column, ...]

    def column_for(self, error_field: str) -> Column | None:
        for c in self.columns:
            if error_field == c.name or error_field in c.also:
                return c
        return None


_D = "dd/mm/yyyy"
_REF = Column("Mã đối tượng", "client_id", "client", True,
              "Mã trong tệp (sheet Đối tượng), hoặc số định danh 12 số, hoặc #số hồ sơ")
_COMMUNE = Column("Mã xã/phường", "place_id", "place", True, "Mã xã/phường 5 số")

SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("models", "Mô hình", (
        Column("Loại mô hình", "kind", "choice", True, "Chọn trong danh mục", MODEL_KINDS),
        Column("Tên", "name", "text", True, "Tên đầy đủ, duy nhất trong tỉnh"),
        _COMMUNE,
        Column("Quyết định thành lập", "founding_decision", "text", False, "Số, ngày quyết định"),
        Column("Ngày thành lập", "founded_on", "date", False, _D),
    )),
    SheetSpec("clients", "Đối tượng", (
        Column("Mã trong tệp", "file_ref", "ref", True,
               "Mã tự đặt, không trùng; sheet khác dùng mã này"),
        Column("Họ và tên", "full_name", "text", True, "Có dấu"),
        Column("Tên gọi khác", "other_names", "text"),
        Column("Năm sinh", "birth_year", "int", True, "4 chữ số"),
        Column("Ngày sinh", "birth_date", "date", False, _D),
        Column("Giới tính", "sex", "choice", True, "Nam / Nữ / Khác", SEX),
        Column("Số định danh", "national_id", "text", False, "12 chữ số (nhập dạng văn bản)"),
        Column("Điện thoại", "phone", "text", False, "Nhập dạng văn bản"),
        Column("Mã xã/phường", "commune_id", "place", True, "Mã xã/phường nơi cư trú, 5 số"),
        Column("Địa chỉ", "address", "text"),
        Column("Địa chỉ cũ", "former_address", "text", False, "Địa chỉ trước 01/7/2025 nếu có"),
        Column("Người đại diện", "legal_rep_name", "text", False, "Bắt buộc nếu dưới 18 tuổi"),
        Column("ĐT người đại diện", "legal_rep_phone", "text"),
        Column("Liên hệ gia đình", "family_contact", "text"),
        Column("Nhóm ưu tiên", "priority_group", "text"),
        Column("Chất sử dụng", "substances", "text"),
        Column("Tiêm chích", "injects", "bool", False, "Có / Không", YES_NO),
        Column("Ngày đồng ý", "consent_given_on", "date", True, f"Ngày ký phiếu đồng ý, {_D}",
               also=("consents",)),
        Column("Dữ liệu nhạy cảm đồng ý", "consent_categories", "choices", False,
               "Các mục cách nhau dấu phẩy", CONSENT_CATEGORIES),
    )),
    SheetSpec("visits", "Thăm gặp", (
        _REF,
        Column("Ngày thăm", "visit_date", "date", True, _D),
        Column("Hình thức", "kind", "choice", True, "Chọn trong danh mục", VISIT_KINDS),
        Column("Nội dung", "content", "text", False, "tư vấn, giáo dục, hỗ trợ"),
        Column("Tình hình ghi nhận", "notes", "text"),
        Column("Dấu hiệu nguy cơ", "risk_flags", "text"),
        Column("Hẹn lần sau", "next_appointment", "date", False, _D),
    )),
    SheetSpec("contacts", "Tiếp cận", (
        Column("Ngày", "contact_date", "date", True, _D),
        _COMMUNE,
        Column("Nhóm người", "category", "choice", True, "Chọn trong danh mục",
               CONTACT_CATEGORIES),
        Column("Số lượt", "count", "int", True, "Số lượt người được tiếp cận, tư vấn"),
        Column("Chủ đề", "topic", "text"),
    )),
    SheetSpec("tests", "Xét nghiệm", (
        _REF,
        Column("Ngày xét nghiệm", "tested_on", "date", True, _D),
        Column("Kết quả", "result", "choice", True, "Âm tính / Dương tính / Không hợp lệ",
               TEST_RESULTS),
        Column("Mẫu", "sample", "text", False, "urine (nước tiểu)…"),
        Column("Phương pháp", "method", "text", False, "rapid (test nhanh)…"),
        Column("Chất", "substances", "text"),
        Column("Người thực hiện", "performed_by", "text"),
    )),
    SheetSpec("referrals", "Chuyển gửi", (
        _REF,
        Column("Dịch vụ", "service", "choice", True, "Chọn trong danh mục", SERVICES),
        Column("Ngày chuyển gửi", "referred_on", "date", True, _D),
        Column("Cơ sở tiếp nhận", "facility_id", "org", False, "Tên cơ sở đã có trong hệ thống"),
        Column("Đồng ý", "consent", "bool", True, "Có (bắt buộc để chuyển gửi)", YES_NO),
    )),
    SheetSpec("support", "Hỗ trợ", (
        _REF,
        Column("Loại hỗ trợ", "kind", "choice", True, "Chọn trong danh mục", SUPPORT_KINDS),
        Column("Ngày bắt đầu", "started_on", "date", True, _D),
        Column("Số tiền (đồng)", "amount_vnd", "money", False,
               "Số nguyên, đồng (bắt buộc khi vay vốn)"),
        Column("Thời hạn (tháng)", "term_months", "int", False, "Bắt buộc khi vay vốn"),
        Column("Nguồn vốn", "fund_source", "text"),
        Column("Ghi chú", "notes", "text"),
    )),
    SheetSpec("groups", "Hoạt động nhóm", (
        Column("Loại hoạt động", "kind", "choice", True, "Chọn trong danh mục", GROUP_KINDS),
        Column("Ngày", "held_on", "date", True, _D),
        _COMMUNE,
        Column("Đơn vị tổ chức", "organiser_id", "org", False, "Tên đội, điểm tư vấn, câu lạc bộ…"),
        Column("Chủ đề", "topic", "text"),
        Column("Tổng số người dự", "attendees_total", "int", True),
        Column("Số đối tượng dự", "attendees_clients", "int", False),
    )),
    SheetSpec("episodes", "Đợt quản lý", (
        _REF,
        Column("Loại đợt", "episode_type", "choice", True, "Chọn trong danh mục",
               EPISODE_TYPES),
        Column("Số quyết định", "decision_number", "text"),
        Column("Ngày quyết định", "decision_date", "date", False, _D),
        Column("Ngày bắt đầu", "start_date", "date", True, _D),
        Column("Ngày kết thúc dự kiến", "expected_end", "date", False,
               f"{_D}; để trống: tính theo quy định thời hạn"),
        Column("Ngày kết thúc", "actual_end", "date", False, f"{_D}, nếu đợt đã kết thúc"),
        Column("Lý do kết thúc", "end_reason", "choice", False, "Bắt buộc nếu đã kết thúc",
               END_REASONS),
    )),
    SheetSpec("admissions", "Cơ sở cai nghiện", (
        _REF,
        Column("Cơ sở", "provider_id", "org", True, "Tên cơ sở cai nghiện đã có trong hệ thống"),
        Column("Hình thức", "episode_type", "choice", True,
               "Tự nguyện / Bắt buộc / Chưa có quyết định", ADMISSION_TYPES),
        Column("Số quyết định", "decision_number", "text"),
        Column("Ngày quyết định", "decision_date", "date", False, _D),
        Column("Ngày tiếp nhận", "start_date", "date", True, _D),
        Column("Ngày kết thúc dự kiến", "expected_end", "date", False,
               f"{_D}; để trống: tính theo quy định thời hạn"),
        Column("Ngày ra", "actual_end", "date", False, f"{_D}, nếu đã rời cơ sở"),
        Column("Lý do ra", "end_reason", "choice", False, "Bắt buộc nếu đã rời cơ sở",
               END_REASONS),
    )),
    SheetSpec("outcomes", "Kết quả chuyển gửi", (
        _REF,
        Column("Dịch vụ", "service", "choice", True, "Như trong sheet Chuyển gửi", SERVICES),
        Column("Ngày chuyển gửi", "referred_on", "date", True, _D),
        Column("Kết quả", "status", "choice", True, "Chọn trong danh mục", REFERRAL_OUTCOMES),
        Column("Ngày kết quả", "feedback_on", "date", True, _D),
    )),
    SheetSpec("classes", "Lớp học nghề", (
        Column("Cơ sở", "organiser_id", "org", True, "Tên cơ sở tổ chức lớp"),
        Column("Tên lớp, nghề", "topic", "text", True, "Ví dụ: Sửa chữa điều hòa"),
        Column("Ngày khai giảng", "held_on", "date", True, _D),
        Column("Số học viên", "attendees_total", "int", True,
               "Tổng số học viên; người có hồ sơ ghi ở sheet Học viên lớp nghề",
               also=("attendees_clients", "client_ids")),
    )),
    SheetSpec("learners", "Học viên lớp nghề", (
        _REF,
        Column("Cơ sở", "organiser_id", "org", True, "Như ở sheet Lớp học nghề"),
        Column("Tên lớp, nghề", "topic", "text", True, "Như ở sheet Lớp học nghề"),
        Column("Ngày khai giảng", "held_on", "date", True, _D),
    )),
)
SHEET_BY_KIND = {s.kind: s for s in SHEETS}


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    sheet: str  # the sheet's name ("" for the whole file)
    row: int  # the spreadsheet row number as shown in Excel (0 for the whole file/sheet)
    column: str  # the column header ("" for the whole row)
    key: str  # i18n key
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportPreview:
    ok: bool
    counts: dict[str, int]  # sheet kind -> rows that would be created
    total_rows: int
    duplicates: int
    errors: tuple[RowError, ...]
    errors_truncated: bool = False


@dataclass(frozen=True)
class ImportResult:
    committed: bool
    created: dict[str, int]
    total_rows: int
    errors: tuple[RowError, ...]
    errors_truncated: bool = False


class _FileRefused(Exception):
    def __init__(self, key: str, **params: Any) -> None:
        self.key, self.params = key, params
        super().__init__(key)


@dataclass
class _Row:
    spec: SheetSpec
    number: int
    values: dict[str, Any]
    raw: dict[str, str]  # text as typed, for client references and messages
    failed: bool = False


@dataclass
class _Run:
    errors: list[RowError] = field(default_factory=list)
    truncated: bool = False
    duplicates: int = 0

    def add(self, row: _Row | None, column: Column | None, key: str, sheet: str = "",
            **params: Any) -> None:
        if row is not None:
            row.failed = True
        if len(self.errors) >= MAX_ERRORS:
            self.truncated = True
            return
        self.errors.append(RowError(
            sheet=row.spec.title if row else sheet, row=row.number if row else 0,
            column=column.header if column else "", key=key, params=params))


# --- the template --------------------------------------------------------------------------


LIST_SHEET = "Danh sách"  # hidden: one column per code list, behind the drop-downs
CODES_SHEET = "Mã xã phường"  # every commune code of the 2025 list with its name
CATALOGUE_SHEET = "Danh mục"


def code_lists() -> dict[str, tuple[str, ...]]:
    """Every drop-down of the template: defined name -> the labels it offers, whole (labels
    with commas included: a list range, never Excel's comma-separated literal)."""
    lists: dict[str, tuple[str, ...]] = {}
    for spec in SHEETS:
        for column in spec.columns:
            if column.kind in ("choice", "bool") and column.choices:
                lists.setdefault(_list_name(column), tuple(column.choices))
    return lists


def _list_name(column: Column) -> str:
    """One defined name per distinct list ("DS_YES_NO", "DS_1"…), stable for a list."""
    assert column.choices is not None
    if column.kind == "bool":
        return "DS_CO_KHONG"
    labels = tuple(column.choices)
    distinct: list[tuple[str, ...]] = []
    for spec in SHEETS:
        for c in spec.columns:
            if c.kind == "choice" and c.choices and tuple(c.choices) not in distinct:
                distinct.append(tuple(c.choices))
    return f"DS_{distinct.index(labels) + 1}"


def commune_codes() -> list[tuple[str, str, str]]:
    """(code, commune, province) of every commune of the 2025 list, by province then name."""
    provinces = {p.code: p.name for p in Province.iter_all()}
    rows = [(f"{int(w.code):05d}", w.name, provinces.get(w.province_code, ""))
            for w in Ward.iter_all()]
    return sorted(rows, key=lambda r: (vi_sort_key(r[2]), vi_sort_key(r[1]), r[0]))


def template_xlsx() -> bytes:
    """The workbook to fill: one sheet per kind, headers (* = required), a notes row, and a
    drop-down on every code-list and Có/Không column, fed from a hidden list sheet through
    defined names (so "Điều trị, cai nghiện" is offered whole); a sheet of every commune code
    with its name; and a sheet describing every code list."""
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    bold, note_font = Font(bold=True), Font(italic=True, color="666666")
    for spec in SHEETS:
        ws = wb.create_sheet(spec.title)
        ws.append([c.header + (" *" if c.required else "") for c in spec.columns])
        ws.append([c.note for c in spec.columns])
        for i, column in enumerate(spec.columns, start=1):
            letter = get_column_letter(i)
            ws.column_dimensions[letter].width = max(14, min(40, len(column.header) + 6))
            head = ws.cell(HEADER_ROW, i)
            head.font = bold
            ws.cell(NOTES_ROW, i).font = note_font
            if column.choices and column.kind in ("choice", "bool"):
                rule = DataValidation(type="list", formula1=_list_name(column),
                                      allow_blank=True, showErrorMessage=True,
                                      errorTitle="Đồng Hành",
                                      error="Chọn một giá trị trong danh sách.")
                rule.add(f"{letter}3:{letter}{MAX_ROWS + 2}")
                ws.add_data_validation(rule)
            if column.choices:
                head.comment = Comment("; ".join(column.choices), "Đồng Hành")
        ws.freeze_panes = "A3"
    lists = wb.create_sheet(LIST_SHEET)
    for index, (name, labels) in enumerate(code_lists().items(), start=1):
        letter = get_column_letter(index)
        lists.cell(1, index, name).font = bold
        for row, label in enumerate(labels, start=2):
            lists.cell(row, index, label)
        ref = f"'{LIST_SHEET}'!${letter}$2:${letter}${len(labels) + 1}"
        wb.defined_names[name] = DefinedName(name, attr_text=ref)
    lists.sheet_state = "hidden"
    codes = wb.create_sheet(CODES_SHEET)
    codes.append(["Mã xã/phường", "Tên xã/phường", "Tỉnh/thành phố"])
    for cell in codes[1]:
        cell.font = bold
    for code, name, province in commune_codes():
        codes.append([code, name, province])
    codes.column_dimensions["A"].width = 14
    codes.column_dimensions["B"].width = 32
    codes.column_dimensions["C"].width = 28
    codes.freeze_panes = "A2"
    catalogue = wb.create_sheet(CATALOGUE_SHEET)
    catalogue.append(["Cột", "Giá trị được chấp nhận"])
    for cell in catalogue[1]:
        cell.font = bold
    for spec in SHEETS:
        for column in spec.columns:
            if column.choices:
                catalogue.append([f"{spec.title} › {column.header}",
                                  "; ".join(column.choices)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- pass 1: reading -----------------------------------------------------------------------


def _check_container(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise _FileRefused("import.error.too_large", max_mb=MAX_BYTES // (1024 * 1024))
    if not data or not zipfile.is_zipfile(io.BytesIO(data)):
        raise _FileRefused("import.error.not_xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "[Content_Types].xml" not in names or not any(
                    n.startswith("xl/worksheets/") for n in names):
                raise _FileRefused("import.error.not_xlsx")
            if sum(i.file_size for i in archive.infolist()) > MAX_UNCOMPRESSED:
                raise _FileRefused("import.error.too_large", max_mb=MAX_BYTES // (1024 * 1024))
    except zipfile.BadZipFile:
        raise _FileRefused("import.error.not_xlsx") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    return clean(str(value))


_DATE = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _parse_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    match = _DATE.fullmatch(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
    elif (iso := _ISO.fullmatch(text)) is not None:
        year, month, day = (int(g) for g in iso.groups())
    else:
        raise ValueError("import.error.date_format")
    try:
        return date(year, month, day)
    except ValueError:
        # Written right, but no such day (31/02/2022, 29/02/2023, 12/13/2022).
        raise ValueError("import.error.date_invalid") from None


def _parse_int(value: Any, *, money: bool = False) -> int:
    bad = "import.error.money_format" if money else "import.error.whole_number"
    if isinstance(value, bool):
        raise ValueError(bad)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(bad)
        return int(value)
    text = _text(value)
    if money:
        text = re.sub(r"(?i)\s*(đồng|đ|vnd)$", "", text)
        # Vietnamese groups thousands with dots (875.000.000); commas and spaces too.
        if re.fullmatch(r"\d{1,3}([., ]\d{3})+", text):
            text = re.sub(r"[., ]", "", text)
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(bad)
    return int(text)


def _choice(choices: dict[str, Any], value: Any) -> Any:
    text = fold(_text(value))
    for label, code in choices.items():
        if text in (fold(label), fold(str(getattr(code, "value", code)))):
            return code
    raise ValueError("import.error.choice")


def _parse_cell(column: Column, value: Any) -> Any:
    if column.kind == "date":
        return _parse_date(value)
    if column.kind in ("int", "money"):
        return _parse_int(value, money=column.kind == "money")
    if column.kind == "bool":
        word = fold(_text(value))
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        raise ValueError("import.error.choice")
    if column.kind == "choice":
        assert column.choices is not None
        return _choice(column.choices, value)
    if column.kind == "choices":
        assert column.choices is not None
        parts = [p for p in re.split(r"[,;]", _text(value)) if p.strip()]
        return sorted({_choice(column.choices, p) for p in parts})
    text = _text(value)
    if column.kind == "text" and len(text) > 2000:
        raise ValueError("import.error.too_long")
    return text


def _header_map(spec: SheetSpec, header: tuple[Any, ...]) -> tuple[dict[int, Column], list[Column]]:
    wanted = {fold(c.header): c for c in spec.columns}
    found: dict[int, Column] = {}
    for index, value in enumerate(header):
        column = wanted.get(fold(_text(value).rstrip("*").strip()))
        if column is not None and column not in found.values():
            found[index] = column
    missing = [c for c in spec.columns if c.required and c not in found.values()]
    return found, missing


def _is_notes_row(columns: dict[int, Column], cells: tuple[Any, ...]) -> bool:
    texts = {i: _text(cells[i].value) for i in columns if i < len(cells)}
    return any(texts.values()) and all(
        not text or text == columns[i].note for i, text in texts.items())


def _read(data: bytes, run: _Run) -> list[_Row]:
    """Every data row of every known sheet, parsed; problems go to `run`."""
    _check_container(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds of error on a corrupt file
        raise _FileRefused("import.error.corrupt") from None
    rows: list[_Row] = []
    try:
        titles = {fold(name): name for name in book.sheetnames}
        known = [(spec, titles[fold(spec.title)]) for spec in SHEETS if fold(spec.title) in titles]
        if not known:
            raise _FileRefused("import.error.no_known_sheet")
        for spec, name in known:
            rows += _read_sheet(spec, name, book[name].iter_rows(), run, len(rows))
    except _FileRefused:
        raise
    except Exception:  # noqa: BLE001 - a sheet's XML can be broken past the first page
        raise _FileRefused("import.error.corrupt") from None
    finally:
        book.close()
    return rows


def _read_sheet(spec: SheetSpec, name: str, cells: Iterator[tuple[Any, ...]], run: _Run,
                rows_so_far: int) -> list[_Row]:
    header = next(cells, None)
    if header is None:
        return []
    columns, missing = _header_map(spec, tuple(c.value for c in header))
    for column in missing:
        run.add(None, column, "import.error.missing_column", sheet=name)
    if missing:
        return []
    rows: list[_Row] = []
    for number, line in enumerate(cells, start=HEADER_ROW + 1):
        if number == NOTES_ROW and _is_notes_row(columns, line):
            continue
        if all(c.value is None or _text(c.value) == "" for c in line):
            continue
        if rows_so_far + len(rows) >= MAX_ROWS:
            raise _FileRefused("import.error.too_many_rows", max_rows=MAX_ROWS)
        row = _Row(spec, number, {}, {})
        for index, column in columns.items():
            cell = line[index] if index < len(line) else None
            value = getattr(cell, "value", None)
            if cell is not None and (getattr(cell, "data_type", "") == "f"
                                     or (isinstance(value, str) and value.startswith("="))):
                run.add(row, column, "import.error.formula")
                continue
            row.raw[column.name] = _text(value)
            if value is None or _text(value) == "":
                if column.required:
                    run.add(row, column, "import.error.required")
                continue
            if column.kind in _RESOLVED_LATER:
                continue  # codes and names become ids in pass 2
            try:
                row.values[column.name] = _parse_cell(column, value)
            except ValueError as err:
                run.add(row, column, str(err))
        rows.append(row)
    return rows


# --- duplicates inside the file ------------------------------------------------------------


def _natural_key(row: _Row) -> tuple[Any, ...] | None:
    v, r = row.values, row.raw
    keys: dict[str, Callable[[], tuple[Any, ...]]] = {
        "models": lambda: (v.get("kind"), fold(r.get("name", "")), r.get("place_id")),
        "clients": lambda: (fold(r.get("full_name", "")), v.get("birth_year"), r.get("commune_id")),
        "visits": lambda: (r.get("client_id"), v.get("visit_date"), v.get("kind")),
        # The count is part of the record: two sessions of a commune on one day with
        # different counts are two records (docs/IMPORT.md).
        "contacts": lambda: (v.get("contact_date"), r.get("place_id"), v.get("category"),
                             v.get("count"), fold(r.get("topic", ""))),
        "tests": lambda: (r.get("client_id"), v.get("tested_on"), v.get("result")),
        "referrals": lambda: (r.get("client_id"), v.get("service"), v.get("referred_on")),
        "support": lambda: (r.get("client_id"), v.get("kind"), v.get("started_on")),
        "groups": lambda: (v.get("kind"), v.get("held_on"), r.get("place_id"),
                           fold(r.get("topic", ""))),
        "episodes": lambda: (fold(r.get("client_id", "")), v.get("episode_type"),
                             v.get("start_date")),
        "admissions": lambda: (fold(r.get("client_id", "")), v.get("episode_type"),
                               v.get("start_date")),
        "outcomes": lambda: (fold(r.get("client_id", "")), v.get("service"),
                             v.get("referred_on")),
        "classes": lambda: _class_key(row),
        "learners": lambda: (fold(r.get("client_id", "")), *_class_key(row)),
    }
    return keys[row.spec.kind]()


def _class_key(row: _Row) -> tuple[Any, ...]:
    """What names a vocational class in the file: its facility, start date and name."""
    return (fold(row.raw.get("organiser_id", "")), row.values.get("held_on"),
            fold(row.raw.get("topic", "")))


def _file_duplicates(rows: list[_Row], run: _Run) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    national_ids: dict[str, int] = {}
    refs: dict[str, int] = {}
    for row in rows:
        if row.spec.kind == "clients":
            ref = fold(row.raw.get("file_ref", ""))
            if ref and ref in refs:
                run.add(row, row.spec.column_for("file_ref"), "import.error.ref_repeated",
                        first_row=refs[ref])
            refs.setdefault(ref, row.number)
            nid = "".join(row.raw.get("national_id", "").split())
            if nid and nid in national_ids:
                run.duplicates += 1
                run.add(row, row.spec.column_for("national_id"), "import.error.duplicate_in_file",
                        first_row=national_ids[nid])
            national_ids.setdefault(nid, row.number)
        if row.failed:
            continue
        key = (row.spec.kind, *(_natural_key(row) or ()))
        if key in seen:
            run.duplicates += 1
            run.add(row, None, "import.error.duplicate_in_file", first_row=seen[key])
        else:
            seen[key] = row.number


# --- pass 2: against the database, before writing ------------------------------------------


class _Lookups:
    """Communes by code, organisations by name and existing clients, read once each."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session, self.actor = session, actor
        self.places: dict[str, int | None] = {}
        self.orgs: dict[str, list[int]] | None = None
        self.file_clients: dict[str, _Row] = {}
        self.created: dict[str, int] = {}  # file ref -> client id once registered
        # Vocational classes: learner rows by class key; the classes created so far.
        self.learners: dict[tuple[Any, ...], list[_Row]] = {}
        self.classes: set[tuple[Any, ...]] = set()

    def place(self, code: str, *, commune_only: bool) -> int | None:
        if code not in self.places:
            place = self.session.execute(
                select(Place).where(col(Place.code) == code)).scalars().first()
            ok = place is not None and (not commune_only or place.kind == PlaceKind.COMMUNE)
            self.places[code] = place.id if ok and place is not None else None
        return self.places[code]

    def org(self, name: str) -> list[int]:
        if self.orgs is None:
            self.orgs = {}
            for oid, oname in self.session.execute(
                    select(col(Organisation.id), col(Organisation.name))
                    .where(col(Organisation.active).is_(True))).all():
                self.orgs.setdefault(fold(oname), []).append(oid)
        return self.orgs.get(fold(name), [])

    def existing_client(self, ref: str) -> int | None:
        compact = "".join(ref.split())
        if compact.startswith("#") and compact[1:].isdigit():
            found = self.session.get(Client, int(compact[1:]))
            return found.id if found is not None and found.status != ClientStatus.MERGED else None
        if re.fullmatch(r"\d{12}", compact):
            ids = self.session.execute(
                select(col(Client.id)).where(col(Client.national_id) == compact,
                                        col(Client.status) != ClientStatus.MERGED)).scalars().all()
            return ids[0] if len(ids) == 1 else None
        return None


_ACTION_BY_KIND = {
    "models": Action.GROUP_CREATE, "clients": Action.CLIENT_CREATE,
    "visits": Action.VISIT_CREATE, "contacts": Action.CONTACT_CREATE,
    "tests": Action.TEST_CREATE, "referrals": Action.REFERRAL_CREATE,
    "support": Action.SUPPORT_CREATE, "groups": Action.GROUP_CREATE,
    "episodes": Action.EPISODE_OPEN, "admissions": Action.EPISODE_OPEN,
    # Completing needs the referral itself (checked by the service); the client must be one
    # the importer may refer.
    "outcomes": Action.REFERRAL_CREATE, "classes": Action.GROUP_CREATE,
    "learners": Action.GROUP_CREATE,
}


def _resolve(rows: list[_Row], look: _Lookups, run: _Run) -> None:
    """Turn codes and names into ids, check scope, and find rows already in the database."""
    for row in rows:
        if row.spec.kind == "clients" and row.raw.get("file_ref"):
            look.file_clients.setdefault(fold(row.raw["file_ref"]), row)
        if row.spec.kind == "learners":
            look.learners.setdefault(_class_key(row), []).append(row)
    for row in rows:
        if row.failed:
            continue
        action = _ACTION_BY_KIND[row.spec.kind]
        for column in row.spec.columns:
            text = row.raw.get(column.name, "")
            if not text:
                continue
            if column.kind == "place":
                place_id = look.place(text, commune_only=True)
                if place_id is None:
                    run.add(row, column, "import.error.unknown_commune")
                elif not can(look.actor, action, PlaceTarget(place_id)):
                    run.add(row, column, "import.error.out_of_scope")
                else:
                    row.values[column.name] = place_id
            elif column.kind == "org":
                ids = look.org(text)
                if len(ids) != 1 and not (row.spec.kind == "groups" and _org_in_file(rows, text)):
                    key = "import.error.unknown_org" if not ids else "import.error.ambiguous_org"
                    run.add(row, column, key)
                elif ids and row.spec.kind == "admissions" and not _is_rehab(look, ids[0]):
                    run.add(row, column, "import.error.not_rehab_facility")
                elif ids:
                    row.values[column.name] = ids[0]
            elif column.kind == "client":
                _resolve_client(row, column, text, look, run, action)
        if not row.failed and _exists_in_database(look.session, row):
            run.duplicates += 1
            run.add(row, None, "import.error.duplicate_in_database")


def _is_rehab(look: _Lookups, org_id: int) -> bool:
    org = look.session.get(Organisation, org_id)
    return org is not None and org.kind == OrgKind.REHAB_FACILITY


def _org_in_file(rows: list[_Row], name: str) -> bool:
    return any(r.spec.kind == "models" and fold(r.raw.get("name", "")) == fold(name) for r in rows)


def _resolve_client(row: _Row, column: Column, ref: str, look: _Lookups, run: _Run,
                    action: Action) -> None:
    in_file = look.file_clients.get(fold(ref))
    if in_file is not None:
        if in_file.failed:
            run.add(row, column, "import.error.client_row_invalid", client_row=in_file.number)
        return  # the id is known once that client is registered (pass 3)
    client_id = look.existing_client(ref)
    client = look.session.get(Client, client_id) if client_id is not None else None
    if client is None:
        run.add(row, column, "import.error.unknown_client")
    elif not can(look.actor, action, client_target(look.session, client)):
        run.add(row, column, "import.error.unknown_client")  # out of scope looks the same
    else:
        row.values["client_id"] = client_id


def _exists_in_database(session: Session, row: _Row) -> bool:
    """The same record is already stored (only checkable when every id is known)."""
    v = row.values
    where: list[Any]
    if row.spec.kind == "visits" and "client_id" in v:
        where = [col(Visit.client_id) == v["client_id"], col(Visit.visit_date) == v["visit_date"],
                 col(Visit.kind) == v["kind"]]
    elif row.spec.kind == "tests" and "client_id" in v:
        where = [col(DrugTest.client_id) == v["client_id"],
                 col(DrugTest.tested_on) == v["tested_on"], col(DrugTest.result) == v["result"]]
    elif row.spec.kind == "referrals" and "client_id" in v:
        where = [col(Referral.client_id) == v["client_id"], col(Referral.service) == v["service"],
                 col(Referral.referred_on) == v["referred_on"]]
    elif row.spec.kind == "support" and "client_id" in v:
        where = [col(Support.client_id) == v["client_id"], col(Support.kind) == v["kind"],
                 col(Support.started_on) == v["started_on"]]
    elif row.spec.kind == "contacts":
        where = [col(OutreachContact.place_id) == v["place_id"],
                 col(OutreachContact.contact_date) == v["contact_date"],
                 col(OutreachContact.category) == v["category"],
                 col(OutreachContact.count) == v["count"],
                 col(OutreachContact.topic) == v.get("topic", "")]
    elif row.spec.kind == "groups":
        where = [col(GroupActivity.place_id) == v["place_id"],
                 col(GroupActivity.held_on) == v["held_on"], col(GroupActivity.kind) == v["kind"],
                 col(GroupActivity.topic) == v.get("topic", "")]
    elif row.spec.kind in ("episodes", "admissions") and "client_id" in v:
        where = [col(Episode.client_id) == v["client_id"],
                 col(Episode.episode_type) == v["episode_type"],
                 col(Episode.start_date) == v["start_date"]]
    elif row.spec.kind == "outcomes" and "client_id" in v:
        where = [col(Referral.client_id) == v["client_id"], col(Referral.service) == v["service"],
                 col(Referral.referred_on) == v["referred_on"],
                 col(Referral.status) == v["status"]]
    elif row.spec.kind == "classes" and "organiser_id" in v:
        where = [col(GroupActivity.organiser_id) == v["organiser_id"],
                 col(GroupActivity.held_on) == v["held_on"],
                 col(GroupActivity.kind) == GroupActivityKind.TRAINING,
                 col(GroupActivity.topic) == v.get("topic", "")]
    elif row.spec.kind == "learners" and "client_id" in v and "organiser_id" in v:
        where = [col(GroupActivityClient.client_id) == v["client_id"],
                 col(GroupActivity.organiser_id) == v["organiser_id"],
                 col(GroupActivity.held_on) == v["held_on"],
                 col(GroupActivity.kind) == GroupActivityKind.TRAINING,
                 col(GroupActivity.topic) == v.get("topic", "")]
        return session.execute(
            select(col(GroupActivityClient.client_id))
            .join(GroupActivity, col(GroupActivity.id) == col(GroupActivityClient.activity_id))
            .where(*where).limit(1)).first() is not None
    elif row.spec.kind == "models":
        # Few per commune: compare names accent- and case-insensitively here, not in SQL.
        names = session.execute(select(col(Organisation.name)).where(
            col(Organisation.place_id) == v["place_id"], col(Organisation.kind) == v["kind"])
        ).scalars().all()
        return fold(v["name"]) in {fold(n) for n in names}
    else:
        return False
    table = {"visits": Visit, "tests": DrugTest, "referrals": Referral, "support": Support,
             "contacts": OutreachContact, "groups": GroupActivity, "models": Organisation,
             "episodes": Episode, "admissions": Episode, "outcomes": Referral,
             "classes": GroupActivity}
    model: Any = table[row.spec.kind]
    return session.execute(select(model.id).where(*where).limit(1)).first() is not None


# --- pass 3: the domain services -----------------------------------------------------------


def _create_organisation(session: Session, actor: Actor, v: dict[str, Any]) -> int:
    """A team, counselling point or club. No organisation service exists yet: the few rules
    are checked here (see the report: this belongs in a places/organisations service)."""
    errors: dict[str, str] = {}
    name = clean(v["name"])
    if not 2 <= len(name) <= 200:
        errors["name"] = "import.error.name_length"
    founded_on = v.get("founded_on")
    if founded_on is not None and not date(1950, 1, 1) <= founded_on <= today_vn():
        errors["founded_on"] = "import.error.date_range"
    decision = clean(v.get("founding_decision", ""))
    if len(decision) > 120:
        errors["founding_decision"] = "import.error.too_long"
    if errors:
        raise ValidationFailed(errors)
    authorize(session, actor, Action.GROUP_CREATE, PlaceTarget(v["place_id"]))
    org = Organisation(name=name, kind=v["kind"], place_id=v["place_id"],
                       founding_decision=decision, founded_on=founded_on)
    session.add(org)
    session.flush()
    audit.record(session, actor=actor, action="organisation.create", target_type="organisation",
                 target_id=org.id, detail="import")
    assert org.id is not None
    return org.id


def _client_known(row: _Row, look: _Lookups) -> bool:
    return "client_id" in row.values or fold(row.raw.get("client_id", "")) in look.created


def _client_id(row: _Row, look: _Lookups) -> int:
    if "client_id" in row.values:
        return int(row.values["client_id"])
    return look.created[fold(row.raw["client_id"])]


def _apply(session: Session, actor: Actor, row: _Row, look: _Lookups) -> None:
    v = row.values
    kind = row.spec.kind
    if kind == "models":
        org_id = _create_organisation(session, actor, v)
        if look.orgs is not None:
            look.orgs.setdefault(fold(v["name"]), []).append(org_id)
    elif kind == "clients":
        fields = {c.name: v[c.name] for c in row.spec.columns
                  if c.name in v and c.name in ClientCreate.model_fields}
        consent = ConsentInput(purpose="case_management", given_on=v["consent_given_on"],
                               sensitive_categories=v.get("consent_categories", []))
        created = register_client(session=session, actor=actor,
                                  data=ClientCreate(**fields, consents=[consent]))
        look.created[fold(row.raw["file_ref"])] = created.id
    elif kind == "visits":
        log_visit(session=session, actor=actor, data=VisitCreate(
            client_id=_client_id(row, look), visit_date=v["visit_date"], kind=v["kind"],
            content=v.get("content", ""), notes=v.get("notes", ""),
            risk_flags=v.get("risk_flags", ""), next_appointment=v.get("next_appointment")))
    elif kind == "contacts":
        log_outreach_contact(session=session, actor=actor, data=OutreachContactCreate(
            contact_date=v["contact_date"], place_id=v["place_id"], category=v["category"],
            count=v["count"], topic=v.get("topic", "")))
    elif kind == "tests":
        record_drug_test(session=session, actor=actor, data=DrugTestCreate(
            client_id=_client_id(row, look), tested_on=v["tested_on"], result=v["result"],
            sample=v.get("sample", ""), method=v.get("method", ""),
            substances=v.get("substances", ""), performed_by=v.get("performed_by", "")))
    elif kind == "referrals":
        create_referral_record(session=session, actor=actor, data=ReferralCreate(
            client_id=_client_id(row, look), service=v["service"], referred_on=v["referred_on"],
            facility_id=v.get("facility_id"), consent=v.get("consent", False)))
    elif kind == "support":
        record_support(session=session, actor=actor, data=SupportCreate(
            client_id=_client_id(row, look), kind=v["kind"], started_on=v["started_on"],
            amount_vnd=v.get("amount_vnd"), term_months=v.get("term_months"),
            fund_source=v.get("fund_source", ""), notes=v.get("notes", "")))
    elif kind in ("episodes", "admissions"):
        record_episode(session=session, actor=actor, client_id=_client_id(row, look),
                       data=EpisodeCreate(
                           episode_type=v["episode_type"], start_date=v["start_date"],
                           decision_number=v.get("decision_number", ""),
                           decision_date=v.get("decision_date"),
                           provider_id=v.get("provider_id")),
                       expected_end_on=v.get("expected_end"), actual_end=v.get("actual_end"),
                       end_reason=v.get("end_reason"))
    elif kind == "outcomes":
        referral_id = _open_referral(session, _client_id(row, look), v)
        if referral_id is None:
            raise ValidationFailed({"referred_on": "import.error.unknown_referral"})
        complete_referral(session=session, actor=actor, referral_id=referral_id,
                          status=v["status"], feedback_on=v["feedback_on"])
    elif kind == "classes":
        facility = session.get(Organisation, v["organiser_id"])
        assert facility is not None  # resolved in pass 2
        # Its learners with a record: the rows of the sheet Học viên lớp nghề naming it.
        learners = sorted({_client_id(r, look) for r in look.learners.get(_class_key(row), [])
                           if not r.failed and _client_known(r, look)})
        record_group_activity(session=session, actor=actor, data=GroupActivityCreate(
            kind=GroupActivityKind.TRAINING, held_on=v["held_on"], place_id=facility.place_id,
            organiser_id=facility.id, topic=v.get("topic", ""),
            attendees_total=v["attendees_total"], attendees_clients=len(learners),
            client_ids=learners))
        look.classes.add(_class_key(row))
    elif kind == "learners":
        if _class_key(row) not in look.classes:
            raise ValidationFailed({"topic": "import.error.unknown_class"})
    elif kind == "groups":
        organiser = v.get("organiser_id")
        if organiser is None and row.raw.get("organiser_id"):
            ids = look.org(row.raw["organiser_id"])
            organiser = ids[0] if len(ids) == 1 else None
        record_group_activity(session=session, actor=actor, data=GroupActivityCreate(
            kind=v["kind"], held_on=v["held_on"], place_id=v["place_id"], organiser_id=organiser,
            topic=v.get("topic", ""), attendees_total=v["attendees_total"],
            attendees_clients=v.get("attendees_clients", 0)))


def _open_referral(session: Session, client_id: int, v: dict[str, Any]) -> int | None:
    """The referral an outcome row is about: same client, service and date, still open."""
    return session.execute(
        select(col(Referral.id)).where(
            col(Referral.client_id) == client_id, col(Referral.service) == v["service"],
            col(Referral.referred_on) == v["referred_on"],
            col(Referral.status).in_((ReferralStatus.SENT, ReferralStatus.RECEIVED)))
        .order_by(col(Referral.id).desc()).limit(1)
    ).scalars().first()


def _report_domain_error(run: _Run, row: _Row, err: DomainError) -> None:
    if isinstance(err, ValidationFailed) and err.fields:
        for name, key in err.fields.items():
            run.add(row, row.spec.column_for(name), key)
    elif isinstance(err, DuplicateCandidates):
        run.duplicates += 1
        run.add(row, row.spec.column_for("full_name"), "import.error.duplicate_in_database")
    elif isinstance(err, NotFound | PermissionDenied):
        run.add(row, None, "import.error.not_allowed")
    else:
        run.add(row, None, err.key)


def _write_all(session: Session, actor: Actor, rows: list[_Row], look: _Lookups,
               run: _Run) -> dict[str, int]:
    created = {spec.kind: 0 for spec in SHEETS}
    for row in rows:  # sheets in SHEETS order: models, clients, then what refers to them
        if row.failed:
            continue
        if row.spec.kind != "clients" and fold(row.raw.get("client_id", "")) in look.file_clients \
                and fold(row.raw["client_id"]) not in look.created:
            run.add(row, row.spec.column_for("client_id"), "import.error.client_row_invalid",
                    client_row=look.file_clients[fold(row.raw["client_id"])].number)
            continue
        try:
            _apply(session, actor, row, look)
        except DomainError as err:
            _report_domain_error(run, row, err)
            continue
        created[row.spec.kind] += 1
    return created


# --- the services --------------------------------------------------------------------------


def _run(session: Session, actor: Actor | None, data: bytes, *, keep: bool
         ) -> tuple[Actor, _Run, dict[str, int], int, bool]:
    me = authorize_grant(session, actor, Action.CLIENT_CREATE)
    run = _Run()
    created = {spec.kind: 0 for spec in SHEETS}
    try:
        rows = _read(data if isinstance(data, bytes) else b"", run)
    except _FileRefused as refused:
        run.add(None, None, refused.key, **refused.params)
        return me, run, created, 0, False
    order = [s.kind for s in SHEETS]
    # Sheet by sheet (later sheets refer to earlier ones); a client's episodes oldest first,
    # so an episode that ended is stored before the one that followed it opens.
    rows.sort(key=lambda r: (order.index(r.spec.kind),
                             r.values.get("start_date") or date.min
                             if r.spec.kind in ("episodes", "admissions") else date.min,
                             r.number))
    _file_duplicates(rows, run)
    look = _Lookups(session, me)
    _resolve(rows, look, run)
    # An audit event first: it is written whatever happens below, and on SQLite its INSERT
    # opens the real transaction so that the savepoint below is a true nested one.
    audit.record(session, actor=me, action="import.commit" if keep else "import.preview",
                 target_type="import", target_id=None, detail=f"rows={len(rows)}")
    session.flush()
    nested = session.begin_nested()
    try:
        created = _write_all(session, me, rows, look, run)
        session.flush()
    except SQLAlchemyError:
        nested.rollback()
        run.add(None, None, "import.error.database")
        return me, run, {spec.kind: 0 for spec in SHEETS}, len(rows), False
    committed = keep and not run.errors and not run.truncated
    if committed:
        nested.commit()
    else:
        nested.rollback()
    return me, run, created, len(rows), committed


def sorted_errors(errors: list[RowError]) -> tuple[RowError, ...]:
    """Problems in the order of the workbook: the file first, then sheet by sheet (template
    order), row by row, column by column."""
    titles = [spec.title for spec in SHEETS]
    headers = {spec.title: [c.header for c in spec.columns] for spec in SHEETS}

    def key(e: RowError) -> tuple[int, int, int]:
        sheet = titles.index(e.sheet) + 1 if e.sheet in titles else (0 if not e.sheet else 99)
        columns = headers.get(e.sheet, [])
        return sheet, e.row, columns.index(e.column) + 1 if e.column in columns else 0

    return tuple(sorted(errors, key=key))


def preview_import(*, session: Session, actor: Actor | None, data: bytes) -> ImportPreview:
    """Check a filled template as a commit would, write nothing; list every problem found."""
    _me, run, created, total, _ = _run(session, actor, data, keep=False)
    return ImportPreview(ok=not run.errors, counts=created, total_rows=total,
                         duplicates=run.duplicates, errors=sorted_errors(run.errors),
                         errors_truncated=run.truncated)


def commit_import(*, session: Session, actor: Actor | None, data: bytes) -> ImportResult:
    """Create every row of a filled template, or nothing at all if any row has a problem.

    The rows are written in the caller's transaction (commit it to keep them); when
    `committed` is False nothing was written and `errors` says why."""
    me, run, created, total, committed = _run(session, actor, data, keep=True)
    if not committed:
        created = {kind: 0 for kind in created}
    audit.record(session, actor=me, action="import.result", target_type="import",
                 target_id=None,
                 detail=f"committed={int(committed)} rows={sum(created.values())} "
                        f"errors={len(run.errors)}")
    return ImportResult(committed=committed, created=created, total_rows=total,
                        errors=sorted_errors(run.errors), errors_truncated=run.truncated)
