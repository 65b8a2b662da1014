"""Report figures for a commune or province and a period, computed from the records only.

Every figure is an aggregate (COUNT DISTINCT / SUM / GROUP BY) that runs the same on SQLite
and PostgreSQL. A figure about people is defined once, as a query of client ids
(`_CLIENT_SETS`): the count is `COUNT(DISTINCT …)` over it and the drill-down lists it, so the
two can never disagree about who is in it. The sets many figures start from ("clients under
community management", the place's referrals, …) are common table expressions of the
`ReportContext`; all single-number figures are sub-queries of one statement that computes
each of those sets once (`build_report`: eight statements for the whole report).

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

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    distinct,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.services import audit
from app.services.actor import Actor
from app.services.dto import ClientListItem
from app.services.errors import ValidationFailed
from app.services.policy import (
    STATISTICS,
    Action,
    PlaceTarget,
    authorize,
    authorize_grant,
    client_scope_filter,
    stopped_ids,
)
from app.services.setting_rows import setting_text
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
    Support,
    SupportKind,
    TestResult,
    Visit,
    utcnow,
)

# A drill-down row is the ordinary client list item: one concept, one place.
ClientListRow = ClientListItem

HEADER_SETTING = "report_header"
CONTACT_SETTING = "deployment.contact"  # app/services/deployment.py writes both
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
    contact: str = ""  # contact line of the deployment settings ("" = none)
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
# Every report statement takes the place and period as bound parameters (`ReportContext.
# params`), so the statements are built once and reused: building and hashing the one with
# ~30 sub-queries cost ~10 ms of CPU per report, more than its SQL on a small data set.

_START = bindparam("report_start", type_=Date())
_END = bindparam("report_end", type_=Date())
_NOT_VISITED_SINCE = bindparam("report_not_visited_since", type_=Date())  # exclusive
# The place and, for a province, its communes, looked up once by `authorize_report`. As
# constants they give the planner a true estimate of the place's clients (PostgreSQL took a
# sub-query's province of 20,000 clients for ~600 and chose 20,000 index probes).
_PLACES = bindparam("report_places", expanding=True, type_=Integer())


@dataclass(frozen=True)
class ReportContext:
    place_id: int
    start: date
    end: date
    not_visited_days: int = DEFAULT_NOT_VISITED_DAYS
    place_ids: tuple[int, ...] = ()  # the place and its communes (`authorize_report`)

    def area_places(self) -> Select[Any]:
        """The place and, for a province, its communes (where contacts, events, orgs sit)."""
        return select(col(Place.id)).where(
            or_(col(Place.id) == self.place_id, col(Place.parent_id) == self.place_id)
        )

    def area_clients(self) -> Select[Any]:
        """Clients of the place, as a statement with its values (for other services)."""
        return select(col(Client.id)).where(
            col(Client.commune_id).in_(self.place_ids or self.area_places()),
            col(Client.status) != ClientStatus.MERGED, _counted(col(Client.id)),
        )

    def params(self) -> dict[str, Any]:
        """The values of the report statements' bound parameters."""
        if not self.place_ids:
            raise ValueError("a report context needs its places (authorize_report)")
        return {
            _START.key: self.start, _END.key: self.end, _PLACES.key: list(self.place_ids),
            _NOT_VISITED_SINCE.key: self.end - timedelta(days=self.not_visited_days),
        }

    def drill(self, key: str) -> Drilldown:
        return Drilldown(key, self.place_id, self.start, self.end, self.not_visited_days)


def _counted(client_id: Any) -> ColumnElement[bool]:
    """A client counted in the figures: not merged away, and statistics not stopped for them
    (consent withdrawn, or restricted or objected to: `policy.stopped_ids`). Every figure
    about people starts from a set filtered by this."""
    return cast(ColumnElement[bool], client_id.not_in(stopped_ids(STATISTICS)))


def _in_area(column: Any) -> ColumnElement[bool]:
    return cast(ColumnElement[bool], column.in_(_PLACES))


