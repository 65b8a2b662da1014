"""The device code (assets/device/) against the Python it mirrors: the record forms' choices,
the record kinds the sync API takes, the catalogue texts it shows, and the build that bundles it.
Its own behaviour is tested by node's test runner (tests/device/) and in Chromium (tests/e2e/)."""

from __future__ import annotations

import re
from pathlib import Path

from app import device_build
from app.i18n import MESSAGES
from app.pages import drug_test, register, visit
from app.services.outbox.kinds import KINDS

SRC = Path(__file__).resolve().parents[2] / "assets" / "device" / "src"
FORMS_JS = (SRC / "forms.js").read_text()
MAIN_JS = (SRC / "main.js").read_text()
PAGES = Path(__file__).resolve().parents[2] / "app" / "pages"


def js_list(name: str) -> list[str]:
    match = re.search(rf"const {name} = \[([^\]]*)\];", FORMS_JS)
    assert match, name
    return re.findall(r'"([^"]+)"', match.group(1))


def test_the_device_forms_offer_the_choices_of_the_online_forms() -> None:
    assert js_list("VISIT_CONTENT") == visit.CONTENTS
    assert js_list("VISIT_RISKS") == visit.RISKS
    assert js_list("SAMPLES") == drug_test.SAMPLES
    assert js_list("METHODS") == drug_test.METHODS
    assert js_list("SUBSTANCES") == drug_test.SUBSTANCES
    assert js_list("CONSENT_PURPOSES") == list(register.CONSENT_PURPOSES)
    assert js_list("CONSENT_CATEGORIES") == list(register.CONSENT_CATEGORIES)
    assert js_list("CLIENT_TEXT") == list(register.TEXT_FIELDS)


def test_every_outbox_form_is_a_kind_the_device_reads_and_the_sync_api_applies() -> None:
    used = set()
    for page in PAGES.glob("*.py"):
        used |= set(re.findall(r'outbox="([a-z_]+)"', page.read_text()))
        used |= set(re.findall(r'"data-outbox": "([a-z_]+)"', page.read_text()))
    readers = set(re.findall(r"^  ([a-z_]+)\(f, \{", FORMS_JS, re.M))
    expected = {"visit", "drug_test", "referral", "support", "outreach_contact",
                "group_activity", "client"}
    assert used == expected
    assert readers == expected
    assert expected <= set(KINDS)


def test_every_text_the_device_shows_is_in_the_catalogue_in_both_languages() -> None:
    texts = device_build.device_texts()
    keys = set(re.findall(r'\bt\("([a-z_.]+)"', MAIN_JS))
    keys |= {k for k in re.findall(r'"((?:error|rec\.error|offline\.error)\.[a-z_]+)"', FORMS_JS)}
    missing = sorted(k for k in keys if k not in MESSAGES)
    assert not missing
    assert keys <= set(texts["vi"]) and keys <= set(texts["en"])
    for kind in ("visit", "drug_test", "referral", "support", "outreach_contact",
                 "group_activity", "client"):
        assert f"device.kind.{kind}" in texts["vi"]
    for status in ("waiting", "sent", "kept", "question"):
        assert f"device.status.{status}" in texts["en"]


def test_the_bundles_are_built_from_the_pinned_libraries() -> None:
    app_js = device_build.app_bundle()
    sw_js = device_build.bundle("src/sw.js")
    assert app_js.startswith("var __DH_TEXTS=")
    assert "Đã lưu trên máy." in app_js
    # idb and workbox-window inside the page bundle, Workbox's router inside the worker.
    assert "workbox" in sw_js.lower() and "dh-shell-" in sw_js
    assert "import " not in sw_js.split("\n", 1)[0]  # one classic script, no module imports
    # Workbox built for production: no development logging or argument messages on a phone.
    assert "__WB_DISABLE_DEV_LOGS" not in sw_js and "incorrect-type" not in sw_js


