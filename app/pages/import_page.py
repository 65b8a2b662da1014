"""Import: download the template, upload a filled workbook, preview every problem by sheet, row
and column, then commit all rows or nothing (`app/services/imports.py`, docs/IMPORT.md).

The upload is read with a size cap and kept, until committed or replaced, under a name the
server makes up (`secrets.token_hex`) in the app's upload folder; the user's file name is
never used as a path.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

import reflex as rx

from app.components.client_cards import empty_note, section_heading
from app.components.forms import form_message, name_file_input
from app.components.frame import app_frame
from app.i18n import t
from app.pages.caseload import scroll_table
from app.pages.reports import number_text
from app.services import imports
from app.services.imports import MAX_BYTES, SHEETS, RowError
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import Role

log = logging.getLogger(__name__)
UPLOAD_ID = "import-upload"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Row = dict[str, str]


def staging_dir() -> Path:
    """Where uploaded workbooks wait for their commit (created on first use)."""
    folder = rx.get_upload_dir() / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _error_rows(errors: tuple[RowError, ...], lang: str) -> list[Row]:
    return [
        {"sheet": e.sheet, "row": str(e.row) if e.row else "", "column": e.column,
         "message": t(e.key, lang, **e.params), "row_id": f"import-error-{i}"}
        for i, e in enumerate(errors)
    ]


def _count_rows(counts: dict[str, int], lang: str) -> list[Row]:
    titles = {s.kind: s.title for s in SHEETS}
    return [{"sheet": titles.get(kind, kind), "count": number_text(n, lang)}
            for kind, n in counts.items() if n]


class ImportState(AppState):
    file_name: str = ""
    checked: bool = False
    ok: bool = False
    committed: bool = False
    total_rows: str = "0"  # written the reader's way ("2.700")
    duplicates: str = "0"
    counts: list[Row] = []
    errors: list[Row] = []
    truncated: bool = False
    error: str = ""
    success: str = ""
    busy: bool = False
    # The staged workbook: a server-made name, never the user's.
    _staged: str = ""

    def _staged_path(self) -> Path | None:
        name = self._staged
        if not name or not all(c in "0123456789abcdef" for c in name):
            return None
        return staging_dir() / f"{name}.xlsx"

    def _forget(self) -> None:
        path = self._staged_path()
        if path is not None:
            path.unlink(missing_ok=True)
        self._staged = ""

    def _reset_result(self) -> None:
        self.checked = self.ok = self.committed = self.truncated = False
        self.total_rows = self.duplicates = "0"
        self.counts, self.errors = [], []
        self.error = self.success = ""

    @guarded(Role.SUPERVISOR)
    async def load(self) -> Any:
        self._forget()
        self._reset_result()
        self.file_name = ""
        return name_file_input(UPLOAD_ID, await self._text("sup.import.choose"))

    @guarded(Role.SUPERVISOR)
    async def download_template(self) -> Any:
        return rx.download(data=imports.template_xlsx(), filename="mau-nhap-du-lieu.xlsx",
                           mime_type=XLSX_MIME)

    @guarded(Role.SUPERVISOR)
    async def upload(self, files: list[rx.UploadFile]) -> Any:
        """Read the one workbook (at most MAX_BYTES), stage it, and preview it."""
        self._forget()
        self._reset_result()
        if len(files) != 1:
            self.error = await self._text("sup.import.one_file")
            return None
        upload = files[0]
        data = await upload.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            self.error = await self._text("import.error.too_large", max_mb=MAX_BYTES // 2**20)
            return None
        # Shown back to the user as text only; never part of a path.
        self.file_name = (upload.name or "")[-120:]
        name = secrets.token_hex(16)
        (staging_dir() / f"{name}.xlsx").write_bytes(data)
        self._staged = name
        outcome = await self._run(lambda db, actor: imports.preview_import(
            session=db, actor=actor, data=data))
        if outcome.value is None:
            self.error = outcome.error
            return None
        preview, lang = outcome.value, await self._lang()
        self.checked, self.ok = True, preview.ok
        self.total_rows = number_text(preview.total_rows, lang)
        self.duplicates = number_text(preview.duplicates, lang)
        self.counts = _count_rows(preview.counts, lang)
        self.errors = _error_rows(preview.errors, lang)
        self.truncated = preview.errors_truncated
        if not preview.ok:  # nothing to commit: keep no copy of the file
            self._forget()
        return None

    @guarded(Role.SUPERVISOR)
    async def commit(self) -> Any:
        self.error = self.success = ""
        path = self._staged_path()
        if path is None or not path.is_file():
            self.error = await self._text("sup.import.upload_first")
            return None
        data = path.read_bytes()
        outcome = await self._run(lambda db, actor: imports.commit_import(
            session=db, actor=actor, data=data))
        if outcome.value is None:
            self.error = outcome.error
            return None
        result, lang = outcome.value, await self._lang()
        if result.committed:
            self._forget()
            self.committed = True
            self.counts = _count_rows(result.created, lang)
            self.errors = []
            return await self._confirm_saved(
                "sup.import.committed", count=number_text(sum(result.created.values()), lang))
        else:
            self.ok = False
            self.errors = _error_rows(result.errors, lang)
            self.error = await self._text("sup.import.nothing_saved")
        return None


# ---- view ----------------------------------------------------------------------------------


def _uploader() -> rx.Component:
    return rx.flex(
        rx.upload.root(
            rx.flex(
                rx.icon("file-spreadsheet", size=32, aria_hidden="true", color="var(--teal-9)"),
                rx.text(tr("sup.import.drop")),
                rx.button(tr("sup.import.choose"), type="button", size="3", variant="soft"),
                rx.foreach(rx.selected_files(UPLOAD_ID), lambda f: rx.text(f, weight="bold",
                                                                            id="chosen-file")),
                direction="column", align="center", spacing="2",
            ),
            id=UPLOAD_ID,
            accept={XLSX_MIME: [".xlsx"]},
            max_files=1,
            max_size=MAX_BYTES,
            multiple=False,
            border="2px dashed var(--gray-7)",
            border_radius="12px",
            padding="20px",
            width="100%",
        ),
        rx.button(
            rx.icon("search-check", size=18, aria_hidden="true"), tr("sup.import.check"),
            on_click=ImportState.upload(rx.upload_files(upload_id=UPLOAD_ID)),
            size="3", id="import-check",
        ),
        direction="column", spacing="3",
    )


def _result() -> rx.Component:
    s = ImportState
    return rx.cond(
        s.checked,
        rx.flex(
            rx.text(tr("sup.import.file"), " ", s.file_name, " · ", tr("sup.import.rows"), " ",
                    s.total_rows, " · ", tr("sup.import.duplicates"), " ", s.duplicates,
                    id="import-summary", size="2"),
            rx.cond(
                s.counts.length() > 0,
                rx.flex(rx.foreach(s.counts, lambda c: rx.badge(
                    c["sheet"], ": ", c["count"], size="2", color_scheme="teal")),
                    spacing="2", wrap="wrap", id="import-counts"),
            ),
            rx.cond(
                s.errors.length() > 0,
                rx.fragment(
                    section_heading("sup.import.errors"),
                    scroll_table(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell(tr("sup.import.col.sheet")),
                            rx.table.column_header_cell(tr("sup.import.col.row")),
                            rx.table.column_header_cell(tr("sup.import.col.column")),
                            rx.table.column_header_cell(tr("sup.import.col.message")),
                        )),
                        rx.table.body(rx.foreach(s.errors, lambda e: rx.table.row(
                            rx.table.cell(e["sheet"]), rx.table.cell(e["row"]),
                            rx.table.cell(e["column"]), rx.table.cell(e["message"]),
                            id=e["row_id"],
                        ))),
                        table_id="import-errors",
                    ),
                    rx.cond(s.truncated, empty_note("sup.import.truncated")),
                ),
            ),
            rx.cond(
                s.ok & ~s.committed,
                rx.button(rx.icon("database", size=18, aria_hidden="true"),
                          tr("sup.import.commit"), on_click=s.commit, size="3",
                          color_scheme="green", id="import-commit"),
            ),
            direction="column", spacing="3", margin_top="12px",
        ),
    )


def import_page() -> rx.Component:
    return app_frame(
        "nav.import",
        rx.flex(
            rx.text(tr("sup.import.intro"), size="2"),
            rx.button(rx.icon("download", size=18, aria_hidden="true"),
                      tr("sup.import.template"), on_click=ImportState.download_template,
                      size="3", variant="outline", id="download-template",
                      width="fit-content"),
            _uploader(),
            form_message(ImportState.error, ImportState.success),
            _result(),
            direction="column",
            spacing="3",
        ),
    )