def _in_period(column: Any) -> ColumnElement[bool]:
    return and_(column >= _START, column <= _END)


def _live_during_period() -> ColumnElement[bool]:
    return and_(
        col(Episode.start_date) <= _END,
        or_(col(Episode.actual_end).is_(None), col(Episode.actual_end) >= _START),
    )


def _live_at_end() -> ColumnElement[bool]:
    return and_(
        col(Episode.start_date) <= _END,
        or_(col(Episode.actual_end).is_(None), col(Episode.actual_end) > _END),
    )


def _area_clients() -> Select[Any]:
    """Clients of the place: an ordinary sub-query, so the planner knows their ids are
    unique and picks per use between index probes and one hash."""
    return select(col(Client.id)).where(
        _in_area(col(Client.commune_id)), col(Client.status) != ClientStatus.MERGED,
        _counted(col(Client.id)),
    )


def _facilities() -> Select[Any]:
    return select(col(Organisation.id)).where(
        col(Organisation.kind) == OrgKind.REHAB_FACILITY, _in_area(col(Organisation.place_id))
    )


# The sets many figures start from, each named once as a common table expression: a
# statement that uses one several times computes it once (PostgreSQL and SQLite both
# materialise a CTE referenced more than once).

# Episodes of a community type live during the period, of clients of the place (`id` = the
# client, `commune_id`, `actual_end`): one pass gives both sets below, since an episode live
# at the period end is also live during the period.
_COMMUNITY_EPISODES = (
    select(col(Episode.client_id).label("id"), col(Client.commune_id), col(Episode.actual_end))
    .join(Client, col(Client.id) == col(Episode.client_id))
    .where(col(Episode.episode_type).in_(COMMUNITY_TYPES), _live_during_period(),
           _in_area(col(Client.commune_id)), col(Client.status) != ClientStatus.MERGED,
           _counted(col(Client.id)))
    .cte("community_episode")
)
# Clients of the place under community management in the period (`id`).
_MANAGED = select(_COMMUNITY_EPISODES.c.id).distinct().cte("managed")
# Clients of the place under community management at the period end (`id`).
_MANAGED_AT_END = (
    select(_COMMUNITY_EPISODES.c.id).distinct()
    .where(or_(_COMMUNITY_EPISODES.c.actual_end.is_(None),
               _COMMUNITY_EPISODES.c.actual_end > _END))
    .cte("managed_at_end")
)
# Referrals of clients of the place made by the period end (`client_id`, `service`,
# `status`, `referred_on`): the place's share of the table, read once per statement.
_REFERRALS = (
    select(col(Referral.client_id), col(Referral.service), col(Referral.status),
           col(Referral.referred_on))
    .join(Client, col(Client.id) == col(Referral.client_id))
    .where(col(Referral.referred_on) <= _END, _in_area(col(Client.commune_id)),
           col(Client.status) != ClientStatus.MERGED, _counted(col(Client.id)))
    .cte("area_referral")
)
# Episodes at a rehab facility of the place started by the period end, whoever the client
# (`client_id`, `episode_type`, `start_date`, `actual_end`).
_FACILITY_EPISODES = (
    select(col(Episode.client_id), col(Episode.episode_type), col(Episode.start_date),
           col(Episode.actual_end))
    .where(col(Episode.provider_id).in_(_facilities()),
           col(Episode.episode_type).in_(tuple(FACILITY_TYPES)), col(Episode.start_date) <= _END,
           _counted(col(Episode.client_id)))
    .cte("facility_episode")
)
# Vocational classes: `training` activities organised by a rehab facility of the place in the
# period (`attendees_total`).
_TRAINING = (
    select(col(GroupActivity.attendees_total))
    .where(col(GroupActivity.kind) == GroupActivityKind.TRAINING,
           col(GroupActivity.organiser_id).in_(_facilities()),
           _in_period(col(GroupActivity.held_on)))
    .cte("facility_training")
)


# --- client sets: one query of client ids per figure about people --------------------------


