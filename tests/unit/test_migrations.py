"""Migrating an empty database gives exactly the schema the models describe."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

import models  # noqa: F401  (registers the tables)
from app.cli import alembic_config


@pytest.fixture
def empty_db_url(tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A database with nothing in it: a new SQLite file, or a new PostgreSQL database."""
    base = os.environ.get("DH_TEST_PG_URL", "").strip()
    if not base:
        yield f"sqlite:///{tmp_path}/migrated.db"
        return
    name = f"dh_mig_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        from app.services.db import engine_for

        engine_for(
            make_url(base).set(database=name).render_as_string(hide_password=False)
        ).dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_migrated_schema_matches_the_models(empty_db_url: str) -> None:
    command.upgrade(alembic_config(empty_db_url), "head")
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert set(SQLModel.metadata.tables) <= tables
    assert diff == [], f"models and migrations differ: {diff}"


def test_migrated_audit_trail_refuses_update_and_delete(empty_db_url: str) -> None:
    command.upgrade(alembic_config(empty_db_url), "head")
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO auditevent (at, role, action, target_type, outcome, detail) "
                "VALUES (CURRENT_TIMESTAMP, '', 'x', '', 'ok', '')"
            )
        )
    for statement in ("UPDATE auditevent SET action = 'y'", "DELETE FROM auditevent"):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM auditevent")).scalars().all() == ["x"]
    engine.dispose()


def test_migrating_twice_changes_nothing(empty_db_url: str) -> None:
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, "head")
    command.upgrade(cfg, "head")
    engine = create_engine(empty_db_url)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert version == ScriptDirectory.from_config(cfg).get_current_head()


def test_cards_issued_before_hashing_keep_scanning_and_leave_no_clear_token(
    empty_db_url: str,
) -> None:
    """Issue 19 item 9: migration 0060 replaces each stored token and short code by its keyed
    hash; the card already in the client's hands still resolves, by QR and by typed code."""
    from sqlmodel import Session

    from app.services import cards
    from app.services.actor import load_actor
    from models import Role
    from tests.factories import build_world

    config = alembic_config(empty_db_url)
    # The world is built by today's models, so on today's schema; then the database goes back
    # to the revision before the hashing (later migrations add columns the models use).
    command.upgrade(config, "head")
    engine = create_engine(empty_db_url)
    with Session(engine) as s:
        world = build_world(s)
        s.commit()
    command.downgrade(config, "0060_second_factor")
    token, code = cards.new_card_token(), cards.new_short_code()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO card (client_id, token, short_code, status, issued_at, revoked_reason)"
            " VALUES (:client, :token, :code, 'active', CURRENT_TIMESTAMP, '')"),
            {"client": world.clients["a1"], "token": token, "code": code})
    command.upgrade(config, "head")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM card")).mappings().one()
    assert "token" not in row and "short_code" not in row
    assert token not in repr(dict(row)) and code not in repr(dict(row))
    with Session(engine) as s:
        actor = load_actor(s, user_id=world.users["vol_a1"], role=Role.VOLUNTEER)
        by_qr = cards.resolve_scan(session=s, actor=actor, scanned=f"DH1-{token}")
        by_code = cards.resolve_scan(session=s, actor=actor,
                                     scanned=cards.format_short_code(code))
    engine.dispose()
    assert by_qr.status == by_code.status == cards.ScanStatus.OK
    assert by_qr.view is not None and by_qr.view.client_id == world.clients["a1"]


def test_the_unused_session_device_key_column_goes_and_comes_back_with_its_sessions(
    empty_db_url: str,
) -> None:
    """Migration 0090 drops `authsession.device_key` (unused since devices use wrapped keys);
    sessions are kept both ways."""
    config = alembic_config(empty_db_url)
    command.upgrade(config, "0080_law_gaps")
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO \"user\" (username, full_name, password_hash, is_active, "
            "must_change_password, language, version, created_at) "
            "VALUES ('tnv', 'TNV', '-', true, false, 'vi', 1, CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO authsession (user_id, token_hash, role, created_at, last_seen_at, "
            "expires_at, ended_reason, client_addr, device_key) SELECT id, 'h', 'volunteer', "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '', '', 'k' FROM \"user\""))
    command.upgrade(config, "head")
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("authsession")}
        kept = conn.execute(text("SELECT token_hash FROM authsession")).scalars().all()
    assert "device_key" not in columns and kept == ["h"]
    command.downgrade(config, "0080_law_gaps")
    with engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("authsession")}
        back = conn.execute(text("SELECT token_hash, device_key FROM authsession")).all()
    engine.dispose()
    assert "device_key" in columns and [tuple(r) for r in back] == [("h", "")]
