"""The two-step sign-in over HTTP (issue 19 item 8): the password step of an account with a
second factor sets no session, only a short-lived HttpOnly cookie naming the pending step; the
code page's plain form post finishes it. No password or code in any URL or log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.api.auth import ROUTES, has_password_in_query
from app.services import accounts, second_factor, security
from models import AuthSession, Role, SecondFactorChallenge, User
from tests.factories import World

PASSWORD = "Mật-khẩu-thử-2026"
ORIGIN = "http://testserver"
SAME = {"sec-fetch-site": "same-origin"}


@pytest.fixture
def enrolled(engine: Engine, world: World, db_url: str,
             monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """sup_a with a password and a confirmed second factor: (secret, recovery codes)."""
    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    monkeypatch.delenv("DH_PUBLIC_URL", raising=False)
    with Session(engine) as db:
        for name in ("sup_a", "sup_b"):
            user = db.get(User, world.users[name])
            assert user is not None
            user.password_hash = security.hash_password(PASSWORD)
            db.add(user)
        for role in (Role.SUPERVISOR, Role.ADMIN):
            second_factor.set_required(db, role=role, required=True)
        actor = world.actor(db, "sup_a")
        assert actor is not None
        started = accounts.start_second_factor(session=db, actor=actor)
        # Confirmed with the previous step's code, so the current one is still unused.
        earlier = datetime.now(UTC).timestamp() - 30
        codes = accounts.confirm_second_factor(
            session=db, actor=actor, code=pyotp.TOTP(started.secret).at(earlier))
        db.commit()
    return started.secret, codes


@pytest.fixture
def client(enrolled: tuple[str, list[str]]) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=ROUTES), base_url=ORIGIN, follow_redirects=False) as c:
        yield c


def _cookies(answer: Any) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in answer.headers.get_list("set-cookie")}


def _flags(cookie: str) -> list[str]:
    return [f.strip().lower() for f in cookie.split(";")]


def _password_step(client: TestClient, login: str = "sup_a") -> Any:
    return client.post("/api/auth/sign-in", data={"login": login, "password": PASSWORD},
                       headers=SAME)


def _code_step(client: TestClient, code: str, **headers: str) -> Any:
    return client.post("/api/auth/second-factor", data={"otp": code},
                       headers={**SAME, **headers})


def test_the_password_step_sets_no_session_only_a_short_httponly_second_step_cookie(
    client: TestClient, engine: Engine
) -> None:
    answer = _password_step(client)
    assert answer.status_code == 303 and answer.headers["location"] == "/second-factor"
    assert answer.headers["cache-control"] == "no-store"
    cookies = _cookies(answer)
    assert set(cookies) == {"dh_second_step"}
    flags = _flags(cookies["dh_second_step"])
    assert "httponly" in flags and "samesite=strict" in flags and "path=/api/auth" in flags
    assert "secure" not in flags  # plain http, no https public address
    max_age = next(int(f.split("=")[1]) for f in flags if f.startswith("max-age="))
    assert 280 <= max_age <= 300
    token = answer.cookies.get("dh_second_step") or ""
    with Session(engine) as db:
        assert db.exec(select(AuthSession)).all() == []
        stored = db.exec(select(SecondFactorChallenge)).one()
        assert stored.token_hash == security.token_hash(token)


def test_a_code_finishes_the_sign_in_like_a_one_step_sign_in_and_only_once(
    client: TestClient, enrolled: tuple[str, list[str]], engine: Engine
) -> None:
    secret, _ = enrolled
    _password_step(client)
    wrong = _code_step(client, "000000")
    assert wrong.status_code == 303
    assert wrong.headers["location"] == "/second-factor?e=auth.code_wrong"
    assert "dh_session" not in _cookies(wrong)

    code = pyotp.TOTP(secret).now()
    done = _code_step(client, code)
    assert done.status_code == 303 and done.headers["location"] == "/caseload"
    cookies = _cookies(done)
    assert "httponly" in _flags(cookies["dh_session"])
    assert "samesite=strict" in _flags(cookies["dh_session"])
    assert "max-age=0" in _flags(cookies["dh_second_step"])  # the step's cookie is removed
    token = done.cookies.get("dh_session") or ""
    with Session(engine) as db:
        actor = accounts.validate_session(session=db, token=token)
        assert actor is not None and actor.role == Role.SUPERVISOR and not actor.restricted

    # Posting again with the old step's cookie: the step is used up.
    client.cookies.clear()
    client.cookies.set("dh_second_step", "x" * 43, path="/api/auth")
    again = _code_step(client, code)
    assert again.headers["location"] == "/?e=auth.second_step_expired"


def test_a_recovery_code_signs_in_once(client: TestClient,
                                       enrolled: tuple[str, list[str]]) -> None:
    _, codes = enrolled
    _password_step(client)
    assert _code_step(client, codes[0]).headers["location"] == "/caseload"
    client.cookies.clear()
    _password_step(client)
    reused = _code_step(client, codes[0])
    assert reused.headers["location"] == "/second-factor?e=auth.code_wrong"


def test_without_the_step_cookie_or_from_another_site_nothing_happens(
    client: TestClient, enrolled: tuple[str, list[str]]
) -> None:
    secret, _ = enrolled
    no_cookie = _code_step(client, pyotp.TOTP(secret).now())
    assert no_cookie.headers["location"] == "/?e=auth.second_step_expired"
    _password_step(client)
    for site in ("cross-site", "same-site"):
        assert _code_step(client, pyotp.TOTP(secret).now(),
                          **{"sec-fetch-site": site}).status_code == 403
    assert client.get("/api/auth/second-factor", params={"otp": "123456"}).status_code == 405
    empty = _code_step(client, "")
    assert empty.headers["location"] == "/second-factor?e=signin.code_required"


def test_a_supervisor_without_a_second_factor_lands_on_the_account_screen(
    client: TestClient,
) -> None:
    answer = _password_step(client, "sup_b")
    assert answer.status_code == 303 and answer.headers["location"] == "/account"
    assert "dh_session" in _cookies(answer)


def test_no_password_or_code_in_any_url_or_log(
    client: TestClient, enrolled: tuple[str, list[str]], caplog: pytest.LogCaptureFixture
) -> None:
    secret, codes = enrolled
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    first = _password_step(client)
    seen.append(first.headers["location"])
    for code in ("000000", codes[1]):
        seen.append(_code_step(client, code).headers["location"])
    client.cookies.clear()
    _password_step(client)
    code = pyotp.TOTP(secret).now()
    seen.append(_code_step(client, code).headers["location"])
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret_text in (PASSWORD, "000000", codes[1], code, secret):
        assert all(secret_text not in url for url in seen)
        assert secret_text not in logged
    # A code that fell back to a GET would be taken out of the address before Reflex sees it.
    assert has_password_in_query(b"otp=123456")