def _referred(services: tuple[ReferralService, ...]) -> Select[Any]:
    return select(_REFERRALS.c.client_id).where(
        _REFERRALS.c.service.in_(services), _in_period(_REFERRALS.c.referred_on)
    )


def _managed() -> Select[Any]:
    return select(_MANAGED.c.id)


def _good_progress() -> Select[Any]:
    negatives = (
        select(
            col(DrugTest.client_id).label("client_id"),
            func.min(col(DrugTest.tested_on)).label("first_negative"),
            func.count(distinct(col(DrugTest.tested_on))).label("days"),
        )
        .where(
            col(DrugTest.result) == TestResult.NEGATIVE,
            _in_period(col(DrugTest.tested_on)),
            col(DrugTest.client_id).in_(_managed()),
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
            col(DrugTest.tested_on) <= _END,
        )
    )
    return select(negatives.c.client_id).where(negatives.c.days >= 2, ~exists(positive_after))


def _job_referrals() -> Select[Any]:
    placed = select(col(Support.client_id)).where(
        col(Support.kind) == SupportKind.JOB_PLACEMENT, _in_period(col(Support.started_on))
    )
    # Managed clients are clients of the place: their referrals are among the place's.
    referred = select(_REFERRALS.c.client_id).where(
        _REFERRALS.c.service == ReferralService.JOB, _in_period(_REFERRALS.c.referred_on)
    )
    managed = _MANAGED.c.id
    return select(managed).where(or_(managed.in_(placed), managed.in_(referred)))


def _loans_where() -> tuple[ColumnElement[bool], ...]:
    return (
        col(Support.kind) == SupportKind.LOAN,
        _in_period(col(Support.started_on)),
        col(Support.client_id).in_(_managed()),
    )


def _loan_clients() -> Select[Any]:
    return select(col(Support.client_id)).where(*_loans_where())


def _facility_types(suffix: str) -> tuple[EpisodeType, ...]:
    if suffix == "total":
        return tuple(FACILITY_TYPES)
    return tuple(t for t, s in FACILITY_TYPES.items() if s == suffix)


def _admitted(suffix: str) -> Select[Any]:
    episodes = _FACILITY_EPISODES  # started by the period end
    return select(episodes.c.client_id).where(
        episodes.c.episode_type.in_(_facility_types(suffix)), episodes.c.start_date >= _START
    )


def _in_facility(suffix: str) -> Select[Any]:
    episodes = _FACILITY_EPISODES  # started by the period end; live at it:
    return select(episodes.c.client_id).where(
        episodes.c.episode_type.in_(_facility_types(suffix)),
        or_(episodes.c.actual_end.is_(None), episodes.c.actual_end > _END),
    )


def _not_visited() -> Select[Any]:
    # NOT EXISTS per client (an index probe on visit (client_id, visit_date)), not NOT IN over
    # everyone's visits of the last days, which grows with the whole table.
    managed = _MANAGED_AT_END.c.id
    recent = select(col(Visit.id)).where(
        col(Visit.client_id) == managed,
        col(Visit.visit_date) > _NOT_VISITED_SINCE,
        col(Visit.visit_date) <= _END,
    )
    return select(managed).where(~exists(recent))


def _overdue_followups() -> Select[Any]:
    # Per client: the date of the latest visit (one backward probe of the (client_id,
    # visit_date) index), then whether a visit of that day set an appointment already passed.
    # Grouping all visits of the managed clients to find the same dates read ~400,000 index
    # entries for a province and was the slowest figure of the report.
    managed = _MANAGED_AT_END.c.id
    earlier = aliased(Visit)
    last_day = (
        select(func.max(col(earlier.visit_date)))
        .where(col(earlier.client_id) == managed, col(earlier.visit_date) <= _END)
        .correlate(_MANAGED_AT_END)
        .scalar_subquery()
    )
    due = select(col(Visit.id)).where(
        col(Visit.client_id) == managed,
        col(Visit.visit_date) == last_day,
        col(Visit.next_appointment).is_not(None),
        col(Visit.next_appointment) < _END,
    ).correlate(_MANAGED_AT_END)
    return select(managed).where(exists(due))


