"""The app shell on a phone: Vietnamese first, English on request, installable."""

from __future__ import annotations

import gzip
import json
import urllib.error
import urllib.request

from playwright.sync_api import Page, expect

from tests.e2e.axe import serious_violations


def test_sign_in_screen_is_vietnamese_on_a_phone_and_switches_to_english(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    expect(page.get_by_label("Mật khẩu")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "vi"
    page.get_by_role("button", name="English — chuyển sang tiếng Anh").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()
    # The choice persists across a reload.
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert serious_violations(page) == []
    # Nothing overflows sideways at phone width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_manifest_is_served_and_complete(base_url: str) -> None:
    with urllib.request.urlopen(base_url + "manifest.webmanifest") as resp:
        manifest = json.loads(resp.read().decode("utf-8"))
    assert manifest["display"] == "standalone"
    assert manifest["short_name"] and manifest["name"] and manifest["start_url"]
    assert manifest["theme_color"].startswith("#")
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert ("192x192", "any") in sizes and ("512x512", "any") in sizes
    assert any(purpose == "maskable" for _, purpose in sizes)
    for icon in manifest["icons"]:
        with urllib.request.urlopen(base_url + icon["src"].lstrip("/")) as resp:
            assert resp.headers["Content-Type"].startswith("image/png")
            data = resp.read()
        width = int.from_bytes(data[16:20], "big")
        assert f"{width}x{width}" == icon["sizes"]


def test_every_page_links_the_manifest_and_the_service_worker_activates(page: Page) -> None:
    page.goto("/")
    assert page.locator('link[rel="manifest"]').get_attribute("href") == "/manifest.webmanifest"
    state = page.evaluate(
        """async () => {
            const reg = await navigator.serviceWorker.ready;
            const worker = reg.active;
            if (worker.state !== "activated") {
                await new Promise((done) => worker.addEventListener("statechange", () => {
                    if (worker.state === "activated") done();
                }));
            }
            return worker.state;
        }"""
    )
    assert state == "activated"
    cached = page.evaluate(
        """async () => {
            const out = [];
            for (const key of await caches.keys()) {
                const cache = await caches.open(key);
                for (const req of await cache.keys()) out.push(new URL(req.url).pathname);
            }
            return out;
        }"""
    )
    assert {"/__spa-fallback.html", "/device/boot.js", "/device/app.js"} <= set(cached)
    # The code of every screen a volunteer uses offline, and nothing a volunteer never opens
    # (a supervisor's reports, the clinic's scan screen): a metered phone pays only for its own.
    modules = [p for p in cached if p.startswith("/assets/")]
    for screen in ("_today_._index", "_clients_._index", "_clients_._new_._index",
                   "_clients_.__client_id_._index", "_clients_.__client_id_._visit_._index",
                   "_clients_.__client_id_._test_._index", "_outreach_._index",
                   "_group-activity_._index"):
        assert [m for m in modules if m.startswith(f"/assets/{screen}-")], screen
    for screen in ("_reports_._index", "_scan_._index", "_admin_._users_._index"):
        assert not [m for m in modules if m.startswith(f"/assets/{screen}-")], screen
    # Only static shell files, the same for every user, are cached: prerendered pages,
    # hashed bundles, icons and scripts. Never an API, upload or event route.
    shell_pages = ("/", "/today", "/clients", "/clients/new", "/outreach", "/group-activity",
                   "/__spa-fallback.html")
    static_files = ("/manifest.webmanifest", "/device/boot.js", "/device/app.js")
    unexpected = [
        p
        for p in cached
        if p not in shell_pages
        and p not in static_files
        and not p.startswith(("/assets/", "/icons/"))
    ]
    assert not unexpected, unexpected
    assert not [p for p in cached if p.startswith(("/api/", "/_event", "/_upload"))]


def test_a_client_form_is_served_naming_its_route_code(base_url: str) -> None:
    """The server's answer for a dynamic route names that route's module and what it imports
    (app/api/route_shell.py): the browser fetches them beside the entry, not after it."""
    with urllib.request.urlopen(base_url + "clients/12/visit") as resp:
        assert resp.status == 200
        html = resp.read().decode("utf-8")
    preloads = [p.split('"', 1)[0] for p in html.split('rel="modulepreload" href="')[1:]]
    manifest_src = next(p for p in preloads if p.startswith("/assets/manifest-"))
    with urllib.request.urlopen(base_url + manifest_src.lstrip("/")) as resp:
        text = resp.read().decode("utf-8")
    manifest = json.loads(text[text.index("{"): text.rindex("}") + 1])
    visit = next(r for r in manifest["routes"].values()
                 if r.get("path") == "clients/:client_id/visit")
    assert visit["module"] in preloads
    assert set(visit["imports"]) <= set(preloads)
    # An unknown address is still the plain fallback page with its 404.
    try:
        urllib.request.urlopen(base_url + "no/such/page")
        raise AssertionError("an unknown page answered 200")
    except urllib.error.HTTPError as err:
        assert err.code == 404
        assert "_clients_.__client_id_" not in err.read().decode("utf-8")


def test_a_page_evaluates_the_shared_libraries_in_a_task_of_their_own(base_url: str) -> None:
    """The build (app/frontend_build.py: evaluate_libraries_first) names the libraries' chunk
    that the page's root imports in a module script of its own, ahead of React Router's: the
    served page, a client's page (the route shell) and their gzip copies alike."""
    for path, encoding in (("today", "identity"), ("today", "gzip"), ("clients/12/visit", "gzip")):
        req = urllib.request.Request(base_url + path, headers={"Accept-Encoding": encoding})
        with urllib.request.urlopen(req) as resp:
            body = resp.read()
            if resp.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
        html = body.decode("utf-8")
        preloads = [p.split('"', 1)[0] for p in html.split('rel="modulepreload" href="')[1:]]
        vendor = [p for p in preloads if p.startswith("/assets/vendor-")]
        assert len(vendor) == 1, path
        tag = f'<script type="module" async="" src="{vendor[0]}"></script>'
        assert html.count(tag) == 1, path
        assert html.index(tag) < html.index('<script type="module" async="">import'), path
