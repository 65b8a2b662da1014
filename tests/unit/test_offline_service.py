"""The offline queue on the server: what the device may keep, and applying a queued batch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.services import offline
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.errors import PermissionDenied, ValidationFailed
from models import (
    AuthSession,
    Client,
    ClientStatus,
    DrugTest,
    Episode,
    EpisodeStatus,
    OutreachContact,
    Submission,
    Visit,
    utcnow,
)
from tests.factories import World, count

TODAY = today_vn()


def _session_actor(session: Session, world: World, name: str = "vol_a1") -> Actor:
    """An actor with a real AuthSession row, as the API gets it from validate_session."""
    now = utcnow()
    row = AuthSession(
        user_id=world.users[name], token_hash=uuid.uuid4().hex, role=world.roles[name],
        created_at=now, last_seen_at=now, expires_at=now + timedelta(hours=12),
        device_key="ab" * 32,
    )
    session.add(row)
    session.commit()
    actor = world.actor(session, name)
    assert actor is not None and row.id is not None
    return Actor(user_id=actor.user_id, role=actor.role, commune_ids=actor.commune_ids,
                 province_ids=actor.province_ids, facility_ids=actor.facility_ids,
                 session_id=row.id)


def _visit(world: World, *, key: str | None = None, notes: str = "ổn định",
           **payload: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"client_id": world.clients["a1"], "visit_date": TODAY.isoformat(),
                            "kind": "home", "notes": notes}
    body.update(payload)
    return {"key": key or str(uuid.uuid4()), "kind": "visit",
            "created_at": datetime.now(UTC).isoformat(), "payload": body}


def _apply(engine: Engine, actor: Actor, records: list[dict[str, Any]]) -> list[offline.SyncResult]:
    return offline.apply_batch(actor=actor, records=records, engine=engine)


# --- bootstrap -----------------------------------------------------------------------------


def test_bootstrap_gives_the_same_key_for_the_same_session_and_only_minimal_rows(
    session: Session, world: World
) -> None:
    actor = _session_actor(session, world)
    first = offline.bootstrap(session=session, actor=actor, today=TODAY)
    again = offline.bootstrap(session=session, actor=actor, today=TODAY)
    assert first.device_key == again.device_key
    assert first.device_key.key == "ab" * 32 and len(first.device_key.key_id) == 16
    rows = {r.client_id: r for r in first.today}
    assert set(rows) == {world.clients["a1"]}  # the open referral puts a1 on Today
    row = rows[world.clients["a1"]]
    assert row.given_name == "Cường"  # given name only, never the full name
    assert row.episode_id == world.episodes["a1_open"]
    assert [p.id for p in first.places] == [world.commune_a1]


def test_bootstrap_is_for_volunteers_only(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        offline.bootstrap(session=session, actor=_session_actor(session, world, "sup_a1"),
                          today=TODAY)


def test_a_lapsed_sessions_key_comes_back_to_the_same_user_but_not_after_sign_out(
    session: Session, world: World
) -> None:
    old = _session_actor(session, world)
    row = session.get(AuthSession, old.session_id)
    assert row is not None
    row.device_key = "cd" * 32
    row.last_seen_at = utcnow() - timedelta(minutes=31)  # idle: lapsed, never validated
    session.add(row)
    signed_out = _session_actor(session, world)
    out_row = session.get(AuthSession, signed_out.session_id)
    assert out_row is not None
    out_row.device_key = "ef" * 32
    out_row.ended_at, out_row.ended_reason = utcnow(), "sign_out"
    session.add(out_row)
    other_user = _session_actor(session, world, "vol_a1_peer")
    other_row = session.get(AuthSession, other_user.session_id)
    assert other_row is not None
    other_row.ended_at, other_row.ended_reason = utcnow(), "idle"
    session.add(other_row)
    session.commit()
    current = _session_actor(session, world)
    data = offline.bootstrap(session=session, actor=current, today=TODAY)
    assert [k.key for k in data.previous_keys] == ["cd" * 32]


# --- applying a batch ----------------------------------------------------------------------


def test_a_batch_is_applied_in_order_and_each_record_reports_its_id(
    engine: Engine, session: Session, world: World
) -> None:
    actor = _session_actor(session, world)
    contact = {"key": str(uuid.uuid4()), "kind": "contact", "created_at": "2026-01-01T08:00:00Z",
               "payload": {"contact_date": TODAY.isoformat(), "place_id": world.commune_a1,
                           "category": "pwud", "count": 3, "topic": "HIV"}}
    test = {"key": str(uuid.uuid4()), "kind": "test", "created_at": "2026-01-01T09:00:00Z",
            "payload": {"client_id": world.clients["a1"], "tested_on": TODAY.isoformat(),
                        "result": "negative"}}
    records = [_visit(world, notes="một"), contact, _visit(world, notes="hai"), test]
    results = _apply(engine, actor, records)
    assert [r.status for r in results] == ["sent"] * 4
    assert [r.key for r in results] == [r["key"] for r in records]
    with Session(engine) as check:
        visits = check.exec(select(Visit).order_by(Visit.id)).all()  # type: ignore[arg-type]
        assert [v.notes for v in visits] == ["một", "hai"]
        assert [v.id for v in visits] == [results[0].record_id, results[2].record_id]
        assert check.get(OutreachContact, results[1].record_id) is not None
        assert check.get(DrugTest, results[3].record_id) is not None


def test_sending_the_same_batch_again_stores_nothing_twice(
    engine: Engine, session: Session, world: World
) -> None:
    actor = _session_actor(session, world)
    records = [_visit(world), _visit(world), _visit(world)]
    first = _apply(engine, actor, records)
    second = _apply(engine, actor, records)
    third = _apply(engine, actor, records)
    assert [r.status for r in first] == ["sent"] * 3
    assert [r.status for r in second] == [r.status for r in third] == ["duplicate"] * 3
    assert [r.record_id for r in second] == [r.record_id for r in first]
    with Session(engine) as check:
        assert count(check, Visit) == 3
        assert count(check, Submission) == 3


def test_a_rejected_record_does_not_stop_the_others_and_is_not_remembered(
    engine: Engine, session: Session, world: World
) -> None:
    actor = _session_actor(session, world)
    future = (TODAY + timedelta(days=2)).isoformat()
    bad = _visit(world, visit_date=future)
    results = _apply(engine, actor, [_visit(world), bad, _visit(world)])
    assert [r.status for r in results] == ["sent", "rejected", "sent"]
    assert results[1].reason == "error.validation"
    assert results[1].fields == {"visit_date": "error.date_range"}
    with Session(engine) as check:
        assert count(check, Visit) == 2
        assert check.get(Submission, bad["key"]) is None
    # Fixed and resent with the same key: it saves.
    bad["payload"]["visit_date"] = TODAY.isoformat()
    again = _apply(engine, actor, [bad])
    assert again[0].status == "sent"
    with Session(engine) as check:
        assert count(check, Visit) == 3


def test_a_client_reassigned_meanwhile_is_a_conflict_and_nothing_is_saved(
    engine: Engine, session: Session, world: World
) -> None:
    actor = _session_actor(session, world)
    client = session.get(Client, world.clients["a1"])
    assert client is not None
    client.assigned_volunteer_id = world.users["vol_a1_peer"]
    session.add(client)
    session.commit()
    results = _apply(engine, actor, [_visit(world)])
    assert results[0].status == "rejected"
    assert results[0].reason == "offline.reason.client_unavailable"
    assert not results[0].confirmable
    with Session(engine) as check:
        assert count(check, Visit) == 0


def test_a_closed_episode_or_case_is_a_conflict_the_volunteer_can_confirm(
    engine: Engine, session: Session, world: World
) -> None:
    actor = _session_actor(session, world)
    episode = session.get(Episode, world.episodes["a1_open"])
    assert episode is not None
    episode.status = EpisodeStatus.CLOSED
    session.add(episode)
    session.commit()
    record = _visit(world)
    record["context"] = {"episode_id": world.episodes["a1_open"]}
    first = _apply(engine, actor, [record])
    assert first[0].status == "rejected"
    assert first[0].reason == "offline.reason.episode_closed" and first[0].confirmable
    record["confirm"] = True
    assert _apply(engine, actor, [record])[0].status == "sent"

    client = session.get(Client, world.clients["a1"])
    assert client is not None
    client.status = ClientStatus.CLOSED
    session.add(client)
    session.commit()
    closed = _visit(world)
    result = _apply(engine, actor, [closed])[0]
    assert result.reason == "offline.reason.client_closed" and result.confirmable
    with Session(engine) as check:
        assert count(check, Visit) == 1


def test_malformed_records_are_rejected_one_by_one_never_dropped(
    engine: Engine, session: Session, world: World
) -> None:
    actor = _session_actor(session, world)
    records: list[Any] = [
        "not an object",
        {**_visit(world), "key": "not-a-uuid"},
        {**_visit(world), "kind": "referral"},
        {**_visit(world), "created_at": "yesterday"},
        _visit(world, kind="teleportation"),
        _visit(world),
    ]
    results = _apply(engine, actor, records)
    assert len(results) == len(records)
    assert [r.status for r in results] == ["rejected"] * 5 + ["sent"]
    assert results[4].fields == {"kind": "error.invalid_value"}


def test_a_key_used_for_another_kind_is_refused(
    engine: Engine, session: Session, world: World
) -> None:
    actor = _session_actor(session, world)
    visit = _visit(world)
    _apply(engine, actor, [visit])
    test = {"key": visit["key"], "kind": "test", "created_at": visit["created_at"],
            "payload": {"client_id": world.clients["a1"], "tested_on": TODAY.isoformat(),
                        "result": "negative"}}
    result = _apply(engine, actor, [test])[0]
    assert result.status == "rejected" and result.reason == "error.submission_key_reused"


def test_only_volunteers_may_sync_and_batches_are_bounded(
    engine: Engine, session: Session, world: World
) -> None:
    with pytest.raises(PermissionDenied):
        _apply(engine, _session_actor(session, world, "sup_a1"), [_visit(world)])
    actor = _session_actor(session, world)
    with pytest.raises(ValidationFailed):
        _apply(engine, actor, [_visit(world)] * (offline.MAX_BATCH + 1))
    with Session(engine) as check:
        assert count(check, Visit) == 0