def _open_referrals() -> Select[Any]:
    """Referrals of clients of the place made by the period end and still open now."""
    return select(_REFERRALS.c.client_id).where(_REFERRALS.c.status.in_(OPEN_REFERRALS))


K = "report."
_CLIENT_SETS: dict[str, Select[Any]] = {
    f"{K}connected_treatment": _referred(TREATMENT_SERVICES),
    f"{K}referred_health": _referred(HEALTH_SERVICES),
    f"{K}referred_legal": _referred(LEGAL_SERVICES),
    f"{K}community.managed": _managed(),
    f"{K}community.good_progress": _good_progress(),
    f"{K}community.job_referrals": _job_referrals(),
    f"{K}community.loans": _loan_clients(),
    **{f"{K}facility.admitted.{s}": _admitted(s) for s in (*FACILITY_TYPES.values(), "total")},
    **{f"{K}facility.managed.{s}": _in_facility(s) for s in (*FACILITY_TYPES.values(), "total")},
    f"{K}activity.not_visited": _not_visited(),
    f"{K}activity.overdue_followups": _overdue_followups(),
    f"{K}activity.open_referrals": _open_referrals(),
}
# Figures counted as referrals, not people (their drill-down still lists the people).
_NOT_PEOPLE = frozenset({f"{K}activity.open_referrals"})


def _count_distinct(ids: Select[Any]) -> ColumnElement[Any]:
    sub = ids.subquery()
    column = next(iter(sub.c))
    return select(func.count(distinct(column))).scalar_subquery()


def _scalar_figures() -> dict[str, ColumnElement[Any]]:
    """Every single-number figure of the report, as a scalar sub-query of one statement."""
    figures = {key: _count_distinct(ids) for key, ids in _CLIENT_SETS.items()
               if key not in _NOT_PEOPLE}
    communes = and_(
        col(Place.kind) == PlaceKind.COMMUNE,
        _in_area(col(Place.id)),
        or_(col(Place.valid_to).is_(None), col(Place.valid_to) >= _START),
    )
    managed_communes = select(_COMMUNITY_EPISODES.c.commune_id)
    team_communes = select(col(Organisation.place_id)).where(
        col(Organisation.kind) == OrgKind.VOLUNTEER_TEAM, col(Organisation.active).is_(True),
        or_(col(Organisation.founded_on).is_(None), col(Organisation.founded_on) <= _END),
    )
    scalars: dict[str, Select[Any]] = {
        f"{K}community.loan_amount": select(
            func.coalesce(func.sum(col(Support.amount_vnd)), 0)).where(*_loans_where()),
        f"{K}facility.vocational_classes": select(func.count()).select_from(_TRAINING),
        f"{K}facility.vocational_learners": select(
            func.coalesce(func.sum(_TRAINING.c.attendees_total), 0)),
        f"{K}activity.open_referrals": select(func.count()).select_from(
            _open_referrals().subquery()),
        f"{K}models.communes_implementing": select(func.count()).select_from(Place).where(
            communes,
            or_(col(Place.id).in_(managed_communes), col(Place.id).in_(team_communes))),
        "communes_total": select(func.count()).select_from(Place).where(communes),
    }
    figures.update({k: v.scalar_subquery() for k, v in scalars.items()})
    return figures


_FIGURES = _scalar_figures()
_FIGURES_STATEMENT = select(*(expr.label(f"f{i}") for i, expr in enumerate(_FIGURES.values())))


def _figure_values(session: Session, ctx: ReportContext) -> dict[str, int]:
    row = session.execute(_FIGURES_STATEMENT, ctx.params()).one()
    return {n: int(v or 0) for n, v in zip(_FIGURES, row, strict=True)}


def _people(values: dict[str, int], ctx: ReportContext, key: str,
            denominator: int | None = None) -> Figure:
    return Figure(key, values[key], denominator, ctx.drill(key))


# --- sections ------------------------------------------------------------------------------


