"""The supervisor's caseload: scope, filters, paging in SQL, and a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from app.services.caseload import (
    UNASSIGNED,
    CaseloadFilters,
    caseload_page,
    proposed_closures,
    volunteer_activity,
    volunteers_in_scope,
)
from app.services.errors import PermissionDenied, ValidationFailed
from models import (
    ClientStatus,
    EpisodeStatus,
    EpisodeType,
    Referral,
    ReferralService,
    ReferralStatus,
    Visit,
    VisitKind,
)
from tests.factories import World, make_client, make_episode

TODAY = date(2025, 10, 15)


def _visit(session: Session, client_id: int, on: date, next_on: date | None = None,
           author: int | None = None) -> None:
    session.add(Visit(client_id=client_id, visit_date=on, kind=VisitKind.HOME,
                      next_appointment=next_on, author_id=author))
    session.flush()


@contextmanager
def count_queries(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _page(session: Session, world: World, who: str = "sup_a", **filters: Any) -> Any:
    page = filters.pop("page", 1)
    return caseload_page(session=session, actor=world.actor(session, who),
                         filters=CaseloadFilters(**filters), page=page, today=TODAY)


def test_a_province_supervisor_sees_every_active_client_of_the_province_and_no_other(
    session: Session, world: World
) -> None:
    result = _page(session, world)
    assert {r.client_id for r in result.rows} == {world.clients["a1"], world.clients["a2"]}
    assert result.total == 2
    commune = _page(session, world, "sup_a1")
    assert [r.client_id for r in commune.rows] == [world.clients["a1"]]
    other = _page(session, world, "sup_b")
    assert [r.client_id for r in other.rows] == [world.clients["b1"]]


def test_a_row_shows_volunteer_current_episode_last_visit_next_due_and_open_referrals(
    session: Session, world: World
) -> None:
    a1 = world.clients["a1"]
    newer = make_episode(session, a1, EpisodeType.MMT, start=date(2025, 6, 1))
    make_episode(session, a1, EpisodeType.COMPULSORY, status=EpisodeStatus.CLOSED,
                 start=date(2025, 9, 1))
    _visit(session, a1, date(2025, 9, 1), date(2025, 9, 20))
    _visit(session, a1, date(2025, 10, 1), date(2025, 10, 10))
    session.add(Referral(client_id=a1, service=ReferralService.HIV_TEST,
                         referred_on=date(2025, 9, 2), status=ReferralStatus.USED))
    session.commit()
    row = next(r for r in _page(session, world).rows if r.client_id == a1)
    assert row.volunteer_name == "vol_a1"
    assert row.commune_name == "Xã A Một"
    assert (row.episode_id, row.episode_type) == (newer, EpisodeType.MMT)
    assert row.last_visit == date(2025, 10, 1)
    assert row.next_due == date(2025, 10, 10)
    assert row.overdue is True
    assert row.open_referrals == 1  # the SENT one from the world; the USED one is closed


def test_filters_commune_volunteer_unassigned_episode_type_overdue_and_not_visited(
    session: Session, world: World
) -> None:
    a1, a2 = world.clients["a1"], world.clients["a2"]
    lonely = make_client(session, world.commune_a2, None, name="Đỗ Văn Giang")
    make_episode(session, a2, EpisodeType.MMT)
    _visit(session, a1, date(2025, 10, 1), date(2025, 10, 30))  # not overdue
    _visit(session, a2, date(2025, 8, 1), date(2025, 9, 1))  # overdue, visited long ago
    session.commit()

    def ids(**f: Any) -> set[int]:
        return {r.client_id for r in _page(session, world, **f).rows}

    assert ids(commune_id=world.commune_a2) == {a2, lonely}
    assert ids(volunteer_id=world.users["vol_a1"]) == {a1}
    assert ids(volunteer_id=UNASSIGNED) == {lonely}
    assert ids(episode_type=EpisodeType.MMT) == {a2}
    assert ids(overdue_only=True) == {a2}
    assert ids(not_visited_days=30) == {a2, lonely}
    assert ids(commune_id=world.commune_b1) == set()  # another province's commune: nothing
    with pytest.raises(ValidationFailed):
        _page(session, world, not_visited_days=0)


def test_an_older_overdue_visit_does_not_count_once_a_newer_visit_set_a_future_date(
    session: Session, world: World
) -> None:
    a1 = world.clients["a1"]
    _visit(session, a1, date(2025, 9, 1), date(2025, 9, 10))
    _visit(session, a1, date(2025, 10, 5), TODAY + timedelta(days=5))
    session.commit()
    assert _page(session, world, overdue_only=True).rows == ()


def test_pages_of_fifty_in_name_order_without_gaps_or_overlaps(
    session: Session, world: World
) -> None:
    for i in range(120):
        make_client(session, world.commune_a1, None, name=f"Khách {i:03d}")
    session.commit()
    seen: list[str] = []
    first = _page(session, world, commune_id=world.commune_a1)
    assert first.total == 121 and first.pages == 3 and len(first.rows) == 50
    for page in (1, 2, 3):
        rows = _page(session, world, commune_id=world.commune_a1, page=page).rows
        seen += [r.full_name for r in rows]
    assert len(seen) == 121 == len(set(seen))
    assert seen[:2] == ["Khách 000", "Khách 001"]


def test_the_number_of_queries_per_page_does_not_grow_with_the_page(
    session: Session, world: World
) -> None:
    actor = world.actor(session, "sup_a")
    with count_queries(session) as small:
        caseload_page(session=session, actor=actor, today=TODAY)
    for i in range(60):
        cid = make_client(session, world.commune_a1, world.users["vol_a1"], name=f"Người {i}")
        make_episode(session, cid, EpisodeType.POST_REHAB)
        _visit(session, cid, date(2025, 10, 1), date(2025, 10, 3))
    session.commit()
    with count_queries(session) as large:
        result = caseload_page(session=session, actor=actor, today=TODAY)
    assert len(result.rows) == 50
    assert len(large) == len(small) <= 5


def test_volunteer_activity_counts_visits_this_month_overdue_and_open_referrals(
    session: Session, world: World
) -> None:
    vol = world.users["vol_a1"]
    a1 = world.clients["a1"]
    _visit(session, a1, date(2025, 10, 2), date(2025, 10, 9), author=vol)
    _visit(session, a1, date(2025, 9, 28), author=vol)  # last month
    session.commit()
    rows = {r.full_name: r for r in volunteer_activity(
        session=session, actor=world.actor(session, "sup_a"), today=TODAY)}
    assert {"vol_a1", "vol_a2", "vol_a1_peer"} <= set(rows)
    mine = rows["vol_a1"]
    assert (mine.clients, mine.visits_this_month, mine.overdue, mine.open_referrals) == (
        1, 1, 1, 1)
    assert rows["vol_a1_peer"].clients == 0


def test_volunteers_to_reassign_to_are_those_of_the_commune(
    session: Session, world: World
) -> None:
    sup = world.actor(session, "sup_a")
    names = {o.full_name for o in volunteers_in_scope(
        session=session, actor=sup, commune_id=world.commune_a1)}
    assert names == {"vol_a1", "vol_a1_peer"}  # the disabled one is not offered
    with pytest.raises(PermissionDenied):
        volunteers_in_scope(session=session, actor=world.actor(session, "vol_a1"))


def test_proposed_closures_are_listed_for_the_supervisor_places_only(
    session: Session, world: World
) -> None:
    items = proposed_closures(session=session, actor=world.actor(session, "sup_a"))
    assert {i.episode_id for i in items} == {world.episodes["a1_proposed"],
                                           world.episodes["a2_proposed"]}
    assert all(i.episode_type == EpisodeType.POST_REHAB for i in items)
    with pytest.raises(PermissionDenied):
        proposed_closures(session=session, actor=world.actor(session, "vol_a1"))


def test_closed_and_merged_clients_are_not_in_the_caseload(
    session: Session, world: World
) -> None:
    make_client(session, world.commune_a1, None, name="Đã Đóng", status=ClientStatus.CLOSED)
    make_client(session, world.commune_a1, None, name="Đã Gộp", status=ClientStatus.MERGED)
    session.commit()
    names = {r.full_name for r in _page(session, world).rows}
    assert "Đã Đóng" not in names and "Đã Gộp" not in names
