"""Attacks through the spreadsheet upload on /import, driven through `ImportState.upload` as
Reflex would call it (a signed-in supervisor, real session, real SQLite file, real staging
folder under the test's own directory).

The browser's file name is attacker-controlled; Reflex 0.10 already strips `..` from it, but
the handler must not rely on that: these tests hand it the raw hostile name.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
import reflex as rx
from sqlalchemy.engine import Engine

from app.i18n import t
from app.pages.import_page import ImportState, staging_dir
from app.services import imports
from tests.factories import World
from tests.state.conftest import page_state, run, sign_in, world_db  # noqa: F401
from tests.unit.test_imports import valid_sheets, workbook

HOSTILE_NAMES = ("../../etc/passwd.xlsx", "..\\..\\x.xlsx", "/etc/cron.d/x.xlsx",
                 "C:\\Windows\\x.xlsx", "a\x00b.xlsx", "%2e%2e%2fx.xlsx", "x" * 500 + ".xlsx")


def _file(data: bytes, name: str) -> rx.UploadFile:
    # A PurePath keeps the name exactly as sent: no sanitising on the way in.
    return rx.UploadFile(file=io.BytesIO(data), path=Path(name))


def _upload(state: Any, data: bytes, name: str = "so-lieu.xlsx") -> None:
    run(state.upload, [_file(data, name)])


def _files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _messages(state: Any) -> str:
    return state.error + " ".join(e["message"] for e in state.errors)


def _said(state: Any, key: str, **params: Any) -> bool:
    return any(t(key, lang, **params) in _messages(state) for lang in ("vi", "en"))


@pytest.fixture(autouse=True)
def _in_own_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test runs from its own folder: the import staging folder lands there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def importer(engine: Engine, world_db: World) -> Any:  # noqa: F811 (the imported fixture)
    return page_state(ImportState, sign_in(engine, "sup_a1"))


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_the_browser_file_name_never_decides_where_the_upload_is_written(
    importer: Any, tmp_path: Path, name: str
) -> None:
    before = _files_under(tmp_path)
    _upload(importer, workbook(valid_sheets()), name)
    assert importer.checked and importer.ok  # a good workbook, staged for the commit
    new = _files_under(tmp_path) - before
    assert len(new) == 1
    (staged,) = new
    assert staged.parent == staging_dir().resolve()
    assert len(staged.stem) == 32 and all(c in "0123456789abcdef" for c in staged.stem)
    assert staged.suffix == ".xlsx" and staged.stem == importer._staged
    assert not (tmp_path.parent / "etc").exists() and not Path("/etc/passwd.xlsx").exists()
    assert len(importer.file_name) <= 120  # the name is shown back as text, and bounded


def test_a_forged_staged_name_is_never_turned_into_a_path(importer: Any) -> None:
    for forged in ("../../etc/passwd", "/etc/passwd", "..", "ABCDEF", "0" * 31 + "/", ""):
        importer._staged = forged
        assert importer._staged_path() is None
    run(importer.commit)
    assert _said(importer, "sup.import.upload_first")


def test_a_file_over_the_size_limit_is_refused_before_it_is_stored(importer: Any,
                                                                   tmp_path: Path) -> None:
    before = _files_under(tmp_path)
    _upload(importer, b"PK\x03\x04" + b"\x00" * imports.MAX_BYTES)
    assert _said(importer, "import.error.too_large", max_mb=imports.MAX_BYTES // 2**20)
    assert not importer.checked and importer._staged == ""
    assert _files_under(tmp_path) == before


@pytest.mark.parametrize("data", [
    b"",
    b"Ho ten,Nam sinh\nNguyen Van A,1990\n",
    b"%PDF-1.7\n" + b"\x00" * 100,
    b"<html><script>alert(1)</script></html>",
    b"PK\x03\x04" + b"\x00" * 300,  # a zip header and nothing behind it
], ids=["empty", "csv", "pdf", "html", "broken-zip"])
def test_content_that_is_not_a_workbook_is_refused_with_a_message(
    importer: Any, tmp_path: Path, data: bytes
) -> None:
    _upload(importer, data)
    assert importer.checked and not importer.ok
    assert _said(importer, "import.error.not_xlsx")
    assert not list(staging_dir().iterdir())  # nothing kept of a refused file


def test_a_zip_that_is_not_a_spreadsheet_is_refused(importer: Any) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("[Content_Types].xml", "<Types/>")
    _upload(importer, out.getvalue())
    assert _said(importer, "import.error.not_xlsx")


def test_a_zip_bomb_is_refused_before_it_is_unpacked(importer: Any) -> None:
    """A small file that would unpack to more than MAX_UNCOMPRESSED (the real limit)."""
    out = io.BytesIO()
    chunk = b"\x00" * (8 * 2**20)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(imports.MAX_UNCOMPRESSED // len(chunk) + 1):
                sheet.write(chunk)
    data = out.getvalue()
    assert len(data) < imports.MAX_BYTES  # small enough to pass the size check
    _upload(importer, data)
    assert importer.checked and not importer.ok
    assert _said(importer, "import.error.too_large", max_mb=imports.MAX_BYTES // 2**20)
    assert not list(staging_dir().iterdir())


def test_a_sheet_with_too_many_rows_is_refused_whole(importer: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "MAX_ROWS", 3)  # the real limit is 50 000 rows
    _upload(importer, workbook(valid_sheets()))
    assert _said(importer, "import.error.too_many_rows", max_rows=3)
    assert not importer.ok and importer.counts == []


def test_a_corrupt_workbook_is_refused_with_a_message(importer: Any) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", "<<<not xml")
        z.writestr("xl/workbook.xml", "<<<not xml")
    _upload(importer, out.getvalue())
    assert _said(importer, "import.error.corrupt")


def test_several_files_at_once_are_refused(importer: Any) -> None:
    data = workbook(valid_sheets())
    run(importer.upload, [_file(data, "a.xlsx"), _file(data, "b.xlsx")])
    assert _said(importer, "sup.import.one_file")
    assert not importer.checked


def test_a_volunteer_cannot_upload_at_all(engine: Engine, world_db: World,  # noqa: F811
                                          tmp_path: Path) -> None:
    volunteer = page_state(ImportState, sign_in(engine, "vol_a1"))
    before = _files_under(tmp_path)
    _upload(volunteer, workbook(valid_sheets()))
    assert not volunteer.checked and volunteer._staged == ""
    assert _files_under(tmp_path) == before
