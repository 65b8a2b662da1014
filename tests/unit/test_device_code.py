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