def test_the_pack_is_ordered_with_similar_files_side_by_side() -> None:
    import random

    rng = random.Random(20)
    noise = [bytes(rng.randrange(256) for _ in range(3000)) for _ in range(2)]
    bodies = {"a1": noise[0] + b"a", "b1": noise[1] + b"b", "a2": noise[0] + b"c",
              "b2": noise[1] + b"d"}
    order = device_build.similarity_order(bodies)
    assert sorted(order) == sorted(bodies)
    assert abs(order.index("a1") - order.index("a2")) == 1
    assert abs(order.index("b1") - order.index("b2")) == 1


def test_the_build_writes_the_packs_order_into_the_worker(tmp_path: Path) -> None:
    """After the build: positions in the worker's own list (computed by routes.js itself) plus
    the fallback page, without what every page loads; the gzip copy follows, another goes."""
    import gzip
    import json

    assets = tmp_path / "assets"
    assets.mkdir()
    route = {"imports": [], "css": []}
    manifest = {"entry": {"module": "/assets/entry-E.js", "imports": ["/assets/vendor-V.js"]},
                "routes": {"root": {**route, "id": "root", "module": "/assets/root-R.js"},
                           "today": {**route, "id": "today", "path": "today",
                                     "module": "/assets/today-T.js"},
                           "visit": {**route, "id": "visit", "path": "clients/:client_id/visit",
                                     "module": "/assets/visit-V.js"}}}
    (assets / "manifest-b1.js").write_text(f"window.__reactRouterManifest={json.dumps(manifest)};")
    for name in ("entry-E", "vendor-V", "root-R", "today-T", "visit-V"):
        (assets / f"{name}.js").write_text(f"export const {name[0]} = 1;" * 50)
    (tmp_path / "__spa-fallback.html").write_text("<html></html>")
    (tmp_path / "sw.js").write_text('const o="__DH_PACK_ORDER__";')
    (tmp_path / "sw.js.gz").write_bytes(b"old")
    (tmp_path / "sw.js.br").write_bytes(b"old")

    device_build.DeviceBundlePlugin().post_build(static_dir=tmp_path)
    listed = device_build.precache_list(assets / "manifest-b1.js")
    assert listed[:2] == ["/assets/manifest-b1.js", "/assets/entry-E.js"]
    written = (tmp_path / "sw.js").read_text()
    order = re.fullmatch(r'const o="([0-9,]+)";', written)
    assert order, written
    kept = [[*listed, device_build.SPA_FALLBACK][int(i)] for i in order.group(1).split(",")]
    assert sorted(kept) == ["/__spa-fallback.html", "/assets/today-T.js", "/assets/visit-V.js"]
    assert gzip.decompress((tmp_path / "sw.js.gz").read_bytes()).decode() == written
    assert not (tmp_path / "sw.js.br").exists()


def test_every_page_loads_the_device_code_through_its_first_lines() -> None:
    """The page's head names boot.js alone, which loads app.js once the page is drawn (issue
    20); the worker keeps and serves both, so that a page opened offline has them."""
    from app.app import app

    scripts = [c.src for c in app.head_components if getattr(c, "tag", "") == "script"]
    assert [str(s).strip('"') for s in scripts] == ["/device/boot.js"]
    boot_js = device_build.bundle(device_build.BUNDLES["public/device/boot.js"])
    assert '"/device/app.js"' in boot_js
    assert len(boot_js.encode()) < 3000  # its first lines only: no library, no texts
    sw = (SRC / "sw.js").read_text()
    files = re.search(r"const FILES = \[([^\]]*)\];", sw)
    assert files and re.findall(r'"([^"]+)"', files.group(1)) == ["/device/boot.js",
                                                                   "/device/app.js"]
    served = re.search(r"device\\/\(\?:([a-z|]+)\)\\\.js\$", sw)
    assert served and set(served.group(1).split("|")) == {"boot", "app"}
