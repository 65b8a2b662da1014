"""Signing in on a slow phone: a tap before the page's script is ready (issue 19, item 3).

Chromium is throttled through the DevTools protocol to DevTools' "Slow 3G" (2 s round trip,
~50 kB/s each way) with the CPU slowed 4×. The test types and taps "Đăng nhập" as soon as the
button is visible — before React has taken over the form — and then checks that the password
appears in no URL, no request line and no line of the server's log, and that the user is
signed in once the page is ready.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from app.services.demo import DEMO_PASSWORD
from tests.e2e.conftest import PHONE
from tests.e2e.server import ARTIFACTS

SLOW_3G = {
    "offline": False,
    "latency": 2000,  # ms, DevTools' "Slow 3G" preset
    "downloadThroughput": 50_000,  # bytes/s
    "uploadThroughput": 50_000,
}


@pytest.fixture
def slow_page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN")
    context.set_default_timeout(120_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    yield page
    context.close()


def _server_log() -> str:
    return (ARTIFACTS / "e2e-server.log").read_text(errors="replace")


def test_a_tap_before_the_page_is_ready_signs_in_without_the_password_in_any_url(
    slow_page: Page, base_url: str
) -> None:
    page = slow_page
    password = DEMO_PASSWORD
    requests: list[str] = []
    page.on("request", lambda r: requests.append(f"{r.method} {r.url}"))
    urls: list[str] = []
    page.on("framenavigated", lambda f: urls.append(f.url))
    log_before = len(_server_log())

    page.goto("/", wait_until="commit")
    button = page.locator("#signin-submit")
    button.wait_for(state="visible")
    page.locator("#login").fill("tnv.demo")
    page.locator("#password").fill(password)
    # Is the form still the server's HTML (React has not taken it over yet)?
    hydrated = page.evaluate(
        "() => Object.keys(document.getElementById('signin-form'))"
        ".some(k => k.startsWith('__react'))"
    )
    button.click()

    expect(page).to_have_url(base_url + "today", timeout=180_000)
    expect(page.locator("#role-badge")).to_be_visible(timeout=180_000)
    assert not hydrated, "the page was ready before the tap: the slow path was not exercised"
    leaks = [u for u in [*requests, *urls, page.url] if password in u or "password=" in u]
    assert leaks == []
    assert any(r.startswith("POST ") and r.endswith("/api/auth/sign-in") for r in requests)
    assert password not in _server_log()[log_before:]
    cookie = next(c for c in page.context.cookies() if c["name"] == "dh_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_a_password_in_a_query_string_is_refused_and_never_logged(base_url: str) -> None:
    secret = "Lo-lo-mat-khau-9137"
    log_before = len(_server_log())
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(f"{base_url}?login=tnv.demo&password={secret}", timeout=30)
        raise AssertionError("a redirect was expected")
    except urllib.error.HTTPError as answer:
        assert answer.code == 303
        assert answer.headers["location"] == "/"
        assert answer.headers["cache-control"] == "no-store"
    assert secret not in _server_log()[log_before:]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_the_sign_in_form_posts_to_the_server_even_without_script(browser: Browser,
                                                                   base_url: str) -> None:
    context = browser.new_context(viewport=PHONE, base_url=base_url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    form = page.locator("#signin-form")
    assert (form.get_attribute("method") or "").lower() == "post"
    assert form.get_attribute("action") == "/api/auth/sign-in"
    page.locator("#login").fill("tnv.demo")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("#signin-submit").click()
    page.wait_for_url(re.compile(r".*/today$"))
    assert any(c["name"] == "dh_session" and c["httpOnly"] for c in context.cookies())
    context.close()
