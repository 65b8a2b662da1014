"""A supervisor's caseload: every client in their places, one page at a time, and how each
volunteer is keeping up.

The page is three queries whatever its size: the matching total, the page's client ids (ORDER
BY the folded name, LIMIT/OFFSET), and one query of the details of those ids only — current
episode and latest visit picked with ROW_NUMBER() windows, open referrals grouped — that runs
the same on SQLite (3.25+) and PostgreSQL and uses the (client_id, …) indexes of each table.

Definitions (the same words as the report's, `reports.py`):

- *current episode*: the client's live episode (open or closure proposed) that started last;
- *last visit*: the latest visit date; *next due*: the appointment set by the latest visit
  (latest date, then latest entry);
- *overdue*: the next due date has passed (`next_due < today`);
- *not visited in N days*: no visit in the N days up to today (never visited counts);
- *open referral*: sent or received, not yet used, declined or expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.services import audit
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.errors import ValidationFailed
from app.services.policy import Action, authorize_grant, client_scope_filter
from app.services.text import vi_sort_key
from models import (
    Client,
    ClientStatus,
    Episode,
    EpisodeStatus,
    EpisodeType,
    Place,
    Referral,
    ReferralStatus,
    Role,
    RoleAssignment,
    User,
    Visit,
)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_NOT_VISITED_DAYS = 3660
LIVE_EPISODES = (EpisodeStatus.OPEN, EpisodeStatus.CLOSURE_PROPOSED)
OPEN_REFERRALS = (ReferralStatus.SENT, ReferralStatus.RECEIVED)
UNASSIGNED = 0  # `volunteer_id` filter value meaning "no volunteer"


@dataclass(frozen=True)
class CaseloadFilters:
    commune_id: int | None = None
    volunteer_id: int | None = None  # UNASSIGNED: clients with no volunteer
    episode_type: EpisodeType | None = None  # with a live episode of this type
    overdue_only: bool = False
    not_visited_days: int | None = None  # not visited in the last N days


@dataclass(frozen=True)
class CaseloadRow:
    client_id: int
    full_name: str
    birth_year: int
    commune_id: int
    commune_name: str
    volunteer_id: int | None
    volunteer_name: str
    episode_id: int | None
    episode_type: EpisodeType | None
    episode_status: EpisodeStatus | None
    episode_expected_end: date | None
    last_visit: date | None
    next_due: date | None
    open_referrals: int
    overdue: bool


@dataclass(frozen=True)
class CaseloadPage:
    rows: tuple[CaseloadRow, ...]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class VolunteerActivity:
    volunteer_id: int
    full_name: str
    clients: int  # active clients assigned, in the actor's places
    visits_this_month: int  # visits they logged this calendar month to clients in scope
    overdue: int  # their clients whose next due date has passed
    open_referrals: int  # open referrals of their clients


@dataclass(frozen=True)
class VolunteerOption:
    volunteer_id: int
    full_name: str
    commune_ids: frozenset[int]


# --- the pieces of SQL ---------------------------------------------------------------------


def _latest_visit_overdue(today: date) -> Any:
    """EXISTS: the client's latest visit set an appointment that has passed."""
    later = aliased(Visit)
    latest = aliased(Visit)
    newer = select(literal(1)).where(
        col(later.client_id) == col(latest.client_id),
        or_(
            col(later.visit_date) > col(latest.visit_date),
            and_(col(later.visit_date) == col(latest.visit_date), col(later.id) > col(latest.id)),
        ),
    )
    return exists(
        select(literal(1)).where(
            col(latest.client_id) == col(Client.id),
            col(latest.next_appointment).is_not(None),
            col(latest.next_appointment) < today,
            ~exists(newer),
        )
    )


