"""Scanning with a camera for real: Chromium's fake camera plays a video of the card's QR.

The volunteer issues the card in the app; the QR on their screen is captured as an image and
turned into a .y4m video (ffmpeg); a second Chromium, started with that video as its camera,
signs in as the demo clinic and scans it in the in-app viewfinder.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from sqlmodel import Session, select

from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from models import Referral, Visit, VisitKind
from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM_ARGS, PHONE
from tests.e2e.test_auth import sign_in
from tests.e2e.test_cards_ui import (
    FRAME_EXCLUDE,
    SCREENS,
    ReferredClient,
    make_referred_client,
)

FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture(scope="module")
def card_on_camera(browser: Browser, base_url: str, e2e_db: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> tuple[ReferredClient, Path]:
    """A client with an open referral, a card issued in the app, and its QR as a camera video."""
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg is not installed: run `make test` (it installs Debian's ffmpeg)")
    person = make_referred_client(e2e_db, given="Mai")
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    page.goto(f"/clients/{person.client_id}/card")
    page.locator("#issue-form-submit").click()
    expect(page.locator("#card-qr")).to_be_visible()
    folder = tmp_path_factory.mktemp("camera")
    png, video = folder / "card.png", folder / "card.y4m"
    page.locator("#card-qr").screenshot(path=str(png))
    context.close()
    subprocess.run(
        ["ffmpeg", "-y", "-loglevel", "error", "-loop", "1", "-i", str(png), "-t", "3",
         "-vf", "scale=400:400,pad=640:480:(ow-iw)/2:(oh-ih)/2:white",
         "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )
    return person, video


@pytest.fixture(scope="module")
def camera_browser(browser: Browser, card_on_camera: tuple[ReferredClient, Path]
                   ) -> Iterator[Browser]:
    """A second Chromium (same Playwright) whose camera plays the card video."""
    exe = shutil.which("chromium")
    assert exe is not None
    _person, video = card_on_camera
    camera = browser.browser_type.launch(
        executable_path=exe,
        args=[*CHROMIUM_ARGS, *FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}"],
    )
    yield camera
    camera.close()


def _clinic_page(camera_browser: Browser, base_url: str) -> Page:
    context = camera_browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    sign_in(page, "yte.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "scan")
    return page


def test_clinic_scans_the_card_with_the_camera_and_records_attendance(
    camera_browser: Browser, base_url: str, e2e_db: Path,
    card_on_camera: tuple[ReferredClient, Path],
) -> None:
    person, _video = card_on_camera
    page = _clinic_page(camera_browser, base_url)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "scan.png"))
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []
    page.locator("#start-camera").click()
    expect(page.locator("#scan-name")).to_have_text(person.given_name, timeout=15_000)
    attend = page.locator(f"#attend-{person.referral_id}")
    expect(attend).to_be_visible()
    page.screenshot(path=str(SCREENS / "scan-result.png"))
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []
    attend.click()
    expect(page.locator("#attendance-done")).to_be_visible()
    expect(attend).to_have_count(0)
    page.context.close()
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        referral = s.get(Referral, person.referral_id)
        assert referral is not None and referral.status == "used"
        visits = s.exec(select(Visit).where(Visit.client_id == person.client_id)).all()
        assert [v.kind for v in visits] == [VisitKind.CLINIC_ATTENDANCE]


def test_the_scanner_loads_and_reads_with_the_network_cut_off(
    camera_browser: Browser, base_url: str, card_on_camera: tuple[ReferredClient, Path],
) -> None:
    person, _video = card_on_camera
    context = camera_browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN")
    context.set_default_timeout(20_000)
    local, outside = [], []

    def only_this_machine(route: Route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if host == "127.0.0.1" or route.request.url.startswith(("data:", "blob:")):
            local.append(route.request.url)
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_this_machine)
    page = context.new_page()
    sign_in(page, "yte.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "scan")
    page.locator("#start-camera").click()
    expect(page.locator("#scan-name")).to_have_text(person.given_name, timeout=15_000)
    context.close()
    assert local, "the route saw no requests at all"
    assert outside == [], f"requests left the machine: {outside}"
