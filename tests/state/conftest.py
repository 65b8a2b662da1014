"""What the state tests share: the small world in the database the States use, a user signed in,
a page's State built as a websocket builds it, and a handler run to its end as Reflex runs it.

Each handler is called through `@guarded` with the session's token where the browser's cookie
would be, so a test covers the guard, the handler and the service together.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
import reflex as rx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app.app  # noqa: F401  (registers every page, so every State class exists)
from app.services import accounts, security
from models import AuditEvent, AuthSession, User, utcnow
from tests.factories import World, build_world, with_session_cookie

PASSWORD = "Lua-Thom-Dong-Thap-7"
S = TypeVar("S", bound=rx.State)


@functools.cache
def password_hash() -> str:
    """The hash of PASSWORD (made once: hashing is slow on purpose)."""
    return security.hash_password(PASSWORD)


@pytest.fixture
def world_db(engine: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The small world of `build_world` in the database the States' `session_scope` uses
    (REFLEX_DB_URL); every user's password is PASSWORD."""
    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
        for user in s.exec(select(User)).all():
            user.password_hash = password_hash()
            s.add(user)
        s.commit()
    yield world


def sign_in(engine: Engine, username: str, password: str = PASSWORD) -> str:
    """A real sign-in (password checked, audited): the token the session cookie carries."""
    with Session(engine, expire_on_commit=False) as s:
        result = accounts.authenticate(session=s, login=username, password=password,
                                       client_addr="")
        s.commit()
        return result.token


def session_token(engine: Engine, world: World, username: str) -> str:
    """A live session of `username` in its world role, written straight into the table: for
    tests of what a signed-in user may do (no password to check, no sign-in to audit)."""
    token = security.new_token()
    with Session(engine, expire_on_commit=False) as s:
        s.add(AuthSession(user_id=world.users[username], token_hash=security.token_hash(token),
                          role=world.roles[username], expires_at=utcnow() + timedelta(hours=1)))
        s.commit()
    return token


def account_language(engine: Engine, username: str, language: str) -> None:
    """The language saved on `username`'s account (what the account page stores)."""
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        user.language = language
        s.add(user)
        s.commit()


def page_state(cls: type[S], token: str, path: str = "/", *,
               origin: str = "http://localhost") -> S:
    """A fresh state tree on page `path` (of `origin`) whose websocket carries `token` as its
    session cookie; returns its `cls` substate."""
    root = rx.State(_reflex_internal_init=True)  # type: ignore[call-arg]
    state = root._get_state_from_cache(cls)
    with_session_cookie(state, token, f"{origin}{path}")
    return state


def audits(engine: Engine, **where: Any) -> list[AuditEvent]:
    """The audit events whose fields have these values."""
    with Session(engine) as s:
        query = select(AuditEvent)
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return list(s.exec(query).all())


def run(handler: Any, *args: Any) -> list[Any]:
    """Run a guarded handler to the end, as Reflex does; returns what it yielded."""

    async def drain() -> list[Any]:
        return [item async for item in handler(*args)]

    return asyncio.run(drain())
