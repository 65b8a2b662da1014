"""SQLite survives `kill -9` during writes: no acknowledged write is lost, none is doubled.

A child process writes visits through the real service (`activities.log_visit` with a
submission key, one transaction each, the app's engine with its WAL pragmas) and prints each
key only after its commit returned — that is what "acknowledged" means to a browser. The test
kills it with SIGKILL at an arbitrary moment, several times over the same file, then checks
the file the way an operator would after a crash.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app.services.settings import PROJECT_ROOT
from tests.factories import build_world, prepare_database

KILLS = 3
WRITES_BEFORE_KILL = 60  # acknowledged writes to wait for before pulling the plug
ROUND_SECONDS = 20.0  # hard bound per round (start-up of the child included)

WRITER = r"""
import os, secrets, sys
from datetime import timedelta
from app.services.activities import log_visit
from app.services.actor import load_actor
from app.services.db import engine_for, session_scope
from app.services.dto import VisitCreate
from app.services.calendar import today_vn
from models import Role, VisitKind

engine = engine_for(os.environ["CRASH_DB_URL"])
user_id, client_id, round_no = (int(os.environ[k]) for k in
                                ("CRASH_USER", "CRASH_CLIENT", "CRASH_ROUND"))
i = 0
while True:
    key = f"crash-{round_no}-{i:06d}-{secrets.token_hex(4)}"
    with session_scope(engine) as s:
        me = load_actor(s, user_id=user_id, role=Role.VOLUNTEER)
        log_visit(session=s, actor=me, submission_key=key,
                  data=VisitCreate(client_id=client_id, kind=VisitKind.HOME,
                                   visit_date=today_vn() - timedelta(days=i % 300),
                                   notes=key))
    sys.stdout.write(key + "\n")  # after the commit: acknowledged
    sys.stdout.flush()
    i += 1
"""


def _run_and_kill(db_url: str, user_id: int, client_id: int, round_no: int) -> list[str]:
    env = dict(os.environ, CRASH_DB_URL=db_url, CRASH_USER=str(user_id),
               CRASH_CLIENT=str(client_id), CRASH_ROUND=str(round_no), PYTHONUNBUFFERED="1")
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER], cwd=PROJECT_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked: list[str] = []
    deadline = time.monotonic() + ROUND_SECONDS
    try:
        assert child.stdout is not None
        while len(acked) < WRITES_BEFORE_KILL + round_no * 7 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            acked.append(line.strip())
        os.kill(child.pid, signal.SIGKILL)
        rest, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL, err[-2000:]
    # Keys the child printed after the last one read here were acknowledged too.
    acked += [k for k in rest.splitlines() if k.strip()]
    return acked


def test_acknowledged_writes_survive_kill_9_exactly_once(
    tmp_path: Path, record_property: Callable[[str, Any], None]
) -> None:
    db_url = f"sqlite:///{tmp_path}/crash.db"
    engine = prepare_database(db_url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_world(s)
    engine.dispose()

    acknowledged: list[str] = []
    for round_no in range(KILLS):
        acked = _run_and_kill(db_url, world.users["vol_a1"], world.clients["a1"], round_no)
        assert len(acked) >= WRITES_BEFORE_KILL, "the writer did not get going"
        acknowledged += acked

    db = sqlite3.connect(tmp_path / "crash.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        stored = dict(db.execute("SELECT key, record_id FROM submission WHERE kind = 'visit'"))
        visits = dict(db.execute("SELECT id, notes FROM visit"))
        audited = {r[0] for r in db.execute(
            "SELECT target_id FROM auditevent WHERE action = 'visit.create'")}
    finally:
        db.close()

    lost = [k for k in acknowledged if k not in stored]
    assert lost == []
    assert len(set(acknowledged)) == len(acknowledged)
    # Each stored key points at exactly one visit that carries it, and nothing is half-written:
    # every visit has its key and its audit event (they commit together or not at all).
    assert sorted(visits[stored[k]] for k in acknowledged) == sorted(acknowledged)
    assert len(visits) == len(stored)
    assert set(visits.values()) == set(stored)
    assert audited == set(visits)
    # At most the one write in flight at each kill committed without being acknowledged.
    assert len(stored) - len(acknowledged) <= KILLS

    record_property("kills", KILLS)
    record_property("acknowledged_writes", len(acknowledged))
    record_property("acknowledged_lost", len(lost))
    record_property("committed_unacknowledged", len(stored) - len(acknowledged))
