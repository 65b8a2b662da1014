"""Exports: a report as a spreadsheet (xlsx) or an A4 PDF, and client line lists (CSV / xlsx),
identified or de-identified. Every export is checked by the policy and audited.

`report_xlsx` and `report_pdf` only render a `Report` already built for an authorised reader;
`export_report` is the audited entry point a page calls. A de-identified line list replaces
names, ID numbers, phones and addresses with a stable pseudonym (an HMAC of the client id
with a per-deployment key kept in the `setting` table) and the birth year with a five-year
band. Sensitive fields (HIV status, ethnicity) are never exported in a line list.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.drawing.image import Image as XlImage
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import or_, select
from sqlmodel import Session, col

from app.i18n import t
from app.services import audit
from app.services.actor import Actor
from app.services.card_render import logo_box
from app.services.deployment import logo_png
from app.services.errors import ValidationFailed
from app.services.policy import (
    CASE_MANAGEMENT,
    STATISTICS,
    Action,
    PlaceTarget,
    authorize,
    authorize_grant,
    client_scope_filter,
    withdrawn_filter,
)
from app.services.reports import Report, authorize_report, build_report
from app.services.settings import PROJECT_ROOT
from app.services.text import fold
from models import Client, ClientStatus, Episode, EpisodeStatus, EpisodeType, Place, Setting

Format = Literal["xlsx", "pdf", "csv"]
PSEUDONYM_SETTING = "pseudonym_key"
FONT_DIR = PROJECT_ROOT / "assets" / "fonts"
SYSTEM_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
MAX_LINE_LIST_ROWS = 100_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})
_VI_DIGITS = str.maketrans(",.", ".,")
_XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIME_TYPES = {"xlsx": _XLSX_MIME, "pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


# --- shared helpers ------------------------------------------------------------------------


# A formula may start a cell, or any piece a spreadsheet cuts the text into: whatever list
# separator it applies (',' ';' tab '|' — ';' is the Vietnamese Windows default), and after
# spaces or a quote it trims.
_FORMULA_PIECE = re.compile(r"""(^|[,;\t|\r\n])([\s"']*)(?=[=+\-@\t\r])""")


def safe_text(value: str) -> str:
    """A text cell that a spreadsheet will never run as a formula (CSV/xlsx injection),
    however the file is split: every piece that would start with = + - @ (or a tab or
    carriage return) gets a leading apostrophe. `X;=1+2` becomes `X;'=1+2`."""
    return _FORMULA_PIECE.sub(lambda m: m.group(1) + m.group(2) + "'", value)


def vn_date(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _header_line(report: Report, lang: str) -> str:
    return report.header or t("report.header_default", lang)


def _title_line(report: Report, lang: str) -> str:
    return t("report.title", lang, place=report.place_name, start=vn_date(report.period_start),
             end=vn_date(report.period_end))


def _figure_rows(report: Report, lang: str) -> list[tuple[str, list[list[Any]]]]:
    """(table title, rows) per table of the report, values still typed (numbers stay numbers)."""
    tables: list[tuple[str, list[list[Any]]]] = []
    for section in report.sections:
        rows = [[t(f.key, lang), f.value, f.denominator, f.percent] for f in section.figures]
        tables.append((t(section.key, lang), rows))
    tables.append((t("report.section.trend", lang), [
        [p.month.strftime("%m/%Y"), p.visits, p.contacts] for p in report.trend]))
    tables.append((t("report.section.referral_outcomes", lang), [
        [t(f"report.service.{o.service.value}", lang), t(f"report.status.{o.status.value}", lang),
         o.count] for o in report.referral_outcomes]))
    tables.append((t("report.section.episode_types", lang), [
        [t(f"report.episode_type.{e.episode_type.value}", lang), e.started, e.live_at_end]
        for e in report.episode_types]))
    return tables


def _columns(index: int, count: int, lang: str) -> list[str]:
    """Column headers of the table at `index` (the last three are the chart tables)."""
    keys: tuple[str, ...]
    if index == count - 3:
        keys = ("report.col.month", "report.col.visits", "report.col.contacts")
    elif index == count - 2:
        keys = ("report.col.service", "report.col.status", "report.col.count")
    elif index == count - 1:
        keys = ("report.col.episode_type", "report.col.started", "report.col.live_at_end")
    else:
        keys = ("report.col.figure", "report.col.value", "report.col.denominator",
                "report.col.percent")
    return [t(k, lang) for k in keys]


# --- report renderers ----------------------------------------------------------------------


def _sheet_title(title: str, used: set[str]) -> str:
    base = title.translate(_SHEET_FORBIDDEN).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name


def report_file_name(place_name: str, start: date, end: date, fmt: str) -> str:
    """`bao-cao-<place>-<period>.<fmt>` in ASCII: the place folded ("Tỉnh Đồng Tháp" ->
    "tinh-dong-thap"), the period as a year (2022), a quarter (2022-q1), a month (2022-03)
    or its two dates."""
    place = "-".join("".join(c if c.isalnum() else " " for c in fold(place_name)).split())
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        period = f"{start.year}"
    elif (start.day == 1 and start.month % 3 == 1 and end == _month_end(start, 2)):
        period = f"{start.year}-q{(start.month - 1) // 3 + 1}"
    elif start.day == 1 and end == _month_end(start, 0):
        period = f"{start.year}-{start.month:02d}"
    else:
        period = f"{start.isoformat()}-{end.isoformat()}"
    return f"bao-cao-{place or 'dia-ban'}-{period}.{fmt}"


def _month_end(start: date, months_after: int) -> date:
    index = start.month - 1 + months_after + 1
    first_after = date(start.year + index // 12, index % 12 + 1, 1)
    return first_after - timedelta(days=1)


def _xlsx_logo(ws: Any, logo: bytes) -> None:
    """The organisation's logo at the top right of a sheet, about 1.5 cm high."""
    image = XlImage(io.BytesIO(logo))
    scale = 56 / max(1, image.height)
    image.width, image.height = int(image.width * scale), 56
    ws.add_image(image, "F1")


def report_xlsx(report: Report, lang: str = "vi", logo: bytes | None = None) -> bytes:
    """One sheet per table, the organisation line (and logo) and title on top, numbers as
    numbers, the contact line under the table."""
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    used: set[str] = set()
    tables = _figure_rows(report, lang)
    bold = Font(bold=True)
    for index, (title, rows) in enumerate(tables):
        ws = wb.create_sheet(_sheet_title(title, used))
        ws.append([safe_text(_header_line(report, lang))])
        ws.append([safe_text(_title_line(report, lang))])
        ws.append([safe_text(title)])
        headers = _columns(index, len(tables), lang)
        ws.append(headers)
        for cell in ws[4]:
            cell.font = bold
        for c in ws[1]:
            c.font = bold
        for row in rows:
            ws.append([safe_text(v) if isinstance(v, str) else v for v in row])
        for r in ws.iter_rows(min_row=5):
            for cell in r[1:]:
                if isinstance(cell.value, int):
                    cell.number_format = "#,##0"
                elif isinstance(cell.value, float):
                    cell.number_format = "0.0"
        ws.column_dimensions["A"].width = 60
        for i in range(2, len(headers) + 1):
            ws.column_dimensions[get_column_letter(i)].width = 18
        if report.contact:
            ws.append([])
            ws.append([safe_text(t("deploy.contact", lang, line=report.contact))])
        if logo:
            _xlsx_logo(ws, logo)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def font_path(bold: bool = False) -> Path:
    """DejaVu Sans (covers Vietnamese) from assets/fonts, else from the system fonts."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in (FONT_DIR, SYSTEM_FONT_DIR):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(name)


def _number(value: Any, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:,}"
    # Vietnamese: '.' groups thousands and ',' marks decimals.
    return text.translate(_VI_DIGITS) if lang == "vi" else text


def report_pdf(report: Report, lang: str = "vi", logo: bytes | None = None) -> bytes:
    """An A4 portrait PDF with a Unicode font: logo and header line, title, then one table per
    section, the contact line at the end."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.add_font("DejaVu", "B", str(font_path(bold=True)))
    pdf.set_title(t("report.title_short", lang))
    pdf.add_page()
    if logo:
        w, h = logo_box(logo, max_w=40.0, max_h=16.0)
        pdf.image(io.BytesIO(logo), x=pdf.l_margin, y=pdf.t_margin, w=w, h=h)
        pdf.set_y(pdf.t_margin + h + 2)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 6, _header_line(report, lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(0, 6, _title_line(report, lang), new_x="LMARGIN", new_y="NEXT")
    tables = _figure_rows(report, lang)
    for index, (title, rows) in enumerate(tables):
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8.5)
        headers = _columns(index, len(tables), lang)
        widths = (90, 30, 30, 30) if len(headers) == 4 else (80, 50, 50)
        with pdf.table(col_widths=widths, text_align=("LEFT", *["RIGHT"] * (len(headers) - 1)),
                       line_height=5, first_row_as_headings=True) as table:
            table.row(headers)
            for row in rows:
                table.row([v if isinstance(v, str) else _number(v, lang) for v in row])
    if report.contact:
        pdf.ln(4)
        pdf.set_font("DejaVu", "", 9)
        pdf.multi_cell(0, 5, t("deploy.contact", lang, line=report.contact),
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def export_report(
    *,
    session: Session,
    actor: Actor | None,
    place_id: int,
    period_start: date,
    period_end: date,
    fmt: Format,
    lang: str = "vi",
) -> bytes:
    """The report of a place and period as xlsx or PDF, for a reader allowed to export (audited)."""
    me, ctx, place = authorize_report(session, actor, place_id, period_start, period_end)
    authorize(session, me, Action.EXPORT, PlaceTarget(place_id))
    if fmt not in ("xlsx", "pdf"):
        raise ValidationFailed({"fmt": "export.error.format"})
    report = build_report(session, ctx, place)
    logo = logo_png(session)
    data = report_xlsx(report, lang, logo) if fmt == "xlsx" else report_pdf(report, lang, logo)
    audit.record(session, actor=me, action=Action.EXPORT, target_type="place", target_id=place_id,
                 detail=f"report fmt={fmt} {period_start.isoformat()}..{period_end.isoformat()}")
    return data


# --- client line lists ---------------------------------------------------------------------


@dataclass(frozen=True)
class LineListFilters:
    place_id: int  # a commune or province in the actor's scope
    status: ClientStatus | None = ClientStatus.ACTIVE
    episode_type: EpisodeType | None = None  # only clients with a live episode of this type
    assigned_volunteer_id: int | None = None


def pseudonym_key(session: Session) -> bytes:
    """The per-deployment key of pseudonyms, created on first use (kept with the data)."""
    setting = session.get(Setting, PSEUDONYM_SETTING)
    if setting is None:
        setting = Setting(key=PSEUDONYM_SETTING, value=secrets.token_hex(32))
        session.add(setting)
        session.flush()
    return bytes.fromhex(setting.value)


def pseudonym(key: bytes, client_id: int) -> str:
    """Stable across exports of one deployment; not reversible without the key."""
    digest = hmac.new(key, f"client:{client_id}".encode(), hashlib.sha256).hexdigest()
    return f"DH-{digest[:10].upper()}"


def birth_year_band(year: int) -> str:
    start = year - year % 5
    return f"{start}-{start + 4}"


_IDENTIFIED = ("id", "full_name", "other_names", "birth_year", "sex", "national_id", "phone",
               "commune", "address", "episodes", "status")
_DEIDENTIFIED = ("pseudonym", "birth_band", "sex", "commune", "episodes", "status")


def _line_rows(session: Session, me: Actor, filters: LineListFilters, deidentified: bool,
               lang: str) -> tuple[list[str], list[list[Any]], list[int]]:
    area = select(col(Place.id)).where(
        or_(col(Place.id) == filters.place_id, col(Place.parent_id) == filters.place_id))
    conditions: list[Any] = [client_scope_filter(me), col(Client.commune_id).in_(area),
                             col(Client.status) != ClientStatus.MERGED]
    if filters.status is not None:
        conditions.append(col(Client.status) == filters.status)
    # A person who withdrew consent to de-identified statistics (or restricted or objected
    # to them) is left out of them; one who restricted case management, out of every export.
    conditions.append(~withdrawn_filter(CASE_MANAGEMENT))
    if deidentified:
        conditions.append(~withdrawn_filter(STATISTICS))
    if filters.assigned_volunteer_id is not None:
        conditions.append(col(Client.assigned_volunteer_id) == filters.assigned_volunteer_id)
    live = select(col(Episode.client_id)).where(col(Episode.status) != EpisodeStatus.CLOSED)
    if filters.episode_type is not None:
        conditions.append(col(Client.id).in_(
            live.where(col(Episode.episode_type) == filters.episode_type)))
    clients = session.execute(
        select(Client, col(Place.name)).join(Place, col(Place.id) == col(Client.commune_id))
        .where(*conditions).order_by(col(Client.name_key), col(Client.id))
        .limit(MAX_LINE_LIST_ROWS + 1)
    ).all()
    if len(clients) > MAX_LINE_LIST_ROWS:
        raise ValidationFailed({"filters": "export.error.too_many_rows"})
    episodes: dict[int, list[str]] = defaultdict(list)
    for client_id, etype in session.execute(
        select(col(Episode.client_id), col(Episode.episode_type))
        .where(col(Episode.status) != EpisodeStatus.CLOSED,
               col(Episode.client_id).in_(select(col(Client.id)).where(*conditions)))
        .order_by(col(Episode.start_date))
    ).all():
        episodes[client_id].append(t(f"report.episode_type.{etype}", lang))
    columns = _DEIDENTIFIED if deidentified else _IDENTIFIED
    headers = [t(f"export.col.{c}", lang) for c in columns]
    key = pseudonym_key(session) if deidentified else b""
    rows: list[list[Any]] = []
    for client, commune in clients:
        values: dict[str, Any] = {
            "id": client.id, "full_name": client.full_name, "other_names": client.other_names,
            "birth_year": client.birth_year, "sex": t(f"export.sex.{client.sex}", lang),
            "national_id": client.national_id or "", "phone": client.phone, "commune": commune,
            "address": client.address, "episodes": ", ".join(episodes.get(client.id or 0, [])),
            "status": t(f"export.status.{client.status}", lang),
        }
        if deidentified:
            values["pseudonym"] = pseudonym(key, client.id or 0)
            values["birth_band"] = birth_year_band(client.birth_year)
        rows.append([values[c] for c in columns])
    if deidentified:
        rows.sort(key=lambda r: r[0])  # by pseudonym: the order must not hint at names
    return headers, rows, [client.id for client, _ in clients if client.id is not None]


def _csv(headers: Sequence[str], rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    # Every field quoted, so no separator or line break inside a value can start a cell.
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([safe_text(h) for h in headers])
    for row in rows:
        writer.writerow([safe_text(v if isinstance(v, str) else str(v)) for v in row])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read Vietnamese right


def _xlsx(title: str, headers: Sequence[str], rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _sheet_title(title, set())
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([safe_text(v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def client_line_list(
    *,
    session: Session,
    actor: Actor | None,
    filters: LineListFilters,
    deidentified: bool,
    fmt: Literal["csv", "xlsx"] = "csv",
    lang: str = "vi",
) -> bytes:
    """One row per client of a place the actor may export (audited, with the row count)."""
    me = authorize_grant(session, actor, Action.EXPORT)
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed({"fmt": "export.error.format"})
    authorize(session, me, Action.EXPORT, PlaceTarget(filters.place_id))
    headers, rows, people = _line_rows(session, me, filters, deidentified, lang)
    if fmt == "csv":
        data = _csv(headers, rows)
    else:
        data = _xlsx(t("export.line_list", lang), headers, rows)
    audit.record(session, actor=me, action=Action.EXPORT, target_type="place",
                 target_id=filters.place_id,
                 detail=f"line_list fmt={fmt} deidentified={int(deidentified)} rows={len(rows)}")
    audit.record_people(session, actor=me, action=Action.EXPORT, client_ids=people,
                        detail=f"line_list place={filters.place_id} fmt={fmt} "
                               f"deidentified={int(deidentified)}")
    return data
