"""The audit trail: one event per read or change, denials that survive rollback, append-only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from app.services import activities, audit, clients
from app.services.calendar import today_vn
from app.services.db import session_scope
from app.services.dto import (
    ClientUpdate,
    EpisodeCreate,
    OutreachContactCreate,
    ReferralCreate,
    VisitCreate,
)
from app.services.errors import NotFound, PermissionDenied
from app.services.law import episodes
from models import (
    AuditEvent,
    ContactCategory,
    Episode,
    EpisodeStatus,
    EpisodeType,
    ReferralService,
    VisitKind,
)
from tests.factories import World, client_create, count

TODAY = today_vn()


def _events(session: Session, after_id: int) -> list[tuple[str, str, int | None, str]]:
    rows = session.exec(
        select(AuditEvent).where(col(AuditEvent.id) > after_id).order_by(col(AuditEvent.id))
    ).all()
    return [(e.action, e.target_type, e.target_id, e.outcome) for e in rows]


def _last_id(session: Session) -> int:
    ids = session.exec(select(AuditEvent.id).order_by(col(AuditEvent.id).desc())).first()
    return ids or 0


Step = Callable[[Session, World], Any]
def _no_live_episodes(session: Session, client_id: int) -> None:
    """Setup: end the client's episodes (the law lets no rehab overlap illegal-use management)."""
    for ep in session.exec(select(Episode).where(Episode.client_id == client_id)).all():
        ep.status = EpisodeStatus.CLOSED
        session.add(ep)
    session.flush()


CASES: list[tuple[str, str, Step, tuple[str, str, str]]] = [
    ("get_client", "vol_a1",
     lambda s, w: clients.get_client(session=s, actor=w.actor(s, "vol_a1"),
                                     client_id=w.clients["a1"]),
     ("client.read", "client", "a1")),
    ("client_timeline", "clinic_a",
     lambda s, w: clients.client_timeline(session=s, actor=w.actor(s, "clinic_a"),
                                          client_id=w.clients["a1"]),
     ("client.timeline", "client", "a1")),
    ("update_client", "sup_a",
     lambda s, w: clients.update_client(session=s, actor=w.actor(s, "sup_a"),
                                        client_id=w.clients["a2"],
                                        data=ClientUpdate(address="Ấp 4"), expected_version=1),
     ("client.update", "client", "a2")),
    ("log_visit", "vol_a1",
     lambda s, w: activities.log_visit(session=s, actor=w.actor(s, "vol_a1"), data=VisitCreate(
         client_id=w.clients["a1"], visit_date=TODAY, kind=VisitKind.PHONE)),
     ("visit.create", "visit", "new")),
    ("create_referral", "vol_a1",
     lambda s, w: activities.create_referral(session=s, actor=w.actor(s, "vol_a1"),
                                             data=ReferralCreate(
                                                 client_id=w.clients["a1"],
                                                 service=ReferralService.LEGAL_AID,
                                                 referred_on=TODAY, consent=True)),
     ("referral.create", "referral", "new")),
    ("open_episode", "sup_b",
     lambda s, w: _no_live_episodes(s, w.clients["b1"]) or episodes.open_episode(
         session=s, actor=w.actor(s, "sup_b"),
                                        client_id=w.clients["b1"], data=EpisodeCreate(
                                            episode_type=EpisodeType.MMT,
                                            start_date=TODAY - timedelta(days=1))),
     ("episode.open", "episode", "new")),
    ("log_outreach_contact", "sup_a",
     lambda s, w: activities.log_outreach_contact(
         session=s, actor=w.actor(s, "sup_a"), data=OutreachContactCreate(
             contact_date=TODAY, place_id=w.commune_a1, category=ContactCategory.STUDENT,
             count=40)),
     ("contact.create", "outreachcontact", "new")),
]