def _conditions(me: Actor, filters: CaseloadFilters, today: date) -> list[Any]:
    conditions: list[Any] = [client_scope_filter(me), col(Client.status) == ClientStatus.ACTIVE]
    if filters.commune_id is not None:
        conditions.append(col(Client.commune_id) == filters.commune_id)
    if filters.volunteer_id == UNASSIGNED:
        conditions.append(col(Client.assigned_volunteer_id).is_(None))
    elif filters.volunteer_id is not None:
        conditions.append(col(Client.assigned_volunteer_id) == filters.volunteer_id)
    if filters.episode_type is not None:
        conditions.append(exists(select(literal(1)).where(
            col(Episode.client_id) == col(Client.id),
            col(Episode.status).in_(LIVE_EPISODES),
            col(Episode.episode_type) == filters.episode_type,
        )))
    if filters.overdue_only:
        conditions.append(_latest_visit_overdue(today))
    if filters.not_visited_days is not None:
        since = today - timedelta(days=filters.not_visited_days)
        conditions.append(~exists(select(literal(1)).where(
            col(Visit.client_id) == col(Client.id),
            col(Visit.visit_date) > since,
            col(Visit.visit_date) <= today,
        )))
    return conditions


def _check(filters: CaseloadFilters) -> None:
    days = filters.not_visited_days
    if days is not None and not 1 <= days <= MAX_NOT_VISITED_DAYS:
        raise ValidationFailed({"not_visited_days": "sup.error.days_range"})


def _details(session: Session, ids: list[int], today: date) -> dict[int, CaseloadRow]:
    """Everything shown for the given clients, in one query."""
    if not ids:
        return {}
    episodes = (
        select(
            col(Episode.id).label("id"), col(Episode.client_id).label("client_id"),
            col(Episode.episode_type).label("episode_type"), col(Episode.status).label("status"),
            col(Episode.expected_end).label("expected_end"),
            func.row_number().over(
                partition_by=col(Episode.client_id),
                order_by=(col(Episode.start_date).desc(), col(Episode.id).desc()),
            ).label("rank"),
        )
        .where(col(Episode.client_id).in_(ids), col(Episode.status).in_(LIVE_EPISODES))
        .subquery()
    )
    visits = (
        select(
            col(Visit.client_id).label("client_id"), col(Visit.visit_date).label("visit_date"),
            col(Visit.next_appointment).label("next_appointment"),
            func.row_number().over(
                partition_by=col(Visit.client_id),
                order_by=(col(Visit.visit_date).desc(), col(Visit.id).desc()),
            ).label("rank"),
        )
        .where(col(Visit.client_id).in_(ids))
        .subquery()
    )
    referrals = (
        select(col(Referral.client_id).label("client_id"), func.count().label("n"))
        .where(col(Referral.client_id).in_(ids), col(Referral.status).in_(OPEN_REFERRALS))
        .group_by(col(Referral.client_id))
        .subquery()
    )
    rows = session.execute(
        select(
            col(Client.id), col(Client.full_name), col(Client.birth_year),
            col(Client.commune_id), col(Place.name), col(Client.assigned_volunteer_id),
            col(User.full_name), episodes.c.id, episodes.c.episode_type, episodes.c.status,
            episodes.c.expected_end, visits.c.visit_date, visits.c.next_appointment,
            referrals.c.n,
        )
        .join(Place, col(Place.id) == col(Client.commune_id))
        .outerjoin(User, col(User.id) == col(Client.assigned_volunteer_id))
        .outerjoin(episodes, and_(episodes.c.client_id == col(Client.id), episodes.c.rank == 1))
        .outerjoin(visits, and_(visits.c.client_id == col(Client.id), visits.c.rank == 1))
        .outerjoin(referrals, referrals.c.client_id == col(Client.id))
        .where(col(Client.id).in_(ids))
    ).all()
    out: dict[int, CaseloadRow] = {}
    for (cid, name, year, commune_id, commune, vol_id, vol_name, ep_id, ep_type, ep_status,
         ep_end, last_visit, next_due, open_refs) in rows:
        out[cid] = CaseloadRow(
            client_id=cid, full_name=name, birth_year=year, commune_id=commune_id,
            commune_name=commune, volunteer_id=vol_id, volunteer_name=vol_name or "",
            episode_id=ep_id, episode_type=EpisodeType(ep_type) if ep_type else None,
            episode_status=EpisodeStatus(ep_status) if ep_status else None,
            episode_expected_end=ep_end, last_visit=last_visit, next_due=next_due,
            open_referrals=int(open_refs or 0),
            overdue=next_due is not None and next_due < today,
        )
    return out


# --- services ------------------------------------------------------------------------------


