"""One engine per database URL, SQLite tuned for safety, and the transaction helpers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

from app.services.errors import ValidationFailed
from app.services.settings import load_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL survives a kill during writes; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _no_nul(params: Any) -> bool:
    """Whether no string among a statement's parameters holds a NUL character."""
    if isinstance(params, str):
        return "\x00" not in params
    if isinstance(params, dict):
        return all(_no_nul(v) for v in params.values())
    if isinstance(params, list | tuple):
        return all(_no_nul(v) for v in params)
    return True


def _refuse_nul(_conn: Any, _cursor: Any, _statement: str, params: Any, _context: Any,
                _executemany: bool) -> None:
    # PostgreSQL cannot store U+0000 in text and fails the whole statement; SQLite would keep
    # it silently. Either way it is never real input: the user gets a message, nothing is
    # written, on both databases alike, whichever form, import or API the text came from.
    if not _no_nul(params):
        raise ValidationFailed({}, "error.nul_character")


@cache
def engine_for(url: str) -> Engine:
    """The engine for `url`. Database errors never carry the statement's values (names,
    notes) into exception messages and logs: `hide_parameters`."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                            hide_parameters=True)
        event.listen(eng, "connect", _sqlite_pragmas)
    else:
        eng = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10,
                            hide_parameters=True)
    event.listen(eng, "before_cursor_execute", _refuse_nul)
    return eng


def get_engine() -> Engine:
    return engine_for(load_settings().db_url)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back everything on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_disconnect(err: BaseException) -> bool:
    """The database connection went away (server restarted, backend killed, network cut)."""
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


def in_transaction(work: Callable[[Session], T], engine: Engine | None = None) -> T:
    """`work(session)` in one unit of work; once more on a fresh connection if the first
    connection drops.

    A dropped connection rolls its transaction back, so the second attempt starts from the
    same database. The one ambiguous case, a drop during COMMIT itself, is why every write a
    user submits carries a submission key: the retry is then answered from the first
    attempt's record instead of writing a second one. Any other error is raised at once.
    """
    try:
        with session_scope(engine) as session:
            return work(session)
    except DBAPIError as err:
        if not is_disconnect(err):
            raise
        log.warning("database connection lost (%s); retrying once on a new connection",
                    type(err.orig).__name__)
    with session_scope(engine) as session:
        return work(session)
