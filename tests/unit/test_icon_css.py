"""Icons drawn by CSS (app/icon_css.py): every name the app may ask for has its mask in
assets/icons.css, and the stylesheet is loaded."""

from __future__ import annotations

import re

import pytest

from app import icon_css


def test_every_icon_has_a_mask_rule() -> None:
    css = icon_css.CSS_FILE.read_text()
    for name in icon_css.ICONS:
        rule = re.search(rf"\.dh-i-{re.escape(name)} \{{ --dh-i: url\(\"data:image/svg\+xml,"
                         r"%3Csvg[^\"]*%3C/svg%3E\"\); \}", css)
        assert rule, f"no mask for {name}"
        assert "%3Cpath" in rule.group(0) or "%3Ccircle" in rule.group(0) or \
            "%3Crect" in rule.group(0), f"empty icon {name}"


def test_sizes_used_have_rules() -> None:
    css = icon_css.CSS_FILE.read_text()
    for size in (18, 20, 22):
        assert f".dh-i-{size} {{ width: {size}px; height: {size}px; }}" in css


def test_css_icon_markup_and_unknown_name() -> None:
    html = str(icon_css.css_icon("house", 22, class_name="x").render())
    assert "dh-i dh-i-house dh-i-22 x" in html
    with pytest.raises(ValueError):
        icon_css.css_icon("no-such-icon")


def test_stylesheet_is_loaded() -> None:
    from pathlib import Path

    app_source = (Path(icon_css.__file__).parent / "app.py").read_text()
    assert '"/icons.css"' in app_source
