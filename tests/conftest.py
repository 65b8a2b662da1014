"""Shared fixtures: a real, empty database for each test.

SQLite by default: a fresh file in the test's tmp_path. With `DH_TEST_PG_URL` set (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) the same tests run on PostgreSQL: one
fresh database is created for the test session and dropped at its end, and every table is
emptied after each test. Builders live in `tests/factories.py`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from tests.factories import World, build_world, prepare_database, reset_database


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str | None]:
    """URL of a throw-away PostgreSQL database for this test session, or None (SQLite lane)."""
    base = os.environ.get("DH_TEST_PG_URL", "").strip()
    if not base:
        yield None
        return
    name = f"dh_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from app.services.db import engine_for

        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def db_url(tmp_path: os.PathLike[str], pg_server_url: str | None) -> str:
    return pg_server_url or f"sqlite:///{tmp_path}/t.db"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on an empty database with all tables and the audit append-only guard."""
    eng = prepare_database(db_url)
    try:
        yield eng
    finally:
        reset_database(eng)


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def session_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Session timeouts and sign-in throttling at the shipped values, whatever the environment
    of the machine running the tests says."""
    for name, value in {
        "DH_SESSION_IDLE_MINUTES": "30",
        "DH_SESSION_MAX_HOURS": "12",
        "DH_LOGIN_WINDOW_MINUTES": "15",
        "DH_LOGIN_MAX_FAILURES_ACCOUNT": "30",
        "DH_LOGIN_MAX_FAILURES_ADDRESS": "20",
        "DH_LOGIN_FREE_FAILURES_PAIR": "3",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def world(session: Session) -> World:
    """The small two-province world of `tests.factories.build_world`, committed."""
    return build_world(session)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, and the state tests drive handlers with asyncio.run."""
    browser_dirs = ("/tests/e2e/", "/tests/pg/")
    items.sort(key=lambda item: any(d in str(item.fspath) for d in browser_dirs))
