"""A submission key makes a record once — and only the record it was made for.

A key the page kept after a save whose answer was lost (a killed worker, a dropped
connection) must not answer a save for *another* client or place with the first record: the
volunteer would be told it is saved while nothing is stored. Replays for the same target stay
exactly-once.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.i18n import t
from app.services import activities
from app.services.calendar import today_vn
from app.services.dto import (
    DrugTestCreate,
    GroupActivityCreate,
    OutreachContactCreate,
    ReferralCreate,
    SupportCreate,
    VisitCreate,
)
from app.services.errors import Conflict
from models import (
    AuditEvent,
    ContactCategory,
    DrugTest,
    GroupActivity,
    GroupActivityKind,
    OutreachContact,
    Referral,
    ReferralService,
    Submission,
    Support,
    SupportKind,
    Visit,
    VisitKind,
)
from models import TestResult as Result
from tests.factories import World, count

TODAY = today_vn()
OTHER_TARGET = "error.submission_other_target"

# Every client-bound create service: (session, world, client id, key) -> the record's id.
Create = Callable[[Session, World, int, str], int]


def _visit(s: Session, w: World, client_id: int, key: str) -> int:
    return activities.log_visit(session=s, actor=w.actor(s, "sup_a"), data=VisitCreate(
        client_id=client_id, visit_date=TODAY, kind=VisitKind.HOME), submission_key=key).id


def _test(s: Session, w: World, client_id: int, key: str) -> int:
    return activities.record_drug_test(session=s, actor=w.actor(s, "sup_a"), data=DrugTestCreate(
        client_id=client_id, tested_on=TODAY, result=Result.NEGATIVE),
        submission_key=key).id


def _referral(s: Session, w: World, client_id: int, key: str) -> int:
    return activities.create_referral(session=s, actor=w.actor(s, "sup_a"), data=ReferralCreate(
        client_id=client_id, service=ReferralService.HIV_TEST, referred_on=TODAY, consent=True),
        submission_key=key).id


def _support(s: Session, w: World, client_id: int, key: str) -> int:
    return activities.record_support(session=s, actor=w.actor(s, "sup_a"), data=SupportCreate(
        client_id=client_id, kind=SupportKind.VOCATIONAL_TRAINING, started_on=TODAY),
        submission_key=key).id


CLIENT_RECORDS: dict[str, tuple[Create, type[SQLModel]]] = {
    "visit": (_visit, Visit),
    "drug_test": (_test, DrugTest),
    "referral": (_referral, Referral),
    "support": (_support, Support),
}


def _rows_for(s: Session, table: type[SQLModel], client_id: int) -> list[int]:
    column = col(table.client_id)  # type: ignore[attr-defined]
    return list(s.exec(select(table.id).where(column == client_id)).all())  # type: ignore[attr-defined]


def _written(s: Session) -> tuple[int, int]:
    return count(s, Submission), count(s, AuditEvent)


@pytest.mark.parametrize("kind", sorted(CLIENT_RECORDS))
def test_a_key_used_for_one_client_is_refused_for_another_and_nothing_is_written(
    engine: Engine, world: World, kind: str
) -> None:
    create, table = CLIENT_RECORDS[kind]
    first_client, other_client = world.clients["a1"], world.clients["a2"]
    key = f"lost-answer-{kind}"
    with Session(engine) as s:  # the save whose answer never reached the page
        first_before = _rows_for(s, table, first_client)
        first = create(s, world, first_client, key)
        s.commit()
    with Session(engine) as s:
        other_before, written_before = _rows_for(s, table, other_client), _written(s)

    with Session(engine) as s, pytest.raises(Conflict) as refused:
        create(s, world, other_client, key)  # the same key, the form of another client
    assert refused.value.key == OTHER_TARGET

    with Session(engine) as s:
        assert _rows_for(s, table, other_client) == other_before  # nothing for the other one
        assert _rows_for(s, table, first_client) == [*first_before, first]
        assert _written(s) == written_before
        stored = s.get(Submission, key)
        assert stored is not None and stored.record_id == first


@pytest.mark.parametrize("kind", sorted(CLIENT_RECORDS))
def test_the_same_key_for_the_same_client_replays_the_first_record(
    engine: Engine, world: World, kind: str
) -> None:
    create, table = CLIENT_RECORDS[kind]
    client_id = world.clients["a1"]
    key = f"retry-{kind}"
    with Session(engine) as s:
        before = _rows_for(s, table, client_id)
        first = create(s, world, client_id, key)
        s.commit()
    with Session(engine) as s:
        written = _written(s)
        again = create(s, world, client_id, key)  # the retry after a lost answer
        s.commit()
    with Session(engine) as s:
        assert again == first
        assert _rows_for(s, table, client_id) == [*before, first]  # one row
        assert _written(s) == written  # the replay writes nothing, not even an event


def _contact(s: Session, w: World, place_id: int, key: str) -> int:
    return activities.log_outreach_contact(
        session=s, actor=w.actor(s, "sup_a"), data=OutreachContactCreate(
            contact_date=TODAY, place_id=place_id, category=ContactCategory.RELATIVE, count=3),
        submission_key=key).id


def _group(s: Session, w: World, place_id: int, key: str) -> int:
    return activities.record_group_activity(
        session=s, actor=w.actor(s, "sup_a"), data=GroupActivityCreate(
            kind=GroupActivityKind.THEMATIC_TALK, held_on=TODAY, place_id=place_id,
            attendees_total=7),
        submission_key=key).id


@pytest.mark.parametrize(("create", "table"), [(_contact, OutreachContact),
                                               (_group, GroupActivity)],
                         ids=["outreach_contact", "group_activity"])
def test_a_key_used_in_one_commune_is_refused_in_another_and_replayed_in_the_same(
    session: Session, world: World, create: Callable[[Session, World, int, str], int],
    table: type[SQLModel],
) -> None:
    first = create(session, world, world.commune_a1, "place-key")
    session.commit()
    with pytest.raises(Conflict) as refused:
        create(session, world, world.commune_a2, "place-key")
    session.rollback()
    assert refused.value.key == OTHER_TARGET
    assert create(session, world, world.commune_a1, "place-key") == first
    assert count(session, table) == 1


def test_the_refusal_is_translated_in_both_languages() -> None:
    vi, en = t(OTHER_TARGET, "vi"), t(OTHER_TARGET, "en")
    assert vi != OTHER_TARGET and en != OTHER_TARGET and vi != en