@pytest.mark.parametrize(("service", "actor_name", "step", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_read_or_change_writes_exactly_one_event(
    session: Session, world: World, service: str, actor_name: str, step: Step,
    expected: tuple[str, str, str],
) -> None:
    start = _last_id(session)
    result = step(session, world)
    session.commit()
    action, target_type, target = expected
    target_id = result.id if target == "new" else world.clients[target]
    assert _events(session, start) == [(action, target_type, target_id, "ok")]
    event = session.get(AuditEvent, start + 1)
    assert event is not None and event.actor_id == world.users[actor_name]


def test_registering_a_client_writes_its_duplicate_look_up_and_its_creation(
    session: Session, world: World
) -> None:
    start = _last_id(session)
    created = clients.register_client(session=session, actor=world.actor(session, "vol_a1"),
                                      data=client_create(world.commune_a1))
    session.commit()
    # The look-up for possible duplicates is audited too (issue 19: no silent oracle).
    assert _events(session, start) == [("client.duplicate_check", "client", None, "ok"),
                                       ("client.create", "client", created.id, "ok")]


def test_events_never_hold_sensitive_values(session: Session, world: World) -> None:
    start = _last_id(session)
    clients.update_client(session=session, actor=world.actor(session, "sup_a"),
                          client_id=world.clients["a1"],
                          data=ClientUpdate(hiv_status="negative"), expected_version=1)
    session.commit()
    details = [e.detail for e in session.exec(
        select(AuditEvent).where(col(AuditEvent.id) > start)).all()]
    assert details == ["fields="]
    assert not any("negative" in d for d in details)


def test_a_failed_change_leaves_no_event(session: Session, world: World) -> None:
    start = _last_id(session)
    with pytest.raises(RuntimeError, match="crash after the write"):
        with session_scope(session.get_bind()) as s:  # type: ignore[arg-type]
            activities.log_visit(session=s, actor=world.actor(s, "vol_a1"), data=VisitCreate(
                client_id=world.clients["a1"], visit_date=TODAY, kind=VisitKind.HOME))
            raise RuntimeError("crash after the write")
    assert _events(session, start) == []


def test_a_denial_is_recorded_and_survives_the_rollback(engine: Engine, world: World) -> None:
    with Session(engine) as s:
        start = _last_id(s)
    with pytest.raises(NotFound):
        with session_scope(engine) as s:
            clients.get_client(session=s, actor=world.actor(s, "vol_a1"),
                               client_id=world.clients["b1"])
    with Session(engine) as s:
        assert _events(s, start) == [("client.read", "client", world.clients["b1"], "denied")]


def test_a_denial_after_a_write_in_the_same_transaction_still_survives(
    engine: Engine, world: World
) -> None:
    with Session(engine) as s:
        start = _last_id(s)
    with pytest.raises(NotFound):
        with session_scope(engine) as s:
            vol = world.actor(s, "vol_a1")
            activities.log_visit(session=s, actor=vol, data=VisitCreate(
                client_id=world.clients["a1"], visit_date=TODAY, kind=VisitKind.HOME))
            s.flush()  # the transaction now holds SQLite's write lock
            # Another volunteer's client: refused (as not found) after the visit was written.
            episodes.open_episode(session=s, actor=vol, client_id=world.clients["a2"],
                                  data=EpisodeCreate(episode_type=EpisodeType.MMT,
                                                     start_date=TODAY))
    with Session(engine) as s:
        assert _events(s, start) == [("episode.open", "client", world.clients["a2"], "denied")]


def test_a_disabled_user_is_denied_and_the_denial_is_recorded(engine: Engine,
                                                              world: World) -> None:
    with Session(engine) as s:
        start = _last_id(s)
        with pytest.raises(PermissionDenied):
            clients.search_clients(session=s, actor=world.actor(s, "disabled"))
        s.rollback()
        rows = s.exec(select(AuditEvent).where(col(AuditEvent.id) > start)).all()
    assert [(e.action, e.actor_id, e.outcome) for e in rows] == [
        ("client.search", None, "denied")]


def test_the_database_refuses_to_update_or_delete_audit_events(engine: Engine) -> None:
    with Session(engine) as s:
        audit.record(s, actor=None, action="test", target_type="x", target_id=1)
        s.commit()
    for sql in ("UPDATE auditevent SET outcome = 'ok'", "DELETE FROM auditevent"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(sql))
    with Session(engine) as s:
        assert count(s, AuditEvent) == 1


def test_installing_the_guard_twice_is_harmless(engine: Engine) -> None:
    audit.install_append_only_guard(engine)
    audit.install_append_only_guard(engine)
    with Session(engine) as s:
        audit.record(s, actor=None, action="test", target_type="x", target_id=1)
        s.commit()
    with pytest.raises(DBAPIError):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM auditevent"))


def test_the_audit_module_offers_no_way_to_change_an_event() -> None:
    public = {name for name in dir(audit) if not name.startswith("_")}
    assert not {n for n in public if n.startswith(("update", "delete", "remove", "purge"))}
