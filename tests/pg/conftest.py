"""The PostgreSQL + Redis lane: runs only when DH_PG_LANE=1 (see .ci/run)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.e2e.conftest import browser, pytest_runtest_makereport  # noqa: F401 (fixtures)
from tests.e2e.server import RunningApp, app_env, prepare_database, running_app


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    lane_on = os.environ.get("DH_PG_LANE") == "1"
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.pg)
            if not lane_on:
                item.add_marker(
                    pytest.mark.skip(reason="PostgreSQL + Redis lane: set DH_PG_LANE=1")
                )


def _admin_dsn() -> str:
    url = os.environ.get("DH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for this run, dropped afterwards."""
    name = f"dh_lane_{uuid.uuid4().hex[:10]}"
    dsn = _admin_dsn()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = os.environ.get("DH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    yield base.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("DH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def pg_app(pg_database_url: str, redis_url: str) -> Iterator[RunningApp]:
    """The production build on PostgreSQL with the Redis state manager and two workers."""
    env = app_env(pg_database_url, REFLEX_REDIS_URL=redis_url, GRANIAN_WORKERS="2")
    prepare_database(env)
    with running_app(env, name="pg") as app:
        yield app
