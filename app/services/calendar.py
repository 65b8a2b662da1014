"""Dates as Vietnam counts them: today in Asia/Ho_Chi_Minh, months, and working days.

Working days: weekends and public holidays are not counted by legal clocks.

Holidays are rows of `holiday`, seeded from the `holidays` package's Vietnam calendar (with
Vietnamese names) and extendable by an administrator (a substituted day off, a new decree).
The one place that counts working days: every legal clock in days calls `add_working_days`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.errors import ValidationFailed
from app.services.policy import Action, authorize_grant
from app.services.text import clean
from models import Holiday

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SATURDAY = 5
# Far enough for the longest clock (20 working days) across Tết, never an endless loop.
_MAX_SPAN_DAYS = 400


def today_vn() -> date:
    """Today's date in Vietnam: what "not in the future" means for a field worker."""
    return datetime.now(LOCAL_TZ).date()


def local_moment(day: date, at: time | None) -> datetime | None:
    """A day and a time of day in Vietnam as an aware UTC moment; None when no time is known
    (a record that holds its date only)."""
    if at is None:
        return None
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=LOCAL_TZ).astimezone(UTC)


def local_date(moment: datetime) -> date:
    """The date in Vietnam of an aware moment."""
    return moment.astimezone(LOCAL_TZ).date()


def add_months(start: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def seed_holidays(*, session: Session, years: Iterable[int]) -> int:
    """Add the Vietnamese public holidays of `years` that are not rows yet; how many added."""
    known = set(session.exec(select(col(Holiday.on))).all())
    added = 0
    for on, name in sorted(holiday_calendars.country_holidays("VN", years=list(years),
                                                              language="vi").items()):
        if on not in known:
            session.add(Holiday(on=on, name=str(name)[:120], source="seed"))
            known.add(on)
            added += 1
    session.flush()
    return added


def holidays_between(session: Session, start: date, end: date) -> set[date]:
    return set(session.exec(
        select(col(Holiday.on)).where(col(Holiday.on) >= start, col(Holiday.on) <= end)).all())


def is_working_day(*, session: Session, day: date) -> bool:
    return day.weekday() < SATURDAY and not holidays_between(session, day, day)


def add_working_days(*, session: Session, start: date, days: int) -> date:
    """The date `days` working days after `start` (the start day itself is not counted:
    a request received on a Friday with 2 working days is due on Tuesday)."""
    if days < 0:
        raise ValueError("days must not be negative")
    off = holidays_between(session, start, start + timedelta(days=_MAX_SPAN_DAYS))
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < SATURDAY and day not in off:
            left -= 1
        if day - start > timedelta(days=_MAX_SPAN_DAYS):
            raise ValueError("no working days in sight: check the holiday table")
    return day


def working_days_left(*, session: Session, today: date, due: date) -> int:
    """Working days from today to `due` (0 on the due day, negative once overdue)."""
    if due == today:
        return 0
    sign = 1 if due > today else -1
    first, last = (today, due) if sign > 0 else (due, today)
    off = holidays_between(session, first, last)
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        if day.weekday() < SATURDAY and day not in off:
            count += 1
    return sign * count


def list_holidays(*, session: Session, actor: Actor | None, year: int) -> list[Holiday]:
    """The year's days off (its seeded holidays are added first if they are missing)."""
    authorize_grant(session, actor, Action.PRIVACY_ADMIN)
    seed_holidays(session=session, years=[year])
    return list(session.exec(
        select(Holiday).where(col(Holiday.on) >= date(year, 1, 1),
                              col(Holiday.on) <= date(year, 12, 31)).order_by(col(Holiday.on))
    ).all())


def add_holiday(*, session: Session, actor: Actor | None, on: date, name: str) -> Holiday:
    """An administrator adds a day off (audited); an existing date keeps its row."""
    me = authorize_grant(session, actor, Action.PRIVACY_ADMIN)
    label = clean(name)
    if not 2 <= len(label) <= 120:
        raise ValidationFailed({"name": "error.name_length"})
    row = session.get(Holiday, on)
    if row is not None:
        raise ValidationFailed({"on": "privacy.error.holiday_exists"})
    row = Holiday(on=on, name=label, source="admin", created_by_id=me.user_id)
    session.add(row)
    audit.record(session, actor=me, action="holiday.add", target_type="holiday", target_id=None,
                 detail=on.isoformat())
    session.flush()
    return row