def caseload_page(
    *,
    session: Session,
    actor: Actor | None,
    filters: CaseloadFilters | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    today: date | None = None,
) -> CaseloadPage:
    """Active clients in the actor's places matching the filters, by folded name (audited)."""
    me = authorize_grant(session, actor, Action.CASELOAD_VIEW)
    filters = filters or CaseloadFilters()
    _check(filters)
    today = today or today_vn()
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    conditions = _conditions(me, filters, today)
    total = int(session.execute(
        select(func.count()).select_from(Client).where(*conditions)).scalar_one())
    ids = list(session.execute(
        select(col(Client.id)).where(*conditions)
        .order_by(col(Client.name_key), col(Client.id))
        .offset((page - 1) * page_size).limit(page_size)
    ).scalars())
    details = _details(session, ids, today)
    audit.record(session, actor=me, action=Action.CASELOAD_VIEW, target_type="client",
                 target_id=None, detail=f"page={page} results={total}")
    audit.record_people(session, actor=me, action="caseload.list", client_ids=ids,
                        detail=f"caseload page={page}")
    return CaseloadPage(rows=tuple(details[i] for i in ids if i in details), total=total,
                        page=page, page_size=page_size)


def _volunteer_ids(session: Session, me: Actor) -> Any:
    """Users with a volunteer role in one of the actor's communes or provinces."""
    places = set(me.commune_ids) | set(me.province_ids)
    return select(col(RoleAssignment.user_id)).where(
        col(RoleAssignment.role) == Role.VOLUNTEER, col(RoleAssignment.place_id).in_(places))


def volunteers_in_scope(
    *, session: Session, actor: Actor | None, commune_id: int | None = None
) -> list[VolunteerOption]:
    """Active volunteers working in the actor's places (or one commune of them), by name."""
    me = authorize_grant(session, actor, Action.CLIENT_REASSIGN)
    rows = session.execute(
        select(col(User.id), col(User.full_name), col(RoleAssignment.place_id),
               col(Place.parent_id))
        .join(RoleAssignment, col(RoleAssignment.user_id) == col(User.id))
        .join(Place, col(Place.id) == col(RoleAssignment.place_id))
        .where(col(User.id).in_(_volunteer_ids(session, me)), col(User.is_active).is_(True),
               col(RoleAssignment.role) == Role.VOLUNTEER)
    ).all()
    names: dict[int, str] = {}
    communes: dict[int, set[int]] = {}
    province_children: dict[int, set[int]] = {}
    for uid, name, place_id, parent_id in rows:
        names[uid] = name
        if parent_id is None:  # a province-wide volunteer: every commune of it in scope
            province_children.setdefault(uid, set()).add(place_id)
        else:
            communes.setdefault(uid, set()).add(place_id)
    if province_children:
        wanted = {p for s in province_children.values() for p in s}
        kids = session.execute(
            select(col(Place.id), col(Place.parent_id)).where(col(Place.parent_id).in_(wanted))
        ).all()
        for uid, provs in province_children.items():
            communes.setdefault(uid, set()).update(k for k, parent in kids if parent in provs)
    options = [
        VolunteerOption(uid, names[uid], frozenset(communes.get(uid, set()) & me.commune_ids))
        for uid in names
    ]
    if commune_id is not None:
        options = [o for o in options if commune_id in o.commune_ids]
    return sorted(options, key=lambda o: (vi_sort_key(o.full_name), o.volunteer_id))


