"""Merging duplicate clients: likely pairs, what moves, the log, and an undo that restores all."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, select

from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.merge import duplicate_pairs, merge_clients, recent_merges, undo_merge
from models import (
    AuditEvent,
    Card,
    CardStatus,
    Client,
    ClientMerge,
    ClientStatus,
    Consent,
    ContactCategory,
    DrugTest,
    Episode,
    EpisodeType,
    GroupActivity,
    GroupActivityClient,
    GroupActivityKind,
    OutreachContact,
    Referral,
    Support,
    SupportKind,
    Visit,
    VisitKind,
)
from models import TestResult as DrugResult
from tests.factories import World, make_client, make_episode, make_referral

_SNAPSHOT_TABLES: tuple[type[SQLModel], ...] = (
    Client, Visit, OutreachContact, DrugTest, Referral, Support, Episode, Consent, Card,
    GroupActivityClient,
)


def _snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every client-owned table, except the clients' version counters."""
    session.expire_all()
    out: dict[str, list[tuple[Any, ...]]] = {}
    for model in _SNAPSHOT_TABLES:
        table = model.__table__  # type: ignore[attr-defined]
        names = [c.name for c in table.columns if not (model is Client and c.name == "version")]
        rows = session.execute(sa_select(*[table.c[n] for n in names])).all()
        out[table.name] = sorted(tuple(r) for r in rows)
    return out


def _card(session: Session, client_id: int, token: str,
          status: CardStatus = CardStatus.ACTIVE) -> int:
    card = Card(client_id=client_id, token_hash=token, code_hash=token[:8], status=status)
    session.add(card)
    session.flush()
    assert card.id is not None
    return card.id


def _duplicate_with_history(session: Session, world: World) -> tuple[int, int]:
    """client_a1 (kept) and a second record of the same person with a full history."""
    keep = world.clients["a1"]
    dup = make_client(session, world.commune_a1, world.users["vol_a1_peer"], name="Lê Văn Cường",
                      national_id="001090000123")
    session.add_all([
        Visit(client_id=dup, visit_date=date(2025, 9, 1), kind=VisitKind.HOME),
        Visit(client_id=dup, visit_date=date(2025, 9, 8), kind=VisitKind.PHONE),
        OutreachContact(contact_date=date(2025, 9, 1), place_id=world.commune_a1,
                        category=ContactCategory.PERSON_WHO_USES_DRUGS, client_id=dup),
        DrugTest(client_id=dup, tested_on=date(2025, 9, 2), result=DrugResult.NEGATIVE),
        Support(client_id=dup, kind=SupportKind.LOAN, started_on=date(2025, 9, 3),
                amount_vnd=20_000_000),
        Consent(client_id=dup, purpose="case_management", given_on=date(2025, 8, 30)),
    ])
    make_referral(session, dup, world.facility_a)
    make_episode(session, dup, EpisodeType.MMT)
    _card(session, keep, "k" * 40)
    _card(session, dup, "d" * 40)  # both active: the duplicate's is revoked on merge
    _card(session, dup, "r" * 40, CardStatus.REVOKED)
    both = GroupActivity(kind=GroupActivityKind.CLUB_MEETING, held_on=date(2025, 9, 5),
                         place_id=world.commune_a1)
    only_dup = GroupActivity(kind=GroupActivityKind.THEMATIC_TALK, held_on=date(2025, 9, 6),
                             place_id=world.commune_a1)
    session.add_all([both, only_dup])
    session.flush()
    session.add_all([
        GroupActivityClient(activity_id=both.id or 0, client_id=keep),
        GroupActivityClient(activity_id=both.id or 0, client_id=dup),
        GroupActivityClient(activity_id=only_dup.id or 0, client_id=dup),
    ])
    older = make_client(session, world.commune_a1, None, name="Lê Văn Cường",
                        status=ClientStatus.MERGED)
    session.get(Client, older).merged_into_id = dup  # type: ignore[union-attr]
    session.commit()
    return keep, dup


