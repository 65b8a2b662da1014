"""Installable and self-updating: Chromium's install criteria, the offline shell, and a new
build's service worker replacing the old one at once."""

from __future__ import annotations

import shutil
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import CHROMIUM_ARGS, PHONE


def test_chromium_finds_the_app_installable(
    browser: Browser, base_url: str, tmp_path: Path
) -> None:
    # Test contexts are incognito, where nothing installs: this one has a real profile.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=shutil.which("chromium"),
        args=CHROMIUM_ARGS, base_url=base_url, service_workers="allow",
        viewport={"width": PHONE["width"], "height": PHONE["height"]},
    )
    try:
        page = context.new_page()
        page.goto("/")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        assert not cdp.send("Page.getAppManifest").get("errors")
    finally:
        context.close()


def test_the_app_opens_offline_and_a_new_build_replaces_the_old_shell(page: Page) -> None:
    page.goto("/")
    page.wait_for_function("navigator.serviceWorker.controller !== null")

    # Offline, the app opens to its shell, not a browser error.
    page.context.set_offline(True)
    page.goto("/")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.context.set_offline(False)

    # A deploy changes the build id in the worker's URL: the new worker takes over at once
    # and the old shell cache is gone.
    old = page.evaluate("caches.keys()")
    assert len(old) == 1 and old[0].startswith("dh-shell-")
    page.evaluate("""async () => {
        const reg = await navigator.serviceWorker.register("/sw.js?build=e2e-next", { scope: "/" });
        const worker = reg.installing || reg.waiting || reg.active;
        if (worker.state !== "activated") {
            await new Promise((done) => worker.addEventListener("statechange", () => {
                if (worker.state === "activated") done();
            }));
        }
    }""")
    page.wait_for_function(
        "navigator.serviceWorker.controller && "
        "navigator.serviceWorker.controller.scriptURL.endsWith('build=e2e-next')")
    assert page.evaluate("caches.keys()") == ["dh-shell-e2e-next"]