def volunteer_activity(
    *, session: Session, actor: Actor | None, today: date | None = None,
    commune_id: int | None = None,
) -> list[VolunteerActivity]:
    """Per volunteer of the actor's places: clients, visits this month, overdue, open referrals.

    Four grouped queries whatever the number of volunteers (audited)."""
    me = authorize_grant(session, actor, Action.CASELOAD_VIEW)
    today = today or today_vn()
    month_start = today.replace(day=1)
    scope: list[Any] = [client_scope_filter(me), col(Client.status) == ClientStatus.ACTIVE]
    if commune_id is not None:
        scope.append(col(Client.commune_id) == commune_id)
    vol = col(Client.assigned_volunteer_id)
    clients = dict(session.execute(
        select(vol, func.count()).where(*scope, vol.is_not(None)).group_by(vol)).tuples().all())
    overdue = dict(session.execute(
        select(vol, func.count()).where(*scope, vol.is_not(None), _latest_visit_overdue(today))
        .group_by(vol)).tuples().all())
    referrals = dict(session.execute(
        select(vol, func.count()).select_from(Referral)
        .join(Client, col(Client.id) == col(Referral.client_id))
        .where(*scope, vol.is_not(None), col(Referral.status).in_(OPEN_REFERRALS))
        .group_by(vol)).tuples().all())
    visits = dict(session.execute(
        select(col(Visit.author_id), func.count()).select_from(Visit)
        .join(Client, col(Client.id) == col(Visit.client_id))
        .where(*scope, col(Visit.author_id).is_not(None),
               col(Visit.visit_date) >= month_start, col(Visit.visit_date) <= today)
        .group_by(col(Visit.author_id))).tuples().all())
    people = set(clients) | set(visits)
    roster = session.execute(
        select(col(User.id), col(User.full_name)).where(
            or_(col(User.id).in_(_volunteer_ids(session, me)), col(User.id).in_(people)),
            col(User.id).in_(select(col(RoleAssignment.user_id)).where(
                col(RoleAssignment.role) == Role.VOLUNTEER)))
    ).tuples().all()
    result = [
        VolunteerActivity(uid, name, int(clients.get(uid, 0)), int(visits.get(uid, 0)),
                          int(overdue.get(uid, 0)), int(referrals.get(uid, 0)))
        for uid, name in roster
    ]
    if commune_id is not None:
        result = [r for r in result if r.clients or r.visits_this_month]
    audit.record(session, actor=me, action=Action.CASELOAD_VIEW, target_type="user",
                 target_id=None, detail=f"volunteer_activity rows={len(result)}")
    return sorted(result, key=lambda r: (vi_sort_key(r.full_name), r.volunteer_id))


@dataclass(frozen=True)
class ProposedClosure:
    episode_id: int
    version: int
    client_id: int
    client_name: str
    commune_name: str
    episode_type: EpisodeType
    end_reason: str
    actual_end: date | None
    start_date: date


def proposed_closures(
    *, session: Session, actor: Actor | None, limit: int = 200
) -> list[ProposedClosure]:
    """Episode closures volunteers proposed, in the actor's places, oldest end first."""
    me = authorize_grant(session, actor, Action.EPISODE_APPROVE_CLOSE)
    rows = session.execute(
        select(col(Episode.id), col(Episode.version), col(Client.id), col(Client.full_name),
               col(Place.name), col(Episode.episode_type), col(Episode.end_reason),
               col(Episode.actual_end), col(Episode.start_date))
        .join(Client, col(Client.id) == col(Episode.client_id))
        .join(Place, col(Place.id) == col(Client.commune_id))
        .where(col(Episode.status) == EpisodeStatus.CLOSURE_PROPOSED, client_scope_filter(me),
               col(Client.status) != ClientStatus.MERGED)
        .order_by(col(Episode.actual_end), col(Episode.id))
        .limit(max(1, min(limit, 1000)))
    ).all()
    audit.record(session, actor=me, action=Action.CASELOAD_VIEW, target_type="episode",
                 target_id=None, detail=f"proposed_closures rows={len(rows)}")
    return [
        ProposedClosure(eid, version, cid, name, commune, EpisodeType(etype), reason or "",
                        actual_end, start)
        for eid, version, cid, name, commune, etype, reason, actual_end, start in rows
    ]


@dataclass(frozen=True)
class PlaceOption:
    place_id: int
    name: str
    is_province: bool
    parent_id: int | None


def places_in_scope(*, session: Session, actor: Actor | None) -> list[PlaceOption]:
    """The actor's provinces, then their communes, each in Vietnamese order (names are public)."""
    me = authorize_grant(session, actor, Action.CASELOAD_VIEW)
    wanted = set(me.province_ids) | set(me.commune_ids)
    if not wanted:
        return []
    rows = session.execute(
        select(col(Place.id), col(Place.name), col(Place.parent_id)).where(
            col(Place.id).in_(wanted))
    ).tuples().all()
    options = [PlaceOption(pid, name, pid in me.province_ids, parent) for pid, name, parent in rows]
    return sorted(options, key=lambda o: (not o.is_province, vi_sort_key(o.name), o.place_id))
