"""Card rendering: the QR decodes, PDF pages have the right size and count, Vietnamese prints."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from app.services.card_render import (
    A4_H,
    A4_W,
    CARD_H,
    CARD_W,
    CARDS_PER_SHEET,
    CardPrint,
    _sheet_origin,
    card_pdf,
    card_svg,
    qr_matrix,
    qr_png,
)
from app.services.cards import format_short_code, new_card_token, new_short_code, qr_payload

MM = 72 / 25.4  # PDF points per millimetre
NAMES = ["Đức", "Ánh", "Hường", "Nguyễn", "Trịnh", "Ỷ", "Lê Thị Mỹ Duyên"]
needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                   reason="pdftoppm (poppler-utils) missing")


def _card(name: str = "Đức") -> CardPrint:
    return CardPrint(
        programme_name="Chương trình Đồng Hành",
        given_name=name,
        short_code=format_short_code(new_short_code()),
        payload=qr_payload(new_card_token(), "https://donghanh.example.vn"),
    )


def _media_boxes(pdf: bytes) -> list[tuple[float, float]]:
    """Every MediaBox in the file: the page tree's (inherited by pages) and any page's own."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def _page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def _rasterise(pdf: bytes, tmp_path: Path, dpi: int = 300) -> list[Image.Image]:
    source = tmp_path / "cards.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), str(tmp_path / "page")],
                   check=True)
    return [Image.open(p) for p in sorted(tmp_path.glob("page*.png"))]


def test_the_qr_png_decodes_to_the_payload() -> None:
    payload = qr_payload(new_card_token(), "https://donghanh.example.vn")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(payload))))
    assert [d.text for d in decoded] == [payload]
    assert decoded[0].format == zxingcpp.BarcodeFormat.QRCode


def test_the_qr_uses_medium_error_correction_and_a_four_module_quiet_zone() -> None:
    payload = qr_payload(new_card_token(), "https://donghanh.example.vn")
    matrix = qr_matrix(payload)
    assert all(not any(row) for row in matrix[:4] + matrix[-4:])
    assert all(not any(row[:4]) and not any(row[-4:]) for row in matrix)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr_png(payload))))
    assert decoded[0].ec_level == "M"


def test_the_svg_is_a_single_path_document() -> None:
    svg = card_svg("DH1-" + new_card_token())
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    paths = [el for el in root.iter() if el.tag.endswith("path")]
    assert len(paths) == 1 and paths[0].get("d")


def test_an_id1_card_page_is_exactly_85_6_by_54_mm() -> None:
    pdf = card_pdf([_card(), _card("Ánh")], layout="id1")
    boxes = _media_boxes(pdf)
    assert _page_count(pdf) == 2 and boxes
    for width, height in boxes:
        assert width == pytest.approx(CARD_W * MM, abs=0.01)
        assert height == pytest.approx(CARD_H * MM, abs=0.01)


def test_twenty_five_cards_on_a4_take_three_sheets() -> None:
    pdf = card_pdf([_card(NAMES[i % len(NAMES)]) for i in range(25)], layout="a4")
    assert _page_count(pdf) == 3
    (width, height), = set(_media_boxes(pdf))
    assert (width, height) == (pytest.approx(A4_W * MM, abs=0.01),
                               pytest.approx(A4_H * MM, abs=0.01))


def test_ten_cards_fit_a_sheet_without_overlapping_and_inside_the_page() -> None:
    slots = [_sheet_origin(i) for i in range(CARDS_PER_SHEET)]
    assert len(set(slots)) == CARDS_PER_SHEET
    for x, y in slots:
        assert 5 <= x and x + CARD_W <= A4_W - 5
        assert 5 <= y and y + CARD_H <= A4_H - 5
    for i, (x1, y1) in enumerate(slots):
        for x2, y2 in slots[i + 1:]:
            apart_x = x1 + CARD_W <= x2 or x2 + CARD_W <= x1
            apart_y = y1 + CARD_H <= y2 or y2 + CARD_H <= y1
            assert apart_x or apart_y


def test_vietnamese_given_names_render_with_an_embedded_font() -> None:
    pdf = card_pdf([_card(n) for n in NAMES], layout="id1")
    assert _page_count(pdf) == len(NAMES)
    assert b"/FontFile2" in pdf  # TrueType embedded (subset), not a core PDF font
    assert b"DejaVu" in pdf


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) missing")
def test_the_printed_text_keeps_its_diacritics(tmp_path: Path) -> None:
    card = _card("Hường")
    source = tmp_path / "c.pdf"
    source.write_bytes(card_pdf([card], layout="id1"))
    text = subprocess.run(["pdftotext", str(source), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "Hường" in text
    assert "Chương trình Đồng Hành" in text
    assert card.short_code in text


def test_no_cards_or_an_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError):
        card_pdf([], layout="a4")
    with pytest.raises(ValueError):
        card_pdf([_card()], layout="letter")  # type: ignore[arg-type]


@needs_poppler
def test_the_qr_on_an_id1_card_decodes_at_300_dpi(tmp_path: Path) -> None:
    card = _card("Hường")
    (page,) = _rasterise(card_pdf([card], layout="id1"), tmp_path)
    width, height = page.size
    assert abs(width - CARD_W / 25.4 * 300) <= 1 and abs(height - CARD_H / 25.4 * 300) <= 1
    assert [d.text for d in zxingcpp.read_barcodes(page)] == [card.payload]


@needs_poppler
def test_every_qr_on_an_a4_sheet_decodes(tmp_path: Path) -> None:
    batch = [_card(NAMES[i % len(NAMES)]) for i in range(12)]
    pages = _rasterise(card_pdf(batch, layout="a4"), tmp_path, dpi=200)
    assert len(pages) == 2
    found = {d.text for page in pages for d in zxingcpp.read_barcodes(page)}
    assert found == {c.payload for c in batch}
