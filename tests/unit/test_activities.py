"""Visits, outreach contacts, referrals, support, group activities and the Today due list."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.services import activities
from app.services.activities import DueKind
from app.services.calendar import today_vn
from app.services.dto import (
    GroupActivityCreate,
    OutreachContactCreate,
    ReferralCreate,
    SupportCreate,
    VisitCreate,
    VisitRead,
    VisitReadFull,
)
from app.services.errors import Conflict, NotFound, ValidationFailed
from models import (
    AuditEvent,
    Client,
    ClientStatus,
    ContactCategory,
    EpisodeType,
    GroupActivity,
    GroupActivityClient,
    GroupActivityKind,
    Referral,
    ReferralService,
    ReferralStatus,
    Submission,
    Support,
    SupportKind,
    Visit,
    VisitKind,
)
from tests.factories import World, count, make_client, make_episode

TODAY = today_vn()


def _visit(session: Session, world: World, **overrides: object) -> VisitRead:
    values: dict[str, object] = {"client_id": world.clients["a1"], "visit_date": TODAY,
                                 "kind": VisitKind.HOME}
    values.update(overrides)
    key = values.pop("submission_key", None)
    return activities.log_visit(session=session, actor=world.actor(session, "vol_a1"),
                                data=VisitCreate(**values),  # type: ignore[arg-type]
                                submission_key=key)  # type: ignore[arg-type]


@pytest.mark.parametrize(("overrides", "field", "key"), [
    ({"visit_date": TODAY + timedelta(days=1)}, "visit_date", "error.date_range"),
    ({"visit_date": date(1999, 12, 31)}, "visit_date", "error.date_range"),
    ({"next_appointment": TODAY}, "next_appointment", "error.appointment_range"),
    ({"next_appointment": TODAY + timedelta(days=366)}, "next_appointment",
     "error.appointment_range"),
    ({"notes": "x" * 2001}, "notes", "error.too_long"),
], ids=["future", "before_2000", "appointment_same_day", "appointment_over_a_year", "long_notes"])
def test_an_invalid_visit_is_refused_and_nothing_is_saved(
    session: Session, world: World, overrides: dict[str, object], field: str, key: str
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        _visit(session, world, **overrides)
    session.rollback()
    assert failed.value.fields[field] == key
    assert count(session, Visit) == 0


def test_a_visit_written_offline_and_sent_twice_is_saved_once(session: Session,
                                                            world: World) -> None:
    first = _visit(session, world, notes="ổn", submission_key="draft-7")
    session.commit()
    again = _visit(session, world, notes="ổn", submission_key="draft-7")
    session.commit()
    assert again.id == first.id
    assert count(session, Visit) == 1
    assert isinstance(again, VisitReadFull) and again.notes == "ổn"


def test_outreach_contacts_count_people_within_limits(session: Session, world: World) -> None:
    sup = world.actor(session, "sup_a")
    saved = activities.log_outreach_contact(session=session, actor=sup, data=OutreachContactCreate(
        contact_date=TODAY, place_id=world.commune_a2, category=ContactCategory.RELATIVE,
        count=12, topic="Tác hại ma túy"))
    assert saved.count == 12
    with pytest.raises(ValidationFailed) as failed:
        activities.log_outreach_contact(session=session, actor=sup, data=OutreachContactCreate(
            contact_date=TODAY, place_id=world.commune_a2, category=ContactCategory.RELATIVE,
            count=10_001))
    assert failed.value.fields == {"count": "error.count_range"}


def test_a_referral_needs_consent(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        activities.create_referral(session=session, actor=world.actor(session, "vol_a1"),
                                   data=ReferralCreate(client_id=world.clients["a1"],
                                                       service=ReferralService.ARV,
                                                       referred_on=TODAY, consent=False))
    assert failed.value.fields == {"consent": "error.consent_required"}


def test_a_referral_expires_thirty_days_after_by_default(session: Session, world: World) -> None:
    ref = activities.create_referral(session=session, actor=world.actor(session, "vol_a1"),
                                     data=ReferralCreate(client_id=world.clients["a1"],
                                                         service=ReferralService.ARV,
                                                         facility_id=world.facility_a,
                                                         referred_on=TODAY, consent=True))
    assert ref.expires_on == TODAY + timedelta(days=30)
    assert ref.status == ReferralStatus.SENT


def test_clinic_completes_a_referral_to_its_facility_once(session: Session, world: World) -> None:
    clinic = world.actor(session, "clinic_a")
    used = activities.complete_referral(session=session, actor=clinic,
                                        referral_id=world.referrals["a1"],
                                        status=ReferralStatus.USED)
    session.commit()
    assert (used.status, used.feedback_on, used.version) == (ReferralStatus.USED, TODAY, 2)
    with pytest.raises(ValidationFailed):
        activities.complete_referral(session=session, actor=clinic,
                                     referral_id=world.referrals["a1"],
                                     status=ReferralStatus.DECLINED)


def test_referral_completion_with_a_stale_version_is_a_conflict(session: Session,
                                                               world: World) -> None:
    with pytest.raises(Conflict):
        activities.complete_referral(session=session, actor=world.actor(session, "sup_a"),
                                     referral_id=world.referrals["a1"],
                                     status=ReferralStatus.RECEIVED, expected_version=7)


def test_a_clinic_cannot_complete_a_referral_to_another_facility(session: Session,
                                                                world: World) -> None:
    with pytest.raises(NotFound):
        activities.complete_referral(session=session, actor=world.actor(session, "clinic_a"),
                                     referral_id=world.referrals["a2"],
                                     status=ReferralStatus.USED)


@pytest.mark.parametrize(("amount", "term", "field"), [
    (None, 12, "amount_vnd"), (0, 12, "amount_vnd"), (10_000_000_001, 12, "amount_vnd"),
    (-5, 12, "amount_vnd"), (25_000_000, None, "term_months"), (25_000_000, 0, "term_months"),
], ids=["no_amount", "zero", "over_ten_billion", "negative", "no_term", "zero_term"])
def test_a_loan_needs_a_whole_dong_amount_and_a_term(
    session: Session, world: World, amount: int | None, term: int | None, field: str
) -> None:
    with pytest.raises(ValidationFailed) as failed:
        activities.record_support(session=session, actor=world.actor(session, "vol_a1"),
                                  data=SupportCreate(client_id=world.clients["a1"],
                                                     kind=SupportKind.LOAN, started_on=TODAY,
                                                     amount_vnd=amount, term_months=term))
    assert field in failed.value.fields


def test_a_loan_of_ten_billion_dong_is_the_maximum(session: Session, world: World) -> None:
    loan = activities.record_support(session=session, actor=world.actor(session, "vol_a1"),
                                     data=SupportCreate(client_id=world.clients["a1"],
                                                        kind=SupportKind.LOAN, started_on=TODAY,
                                                        amount_vnd=10_000_000_000,
                                                        term_months=36))
    assert loan.amount_vnd == 10_000_000_000


def test_group_activity_links_the_clients_present(session: Session, world: World) -> None:
    sup = world.actor(session, "sup_a")
    saved = activities.record_group_activity(session=session, actor=sup, data=GroupActivityCreate(
        kind=GroupActivityKind.CLUB_MEETING, held_on=TODAY, place_id=world.commune_a1,
        attendees_total=20, attendees_clients=2,
        client_ids=[world.clients["a1"], world.clients["a2"]]))
    links = session.exec(select(GroupActivityClient.client_id)).all()
    assert sorted(links) == sorted(saved.client_ids) == sorted(
        [world.clients["a1"], world.clients["a2"]])


def test_group_activity_cannot_have_more_clients_than_attendees(session: Session,
                                                               world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        activities.record_group_activity(
            session=session, actor=world.actor(session, "sup_a"), data=GroupActivityCreate(
                kind=GroupActivityKind.CONFERENCE, held_on=TODAY, place_id=world.commune_a1,
                attendees_total=5, attendees_clients=6))
    assert failed.value.fields == {"attendees_clients": "error.attendees_clients"}


def test_due_list_shows_missed_appointments_stale_clients_referrals_and_episodes(
    session: Session, world: World
) -> None:
    vol_id = world.users["vol_a1"]
    old = datetime(2020, 1, 1, tzinfo=UTC)
    missed = make_client(session, world.commune_a1, vol_id, name="Bùi Văn Hẹn", created_at=old)
    stale = make_client(session, world.commune_a1, vol_id, name="Đỗ Văn Lâu", created_at=old)
    fine = make_client(session, world.commune_a1, vol_id, name="Mai Văn Tốt", created_at=old)
    never = make_client(session, world.commune_a1, vol_id, name="Lý Văn Chưa", created_at=old)
    session.add(Visit(client_id=missed, visit_date=TODAY - timedelta(days=20),
                      kind=VisitKind.HOME, next_appointment=TODAY - timedelta(days=6)))
    session.add(Visit(client_id=stale, visit_date=TODAY - timedelta(days=45), kind=VisitKind.HOME))
    session.add(Visit(client_id=fine, visit_date=TODAY - timedelta(days=20), kind=VisitKind.HOME,
                      next_appointment=TODAY - timedelta(days=10)))
    session.add(Visit(client_id=fine, visit_date=TODAY - timedelta(days=9), kind=VisitKind.HOME))
    make_episode(session, fine, EpisodeType.MMT,
                 expected_end=TODAY + timedelta(days=10))
    session.commit()

    items = activities.due_followups(session=session, actor=world.actor(session, "vol_a1"),
                                     today=TODAY)
    by_client = {(i.client_id, i.kind) for i in items}
    assert (missed, DueKind.APPOINTMENT) in by_client
    assert (stale, DueKind.NOT_VISITED) in by_client
    assert (never, DueKind.NOT_VISITED) in by_client
    assert (fine, DueKind.EPISODE_ENDING) in by_client
    assert (fine, DueKind.APPOINTMENT) not in by_client  # a later visit happened
    assert (world.clients["a1"], DueKind.REFERRAL_OPEN) in by_client
    assert (world.clients["a1"], DueKind.EPISODE_OVERDUE) in by_client
    assert world.clients["a2"] not in {i.client_id for i in items}  # not theirs
    appointment = next(i for i in items if i.kind == DueKind.APPOINTMENT)
    assert appointment.days_overdue == 6


def test_a_client_registered_today_is_on_the_due_list_as_never_visited(
    session: Session, world: World
) -> None:
    vol_id = world.users["vol_a1"]
    new = make_client(session, world.commune_a1, vol_id, name="Hồ Văn Mới",
                      created_at=datetime.now(UTC))
    session.commit()

    items = activities.due_followups(session=session, actor=world.actor(session, "vol_a1"),
                                     today=TODAY)

    listed = [i for i in items if i.client_id == new]
    assert [(i.kind, i.due_on) for i in listed] == [(DueKind.NOT_VISITED, None)]
    # A namesake is told apart by birth year and commune.
    assert listed[0].birth_year > 1900 and listed[0].commune_name != ""


def test_due_list_ignores_closed_clients(session: Session, world: World) -> None:
    client = session.get(Client, world.clients["a1"])
    assert client is not None
    client.status = ClientStatus.CLOSED
    session.add(client)
    session.commit()
    items = activities.due_followups(session=session, actor=world.actor(session, "vol_a1"),
                                     today=TODAY)
    assert items == []


# --- idempotency of every record form --------------------------------------------------------


def _refer_once(s: Session, w: World, key: str | None) -> int:
    return activities.create_referral(session=s, actor=w.actor(s, "vol_a1"), data=ReferralCreate(
        client_id=w.clients["a1"], service=ReferralService.HIV_TEST, referred_on=TODAY,
        consent=True), submission_key=key).id


def _support_once(s: Session, w: World, key: str | None) -> int:
    return activities.record_support(session=s, actor=w.actor(s, "vol_a1"), data=SupportCreate(
        client_id=w.clients["a1"], kind=SupportKind.LOAN, started_on=TODAY,
        amount_vnd=20_000_000, term_months=12), submission_key=key).id


def _group_once(s: Session, w: World, key: str | None) -> int:
    return activities.record_group_activity(
        session=s, actor=w.actor(s, "vol_a1"), data=GroupActivityCreate(
            kind=GroupActivityKind.THEMATIC_TALK, held_on=TODAY, place_id=w.commune_a1,
            attendees_total=9, attendees_clients=1, client_ids=[w.clients["a1"]]),
        submission_key=key).id


RECORD_ONCE = {
    "referral": (_refer_once, Referral),
    "support": (_support_once, Support),
    "group_activity": (_group_once, GroupActivity),
}


@pytest.mark.parametrize("kind", sorted(RECORD_ONCE))
def test_the_same_submission_key_in_two_transactions_saves_one_record(
    engine: Engine, world: World, kind: str
) -> None:
    record_once, table = RECORD_ONCE[kind]
    with Session(engine) as s:
        before = (count(s, table), count(s, Submission), count(s, AuditEvent))
    with Session(engine) as s:  # the first submission
        first = record_once(s, world, f"form-{kind}-1")
        s.commit()
    with Session(engine) as s:  # a retry after a timeout: a new transaction, the same key
        again = record_once(s, world, f"form-{kind}-1")
        s.commit()
    with Session(engine) as s:
        after = (count(s, table), count(s, Submission), count(s, AuditEvent))
        stored = s.get(Submission, f"form-{kind}-1")
    assert again == first
    assert after == (before[0] + 1, before[1] + 1, before[2] + 1)  # the replay writes nothing
    assert stored is not None and (stored.kind, stored.record_id) == (kind, first)


@pytest.mark.parametrize("kind", sorted(RECORD_ONCE))
def test_a_new_submission_key_saves_a_new_record(engine: Engine, world: World,
                                                 kind: str) -> None:
    record_once, table = RECORD_ONCE[kind]
    with Session(engine) as s:
        before = count(s, table)
        first = record_once(s, world, f"form-{kind}-a")
        second = record_once(s, world, f"form-{kind}-b")
        without = record_once(s, world, None)
        s.commit()
        assert len({first, second, without}) == 3
        assert count(s, table) == before + 3


def test_a_submission_key_used_for_another_kind_of_record_is_a_conflict(
    session: Session, world: World
) -> None:
    _refer_once(session, world, "form-shared")
    session.commit()
    with pytest.raises(Conflict):
        _support_once(session, world, "form-shared")
    session.rollback()
    assert count(session, Support) == 0


def test_a_group_activity_replayed_names_the_same_clients(session: Session,
                                                          world: World) -> None:
    actor = world.actor(session, "vol_a1")
    data = GroupActivityCreate(kind=GroupActivityKind.CLUB_MEETING, held_on=TODAY,
                               place_id=world.commune_a1, attendees_total=4,
                               client_ids=[world.clients["a1"]], attendees_clients=1)
    first = activities.record_group_activity(session=session, actor=actor, data=data,
                                             submission_key="grp-1")
    session.commit()
    again = activities.record_group_activity(session=session, actor=actor, data=data,
                                             submission_key="grp-1")
    assert again == first and again.client_ids == [world.clients["a1"]]


# --- support status ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "completed", "cancelled"])
def test_support_is_stored_with_its_status(session: Session, world: World, status: str) -> None:
    saved = activities.record_support(session=session, actor=world.actor(session, "vol_a1"),
                                      data=SupportCreate(
                                          client_id=world.clients["a1"],
                                          kind=SupportKind.JOB_PLACEMENT, started_on=TODAY,
                                          status=status))
    session.commit()
    row = session.get(Support, saved.id)
    assert saved.status == status and row is not None and row.status == status


def test_an_unknown_support_status_is_refused_and_nothing_is_saved(session: Session,
                                                                   world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        activities.record_support(session=session, actor=world.actor(session, "vol_a1"),
                                  data=SupportCreate(client_id=world.clients["a1"],
                                                     kind=SupportKind.JOB_PLACEMENT,
                                                     started_on=TODAY, status="paused"))
    session.rollback()
    assert failed.value.fields == {"status": "error.invalid_choice"}
    assert count(session, Support) == 0