def _outreach(by_category: dict[ContactCategory, int]) -> Section:
    figures = [Figure(f"{K}outreach.{c.value}", by_category.get(c, 0)) for c in ContactCategory]
    figures.append(Figure(f"{K}outreach.total", sum(by_category.values())))
    return Section(f"{K}section.outreach", tuple(figures))


def _connections(values: dict[str, int], ctx: ReportContext) -> Section:
    keys = ("connected_treatment", "referred_health", "referred_legal")
    return Section(f"{K}section.connections",
                   tuple(_people(values, ctx, f"{K}{k}") for k in keys))


_EVENTS = (
    select(col(GroupActivity.kind), func.count(), func.sum(col(GroupActivity.attendees_total)))
    .where(_in_area(col(GroupActivity.place_id)), _in_period(col(GroupActivity.held_on)))
    .group_by(col(GroupActivity.kind))
)


def _events(session: Session, ctx: ReportContext) -> Section:
    rows = session.execute(_EVENTS, ctx.params()).all()
    found = {GroupActivityKind(k): (int(n), int(a or 0)) for k, n, a in rows}
    figures: list[Figure] = []
    for kind in GroupActivityKind:
        held, attendees = found.get(kind, (0, 0))
        figures += [Figure(f"{K}events.{kind.value}", held),
                    Figure(f"{K}events.{kind.value}.attendees", attendees)]
    return Section(f"{K}section.events", tuple(figures))


_MODELS = (
    select(col(Organisation.kind), func.count())
    .where(col(Organisation.kind).in_(MODEL_KINDS), col(Organisation.active).is_(True),
           _in_area(col(Organisation.place_id)),
           or_(col(Organisation.founded_on).is_(None), col(Organisation.founded_on) <= _END))
    .group_by(col(Organisation.kind))
)


def _models(session: Session, ctx: ReportContext, values: dict[str, int]) -> Section:
    found = {OrgKind(k): int(n) for k, n in session.execute(_MODELS, ctx.params()).all()}
    figures = [Figure(f"{K}models.{kind.value}", found.get(kind, 0)) for kind in MODEL_KINDS]
    figures.append(Figure(f"{K}models.communes_implementing",
                          values[f"{K}models.communes_implementing"], values["communes_total"]))
    return Section(f"{K}section.models", tuple(figures))


def _community(values: dict[str, int], ctx: ReportContext) -> Section:
    managed = _people(values, ctx, f"{K}community.managed")
    return Section(f"{K}section.community", (
        managed,
        _people(values, ctx, f"{K}community.good_progress", int(managed.value)),
        _people(values, ctx, f"{K}community.job_referrals"),
        _people(values, ctx, f"{K}community.loans"),
        Figure(f"{K}community.loan_amount", values[f"{K}community.loan_amount"], unit="vnd"),
    ))


def _facility(values: dict[str, int], ctx: ReportContext) -> Section:
    suffixes = (*FACILITY_TYPES.values(), "total")
    figures = [_people(values, ctx, f"{K}facility.admitted.{s}") for s in suffixes]
    figures += [_people(values, ctx, f"{K}facility.managed.{s}") for s in suffixes]
    figures += [Figure(f"{K}facility.vocational_classes",
                       values[f"{K}facility.vocational_classes"]),
                Figure(f"{K}facility.vocational_learners",
                       values[f"{K}facility.vocational_learners"])]
    return Section(f"{K}section.facility", tuple(figures))


