"""Sign-in and sign-out over HTTP, and the door around the whole backend (issue 19, items 1–3
and 9): the cookie's flags, no password in any URL, other sites get no CORS permission, the
websocket's Origin must be the public address, hashed build files are immutable."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.api.auth import ROUTES, cookie_token, has_password_in_query
from app.api.security import SecurityHeaders
from app.frontend_build import use_random_tab_tokens
from app.services import accounts, security
from models import AuthSession, LoginAttempt, User
from tests.factories import World

PASSWORD = "Mật-khẩu-thử-2026"
ORIGIN = "http://testserver"


@pytest.fixture
def client(engine: Engine, world: World, db_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    monkeypatch.delenv("DH_PUBLIC_URL", raising=False)
    with Session(engine) as db:
        user = db.get(User, world.users["vol_a1"])
        assert user is not None
        user.password_hash = security.hash_password(PASSWORD)
        db.add(user)
        db.commit()
    with TestClient(Starlette(routes=ROUTES), base_url=ORIGIN,
                    follow_redirects=False) as c:
        yield c


def _post(client: TestClient, login: str, password: str, **headers: str) -> Any:
    return client.post("/api/auth/sign-in", data={"login": login, "password": password},
                       headers={"sec-fetch-site": "same-origin", **headers})


def _set_cookies(answer: Any) -> list[str]:
    return answer.headers.get_list("set-cookie")


def test_signing_in_sets_an_httponly_strict_cookie_and_goes_home(client: TestClient) -> None:
    answer = _post(client, "vol_a1", PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/today"
    session_cookie = next(c for c in _set_cookies(answer) if c.startswith("dh_session="))
    flags = [f.strip().lower() for f in session_cookie.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http and no https public address
    marker = next(c for c in _set_cookies(answer) if c.startswith("dh_signed_in="))
    assert "httponly" not in marker.lower()
    assert answer.headers["cache-control"] == "no-store"


def test_the_cookie_is_secure_when_the_public_address_is_https(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DH_PUBLIC_URL", "https://donghanh.example.vn")
    answer = _post(client, "vol_a1", PASSWORD, origin="https://donghanh.example.vn")
    assert answer.status_code == 303
    assert all("secure" in [f.strip().lower() for f in c.split(";")]
               for c in _set_cookies(answer))


def test_a_refused_sign_in_goes_back_with_a_key_and_never_the_login_or_password(
    client: TestClient,
) -> None:
    for login in ("vol_a1", "nobody.here"):
        answer = _post(client, login, "wrong-password-123")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/?e=auth.invalid_credentials"
        assert not [c for c in _set_cookies(answer) if c.startswith("dh_session=")]
    # An empty field is named (never what was typed in the other one), so that the page says
    # so under it; the query never carries a password.
    empty = _post(client, "vol_a1", "")
    assert empty.headers["location"] == "/?e=signin.required&missing=password"
    assert _post(client, " ", "x").headers["location"] == "/?e=signin.required&missing=login"
    both = _post(client, "", "")
    assert both.headers["location"] == "/?e=signin.required&missing=login,password"
    assert "vol_a1" not in empty.headers["location"]
    assert not has_password_in_query(both.headers["location"].split("?", 1)[1].encode())


def test_a_form_on_another_site_cannot_sign_anyone_in(client: TestClient, engine: Engine
                                                      ) -> None:
    for headers in ({"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"}):
        answer = client.post("/api/auth/sign-in",
                             data={"login": "vol_a1", "password": PASSWORD}, headers=headers)
        assert answer.status_code == 403
    # A client that sends no Sec-Fetch-Site is judged by its Origin.
    answer = client.post("/api/auth/sign-in", data={"login": "vol_a1", "password": PASSWORD},
                         headers={"origin": "https://evil.example"})
    assert answer.status_code == 403
    with Session(engine) as db:
        assert db.exec(select(LoginAttempt)).all() == []  # not even evaluated


def test_sign_in_is_post_only(client: TestClient) -> None:
    answer = client.get("/api/auth/sign-in", params={"login": "vol_a1", "password": PASSWORD})
    assert answer.status_code == 405
    assert not _set_cookies(answer)


def test_the_signed_out_endpoint_removes_only_a_dead_cookie(client: TestClient,
                                                            engine: Engine) -> None:
    token = _post(client, "vol_a1", PASSWORD).cookies.get("dh_session") or ""
    assert token
    client.cookies.set("dh_session", token)
    live = client.get("/api/auth/signed-out", params={"n": "signed_out"})
    assert live.status_code == 303 and live.headers["location"] == "/"
    assert not _set_cookies(live)  # a link from another site signs nobody out
    with Session(engine) as db:
        accounts.sign_out(session=db, token=token)
        db.commit()
    ended = client.get("/api/auth/signed-out", params={"n": "signed_out"})
    assert ended.headers["location"] == "/?n=signed_out"
    removed = {c.split("=", 1)[0]: c.lower() for c in _set_cookies(ended)}
    assert set(removed) == {"dh_session", "dh_signed_in"}
    assert all("max-age=0" in c for c in removed.values())
    with Session(engine) as db:
        assert db.exec(select(AuthSession)).one().ended_reason == "sign_out"


def test_the_session_token_is_read_from_the_cookie_header_only() -> None:
    assert cookie_token("a=1; dh_session=abc; dh_signed_in=x") == "abc"
    assert cookie_token("dh_session_x=abc; xdh_session=def") == ""
    assert cookie_token("") == ""


def test_a_password_in_any_query_string_is_recognised() -> None:
    assert has_password_in_query(b"login=tnv.demo&password=secret")
    assert has_password_in_query(b"new_password=x")
    assert has_password_in_query(b"PASSWORD=x")
    assert not has_password_in_query(b"login=tnv.demo&q=password+reset")
    assert not has_password_in_query(b"")


# ---- the door around the backend ---------------------------------------------------------


_PERMISSIVE = ((b"access-control-allow-origin", b"https://evil.example"),
               (b"access-control-allow-credentials", b"true"))


def _through_door(scope: dict[str, Any],
                  app_headers: tuple[tuple[bytes, bytes], ...] = _PERMISSIVE,
                  ) -> tuple[list[dict[str, Any]], bool]:
    """Send one request through SecurityHeaders to an app that answers 200 with `app_headers`
    (by default a permissive CORS header, as Reflex's CORS layer gives); returns the messages
    sent and whether the app was reached."""
    reached: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)
        await send({"type": "http.response.start", "status": 200,
                    "headers": list(app_headers)})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(SecurityHeaders(app)(
        {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": [],
         **scope}, receive, send))
    return sent, bool(reached)


def _headers(sent: list[dict[str, Any]]) -> dict[bytes, bytes]:
    return dict(sent[0]["headers"])


def test_a_get_with_a_password_never_reaches_the_app_and_lands_without_it() -> None:
    sent, reached = _through_door({"path": "/", "query_string": b"login=a&password=hunter2"})
    assert not reached and sent[0]["status"] == 303
    headers = _headers(sent)
    assert headers[b"location"] == b"/" and headers[b"cache-control"] == b"no-store"


def test_our_own_files_vary_on_no_origin_so_the_worker_finds_the_pages_copy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A page's module script carries Origin, the service worker's request does not: with
    `Vary: Origin` the worker downloaded every build file the page had just loaded (issue 20)."""
    monkeypatch.delenv("DH_PUBLIC_URL", raising=False)

    def answer(path: str) -> dict[bytes, bytes]:
        own = [(b"host", b"app.local"), (b"origin", b"http://app.local")]
        sent, reached = _through_door({"path": path, "headers": own}, (
            (b"vary", b"Accept-Encoding, Origin, Origin"),
            (b"access-control-allow-origin", b"http://app.local"),
            (b"access-control-allow-credentials", b"true"),
        ))
        assert reached
        return _headers(sent)

    for path in ("/assets/vendor-abc123.js", "/device/app.js", "/today/", "/sw.js"):
        headers = answer(path)
        assert headers[b"vary"] == b"Accept-Encoding", path
        assert not [k for k in headers if k.startswith(b"access-control-")], path
    # The personal doors keep what their CORS layer says for our own origin.
    api = answer("/api/outbox/snapshot")
    assert b"access-control-allow-credentials" in api and b"Origin" in api[b"vary"]


def test_another_site_gets_no_cors_permission(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DH_PUBLIC_URL", raising=False)
    foreign = [(b"host", b"app.local"), (b"origin", b"https://evil.example")]
    sent, _ = _through_door({"path": "/api/outbox/snapshot", "headers": foreign})
    assert not [k for k in _headers(sent) if k.startswith(b"access-control-")]
    preflight, reached = _through_door({"method": "OPTIONS", "path": "/api/outbox/sync",
                                        "headers": foreign})
    assert preflight[0]["status"] == 403 and not reached
    own = [(b"host", b"app.local"), (b"origin", b"http://app.local")]
    sent, _ = _through_door({"path": "/api/outbox/snapshot", "headers": own})
    assert b"access-control-allow-credentials" in _headers(sent)


def test_another_site_cannot_use_the_events_http_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DH_PUBLIC_URL", raising=False)
    foreign = [(b"host", b"app.local"), (b"origin", b"https://evil.example")]
    sent, reached = _through_door({"path": "/_event/", "query_string": b"EIO=4&transport=polling",
                                   "headers": foreign})
    assert sent[0]["status"] == 403 and not reached
    assert sent[1]["body"] == b"forbidden origin"


def test_caching_hashed_build_files_pages_and_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    cases = {"/assets/index-3f2a9c1b.js": b"public, max-age=31536000, immutable",
             "/": b"no-cache", "/sw.js": b"no-cache", "/api/outbox/snapshot": b"no-store"}
    for path, expected in cases.items():
        sent, _ = _through_door({"path": path})
        assert _headers(sent)[b"cache-control"] == expected, path


def test_documents_get_the_pages_policy_and_other_answers_the_short_set() -> None:
    """A page (or SVG, or an answer of unknown type, a 304 among them) has the full CSP and the
    page-only headers; a script, stylesheet or JSON answer `default-src 'none'` (issue 20); the
    service worker's script the policy it runs under. nosniff and no referrer on all."""
    from app.api.security import CONTENT_SECURITY_POLICY

    def answer(path: str, content_type: bytes | None) -> dict[bytes, bytes]:
        own = ((b"content-type", content_type),) if content_type else ()
        sent, _ = _through_door({"path": path}, own)
        return _headers(sent)

    for path, kind in (("/today/", b"text/html; charset=utf-8"), ("/icons/a.svg",
                       b"image/svg+xml"), ("/today/", None)):
        headers = answer(path, kind)
        assert headers[b"content-security-policy"] == CONTENT_SECURITY_POLICY.encode(), path
        assert headers[b"x-frame-options"] == b"DENY" and b"permissions-policy" in headers
    for path, kind in (("/assets/a-1.js", b"text/javascript"), ("/lists.css", b"text/css"),
                       ("/api/outbox/snapshot", b"application/json"),
                       ("/device/pack", b"application/octet-stream")):
        headers = answer(path, kind)
        assert headers[b"content-security-policy"] == b"default-src 'none'; frame-ancestors 'none'"
        assert b"permissions-policy" not in headers and b"x-frame-options" not in headers
        assert headers[b"x-content-type-options"] == b"nosniff", path
        assert headers[b"referrer-policy"] == b"no-referrer", path
    worker = answer("/sw.js", b"text/javascript")
    assert worker[b"content-security-policy"] == b"default-src 'self'; frame-ancestors 'none'"
    assert worker[b"x-content-type-options"] == b"nosniff"


def test_a_browser_gets_a_device_id_cookie_on_an_uncached_answer_only() -> None:
    """The card scan limit per device reads this id (issue 19 item 9): HttpOnly and Strict,
    set once, only on answers no cache keeps (a cached Set-Cookie would hand one id to all)."""
    from app.api.security import DEVICE_COOKIE, device_cookie

    def device_cookies(path: str, cookie: bytes = b"", tls: bool = False) -> list[str]:
        headers = [(b"cookie", cookie)] if cookie else []
        if tls:
            headers.append((b"x-forwarded-proto", b"https"))
        sent, _ = _through_door({"path": path, "headers": headers})
        return [v.decode() for k, v in sent[0]["headers"]
                if k == b"set-cookie" and v.startswith(DEVICE_COOKIE.encode() + b"=")]

    [first] = device_cookies("/api/auth/sign-in")
    flags = [f.strip().lower() for f in first.split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags
    value = first.split(";")[0].split("=", 1)[1]
    assert device_cookie(f"a=1; {DEVICE_COOKIE}={value}") == value
    assert "secure" in device_cookies("/api/outbox/sync", tls=True)[0].lower()
    assert device_cookies("/api/outbox/sync", cookie=f"{DEVICE_COOKIE}={value}".encode()) == []
    assert device_cookies("/assets/index-3f2a9c1b.js") == [] and device_cookies("/") == []
    # A forged or malformed value is not an id: the browser gets a real one.
    assert device_cookie(f"{DEVICE_COOKIE}=x") == ""
    assert device_cookies("/api/outbox/sync", cookie=b"dh_device=<script>")


def test_the_websocket_requires_the_public_address_as_its_origin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DH_PUBLIC_URL", "https://donghanh.example.vn")

    def handshake(origin: bytes) -> str:
        sent: list[dict[str, Any]] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            await send({"type": "websocket.accept"})

        async def send(message: Any) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        headers = [(b"host", b"donghanh.example.vn"), (b"origin", origin)]
        asyncio.run(SecurityHeaders(app)(
            {"type": "websocket", "path": "/_event/", "query_string": b"", "headers": headers},
            receive, send))
        return str(sent[0]["type"])

    assert handshake(b"https://donghanh.example.vn") == "websocket.accept"
    # Same host name, other scheme or port: not the public address.
    assert handshake(b"http://donghanh.example.vn") == "websocket.close"
    assert handshake(b"https://donghanh.example.vn:8443") == "websocket.close"
    assert handshake(b"https://evil.example") == "websocket.close"


def test_reflexs_tab_token_comes_from_the_browsers_csprng() -> None:
    template = (
        "export const generateUUID = () => {\n  let d = new Date().getTime();\n"
        "  return 'x'.replace(/x/g, () => (Math.random() * 16 | 0).toString(16));\n};\n"
        "export const getToken = () => {};\n"
    )
    out = use_random_tab_tokens(template)
    assert "Math.random" not in out and "crypto.getRandomValues" in out
    assert "export const getToken" in out
    assert use_random_tab_tokens(out) == out
    with pytest.raises(RuntimeError):
        use_random_tab_tokens("no generator here")
