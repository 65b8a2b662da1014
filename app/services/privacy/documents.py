"""Printable documents of the privacy work: A4 PDFs (DejaVu, as the reports and cards) and
xlsx workbooks, from plain tables. Pure rendering: no database, no policy."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font

from app.services.exports import _sheet_title, font_path, safe_text


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def pdf_document(title: str, paragraphs: list[str], tables: list[Table],
                 signature_lines: list[str] | None = None) -> bytes:
    """An A4 portrait PDF: a bold title, paragraphs, then each table with its heading."""
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(font_path()))
    pdf.add_font("DejaVu", "B", str(font_path(bold=True)))
    pdf.set_title(title)
    pdf.set_creator("Đồng Hành")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 7, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("DejaVu", "", 10)
    for text in paragraphs:
        pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    for table in tables:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 10.5)
        pdf.multi_cell(0, 6, table.title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        if not table.rows:
            pdf.multi_cell(0, 5, "—", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(line_height=4.5, first_row_as_headings=True) as grid:
            grid.row(table.headers)
            for row in table.rows:
                grid.row([_cell(v) for v in row])
    if signature_lines:
        pdf.ln(8)
        pdf.set_font("DejaVu", "", 10)
        for line in signature_lines:
            pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def xlsx_document(tables: list[Table]) -> bytes:
    """One sheet per table, bold headers, text cells that never run as formulas."""
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    used: set[str] = set()
    for table in tables:
        ws = wb.create_sheet(_sheet_title(table.title, used))
        ws.append(list(table.headers))
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in table.rows:
            ws.append([safe_text(v) if isinstance(v, str) else _xlsx_value(v) for v in row])
        ws.column_dimensions["A"].width = 28
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _xlsx_value(value: Any) -> Any:
    if value is None or isinstance(value, int | float):
        return value
    return str(value)