def months_in(start: date, end: date) -> int:
    """Calendar months the period touches (1 Jan – 31 Dec: 12; 15 Dec – 31 Oct: 11)."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def _activity(values: dict[str, int], ctx: ReportContext, visits: int) -> Section:
    managed = values[f"{K}community.managed"]
    per_client_month = 0.0
    if managed:
        rate = Decimal(visits) / Decimal(managed) / Decimal(months_in(ctx.start, ctx.end))
        per_client_month = float(rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    key = f"{K}activity.open_referrals"
    return Section(f"{K}section.activity", (
        Figure(f"{K}activity.visits", visits),
        Figure(f"{K}activity.visits_per_client_month", per_client_month,
               unit="per_client_month"),
        _people(values, ctx, f"{K}activity.not_visited", managed),
        _people(values, ctx, f"{K}activity.overdue_followups"),
        Figure(key, values[key], drilldown=ctx.drill(key)),
    ))


# --- day-by-day counts, folded into months -------------------------------------------------
# Grouped by day on the date index and folded into months here: no date function per row
# (on SQLite a province's year of visits took 2-3x longer with EXTRACT; bench/queries.py).


def _month(day: date) -> date:
    return date(day.year, day.month, 1)


@dataclass(frozen=True)
class _Visits:
    by_month: dict[date, int]  # visits to clients of the place, by month
    managed: int  # visits in the period to clients under community management


def _visits_statement(managed: bool) -> Select[Any]:
    counts: list[Any] = [func.count()]
    if managed:  # an IN-list looked up per row: a hashed sub-plan / an ephemeral index
        counts.append(func.count(case((col(Visit.client_id).in_(_managed()), 1))))
    return (
        select(col(Visit.visit_date), *counts)
        .where(col(Visit.client_id).in_(_area_clients()), _in_period(col(Visit.visit_date)))
        .group_by(col(Visit.visit_date))
    )


_VISITS = {managed: _visits_statement(managed) for managed in (False, True)}


def _visits(session: Session, ctx: ReportContext, *, managed: bool) -> _Visits:
    """One pass over the period's visits to clients of the place: the trend's monthly counts
    and, with `managed`, how many of them were to clients under community management (they
    are clients of the place, so their visits are a part of the same rows)."""
    by_month: dict[date, int] = {}
    to_managed = 0
    for day, n, *of_managed in session.execute(_VISITS[managed], ctx.params()).all():
        month = _month(day)
        by_month[month] = by_month.get(month, 0) + int(n)
        to_managed += int(of_managed[0]) if of_managed else 0
    return _Visits(by_month, to_managed)


_CONTACTS = (
    select(col(OutreachContact.contact_date), col(OutreachContact.category),
           func.sum(col(OutreachContact.count)))
    .where(_in_area(col(OutreachContact.place_id)),
           _in_period(col(OutreachContact.contact_date)))
    .group_by(col(OutreachContact.contact_date), col(OutreachContact.category))
)


def _contacts(session: Session, ctx: ReportContext
              ) -> tuple[dict[ContactCategory, int], dict[date, int]]:
    """Outreach contacts of the place in the period by category, and by month."""
    by_category: dict[str, int] = {}
    by_month: dict[date, int] = {}
    for day, category, n in session.execute(_CONTACTS, ctx.params()).all():
        by_category[category] = by_category.get(category, 0) + int(n or 0)
        month = _month(day)
        by_month[month] = by_month.get(month, 0) + int(n or 0)
    return {ContactCategory(c): n for c, n in by_category.items()}, by_month


def _trend(ctx: ReportContext, visits: dict[date, int],
           contacts: dict[date, int]) -> tuple[MonthPoint, ...]:
    points: list[MonthPoint] = []
    month = date(ctx.start.year, ctx.start.month, 1)
    while month <= ctx.end:
        points.append(MonthPoint(month, visits.get(month, 0), contacts.get(month, 0)))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return tuple(points)


_OUTCOMES = (
    select(_REFERRALS.c.service, _REFERRALS.c.status, func.count())
    .where(_in_period(_REFERRALS.c.referred_on))
    .group_by(_REFERRALS.c.service, _REFERRALS.c.status)
)


def _referral_outcomes(session: Session, ctx: ReportContext) -> tuple[ReferralOutcome, ...]:
    rows = session.execute(_OUTCOMES, ctx.params()).all()
    found = {(ReferralService(s), ReferralStatus(st)): int(n) for s, st, n in rows}
    return tuple(
        ReferralOutcome(s, st, found[(s, st)])
        for s in ReferralService for st in ReferralStatus if (s, st) in found
    )


def _episode_types_statement() -> Any:  # Select[EpisodeType, int, int]
    """Both counts from one pass over the place's episodes that started or are live."""
    started = _in_period(col(Episode.start_date))
    live = _live_at_end()
    client = col(Episode.client_id)
    return (
        select(col(Episode.episode_type),
               func.count(distinct(case((started, client)))),
               func.count(distinct(case((live, client)))))
        .where(client.in_(_area_clients()), or_(started, live))
        .group_by(col(Episode.episode_type))
    )


