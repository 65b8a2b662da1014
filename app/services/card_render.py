"""Drawing client cards: the QR as SVG or PNG, and printable PDFs (one ID-1 card, or A4 sheets).

Pure rendering — no database, no policy. `cards.print_cards` decides who may print what and
hands this module plain `CardPrint` values.

The QR uses error correction M and the standard 4-module quiet zone. In the PDF it is drawn as
one vector path (a union of rectangles, so rasterisers leave no hairline seams between modules)
and therefore stays sharp at any printer resolution. Text uses DejaVu Sans from
`assets/fonts/` (embedded and subset by fpdf2) so Vietnamese names such as "Đức", "Ánh" or
"Hường" print correctly.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import qrcode
import qrcode.image.svg
from fpdf import FPDF
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

from app.services.settings import PROJECT_ROOT

FONT_DIR: Path = PROJECT_ROOT / "assets" / "fonts"
_FONTS = {
    ("DejaVu", ""): "DejaVuSans.ttf",
    ("DejaVu", "B"): "DejaVuSans-Bold.ttf",
    ("DejaVuMono", "B"): "DejaVuSansMono-Bold.ttf",
}

QR_BORDER_MODULES = 4

# ISO/IEC 7810 ID-1, in millimetres.
CARD_W = 85.6
CARD_H = 54.0
# A4 sheet: 2 columns x 5 rows with gaps to cut in; margins centre the grid on the page.
A4_W = 210.0
A4_H = 297.0
A4_COLUMNS = 2
A4_ROWS = 5
A4_GAP_X = 10.0
A4_GAP_Y = 3.0
CARDS_PER_SHEET = A4_COLUMNS * A4_ROWS

# Inside a card (mm from the card's top-left corner).
_PAD = 4.0
_QR_SIZE = 40.0  # includes the quiet zone
_QR_TOP = 3.0
_CODE_TOP = _QR_TOP + _QR_SIZE + 0.5
_TEXT_W = CARD_W - _QR_SIZE - 3.0 - _PAD - 1.5

Layout = Literal["id1", "a4"]


@dataclass(frozen=True)
class CardPrint:
    """What goes on one printed card. `short_code` is already grouped for reading."""

    programme_name: str
    given_name: str
    short_code: str
    payload: str
    logo_png: bytes | None = None  # the organisation's logo (deployment settings)


# --- QR ------------------------------------------------------------------------------------


def _qr(payload: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QR_BORDER_MODULES)
    qr.add_data(payload)
    qr.make(fit=True)
    return qr


def qr_matrix(payload: str) -> list[list[bool]]:
    """The QR modules (True = dark), quiet zone included."""
    return [list(row) for row in _qr(payload).get_matrix()]


def card_svg(payload: str) -> str:
    """The QR as a standalone SVG document (one path; scales to any size on screen)."""
    qr = _qr(payload)
    image = qr.make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return image.to_string(encoding="unicode")


def qr_png(payload: str, *, box_size: int = 10) -> bytes:
    """The QR as a black-on-white PNG, `box_size` pixels per module."""
    qr = _qr(payload)
    qr.box_size = box_size
    image = qr.make_image()
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _dark_runs(matrix: list[list[bool]]) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules."""
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                yield r, start, c - start
            else:
                c += 1


# --- PDF -----------------------------------------------------------------------------------


@cache
def _font_files() -> dict[tuple[str, str], Path]:
    files = {key: FONT_DIR / name for key, name in _FONTS.items()}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"card fonts missing: {', '.join(missing)}")
    return files


def _new_pdf(layout: Layout) -> FPDF:
    page = (CARD_W, CARD_H) if layout == "id1" else (A4_W, A4_H)
    pdf = FPDF(orientation="portrait", unit="mm", format=page)
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    pdf.set_creator("Đồng Hành")
    for (family, style), path in _font_files().items():
        pdf.add_font(family, style, str(path))
    return pdf


def _draw_qr(pdf: FPDF, payload: str, x: float, y: float, size: float) -> None:
    matrix = qr_matrix(payload)
    module = size / len(matrix)
    with pdf.new_path() as path:
        path.style.fill_color = "#000000"
        path.style.stroke_color = None
        for r, c, length in _dark_runs(matrix):
            path.rectangle(x + c * module, y + r * module, length * module, module)


