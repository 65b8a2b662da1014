"""The app served for real for the websocket security tests (its own server and database)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.server import app_env, prepare_database, running_app


@dataclass(frozen=True)
class WsServer:
    url: str
    db_path: Path

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"


@pytest.fixture(scope="session")
def ws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WsServer]:
    """Production build on a free port, on a fresh database with the demo data."""
    db_path = tmp_path_factory.mktemp("ws") / "ws.db"
    env = app_env(f"sqlite:///{db_path}")
    prepare_database(env)
    with running_app(env, name="ws-security", own_build=True) as app:
        yield WsServer(url=app.url, db_path=db_path)
