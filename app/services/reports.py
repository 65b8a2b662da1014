"""Report figures for a commune or province and a period, computed from the records only.

Every figure is one aggregate query (COUNT DISTINCT / SUM / GROUP BY) that runs the same on
SQLite and PostgreSQL. A figure about people is defined once, as a query of client ids
(`_CLIENT_SETS`): the count is `COUNT(DISTINCT …)` over it and the drill-down lists it, so the
two can never disagree about who is in it.

Definitions (period = `period_start` … `period_end`, both days included; "the place" = the
commune, or the province and all its communes; "clients of the place" = clients whose commune
of residence is in the place, merged records excluded):

- *Outreach*: sum of `OutreachContact.count` recorded in the place in the period, by category
  ("lượt": one person reached once is one contact).
- *Connected to treatment / rehab*: distinct clients of the place with a referral to
  `treatment` or `mmt` made in the period, whatever its outcome (the outcome is in
  `referrals_by_service_and_outcome`). Admissions to a facility are counted separately
  (facility intake) because they are the facility's work, not the community model's.
- *Referred to health services*: same, services `hiv_test, arv, prep, tb_hepatitis,
  mental_health, health_check`; *to legal services*: `legal_aid, identity_papers`.
- *Events*: group activities held in the place in the period, by kind, with the sum of
  attendees.
- *Models in place*: active volunteer teams, counselling points and support clubs located in
  the place, not founded after the period end.
- *Under community management*: distinct clients of the place with an episode of a community
  type (`illegal_use`, `voluntary_community`, `post_rehab`) live on at least one day of the
  period (started on or before the end, not ended before the start).
- *Communes implementing the community model*: communes of the place with at least one client
  under community management in the period, or an active volunteer team; out of all communes
  of the place still valid in the period.
- *Good progress (repeated negative tests)*: of those under community management, clients with
  negative drug tests on at least two different days in the period and no positive test in
  the period on or after the day of their first negative one. Shown with the managed count as
  denominator and a percentage rounded half-up to one decimal (427/1,619 = 26.4 %).
- *Job referrals*: of those under community management, distinct clients with a
  `job_placement` support started, or a `job` referral made, in the period.
- *Loans*: of those under community management, distinct clients with a `loan` support
  started in the period, and the sum of those loans in whole đồng.
- *Facility intake*: episodes at a rehab facility (`Organisation.kind = rehab_facility`)
  located in the place, whoever the client and wherever they live: new admissions = distinct
  clients with such an episode starting in the period, by type (`voluntary_facility`,
  `compulsory`, `pending_compulsory` = pending decision); currently managed = live at the
  period end (started on or before it, not ended on or before it).
- *Vocational classes*: `training` group activities organised by such a facility in the
  period; learners = the sum of their attendees.
- *Volunteer activity*: visits in the period to clients under community management, per such
  client per calendar month of the period; clients under community management at the period
  end not visited in the `not_visited_days` days up to it; clients whose latest visit set an
  appointment that had passed by the period end (overdue follow-ups); referrals of clients of
  the place made by the period end and still open (sent or received) now.

Counts are aggregates of the whole place, which the actor may see as numbers. Drill-down lists
are restricted further to the clients the actor may open (`client_scope_filter`), so a
facility's admissions from outside the actor's communes are counted but not named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, distinct, exists, func, or_, select
from sqlmodel import Session, col

from app.services import audit
from app.services.actor import Actor
from app.services.dto import ClientListItem
from app.services.errors import ValidationFailed
from app.services.policy import (
    Action,
    PlaceTarget,
    authorize,
    authorize_grant,
    client_scope_filter,
)
from models import (
    Client,
    ClientStatus,
    ContactCategory,
    DrugTest,
    Episode,
    EpisodeType,
    GroupActivity,
    GroupActivityKind,
    Organisation,
    OrgKind,
    OutreachContact,
    Place,
    PlaceKind,
    Referral,
    ReferralService,
    ReferralStatus,
    Setting,
    Support,
    SupportKind,
    TestResult,
    Visit,
    utcnow,
)

# A drill-down row is the ordinary client list item: one concept, one place.
ClientListRow = ClientListItem

HEADER_SETTING = "report_header"
DEFAULT_NOT_VISITED_DAYS = 30
MAX_PERIOD_DAYS = 3660
MAX_DRILLDOWN_ROWS = 5000

COMMUNITY_TYPES = (EpisodeType.ILLEGAL_USE, EpisodeType.VOLUNTARY_COMMUNITY, EpisodeType.POST_REHAB)
TREATMENT_SERVICES = (ReferralService.TREATMENT, ReferralService.MMT)
HEALTH_SERVICES = (
    ReferralService.HIV_TEST, ReferralService.ARV, ReferralService.PREP,
    ReferralService.TB_HEPATITIS, ReferralService.MENTAL_HEALTH, ReferralService.HEALTH_CHECK,
)
LEGAL_SERVICES = (ReferralService.LEGAL_AID, ReferralService.IDENTITY_PAPERS)
OPEN_REFERRALS = (ReferralStatus.SENT, ReferralStatus.RECEIVED)
MODEL_KINDS = (OrgKind.VOLUNTEER_TEAM, OrgKind.COUNSELLING_POINT, OrgKind.SUPPORT_CLUB)
# Facility episode type -> the key suffix it is reported under.
FACILITY_TYPES: dict[EpisodeType, str] = {
    EpisodeType.VOLUNTARY_FACILITY: "voluntary",
    EpisodeType.COMPULSORY: "compulsory",
    EpisodeType.PENDING_COMPULSORY: "pending",
}


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drilldown:
    """What a UI passes back to `report_drilldown` to list the clients behind a figure."""

    figure_key: str
    place_id: int
    period_start: date
    period_end: date
    not_visited_days: int = DEFAULT_NOT_VISITED_DAYS


@dataclass(frozen=True)
class Figure:
    key: str  # i18n key of the figure's label
    value: int | float
    denominator: int | None = None
    drilldown: Drilldown | None = None  # None: not a set of clients (counts, sums, events)
    unit: str = ""  # "", "vnd", "per_client_month"

    @property
    def percent(self) -> float | None:
        """value / denominator in per cent, rounded half-up to one decimal (None if no base)."""
        if not self.denominator:
            return None
        ratio = Decimal(str(self.value)) * 100 / Decimal(self.denominator)
        return float(ratio.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Section:
    key: str
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class MonthPoint:
    month: date  # first day of the month
    visits: int
    contacts: int


@dataclass(frozen=True)
class ReferralOutcome:
    service: ReferralService
    status: ReferralStatus
    count: int


@dataclass(frozen=True)
class EpisodeTypeCount:
    episode_type: EpisodeType
    started: int  # distinct clients with an episode of this type starting in the period
    live_at_end: int  # distinct clients with one live at the period end


@dataclass(frozen=True)
class Report:
    place_id: int
    place_name: str
    place_kind: PlaceKind
    period_start: date
    period_end: date
    header: str  # organisation header line ("" = the catalogue default)
    sections: tuple[Section, ...]
    trend: tuple[MonthPoint, ...] = ()
    referral_outcomes: tuple[ReferralOutcome, ...] = ()
    episode_types: tuple[EpisodeTypeCount, ...] = ()
    generated_at: datetime = field(default_factory=utcnow)

    def figure(self, key: str) -> Figure:
        for section in self.sections:
            for fig in section.figures:
                if fig.key == key:
                    return fig
        raise KeyError(key)

    def figures(self) -> dict[str, Figure]:
        return {f.key: f for s in self.sections for f in s.figures}


# --- the place and period ------------------------------------------------------------------


@dataclass(frozen=True)
class ReportContext:
    place_id: int
    start: date
    end: date
    not_visited_days: int = DEFAULT_NOT_VISITED_DAYS

    def area_places(self) -> Select[Any]:
        """The place and, for a province, its communes (where contacts, events, orgs sit)."""
        return select(col(Place.id)).where(
            or_(col(Place.id) == self.place_id, col(Place.parent_id) == self.place_id)
        )

    def area_clients(self) -> Select[Any]:
        return select(col(Client.id)).where(
            col(Client.commune_id).in_(self.area_places()),
            col(Client.status) != ClientStatus.MERGED,
        )

    def in_period(self, column: Any) -> ColumnElement[bool]:
        return and_(column >= self.start, column <= self.end)

    def drill(self, key: str) -> Drilldown:
        return Drilldown(key, self.place_id, self.start, self.end, self.not_visited_days)


def _live_during(start: date, end: date) -> ColumnElement[bool]:
    return and_(
        col(Episode.start_date) <= end,
        or_(col(Episode.actual_end).is_(None), col(Episode.actual_end) >= start),
    )


def _live_at(day: date) -> ColumnElement[bool]:
    return and_(
        col(Episode.start_date) <= day,
        or_(col(Episode.actual_end).is_(None), col(Episode.actual_end) > day),
    )


# --- client sets: one query of client ids per figure about people --------------------------


def _referred(ctx: ReportContext, services: tuple[ReferralService, ...]) -> Select[Any]:
    return select(col(Referral.client_id)).where(
        col(Referral.service).in_(services),
        ctx.in_period(col(Referral.referred_on)),
        col(Referral.client_id).in_(ctx.area_clients()),
    )


def _managed(ctx: ReportContext) -> Select[Any]:
    return select(col(Episode.client_id)).where(
        col(Episode.episode_type).in_(COMMUNITY_TYPES),
        _live_during(ctx.start, ctx.end),
        col(Episode.client_id).in_(ctx.area_clients()),
    )


def _managed_at_end(ctx: ReportContext) -> Select[Any]:
    return select(col(Episode.client_id)).where(
        col(Episode.episode_type).in_(COMMUNITY_TYPES),
        _live_at(ctx.end),
        col(Episode.client_id).in_(ctx.area_clients()),
    )


def _good_progress(ctx: ReportContext) -> Select[Any]:
    negatives = (
        select(
            col(DrugTest.client_id).label("client_id"),
            func.min(col(DrugTest.tested_on)).label("first_negative"),
            func.count(distinct(col(DrugTest.tested_on))).label("days"),
        )
        .where(
            col(DrugTest.result) == TestResult.NEGATIVE,
            ctx.in_period(col(DrugTest.tested_on)),
            col(DrugTest.client_id).in_(_managed(ctx)),
        )
        .group_by(col(DrugTest.client_id))
        .subquery()
    )
    positive_after = (
        select(col(DrugTest.id))
        .where(
            col(DrugTest.client_id) == negatives.c.client_id,
            col(DrugTest.result) == TestResult.POSITIVE,
            col(DrugTest.tested_on) >= negatives.c.first_negative,
            col(DrugTest.tested_on) <= ctx.end,
        )
    )
    return select(negatives.c.client_id).where(negatives.c.days >= 2, ~exists(positive_after))


def _job_referrals(ctx: ReportContext) -> Select[Any]:
    placed = select(col(Support.client_id)).where(
        col(Support.kind) == SupportKind.JOB_PLACEMENT, ctx.in_period(col(Support.started_on))
    )
    referred = select(col(Referral.client_id)).where(
        col(Referral.service) == ReferralService.JOB, ctx.in_period(col(Referral.referred_on))
    )
    return select(col(Client.id)).where(
        col(Client.id).in_(_managed(ctx)),
        or_(col(Client.id).in_(placed), col(Client.id).in_(referred)),
    )


def _loans_where(ctx: ReportContext) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Support.kind) == SupportKind.LOAN,
        ctx.in_period(col(Support.started_on)),
        col(Support.client_id).in_(_managed(ctx)),
    )


def _loan_clients(ctx: ReportContext) -> Select[Any]:
    return select(col(Support.client_id)).where(*_loans_where(ctx))


def _facilities(ctx: ReportContext) -> Select[Any]:
    return select(col(Organisation.id)).where(
        col(Organisation.kind) == OrgKind.REHAB_FACILITY,
        col(Organisation.place_id).in_(ctx.area_places()),
    )


def _facility_types(suffix: str) -> tuple[EpisodeType, ...]:
    if suffix == "total":
        return tuple(FACILITY_TYPES)
    return tuple(t for t, s in FACILITY_TYPES.items() if s == suffix)


def _admitted(suffix: str) -> Callable[[ReportContext], Select[Any]]:
    def query(ctx: ReportContext) -> Select[Any]:
        return select(col(Episode.client_id)).where(
            col(Episode.episode_type).in_(_facility_types(suffix)),
            col(Episode.provider_id).in_(_facilities(ctx)),
            ctx.in_period(col(Episode.start_date)),
        )
    return query


def _in_facility(suffix: str) -> Callable[[ReportContext], Select[Any]]:
    def query(ctx: ReportContext) -> Select[Any]:
        return select(col(Episode.client_id)).where(
            col(Episode.episode_type).in_(_facility_types(suffix)),
            col(Episode.provider_id).in_(_facilities(ctx)),
            _live_at(ctx.end),
        )
    return query


def _not_visited(ctx: ReportContext) -> Select[Any]:
    since = ctx.end - timedelta(days=ctx.not_visited_days)
    recent = select(col(Visit.client_id)).where(
        col(Visit.visit_date) > since, col(Visit.visit_date) <= ctx.end
    )
    return select(col(Client.id)).where(
        col(Client.id).in_(_managed_at_end(ctx)), col(Client.id).not_in(recent)
    )


def _overdue_followups(ctx: ReportContext) -> Select[Any]:
    latest = (
        select(
            col(Visit.client_id).label("client_id"),
            func.max(col(Visit.visit_date)).label("last_visit"),
        )
        .where(col(Visit.visit_date) <= ctx.end, col(Visit.client_id).in_(_managed_at_end(ctx)))
        .group_by(col(Visit.client_id))
        .subquery()
    )
    return (
        select(col(Visit.client_id))
        .join(latest, and_(col(Visit.client_id) == latest.c.client_id,
                           col(Visit.visit_date) == latest.c.last_visit))
        .where(col(Visit.next_appointment).is_not(None), col(Visit.next_appointment) < ctx.end)
    )


def _open_referrals_where(ctx: ReportContext) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Referral.status).in_(OPEN_REFERRALS),
        col(Referral.referred_on) <= ctx.end,
        col(Referral.client_id).in_(ctx.area_clients()),
    )


def _open_referral_clients(ctx: ReportContext) -> Select[Any]:
    return select(col(Referral.client_id)).where(*_open_referrals_where(ctx))


K = "report."
_CLIENT_SETS: dict[str, Callable[[ReportContext], Select[Any]]] = {
    f"{K}connected_treatment": lambda ctx: _referred(ctx, TREATMENT_SERVICES),
    f"{K}referred_health": lambda ctx: _referred(ctx, HEALTH_SERVICES),
    f"{K}referred_legal": lambda ctx: _referred(ctx, LEGAL_SERVICES),
    f"{K}community.managed": _managed,
    f"{K}community.good_progress": _good_progress,
    f"{K}community.job_referrals": _job_referrals,
    f"{K}community.loans": _loan_clients,
    **{f"{K}facility.admitted.{s}": _admitted(s) for s in (*FACILITY_TYPES.values(), "total")},
    **{f"{K}facility.managed.{s}": _in_facility(s) for s in (*FACILITY_TYPES.values(), "total")},
    f"{K}activity.not_visited": _not_visited,
    f"{K}activity.overdue_followups": _overdue_followups,
    f"{K}activity.open_referrals": _open_referral_clients,
}


def _count_distinct(session: Session, ids: Select[Any]) -> int:
    sub = ids.subquery()
    column = next(iter(sub.c))
    return int(session.execute(select(func.count(distinct(column)))).scalar_one())


def _people(
    session: Session, ctx: ReportContext, key: str, denominator: int | None = None
) -> Figure:
    return Figure(key, _count_distinct(session, _CLIENT_SETS[key](ctx)), denominator,
                  ctx.drill(key))


# --- sections ------------------------------------------------------------------------------


def _outreach(session: Session, ctx: ReportContext) -> Section:
    rows = session.execute(
        select(col(OutreachContact.category), func.sum(col(OutreachContact.count)))
        .where(col(OutreachContact.place_id).in_(ctx.area_places()),
               ctx.in_period(col(OutreachContact.contact_date)))
        .group_by(col(OutreachContact.category))
    ).all()
    by_category = {ContactCategory(c): int(n or 0) for c, n in rows}
    figures = [Figure(f"{K}outreach.{c.value}", by_category.get(c, 0)) for c in ContactCategory]
    figures.append(Figure(f"{K}outreach.total", sum(by_category.values())))
    return Section(f"{K}section.outreach", tuple(figures))


def _connections(session: Session, ctx: ReportContext) -> Section:
    keys = ("connected_treatment", "referred_health", "referred_legal")
    return Section(f"{K}section.connections",
                   tuple(_people(session, ctx, f"{K}{k}") for k in keys))


def _events(session: Session, ctx: ReportContext) -> Section:
    rows = session.execute(
        select(col(GroupActivity.kind), func.count(), func.sum(col(GroupActivity.attendees_total)))
        .where(col(GroupActivity.place_id).in_(ctx.area_places()),
               ctx.in_period(col(GroupActivity.held_on)))
        .group_by(col(GroupActivity.kind))
    ).all()
    found = {GroupActivityKind(k): (int(n), int(a or 0)) for k, n, a in rows}
    figures: list[Figure] = []
    for kind in GroupActivityKind:
        held, attendees = found.get(kind, (0, 0))
        figures += [Figure(f"{K}events.{kind.value}", held),
                    Figure(f"{K}events.{kind.value}.attendees", attendees)]
    return Section(f"{K}section.events", tuple(figures))


def _models(session: Session, ctx: ReportContext) -> Section:
    rows = session.execute(
        select(col(Organisation.kind), func.count())
        .where(col(Organisation.kind).in_(MODEL_KINDS), col(Organisation.active).is_(True),
               col(Organisation.place_id).in_(ctx.area_places()),
               or_(col(Organisation.founded_on).is_(None), col(Organisation.founded_on) <= ctx.end))
        .group_by(col(Organisation.kind))
    ).all()
    found = {OrgKind(k): int(n) for k, n in rows}
    figures = [Figure(f"{K}models.{kind.value}", found.get(kind, 0)) for kind in MODEL_KINDS]

    communes = and_(
        col(Place.kind) == PlaceKind.COMMUNE,
        col(Place.id).in_(ctx.area_places()),
        or_(col(Place.valid_to).is_(None), col(Place.valid_to) >= ctx.start),
    )
    managed_communes = select(col(Client.commune_id)).where(col(Client.id).in_(_managed(ctx)))
    team_communes = select(col(Organisation.place_id)).where(
        col(Organisation.kind) == OrgKind.VOLUNTEER_TEAM, col(Organisation.active).is_(True),
        or_(col(Organisation.founded_on).is_(None), col(Organisation.founded_on) <= ctx.end),
    )
    implementing = session.execute(
        select(func.count()).select_from(Place).where(
            communes,
            or_(col(Place.id).in_(managed_communes), col(Place.id).in_(team_communes)),
        )
    ).scalar_one()
    total = session.execute(select(func.count()).select_from(Place).where(communes)).scalar_one()
    figures.append(Figure(f"{K}models.communes_implementing", int(implementing), int(total)))
    return Section(f"{K}section.models", tuple(figures))


def _community(session: Session, ctx: ReportContext) -> Section:
    managed = _people(session, ctx, f"{K}community.managed")
    base = int(managed.value)
    amount = session.execute(
        select(func.coalesce(func.sum(col(Support.amount_vnd)), 0)).where(*_loans_where(ctx))
    ).scalar_one()
    return Section(f"{K}section.community", (
        managed,
        _people(session, ctx, f"{K}community.good_progress", base),
        _people(session, ctx, f"{K}community.job_referrals"),
        _people(session, ctx, f"{K}community.loans"),
        Figure(f"{K}community.loan_amount", int(amount), unit="vnd"),
    ))


def _facility(session: Session, ctx: ReportContext) -> Section:
    suffixes = (*FACILITY_TYPES.values(), "total")
    figures = [_people(session, ctx, f"{K}facility.admitted.{s}") for s in suffixes]
    figures += [_people(session, ctx, f"{K}facility.managed.{s}") for s in suffixes]
    classes, learners = session.execute(
        select(func.count(), func.coalesce(func.sum(col(GroupActivity.attendees_total)), 0))
        .where(col(GroupActivity.kind) == GroupActivityKind.TRAINING,
               col(GroupActivity.organiser_id).in_(_facilities(ctx)),
               ctx.in_period(col(GroupActivity.held_on)))
    ).one()
    figures += [Figure(f"{K}facility.vocational_classes", int(classes)),
                Figure(f"{K}facility.vocational_learners", int(learners))]
    return Section(f"{K}section.facility", tuple(figures))


def months_in(start: date, end: date) -> int:
    """Calendar months the period touches (1 Jan – 31 Dec: 12; 15 Dec – 31 Oct: 11)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _activity(session: Session, ctx: ReportContext, managed: int) -> Section:
    visits = session.execute(
        select(func.count()).select_from(Visit).where(
            ctx.in_period(col(Visit.visit_date)), col(Visit.client_id).in_(_managed(ctx))
        )
    ).scalar_one()
    per_client_month = 0.0
    if managed:
        rate = Decimal(int(visits)) / Decimal(managed) / Decimal(months_in(ctx.start, ctx.end))
        per_client_month = float(rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    open_referrals = session.execute(
        select(func.count()).select_from(Referral).where(*_open_referrals_where(ctx))
    ).scalar_one()
    key = f"{K}activity.open_referrals"
    return Section(f"{K}section.activity", (
        Figure(f"{K}activity.visits", int(visits)),
        Figure(f"{K}activity.visits_per_client_month", per_client_month,
               unit="per_client_month"),
        _people(session, ctx, f"{K}activity.not_visited", managed),
        _people(session, ctx, f"{K}activity.overdue_followups"),
        Figure(key, int(open_referrals), drilldown=ctx.drill(key)),
    ))


# --- chart data ----------------------------------------------------------------------------


def _month_counts(session: Session, column: Any, amount: Any, where: list[Any]) -> dict[date, int]:
    # Grouped by day on the date index and folded into months here: no date function per row
    # (on SQLite a province's year of visits took 2-3x longer with EXTRACT; bench/queries.py).
    rows = session.execute(select(column, amount).where(*where).group_by(column)).all()
    months: dict[date, int] = {}
    for day, n in rows:
        month = date(day.year, day.month, 1)
        months[month] = months.get(month, 0) + int(n or 0)
    return months


def _trend(session: Session, ctx: ReportContext) -> tuple[MonthPoint, ...]:
    visits = _month_counts(session, col(Visit.visit_date), func.count(), [
        ctx.in_period(col(Visit.visit_date)), col(Visit.client_id).in_(ctx.area_clients())])
    contacts = _month_counts(session, col(OutreachContact.contact_date),
                             func.sum(col(OutreachContact.count)), [
        ctx.in_period(col(OutreachContact.contact_date)),
        col(OutreachContact.place_id).in_(ctx.area_places())])
    points: list[MonthPoint] = []
    month = date(ctx.start.year, ctx.start.month, 1)
    while month <= ctx.end:
        points.append(MonthPoint(month, visits.get(month, 0), contacts.get(month, 0)))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return tuple(points)


def _referral_outcomes(session: Session, ctx: ReportContext) -> tuple[ReferralOutcome, ...]:
    rows = session.execute(
        select(col(Referral.service), col(Referral.status), func.count())
        .where(ctx.in_period(col(Referral.referred_on)),
               col(Referral.client_id).in_(ctx.area_clients()))
        .group_by(col(Referral.service), col(Referral.status))
    ).all()
    found = {(ReferralService(s), ReferralStatus(st)): int(n) for s, st, n in rows}
    return tuple(
        ReferralOutcome(s, st, found[(s, st)])
        for s in ReferralService for st in ReferralStatus if (s, st) in found
    )


def _episode_types(session: Session, ctx: ReportContext) -> tuple[EpisodeTypeCount, ...]:
    in_area = col(Episode.client_id).in_(ctx.area_clients())

    def by_type(condition: ColumnElement[bool]) -> dict[EpisodeType, int]:
        rows = session.execute(
            select(col(Episode.episode_type), func.count(distinct(col(Episode.client_id))))
            .where(in_area, condition).group_by(col(Episode.episode_type))
        ).all()
        return {EpisodeType(t): int(n) for t, n in rows}

    started = by_type(ctx.in_period(col(Episode.start_date)))
    live = by_type(_live_at(ctx.end))
    return tuple(EpisodeTypeCount(t, started.get(t, 0), live.get(t, 0)) for t in EpisodeType)


# --- services ------------------------------------------------------------------------------


def _check_period(period_start: date, period_end: date, not_visited_days: int) -> None:
    errors: dict[str, str] = {}
    if period_end < period_start:
        errors["period_end"] = "report.error.period_order"
    elif (period_end - period_start).days > MAX_PERIOD_DAYS:
        errors["period_end"] = "report.error.period_too_long"
    if not 1 <= not_visited_days <= 365:
        errors["not_visited_days"] = "report.error.not_visited_days"
    if errors:
        raise ValidationFailed(errors)


def authorize_report(
    session: Session, actor: Actor | None, place_id: int, period_start: date, period_end: date,
    not_visited_days: int = DEFAULT_NOT_VISITED_DAYS,
) -> tuple[Actor, ReportContext, Place]:
    me = authorize_grant(session, actor, Action.REPORT_VIEW)
    _check_period(period_start, period_end, not_visited_days)
    authorize(session, me, Action.REPORT_VIEW, PlaceTarget(place_id))
    place = session.get(Place, place_id)
    if place is None:  # in scope but gone: treat like any refusal
        raise ValidationFailed({"place_id": "report.error.place"})
    return me, ReportContext(place_id, period_start, period_end, not_visited_days), place


def report_header(session: Session) -> str:
    """The organisation line printed on reports (data, never code); "" = catalogue default."""
    setting = session.get(Setting, HEADER_SETTING)
    return setting.value.strip() if setting is not None else ""


def build_report(session: Session, ctx: ReportContext, place: Place) -> Report:
    """All figures for an already authorised place and period (no audit)."""
    community = _community(session, ctx)
    managed = int(community.figures[0].value)
    return Report(
        place_id=ctx.place_id,
        place_name=place.name,
        place_kind=PlaceKind(place.kind),
        period_start=ctx.start,
        period_end=ctx.end,
        header=report_header(session),
        sections=(
            _outreach(session, ctx), _connections(session, ctx), _events(session, ctx),
            _models(session, ctx), community, _facility(session, ctx),
            _activity(session, ctx, managed),
        ),
        trend=_trend(session, ctx),
        referral_outcomes=_referral_outcomes(session, ctx),
        episode_types=_episode_types(session, ctx),
    )


def province_report(
    *,
    session: Session,
    actor: Actor | None,
    place_id: int,
    period_start: date,
    period_end: date,
    not_visited_days: int = DEFAULT_NOT_VISITED_DAYS,
) -> Report:
    """Every figure of PRODUCT.md §4 for a commune or province in the actor's scope (audited)."""
    me, ctx, place = authorize_report(session, actor, place_id, period_start, period_end,
                                     not_visited_days)
    report = build_report(session, ctx, place)
    audit.record(session, actor=me, action=Action.REPORT_VIEW, target_type="place",
                 target_id=place_id, detail=f"{period_start.isoformat()}..{period_end.isoformat()}")
    return report


def report_drilldown(
    *,
    session: Session,
    actor: Actor | None,
    figure_key: str,
    place_id: int,
    period_start: date,
    period_end: date,
    not_visited_days: int = DEFAULT_NOT_VISITED_DAYS,
    limit: int = MAX_DRILLDOWN_ROWS,
) -> list[ClientListRow]:
    """The clients behind a figure that the actor may open, by name (audited).

    Needs the report on the place *and* the right to list clients."""
    me, ctx, _place = authorize_report(session, actor, place_id, period_start, period_end,
                                      not_visited_days)
    authorize_grant(session, me, Action.CLIENT_SEARCH)
    ids_of = _CLIENT_SETS.get(figure_key)
    if ids_of is None:
        raise ValidationFailed({"figure_key": "report.error.no_drilldown"})
    rows = session.execute(
        select(Client)
        .where(col(Client.id).in_(ids_of(ctx)), client_scope_filter(me))
        .order_by(col(Client.name_key), col(Client.id))
        .limit(max(1, min(limit, MAX_DRILLDOWN_ROWS)))
    ).scalars().all()
    items = [
        ClientListRow(id=c.id or 0, full_name=c.full_name, birth_year=c.birth_year, sex=c.sex,
                      commune_id=c.commune_id, assigned_volunteer_id=c.assigned_volunteer_id,
                      status=c.status)
        for c in rows
    ]
    audit.record(session, actor=me, action="report.drilldown", target_type="place",
                 target_id=place_id, detail=f"figure={figure_key} results={len(items)}")
    return items


def drilldown_keys() -> frozenset[str]:
    """Figure keys that can be listed client by client."""
    return frozenset(_CLIENT_SETS)


def monthly_trend(
    *, session: Session, actor: Actor | None, place_id: int, period_start: date, period_end: date
) -> list[MonthPoint]:
    """Visits (to clients of the place) and outreach contacts per calendar month."""
    me, ctx, _place = authorize_report(session, actor, place_id, period_start, period_end)
    points = list(_trend(session, ctx))
    audit.record(session, actor=me, action=Action.REPORT_VIEW, target_type="place",
                 target_id=place_id, detail="chart=monthly_trend")
    return points


def referrals_by_service_and_outcome(
    *, session: Session, actor: Actor | None, place_id: int, period_start: date, period_end: date
) -> list[ReferralOutcome]:
    """Referrals made in the period by service and current status."""
    me, ctx, _place = authorize_report(session, actor, place_id, period_start, period_end)
    rows = list(_referral_outcomes(session, ctx))
    audit.record(session, actor=me, action=Action.REPORT_VIEW, target_type="place",
                 target_id=place_id, detail="chart=referrals")
    return rows


def episodes_by_type(
    *, session: Session, actor: Actor | None, place_id: int, period_start: date, period_end: date
) -> list[EpisodeTypeCount]:
    """Clients of the place by episode type: started in the period, live at its end."""
    me, ctx, _place = authorize_report(session, actor, place_id, period_start, period_end)
    rows = list(_episode_types(session, ctx))
    audit.record(session, actor=me, action=Action.REPORT_VIEW, target_type="place",
                 target_id=place_id, detail="chart=episodes")
    return rows
