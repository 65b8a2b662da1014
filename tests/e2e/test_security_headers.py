"""Every HTTP response carries the security headers; the websocket refuses foreign origins."""

from __future__ import annotations

import base64
import os
import re
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect


def _get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def _first_asset(base_url: str) -> str:
    _, _, body = _get(base_url)
    match = re.search(rb'/assets/[^"\']+\.js', body)
    assert match, "the page references no built asset"
    return match.group(0).decode()


@pytest.mark.parametrize(
    ("path", "cache_control", "csp"),
    [
        ("", "no-cache", "page"),  # the static shell: revalidated, never personal
        ("today", "no-cache", "page"),
        ("clients/1/visit", "no-cache", "page"),  # a dynamic route's shell
        ("manifest.webmanifest", "no-cache", "default-src 'none'"),
        ("sw.js", "no-cache", "default-src 'self'"),  # the policy the worker runs under
        ("api/outbox/snapshot", "no-store", "default-src 'none'"),  # can carry personal data
        ("_event/?EIO=4&transport=polling", "no-store", "default-src 'none'"),
    ],
)
def test_every_response_has_the_security_headers_and_the_right_caching(
    base_url: str, path: str, cache_control: str, csp: str
) -> None:
    """A page has the full policy and the page-only headers; any other answer (not drawn as
    a page) the short set usual for it (issue 20)."""
    _, headers, _ = _get(base_url + path)
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    if csp == "page":
        assert "object-src 'none'" in policy and "connect-src 'self'" in policy
        assert "default-src 'self'" in policy
        assert headers["x-frame-options"] == "DENY"
        assert "camera=(self)" in headers["permissions-policy"]
    else:
        assert policy == f"{csp}; frame-ancestors 'none'"
        assert "x-frame-options" not in headers and "permissions-policy" not in headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == cache_control
    assert "strict-transport-security" not in headers  # plain http on loopback


def test_hashed_build_assets_may_be_cached_but_keep_the_other_headers(base_url: str) -> None:
    _, headers, _ = _get(base_url + _first_asset(base_url).lstrip("/"))
    assert headers.get("cache-control") not in ("no-store", "no-cache")
    assert headers["x-content-type-options"] == "nosniff"


def test_no_site_gets_cors_permission_and_nothing_varies_on_origin(base_url: str) -> None:
    """The served app, all layers included (Reflex put a CORS layer outside our own door): no
    answer grants another site anything, and none varies on Origin, so the service worker's
    request finds the page's copy of a build file in the HTTP cache (issue 20)."""
    own = base_url.rstrip("/")
    for path in ("", "today", _first_asset(base_url).lstrip("/"), "device/app.js",
                 "api/outbox/snapshot"):
        for origin in ("https://evil.example", own):
            _, headers, _ = _get(base_url + path, Origin=origin)
            assert not [k for k in headers if k.startswith("access-control-")], (path, origin)
            assert "origin" not in headers.get("vary", "").lower(), (path, origin)


def test_hsts_is_sent_behind_tls(base_url: str) -> None:
    _, headers, _ = _get(base_url, **{"X-Forwarded-Proto": "https"})
    assert headers["strict-transport-security"].startswith("max-age=31536000")


def _websocket_handshake(base_url: str, origin: str) -> int:
    parts = urlsplit(base_url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {origin}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(1024).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_the_websocket_handshake_refuses_a_foreign_origin(base_url: str) -> None:
    own = f"http://{urlsplit(base_url).netloc}"
    assert _websocket_handshake(base_url, own) == 101
    assert _websocket_handshake(base_url, "http://evil.example") == 403
    assert _websocket_handshake(base_url, f"http://{urlsplit(base_url).hostname}:1") == 403


def test_the_app_runs_under_its_content_security_policy(page: Page) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto("/")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill("nobody.here")
    page.get_by_label("Mật khẩu").fill("not-the-password")
    page.locator("#signin-submit").click()
    expect(page.locator("#signin-error")).to_be_visible(timeout=20_000)  # a round trip
    assert violations == []
