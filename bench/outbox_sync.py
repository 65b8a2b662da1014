"""The server's share of "100 queued records synced ≤ 10 s" (issue 14): one POST of 100
records to /api/outbox/sync, through the real Starlette app, the session gate and every
record's own service and transaction, then the same batch again (a resend: all answered from
the ledger, nothing stored twice).

    python -m bench.outbox_sync [--db-url URL] [--repeat 3]

Without --db-url: a fresh SQLite file in a temporary folder. With a PostgreSQL URL: that
database must be empty (it is migrated and given the demo data). The batch is what a
volunteer's day of fieldwork queues: visits, drug tests, outreach contacts, referrals, support,
a group activity, and a client registered offline with records naming it by its temporary id.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEST = {"sample": "urine", "method": "rapid"}  # the form makes the volunteer choose both


def _batch(client_ids: list[int], commune_id: int, facility: int | None,
           today: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC).isoformat()

    def rec(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"key": str(uuid.uuid4()), "kind": kind, "saved_at": now, "payload": payload}

    reg = rec("client", {
        "full_name": f"Người Mới {secrets.token_hex(3)}", "birth_year": 1994, "sex": "male",
        "commune_id": commune_id, "consents": [{"purpose": "case_management",
                                                "sensitive_categories": ["drug_use"],
                                                "given_on": today}]})
    temp = f"tmp:{reg['key']}"
    out = [reg]
    for i in range(100 - 1 - 4 - 1):
        cid = client_ids[i % len(client_ids)]
        if i % 5 == 4:
            out.append(rec("drug_test", {"client_id": cid, "tested_on": today,
                                         "result": "negative", **TEST}))
        elif i % 7 == 6:
            out.append(rec("outreach_contact", {"contact_date": today, "place_id": commune_id,
                                                "category": "pwud", "count": 2}))
        else:
            out.append(rec("visit", {"client_id": cid, "visit_date": today, "kind": "home",
                                     "notes": f"Lần thăm {i}", "content": "counselling"}))
    out.append(rec("visit", {"client_id": temp, "visit_date": today, "kind": "home"}))
    out.append(rec("drug_test", {"client_id": temp, "tested_on": today, "result": "negative",
                                 **TEST}))
    out.append(rec("support", {"client_id": client_ids[0], "kind": "vocational_training",
                               "started_on": today}))
    out.append(rec("group_activity", {"kind": "club_meeting", "held_on": today,
                                      "place_id": commune_id, "attendees_total": 8,
                                      "attendees_clients": 2,
                                      "client_ids": [client_ids[0], temp]}))
    if facility is not None:
        out.append(rec("referral", {"client_id": client_ids[0], "service": "hiv_test",
                                    "facility_id": facility, "referred_on": today,
                                    "consent": True}))
    else:
        out.append(rec("visit", {"client_id": client_ids[0], "visit_date": today,
                                 "kind": "phone"}))
    assert len(out) == 100
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", default="")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="dh-outbox-bench-")
    url = args.db_url or f"sqlite:///{folder}/bench.db"
    os.environ["REFLEX_DB_URL"] = url
    for cmd in (["migrate"], ["seed-demo"]):
        subprocess.run([sys.executable, "-m", "app.cli", *cmd], cwd=ROOT, check=True,
                       env=dict(os.environ), stdout=subprocess.DEVNULL)

    from sqlmodel import Session, col, select
    from starlette.testclient import TestClient

    from app.api import api_app
    from app.services import facilities, security
    from app.services.actor import load_actor
    from app.services.calendar import today_vn
    from app.services.db import get_engine
    from models import AuthSession, Client, Role, User, utcnow

    engine = get_engine()
    with Session(engine, expire_on_commit=False) as s:
        user = s.exec(select(User).where(User.username == "tnv.demo")).one()
        assert user.id is not None
        actor = load_actor(s, user_id=user.id, role=Role.VOLUNTEER)
        assert actor is not None
        ids = [c for c in s.exec(select(Client.id).where(
            Client.assigned_volunteer_id == user.id).order_by(col(Client.id))).all() if c]
        commune = min(actor.commune_ids)
        offered = [f for f in facilities.referral_facilities(session=s, actor=actor)
                   if "hiv_test" in f[2]]
        s.rollback()
        token = secrets.token_urlsafe(32)
        now = utcnow()
        s.add(AuthSession(user_id=user.id, token_hash=security.token_hash(token),
                          role=Role.VOLUNTEER, created_at=now, last_seen_at=now,
                          expires_at=now + timedelta(hours=12)))
        s.commit()
    headers = {"x-dh-offline": "1", "origin": "http://testserver",
               "x-dh-device": "0f0e0d0c-0b0a-4908-8706-050403020100"}
    first: list[float] = []
    again: list[float] = []
    with TestClient(api_app(), base_url="http://testserver") as api:
        api.cookies.set("dh_session", token)
        for _ in range(args.repeat):
            batch = _batch(ids, commune, offered[0][0] if offered else None,
                           today_vn().isoformat())
            for times in (first, again):
                start = time.perf_counter()
                answer = api.post("/api/outbox/sync", json={"records": batch}, headers=headers)
                times.append(time.perf_counter() - start)
                statuses = {r["status"] for r in answer.json()["results"]}
                assert answer.status_code == 200 and statuses == {"applied"}, statuses
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"outbox sync, 100 records, {dialect}, {args.repeat} runs:")
    print(f"  first send: median {statistics.median(first):.2f} s, "
          f"max {max(first):.2f} s")
    print(f"  resend (all already applied): median {statistics.median(again):.2f} s, "
          f"max {max(again):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