def _fit_font(pdf: FPDF, text: str, family: str, style: str, size: float, width: float) -> None:
    """Set the largest font size <= `size` (down to 7 pt) at which `text` fits `width`."""
    while True:
        pdf.set_font(family, style, size)
        if size <= 7 or pdf.get_string_width(text) <= width:
            return
        size -= 0.5


def logo_box(png: bytes, *, max_w: float, max_h: float) -> tuple[float, float]:
    """Width and height (mm) of a logo fitted into max_w × max_h, its proportions kept."""
    with Image.open(io.BytesIO(png)) as image:
        ratio = image.width / max(1, image.height)
    width = min(max_w, max_h * ratio)
    return width, width / ratio


def _draw_card(pdf: FPDF, card: CardPrint, x0: float, y0: float) -> None:
    pdf.set_text_color(0, 0, 0)
    # Programme name: neutral wording from the settings, up to three lines at the top left.
    pdf.set_font("DejaVu", "B", 7.5)
    pdf.set_xy(x0 + _PAD, y0 + _PAD)
    pdf.multi_cell(_TEXT_W, 3.4, card.programme_name, align="L", max_line_height=3.4)
    # Given name: as large as fits the left column.
    _fit_font(pdf, card.given_name, "DejaVu", "B", 18, _TEXT_W)
    pdf.set_xy(x0 + _PAD, y0 + 24.0)
    pdf.cell(_TEXT_W, 8.0, card.given_name, align="L")
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.3)
    pdf.line(x0 + _PAD, y0 + 33.5, x0 + _PAD + 12.0, y0 + 33.5)
    if card.logo_png:
        # Bottom left, under the rule: at most 11 mm high and as wide as the text column.
        w, h = logo_box(card.logo_png, max_w=_TEXT_W, max_h=11.0)
        pdf.image(io.BytesIO(card.logo_png), x=x0 + _PAD, y=y0 + 37.5, w=w, h=h)
    # QR on the right, the typed-in code centred under it.
    qr_x = x0 + CARD_W - _QR_SIZE - 3.0
    _draw_qr(pdf, card.payload, qr_x, y0 + _QR_TOP, _QR_SIZE)
    _fit_font(pdf, card.short_code, "DejaVuMono", "B", 10, _QR_SIZE)
    pdf.set_xy(qr_x, y0 + _CODE_TOP)
    pdf.cell(_QR_SIZE, 5.0, card.short_code, align="C")


def _draw_cut_marks(pdf: FPDF, x0: float, y0: float) -> None:
    """Short grey marks at the corners, outside the card, showing where to cut."""
    pdf.set_draw_color(150, 150, 150)
    pdf.set_line_width(0.1)
    off, long_mark, short_mark = 0.5, 3.0, A4_GAP_Y - 1.0
    for cx, dx in ((x0, -1), (x0 + CARD_W, 1)):
        for cy, dy in ((y0, -1), (y0 + CARD_H, 1)):
            pdf.line(cx + dx * off, cy, cx + dx * (off + long_mark), cy)
            pdf.line(cx, cy + dy * off, cx, cy + dy * (off + short_mark))


def _sheet_origin(index: int) -> tuple[float, float]:
    margin_x = (A4_W - A4_COLUMNS * CARD_W - (A4_COLUMNS - 1) * A4_GAP_X) / 2
    margin_y = (A4_H - A4_ROWS * CARD_H - (A4_ROWS - 1) * A4_GAP_Y) / 2
    row, col = divmod(index, A4_COLUMNS)
    return margin_x + col * (CARD_W + A4_GAP_X), margin_y + row * (CARD_H + A4_GAP_Y)


def card_pdf(cards: list[CardPrint], *, layout: Layout = "id1") -> bytes:
    """A PDF of the cards: `id1` one card per 85.6 × 54 mm page (card printers), `a4` sheets of
    ten cards with cut marks (office printers). No cards: ValueError."""
    if not cards:
        raise ValueError("no cards to print")
    if layout not in ("id1", "a4"):
        raise ValueError(f"unknown card layout {layout!r}")
    pdf = _new_pdf(layout)
    for index, card in enumerate(cards):
        if layout == "id1":
            pdf.add_page()
            _draw_card(pdf, card, 0.0, 0.0)
            continue
        slot = index % CARDS_PER_SHEET
        if slot == 0:
            pdf.add_page()
        x0, y0 = _sheet_origin(slot)
        _draw_cut_marks(pdf, x0, y0)
        _draw_card(pdf, card, x0, y0)
    return bytes(pdf.output())