_EPISODE_TYPES = _episode_types_statement()


def _episode_types(session: Session, ctx: ReportContext) -> tuple[EpisodeTypeCount, ...]:
    rows = session.execute(_EPISODE_TYPES, ctx.params()).all()
    found = {EpisodeType(t): (int(s), int(n)) for t, s, n in rows}
    return tuple(EpisodeTypeCount(t, *found.get(t, (0, 0))) for t in EpisodeType)


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
    area = ReportContext(place_id, period_start, period_end).area_places()
    place_ids = tuple(sorted(session.execute(area).scalars()))
    return me, ReportContext(place_id, period_start, period_end, not_visited_days,
                             place_ids), place


def report_header(session: Session) -> str:
    """The organisation line printed on reports (data, never code); "" = catalogue default."""
    return setting_text(session, HEADER_SETTING)


def _contact_line(session: Session) -> str:
    return setting_text(session, CONTACT_SETTING)


def build_report(session: Session, ctx: ReportContext, place: Place) -> Report:
    """All figures for an already authorised place and period (no audit).

    Eight statements: every single-number figure in one (sharing the client sets named once),
    the period's visits in one pass (trend and the visits figure), outreach by category and
    month in one, then the header, events, models, referral outcomes and episode types."""
    values = _figure_values(session, ctx)
    visits = _visits(session, ctx, managed=True)
    by_category, contacts = _contacts(session, ctx)
    return Report(
        place_id=ctx.place_id,
        place_name=place.name,
        place_kind=PlaceKind(place.kind),
        period_start=ctx.start,
        period_end=ctx.end,
        header=report_header(session),
        contact=_contact_line(session),
        sections=(
            _outreach(by_category), _connections(values, ctx), _events(session, ctx),
            _models(session, ctx, values), _community(values, ctx), _facility(values, ctx),
            _activity(values, ctx, visits.managed),
        ),
        trend=_trend(ctx, visits.by_month, contacts),
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
    ids = _CLIENT_SETS.get(figure_key)
    if ids is None:
        raise ValidationFailed({"figure_key": "report.error.no_drilldown"})
    rows = session.execute(
        select(Client)
        .where(col(Client.id).in_(ids), client_scope_filter(me))
        .order_by(col(Client.name_key), col(Client.id))
        .limit(max(1, min(limit, MAX_DRILLDOWN_ROWS))),
        ctx.params(),
    ).scalars().all()
    items = [
        ClientListRow(id=c.id or 0, full_name=c.full_name, birth_year=c.birth_year, sex=c.sex,
                      commune_id=c.commune_id, assigned_volunteer_id=c.assigned_volunteer_id,
                      status=c.status)
        for c in rows
    ]
    audit.record(session, actor=me, action="report.drilldown", target_type="place",
                 target_id=place_id, detail=f"figure={figure_key} results={len(items)}")
    audit.record_people(session, actor=me, action="report.list",
                        client_ids=[i.id for i in items], detail=f"figure={figure_key}")
    return items


def drilldown_keys() -> frozenset[str]:
    """Figure keys that can be listed client by client."""
    return frozenset(_CLIENT_SETS)


def monthly_trend(
    *, session: Session, actor: Actor | None, place_id: int, period_start: date, period_end: date
) -> list[MonthPoint]:
    """Visits (to clients of the place) and outreach contacts per calendar month."""
    me, ctx, _place = authorize_report(session, actor, place_id, period_start, period_end)
    points = list(_trend(ctx, _visits(session, ctx, managed=False).by_month,
                         _contacts(session, ctx)[1]))
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
