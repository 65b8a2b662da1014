"""Backup and restore (app/services/backup.py, `python -m app.cli backup|restore`).

Round trips write real rows through the services, back up, change the data, restore, and
compare every row of every table. SQLite always; PostgreSQL when DH_TEST_PG_URL is set, in a
throw-away database of its own (a restore with --clean must not touch the shared one).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from app import cli
from app.services import settings
from app.services.activities import log_visit
from app.services.backup import BackupError, backup, restore, verify
from app.services.calendar import today_vn
from app.services.db import engine_for
from app.services.dto import VisitCreate
from models import Client, Visit, VisitKind
from tests.factories import World, build_world, prepare_database

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(engine: Engine) -> Snapshot:
    """Every row of every application table, in primary-key order."""
    out: Snapshot = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return out


def write_visits(engine: Engine, world: World, n: int, note: str) -> None:
    with Session(engine, expire_on_commit=False) as s:
        me = world.actor(s, "vol_a1")
        for i in range(n):
            log_visit(session=s, actor=me, submission_key=secrets.token_hex(16),
                      data=VisitCreate(client_id=world.clients["a1"], kind=VisitKind.HOME,
                                       visit_date=today_vn() - timedelta(days=i),
                                       notes=f"{note} {i}"))
        s.commit()


def change_everything(engine: Engine, world: World) -> None:
    write_visits(engine, world, 3, "after the backup")
    with Session(engine) as s:
        client = s.get(Client, world.clients["a1"])
        assert client is not None
        client.full_name = "Tên Đã Đổi"
        s.add(client)
        s.commit()


def round_trip(url: str, tmp_path: Path) -> None:
    engine = prepare_database(url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
    write_visits(engine, world, 5, "before the backup")
    before = snapshot(engine)
    assert len(before["visit"]) == 5 and before["auditevent"]

    info = backup(db_url=url, to=tmp_path / "b" / "donghanh.bak")
    assert info.path.is_file() and info.tables >= 10

    change_everything(engine, world)
    assert snapshot(engine) != before

    restore(db_url=url, source=info.path, safety_dir=tmp_path / "safety")
    engine.dispose()
    assert snapshot(engine) == before
    # The pre-restore safety copy holds the changed data, so the restore can be undone.
    assert len(list((tmp_path / "safety").glob("pre-restore-*.bak"))) == 1
    # The append-only guard on the audit trail came back with the restore.
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE auditevent SET detail = 'x'"))
    # The app keeps working on the restored database: a new write goes through.
    write_visits(engine, world, 1, "after the restore")
    with Session(engine) as s:
        assert len(s.exec(select(Visit)).all()) == 6  # type: ignore[call-overload]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/live.db"


def test_sqlite_round_trip_brings_back_every_row_exactly(sqlite_url: str, tmp_path: Path) -> None:
    round_trip(sqlite_url, tmp_path)


def test_a_sqlite_backup_is_one_verified_file_and_ignores_uncommitted_writes(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = prepare_database(sqlite_url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
    write_visits(engine, world, 2, "committed")
    # Another connection (the app, mid-request) holds an open write transaction.
    live = str(make_url(sqlite_url).database)
    writer = sqlite3.connect(live)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE visit SET notes = 'uncommitted'")
    try:
        info = backup(db_url=sqlite_url, to=tmp_path / "hot.bak")
    finally:
        writer.rollback()
        writer.close()
    assert not Path(f"{info.path}-wal").exists()
    copy = sqlite3.connect(info.path)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        notes = sorted(r[0] for r in copy.execute("SELECT notes FROM visit"))
    finally:
        copy.close()
    assert notes == ["committed 0", "committed 1"]


def test_backup_never_overwrites_an_existing_file(sqlite_url: str, tmp_path: Path) -> None:
    prepare_database(sqlite_url)
    target = tmp_path / "exists.bak"
    target.write_bytes(b"precious")
    with pytest.raises(BackupError, match="already exists"):
        backup(db_url=sqlite_url, to=target)
    assert target.read_bytes() == b"precious"


def test_restore_refuses_files_that_are_not_sound_backups(sqlite_url: str, tmp_path: Path
                                                         ) -> None:
    engine = prepare_database(sqlite_url)
    with Session(engine, expire_on_commit=False) as s:
        build_world(s)
    before = snapshot(engine)
    good = backup(db_url=sqlite_url, to=tmp_path / "good.bak").path

    not_a_db = tmp_path / "notes.bak"
    not_a_db.write_text("Ho ten,Nam sinh\n")
    truncated = tmp_path / "truncated.bak"
    truncated.write_bytes(good.read_bytes()[: 4096 * 3])
    damaged = tmp_path / "damaged.bak"
    raw = bytearray(good.read_bytes())
    for page in range(1, len(raw) // 4096):  # scribble over the b-tree page headers
        raw[page * 4096: page * 4096 + 12] = b"\xff" * 12
    damaged.write_bytes(bytes(raw))
    empty_db = tmp_path / "empty.bak"
    sqlite3.connect(empty_db).execute("PRAGMA user_version = 1").connection.close()

    for bad in (not_a_db, truncated, damaged, empty_db, tmp_path / "missing.bak"):
        with pytest.raises(BackupError):
            restore(db_url=sqlite_url, source=bad)
    engine.dispose()
    assert snapshot(engine) == before


def test_the_cli_backs_up_and_restores_only_with_yes(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REFLEX_DB_URL", sqlite_url)
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path / "data")
    engine = prepare_database(sqlite_url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
    before = snapshot(engine)
    target = tmp_path / "cli.bak"
    assert cli.main(["backup", "--to", str(target)]) == 0
    assert "verified" in capsys.readouterr().out
    assert cli.main(["backup", "--to", str(target)]) == 2  # never overwrites

    change_everything(engine, world)
    changed = snapshot(engine)
    assert cli.main(["restore", "--from", str(target)]) == 2
    assert "--yes" in capsys.readouterr().err
    engine.dispose()
    assert snapshot(engine) == changed  # nothing happened without --yes

    assert cli.main(["restore", "--from", str(tmp_path / "nope.bak"), "--yes"]) == 2
    assert cli.main(["restore", "--from", str(target), "--yes"]) == 0
    engine.dispose()
    assert snapshot(engine) == before
    assert list((tmp_path / "data" / "backups").glob("pre-restore-*.bak"))


def test_verify_names_the_engine_and_table_count(sqlite_url: str, tmp_path: Path) -> None:
    prepare_database(sqlite_url)
    info = verify(db_url=sqlite_url, source=backup(db_url=sqlite_url, to=tmp_path / "v.bak").path)
    assert info.kind == "sqlite"
    assert info.tables == len(SQLModel.metadata.tables)


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture
def throwaway_pg_url() -> Iterator[str]:
    base = os.environ.get("DH_TEST_PG_URL", "").strip()
    if not base:
        pytest.skip("PostgreSQL round trip: set DH_TEST_PG_URL")
    name = f"dh_backup_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_postgresql_round_trip_brings_back_every_row_exactly(throwaway_pg_url: str,
                                                             tmp_path: Path) -> None:
    round_trip(throwaway_pg_url, tmp_path)


def test_postgresql_restore_refuses_a_file_that_is_not_a_dump(throwaway_pg_url: str,
                                                              tmp_path: Path) -> None:
    prepare_database(throwaway_pg_url)
    fake = tmp_path / "fake.bak"
    fake.write_bytes(b"PGDMP" + b"\x00" * 64)
    for bad in (fake, tmp_path / "missing.bak"):
        with pytest.raises(BackupError):
            restore(db_url=throwaway_pg_url, source=bad)
