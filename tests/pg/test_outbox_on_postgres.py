"""The device outbox's sync on the grown-up deployment (issue 14): PostgreSQL and two backend
workers. The same batch posted by eight connections at once — a device retrying while its
first request still runs, on whichever worker each lands — is stored once; a record refused
because its client was reassigned is kept, applied by the supervisor, and a resend after that
is answered with the one record."""

from __future__ import annotations

import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine, func
from sqlmodel import Session, col, select

from app.services import outbox, security
from app.services.actor import load_actor
from app.services.calendar import today_vn
from models import AuthSession, Client, DrugTest, Role, RoleAssignment, User, Visit, utcnow
from tests.e2e.server import RunningApp

DEVICE = "0f0e0d0c-0b0a-4908-8706-050403020100"


def _volunteer_session(db: Session) -> tuple[str, int, list[int]]:
    """A signed-in session of tnv.demo (its cookie token), their id and their clients."""
    user = db.exec(select(User).where(User.username == "tnv.demo")).one()
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.add(AuthSession(user_id=user.id, token_hash=security.token_hash(token),
                       role=Role.VOLUNTEER, created_at=now, last_seen_at=now,
                       expires_at=now + timedelta(hours=2)))
    db.commit()
    ids = [c for c in db.exec(select(Client.id).where(Client.assigned_volunteer_id == user.id)
                              .order_by(col(Client.id))).all() if c]
    return token, user.id, ids


def _post(url: str, token: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    origin = url.rstrip("/")
    with httpx.Client(base_url=url, timeout=60, cookies={"dh_session": token}) as client:
        answer = client.post("api/outbox/sync", json={"records": records},
                             headers={"x-dh-offline": "1", "origin": origin,
                                      "x-dh-device": DEVICE})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    return answer.json()


def _record(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"key": str(uuid.uuid4()), "kind": kind, "saved_at": datetime.now(UTC).isoformat(),
            "payload": payload}


def test_one_batch_posted_eight_times_at_once_is_stored_once(
    pg_app: RunningApp, pg_database_url: str
) -> None:
    engine = create_engine(pg_database_url)
    day = today_vn().isoformat()
    with Session(engine) as db:
        token, _user, clients = _volunteer_session(db)
        visits_before = db.exec(select(func.count()).select_from(Visit)).one()
        tests_before = db.exec(select(func.count()).select_from(DrugTest)).one()
    batch = [_record("visit", {"client_id": clients[i % len(clients)], "visit_date": day,
                               "kind": "home", "notes": f"lần {i}"}) for i in range(12)]
    batch += [_record("drug_test", {"client_id": clients[0], "tested_on": day,
                                    "result": "negative", "sample": "urine", "method": "rapid"})
              for _ in range(4)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _i: _post(pg_app.url, token, batch), range(8)))
    first = [(r["status"], r["record_id"]) for r in answers[0]["results"]]
    assert {status for status, _id in first} == {"applied"}
    assert all([(r["status"], r["record_id"]) for r in a["results"]] == first for a in answers)
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(Visit)).one() == visits_before + 12
        assert db.exec(select(func.count()).select_from(DrugTest)).one() == tests_before + 4
    engine.dispose()


def test_reassigned_client_refusal_is_kept_applied_by_the_supervisor_and_resent_once(
    pg_app: RunningApp, pg_database_url: str
) -> None:
    engine = create_engine(pg_database_url)
    note = f"Gặp ở trạm y tế {secrets.token_hex(3)}"
    with Session(engine, expire_on_commit=False) as db:
        token, _user, clients = _volunteer_session(db)
        client = db.get(Client, clients[-1])
        assert client is not None
        other = User(username=f"tnv.{secrets.token_hex(3)}", full_name="Người khác",
                     password_hash="-")
        db.add(other)
        db.flush()
        db.add(RoleAssignment(user_id=other.id or 0, role=Role.VOLUNTEER,
                              place_id=client.commune_id))
        client.assigned_volunteer_id = other.id
        client.version += 1
        db.add(client)
        db.commit()
        client_id = client.id
    record = _record("visit", {"client_id": client_id, "visit_date": today_vn().isoformat(),
                               "kind": "home", "notes": note})
    [kept] = _post(pg_app.url, token, [record])["results"]
    assert kept["status"] == "kept" and kept["review_id"]
    with Session(engine, expire_on_commit=False) as db:
        sup_user = db.exec(select(User).where(User.username == "gs.demo")).one()
        supervisor = load_actor(db, user_id=sup_user.id or 0, role=Role.SUPERVISOR)
        applied = outbox.apply_item(session=db, actor=supervisor, review_id=kept["review_id"])
        db.commit()
    with ThreadPoolExecutor(max_workers=4) as pool:
        resent = list(pool.map(lambda _i: _post(pg_app.url, token, [record]), range(4)))
    assert {(a["results"][0]["status"], a["results"][0]["record_id"]) for a in resent} == \
        {("applied", applied.record_id)}
    with Session(engine) as db:
        visits = db.exec(select(Visit).where(Visit.notes == note)).all()
        assert [(v.client_id, v.id) for v in visits] == [(client_id, applied.record_id)]
    engine.dispose()