def test_likely_pairs_by_name_birth_year_commune_or_national_id_within_scope(
    session: Session, world: World
) -> None:
    twin = make_client(session, world.commune_a1, None, name="LE VAN CUONG".title())
    session.get(Client, twin).name_key = "le van cuong"  # type: ignore[union-attr]
    same_id_a = make_client(session, world.commune_a1, None, name="Ai Đó", national_id="0011")
    same_id_b = make_client(session, world.commune_a2, None, name="Người Khác", birth_year=1970,
                            national_id="0011")
    make_client(session, world.commune_b1, None, name="Hoàng Văn Em")  # b1's twin, province B
    session.commit()
    pairs = duplicate_pairs(session=session, actor=world.actor(session, "sup_a"))
    found = {(p.first.client_id, p.second.client_id): p.reason for p in pairs}
    assert found == {
        (world.clients["a1"], twin): "name_birth_commune",
        (same_id_a, same_id_b): "national_id",
    }
    with pytest.raises(PermissionDenied):
        duplicate_pairs(session=session, actor=world.actor(session, "vol_a1"))


def test_merge_moves_every_record_marks_the_duplicate_and_logs_what_moved(
    session: Session, world: World
) -> None:
    keep, dup = _duplicate_with_history(session, world)
    sup = world.actor(session, "sup_a")
    result = merge_clients(session=session, actor=sup, keep_id=keep, merge_id=dup)
    session.commit()
    assert result.moved == {
        "visit": 2, "outreach": 1, "drug_test": 1, "referral": 1, "support": 1, "episode": 1,
        "consent": 1, "card": 2, "card_revoked": 1, "attendance": 1, "attendance_dropped": 1,
        "merged_into": 1,
    }
    session.expire_all()
    merged = session.get(Client, dup)
    assert merged is not None and merged.status == ClientStatus.MERGED
    assert merged.merged_into_id == keep
    for model in (Visit, DrugTest, Referral, Support, Episode, Consent, Card):
        assert not session.exec(select(model).where(model.client_id == dup)).all()  # type: ignore[attr-defined]
    active = session.exec(select(Card).where(Card.client_id == keep,
                                             Card.status == CardStatus.ACTIVE)).all()
    assert len(active) == 1  # still at most one active card
    attended = session.exec(select(GroupActivityClient).where(
        GroupActivityClient.client_id == keep)).all()
    assert len(attended) == 2
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "client.merge")).one()
    assert event.target_id == dup and f"into={keep}" in event.detail
    assert [m.id for m in recent_merges(session=session, actor=sup)] == [result.id]


def test_undo_restores_every_row_exactly(session: Session, world: World) -> None:
    keep, dup = _duplicate_with_history(session, world)
    before = _snapshot(session)
    sup = world.actor(session, "sup_a")
    log = merge_clients(session=session, actor=sup, keep_id=keep, merge_id=dup)
    session.commit()
    assert _snapshot(session) != before
    undone = undo_merge(session=session, actor=sup, merge_log_id=log.id)
    session.commit()
    assert undone.undone_at is not None
    assert _snapshot(session) == before
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "client.merge_undo")).one().target_id == dup
    with pytest.raises(Conflict):
        undo_merge(session=session, actor=sup, merge_log_id=log.id)


def test_rows_added_to_the_kept_record_after_the_merge_stay_with_it_on_undo(
    session: Session, world: World
) -> None:
    keep, dup = _duplicate_with_history(session, world)
    sup = world.actor(session, "sup_a")
    log = merge_clients(session=session, actor=sup, keep_id=keep, merge_id=dup)
    session.add(Visit(client_id=keep, visit_date=date(2025, 10, 1), kind=VisitKind.HOME))
    session.commit()
    undo_merge(session=session, actor=sup, merge_log_id=log.id)
    session.commit()
    visits = session.exec(select(Visit).where(Visit.client_id == keep)).all()
    assert [v.visit_date for v in visits] == [date(2025, 10, 1)]


def test_merge_refuses_the_same_record_a_merged_one_and_clients_out_of_scope(
    session: Session, world: World
) -> None:
    keep, dup = _duplicate_with_history(session, world)
    sup = world.actor(session, "sup_a")
    with pytest.raises(ValidationFailed):
        merge_clients(session=session, actor=sup, keep_id=keep, merge_id=keep)
    with pytest.raises(NotFound):
        merge_clients(session=session, actor=sup, keep_id=keep, merge_id=world.clients["b1"])
    with pytest.raises(PermissionDenied):
        merge_clients(session=session, actor=world.actor(session, "vol_a1"), keep_id=keep,
                      merge_id=dup)
    merge_clients(session=session, actor=sup, keep_id=keep, merge_id=dup)
    with pytest.raises(Conflict):
        merge_clients(session=session, actor=sup, keep_id=dup, merge_id=keep)
    assert len(session.exec(select(ClientMerge)).all()) == 1
