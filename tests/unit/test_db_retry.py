"""`in_transaction`: a dropped database connection is retried once; nothing is stored twice.

The disconnect cases need PostgreSQL, where a backend can really be killed under a live
transaction (`pg_terminate_backend`, what a database restart does to every connection);
they run in the PostgreSQL lane (.ci/run). The SQLite lane checks that ordinary errors are
never retried.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.services import activities
from app.services.calendar import today_vn
from app.services.db import in_transaction, is_disconnect
from app.services.dto import VisitCreate
from models import Submission, User, Visit, VisitKind
from tests.factories import World, count


def _on_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _log(db: Session, world: World, key: str) -> int:
    data = VisitCreate(client_id=world.clients["a1"], visit_date=today_vn(),
                       kind=VisitKind.HOME)  # type: ignore[call-arg]
    visit = activities.log_visit(session=db, actor=world.actor(db, "vol_a1"), data=data,
                                 submission_key=key)
    return visit.id


def _kill_my_connection(db: Session) -> None:
    db.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))


def test_ordinary_errors_are_not_retried(engine: Engine, world: World) -> None:
    calls = []

    def work(db: Session) -> None:
        calls.append(1)
        db.add(User(username="vol_a1", full_name="Trùng tên", password_hash="x"))
        db.flush()

    with pytest.raises(IntegrityError) as caught:
        in_transaction(work, engine)
    assert not is_disconnect(caught.value)
    assert len(calls) == 1


def test_a_connection_killed_mid_transaction_is_retried_once(
    engine: Engine, world: World, session: Session
) -> None:
    if not _on_postgres(engine):
        pytest.skip("a live backend can only be killed on PostgreSQL (pg lane)")
    attempts = []

    def work(db: Session) -> int:
        attempts.append(1)
        visit_id = _log(db, world, "k" * 32)
        if len(attempts) == 1:
            _kill_my_connection(db)  # the first transaction dies before COMMIT
        return visit_id

    visit_id = in_transaction(work, engine)
    assert len(attempts) == 2
    session.expire_all()
    assert count(session, Visit) == 1
    assert session.get(Visit, visit_id) is not None
    assert len(session.exec(select(Submission).where(Submission.key == "k" * 32)).all()) == 1


def test_a_drop_after_the_commit_landed_is_answered_from_the_first_attempt(
    engine: Engine, world: World, session: Session
) -> None:
    """The ambiguous case: the server committed, the answer never arrived. The retry carries
    the same submission key, so it finds the first record and writes nothing."""
    if not _on_postgres(engine):
        pytest.skip("a live backend can only be killed on PostgreSQL (pg lane)")
    attempts: list[int] = []

    def work(db: Session) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            with Session(engine) as other:  # the first attempt's COMMIT reached the server
                first = _log(other, world, "c" * 32)
                other.commit()
            _kill_my_connection(db)  # … and then the connection dropped
            return first
        return _log(db, world, "c" * 32)

    visit_id = in_transaction(work, engine)
    assert len(attempts) == 2
    session.expire_all()
    assert count(session, Visit) == 1
    assert [v.id for v in session.exec(select(Visit)).all()] == [visit_id]


def test_a_second_drop_is_not_hidden(engine: Engine, world: World, session: Session) -> None:
    if not _on_postgres(engine):
        pytest.skip("a live backend can only be killed on PostgreSQL (pg lane)")
    attempts = []

    def work(db: Session) -> None:
        attempts.append(1)
        _log(db, world, "d" * 32)
        _kill_my_connection(db)

    with pytest.raises(Exception) as caught:
        in_transaction(work, engine)
    assert is_disconnect(caught.value)
    assert len(attempts) == 2
    session.expire_all()
    assert count(session, Visit) == 0


def test_a_nul_character_is_refused_with_a_message_and_nothing_is_written(
    engine: Engine, world: World, session: Session
) -> None:
    """PostgreSQL cannot store U+0000 and SQLite would keep it silently: both refuse it the
    same way, from any form, import or API, before the statement runs."""
    from app.services.errors import ValidationFailed

    before = count(session, User)
    with pytest.raises(ValidationFailed) as caught:
        in_transaction(lambda db: db.add(User(username="nul", full_name="Lê\x00Văn",
                                              password_hash="x")), engine)
    assert caught.value.key == "error.nul_character"
    session.expire_all()
    assert count(session, User) == before
