"""Legal clocks: working days around weekends and Vietnamese public holidays (holiday rows,
seeded from the `holidays` calendar and extendable by an administrator), the request due
dates by kind, and the 72-hour breach notification countdown."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from app.services import calendar, privacy
from app.services.errors import PermissionDenied, ValidationFailed
from models import Holiday, RequestKind
from tests.factories import World


def _seed(session: Session) -> None:
    calendar.seed_holidays(session=session, years=[2026, 2027])


def test_the_seeded_calendar_has_tet_and_national_day_with_vietnamese_names(
        session: Session) -> None:
    _seed(session)
    tet = session.get(Holiday, date(2026, 2, 17))
    assert tet is not None and "Tết" in tet.name
    assert session.get(Holiday, date(2026, 9, 2)) is not None
    assert calendar.seed_holidays(session=session, years=[2026]) == 0  # idempotent


def test_two_working_days_from_a_friday_skip_the_weekend(session: Session) -> None:
    _seed(session)
    # Friday 4 Dec 2026 -> Monday 7, Tuesday 8.
    assert calendar.add_working_days(session=session, start=date(2026, 12, 4), days=2) \
        == date(2026, 12, 8)
    # Received on a Saturday: Monday and Tuesday count.
    assert calendar.add_working_days(session=session, start=date(2026, 12, 5), days=2) \
        == date(2026, 12, 8)


def test_tet_does_not_count(session: Session) -> None:
    _seed(session)
    # Friday 13 Feb 2026; Mon 16 - Fri 20 Feb are Tết days off: Mon 23, Tue 24.
    assert calendar.add_working_days(session=session, start=date(2026, 2, 13), days=2) \
        == date(2026, 2, 24)


def test_national_day_and_its_bridge_do_not_count(session: Session) -> None:
    _seed(session)
    # Fri 28 Aug 2026; 31 Aug (substituted), 1 and 2 Sep are off: Thu 3, Fri 4.
    assert calendar.add_working_days(session=session, start=date(2026, 8, 28), days=2) \
        == date(2026, 9, 4)


def test_a_holiday_an_administrator_adds_moves_the_clock(session: Session,
                                                         world: World) -> None:
    _seed(session)
    start = date(2026, 12, 7)  # Monday
    assert calendar.add_working_days(session=session, start=start, days=2) == date(2026, 12, 9)
    calendar.add_holiday(session=session, actor=world.actor(session, "admin"),
                         on=date(2026, 12, 8), name="Nghỉ bù theo quyết định")
    assert calendar.add_working_days(session=session, start=start, days=2) == date(2026, 12, 10)
    with pytest.raises(ValidationFailed):
        calendar.add_holiday(session=session, actor=world.actor(session, "admin"),
                             on=date(2026, 12, 8), name="Lần nữa")
    with pytest.raises(PermissionDenied):
        calendar.add_holiday(session=session, actor=world.actor(session, "sup_a"),
                             on=date(2026, 12, 9), name="Không được")


def test_working_days_left_counts_down_and_goes_negative(session: Session) -> None:
    _seed(session)
    due = date(2026, 12, 8)  # Tuesday
    assert calendar.working_days_left(session=session, today=date(2026, 12, 4), due=due) == 2
    assert calendar.working_days_left(session=session, today=due, due=due) == 0
    assert calendar.working_days_left(session=session, today=date(2026, 12, 10), due=due) == -2


@pytest.mark.parametrize(("kind", "answer_due"), [
    (RequestKind.ACCESS, date(2026, 2, 6)),       # 10 working days from Fri 23 Jan
    (RequestKind.WITHDRAWAL, date(2026, 2, 13)),  # 15
    (RequestKind.DELETION, date(2026, 2, 27)),    # 20: Tết (16-20 Feb) not counted, else 20 Feb
])
def test_request_clocks_by_kind_skip_weekends_and_tet(session: Session, kind: RequestKind,
                                                      answer_due: date) -> None:
    ack, answer = privacy.due_dates(session, kind, date(2026, 1, 23))
    assert ack == date(2026, 1, 27)
    assert answer == answer_due


def test_a_term_an_administrator_edits_changes_new_due_dates(session: Session,
                                                             world: World) -> None:
    privacy.update_term(session=session, actor=world.actor(session, "admin"),
                        code="request.ack", amount=3, legal_basis="NĐ 356/2025 (đã rà soát)")
    ack, _answer = privacy.due_dates(session, RequestKind.ACCESS, date(2026, 12, 4))
    assert ack == date(2026, 12, 9)
    assert not privacy.term(session, "request.ack").needs_review


def test_breach_notification_is_due_72_hours_after_discovery(session: Session,
                                                             world: World) -> None:
    admin = world.actor(session, "admin")
    found = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)  # a Friday night: hours, not working days
    view = privacy.record_breach(
        session=session, actor=admin, now=found + timedelta(hours=1),
        data=privacy.BreachInput(discovered_at=found, description="Mất điện thoại có dữ liệu",
                                 severity="high", subjects_count=40))
    assert view.notify_due_at == datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
    assert view.minutes_left == 71 * 60
    later = privacy.list_breaches(session=session, actor=admin,
                                  now=found + timedelta(hours=73))
    assert later[0].minutes_left == -60
    done = privacy.mark_notified(session=session, actor=admin, breach_id=view.id,
                                 reference="A05-123", now=found + timedelta(hours=80))
    assert done.minutes_left is None and done.notification_ref == "A05-123"
    pdf = privacy.breach_record_pdf(session=session, actor=admin, breach_id=view.id)
    assert pdf.startswith(b"%PDF")
    with pytest.raises(PermissionDenied):
        privacy.list_breaches(session=session, actor=world.actor(session, "sup_a"))
