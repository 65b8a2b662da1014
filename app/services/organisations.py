"""The community model's organisations: volunteer teams, counselling points and support clubs
per commune, with their members and founding decisions; and the province's coverage.

Supervisors manage them in their places: the policy has no action of its own for this, so
managing needs both the right to run the place's group work (`Action.GROUP_CREATE`, which
volunteers also have) and the right to answer for the place's figures (`Action.REPORT_VIEW`,
supervisors only) — `_MANAGE`. Anyone who may view the place's report may list them. Coverage uses
the report's definition (`reports.py`, "communes implementing the community model"): a commune
implements the model in a period if it has a client under community management in it, or an
active volunteer team founded by its end. `coverage` gives the same total as the report's
figure, commune by commune.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlmodel import Session, col

from app.services import audit
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, PlaceTarget, authorize, authorize_grant, can
from app.services.reports import COMMUNITY_TYPES, MODEL_KINDS, ReportContext, authorize_report
from app.services.submissions import Once
from app.services.text import clean, fold, vi_sort_key
from models import (
    Client,
    ClientStatus,
    Episode,
    Organisation,
    OrgKind,
    Place,
    PlaceKind,
    Role,
    RoleAssignment,
    TeamMember,
    User,
)

EARLIEST = date(1990, 1, 1)
SUBMISSION_KIND = "organisation"
_MANAGE = (Action.REPORT_VIEW, Action.GROUP_CREATE)


@dataclass(frozen=True)
class OrganisationInput:
    name: str
    kind: OrgKind
    place_id: int
    founding_decision: str = ""
    founded_on: date | None = None
    active: bool = True


@dataclass(frozen=True)
class MemberRead:
    user_id: int
    full_name: str
    joined_on: date | None
    left_on: date | None


@dataclass(frozen=True)
class OrganisationRead:
    id: int
    name: str
    kind: OrgKind
    place_id: int
    place_name: str
    founding_decision: str
    founded_on: date | None
    active: bool
    members: tuple[MemberRead, ...] = ()


@dataclass(frozen=True)
class CommuneCoverage:
    place_id: int
    name: str
    implementing: bool
    managed_clients: int
    counts: dict[str, int] = field(default_factory=dict)  # OrgKind value -> active count


@dataclass(frozen=True)
class Coverage:
    place_id: int
    implementing: int
    total: int
    communes: tuple[CommuneCoverage, ...]


# --- helpers -------------------------------------------------------------------------------


def _validate(session: Session, data: OrganisationInput) -> tuple[str, str]:
    errors: dict[str, str] = {}
    name, decision = clean(data.name), clean(data.founding_decision)
    if not 2 <= len(name) <= 200:
        errors["name"] = "sup.error.org_name"
    if len(decision) > 120:
        errors["founding_decision"] = "error.too_long"
    if data.kind not in MODEL_KINDS:
        errors["kind"] = "error.invalid_value"
    if data.founded_on is not None and not EARLIEST <= data.founded_on <= today_vn():
        errors["founded_on"] = "error.date_range"
    place = session.get(Place, data.place_id)
    if place is None or place.kind != PlaceKind.COMMUNE:
        errors["place_id"] = "sup.error.commune"
    if errors:
        raise ValidationFailed(errors)
    return name, decision


def _check_unique(session: Session, name: str, place_id: int, own_id: int | None) -> None:
    """One name per commune, accents and case ignored (SQLite's lower() is ASCII-only)."""
    names = session.execute(
        select(col(Organisation.name)).where(
            col(Organisation.place_id) == place_id, col(Organisation.id) != (own_id or 0))
    ).scalars()
    if fold(name) in {fold(n) for n in names}:
        raise ValidationFailed({"name": "sup.error.org_exists"})


def _members(session: Session, org_ids: list[int]) -> dict[int, list[MemberRead]]:
    out: dict[int, list[MemberRead]] = {}
    if not org_ids:
        return out
    rows = session.execute(
        select(col(TeamMember.organisation_id), col(User.id), col(User.full_name),
               col(TeamMember.joined_on), col(TeamMember.left_on))
        .join(User, col(User.id) == col(TeamMember.user_id))
        .where(col(TeamMember.organisation_id).in_(org_ids))
    ).tuples().all()
    for org_id, uid, name, joined, left in rows:
        out.setdefault(org_id, []).append(MemberRead(uid, name, joined, left))
    for members in out.values():
        members.sort(key=lambda m: (m.left_on is not None, vi_sort_key(m.full_name)))
    return out


def _read(session: Session, org: Organisation) -> OrganisationRead:
    assert org.id is not None
    place = session.get(Place, org.place_id)
    return OrganisationRead(
        id=org.id, name=org.name, kind=OrgKind(org.kind), place_id=org.place_id,
        place_name=place.name if place else "", founding_decision=org.founding_decision,
        founded_on=org.founded_on, active=org.active,
        members=tuple(_members(session, [org.id]).get(org.id, [])),
    )


def _grant(session: Session, actor: Actor | None) -> Actor:
    me = authorize_grant(session, actor, _MANAGE[0], target_type="organisation")
    return authorize_grant(session, me, _MANAGE[1], target_type="organisation")


def _authorize_place(session: Session, me: Actor, place_id: int) -> None:
    for action in _MANAGE:
        authorize(session, me, action, PlaceTarget(place_id))


def _managed_org(session: Session, me: Actor, organisation_id: int) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None or org.kind not in MODEL_KINDS:
        raise NotFound()
    if not all(can(me, action, PlaceTarget(org.place_id)) for action in _MANAGE):
        audit.record_denial(session, actor=me, action="organisation.manage",
                            target_type="organisation", target_id=organisation_id)
        raise NotFound()
    return org


def _area(place_id: int) -> Select[Any]:
    return select(col(Place.id)).where(
        or_(col(Place.id) == place_id, col(Place.parent_id) == place_id))


# --- services ------------------------------------------------------------------------------


def list_organisations(
    *, session: Session, actor: Actor | None, place_id: int, kind: OrgKind | None = None,
    include_inactive: bool = True,
) -> list[OrganisationRead]:
    """Teams, counselling points and clubs of a commune or a province, with their members."""
    me = authorize_grant(session, actor, Action.REPORT_VIEW)
    authorize(session, me, Action.REPORT_VIEW, PlaceTarget(place_id))
    kinds = (kind,) if kind is not None else MODEL_KINDS
    conditions = [col(Organisation.kind).in_(kinds),
                  col(Organisation.place_id).in_(_area(place_id))]
    if not include_inactive:
        conditions.append(col(Organisation.active).is_(True))
    rows = session.execute(
        select(Organisation, col(Place.name))
        .join(Place, col(Place.id) == col(Organisation.place_id))
        .where(*conditions)
    ).tuples().all()
    members = _members(session, [o.id for o, _ in rows if o.id is not None])
    out = [
        OrganisationRead(
            id=o.id or 0, name=o.name, kind=OrgKind(o.kind), place_id=o.place_id,
            place_name=pname, founding_decision=o.founding_decision, founded_on=o.founded_on,
            active=o.active, members=tuple(members.get(o.id or 0, [])),
        )
        for o, pname in rows
    ]
    return sorted(out, key=lambda o: (vi_sort_key(o.place_name), MODEL_KINDS.index(o.kind),
                                      vi_sort_key(o.name), o.id))


def create_organisation(
    *, session: Session, actor: Actor | None, data: OrganisationInput,
    submission_key: str | None = None,
) -> OrganisationRead:
    """A new team, counselling point or club in one of the actor's communes (audited)."""
    me = _grant(session, actor)
    once = Once(session, me, submission_key, SUBMISSION_KIND)
    if (seen := once.replayed(Organisation)) is not None:
        return _read(session, seen)
    name, decision = _validate(session, data)
    _authorize_place(session, me, data.place_id)
    _check_unique(session, name, data.place_id, None)
    org = Organisation(name=name, kind=data.kind, place_id=data.place_id,
                       founding_decision=decision, founded_on=data.founded_on,
                       active=data.active)
    once.store(org, action="organisation.create", target_type="organisation",
               detail=f"kind={data.kind.value} place={data.place_id}")
    return _read(session, org)


def update_organisation(
    *, session: Session, actor: Actor | None, organisation_id: int, data: OrganisationInput
) -> OrganisationRead:
    """Edit name, kind, commune, founding decision or active flag (both communes in scope)."""
    me = _grant(session, actor)
    org = _managed_org(session, me, organisation_id)
    name, decision = _validate(session, data)
    _authorize_place(session, me, data.place_id)
    _check_unique(session, name, data.place_id, org.id)
    org.name, org.kind, org.place_id = name, data.kind, data.place_id
    org.founding_decision, org.founded_on, org.active = decision, data.founded_on, data.active
    session.add(org)
    session.flush()
    audit.record(session, actor=me, action="organisation.update", target_type="organisation",
                 target_id=org.id)
    return _read(session, org)


def member_choices(
    *, session: Session, actor: Actor | None, organisation_id: int
) -> list[tuple[int, str]]:
    """Active volunteers and supervisors working in the organisation's commune (or province)."""
    me = _grant(session, actor)
    org = _managed_org(session, me, organisation_id)
    place = session.get(Place, org.place_id)
    places = [org.place_id] + ([place.parent_id] if place and place.parent_id else [])
    rows = session.execute(
        select(col(User.id), col(User.full_name)).distinct()
        .join(RoleAssignment, col(RoleAssignment.user_id) == col(User.id))
        .where(col(RoleAssignment.place_id).in_(places), col(User.is_active).is_(True),
               col(RoleAssignment.role).in_((Role.VOLUNTEER, Role.SUPERVISOR)))
    ).tuples().all()
    return sorted(((uid, name) for uid, name in rows), key=lambda r: (vi_sort_key(r[1]), r[0]))


def add_member(
    *, session: Session, actor: Actor | None, organisation_id: int, user_id: int,
    joined_on: date | None = None,
) -> OrganisationRead:
    """Add a person who works in the commune (or re-admit a former member) (audited)."""
    me = _grant(session, actor)
    org = _managed_org(session, me, organisation_id)
    if user_id not in {uid for uid, _ in member_choices(session=session, actor=me,
                                                          organisation_id=organisation_id)}:
        raise ValidationFailed({"user_id": "sup.error.member"})
    joined = joined_on or today_vn()
    if not EARLIEST <= joined <= today_vn():
        raise ValidationFailed({"joined_on": "error.date_range"})
    member = session.execute(
        select(TeamMember).where(col(TeamMember.organisation_id) == organisation_id,
                                 col(TeamMember.user_id) == user_id)
    ).scalars().first()
    if member is None:
        member = TeamMember(organisation_id=organisation_id, user_id=user_id, joined_on=joined)
    elif member.left_on is None:
        raise ValidationFailed({"user_id": "sup.error.already_member"})
    else:
        member.joined_on, member.left_on = joined, None
    session.add(member)
    session.flush()
    audit.record(session, actor=me, action="organisation.member_add",
                 target_type="organisation", target_id=organisation_id, detail=f"user={user_id}")
    return _read(session, org)


def end_membership(
    *, session: Session, actor: Actor | None, organisation_id: int, user_id: int,
    left_on: date | None = None,
) -> OrganisationRead:
    """Record that a member left (kept in the list with the date) (audited)."""
    me = _grant(session, actor)
    org = _managed_org(session, me, organisation_id)
    member = session.execute(
        select(TeamMember).where(col(TeamMember.organisation_id) == organisation_id,
                                 col(TeamMember.user_id) == user_id)
    ).scalars().first()
    if member is None or member.left_on is not None:
        raise NotFound()
    left = left_on or today_vn()
    if not (member.joined_on or EARLIEST) <= left <= today_vn():
        raise ValidationFailed({"left_on": "error.date_range"})
    member.left_on = left
    session.add(member)
    session.flush()
    audit.record(session, actor=me, action="organisation.member_end",
                 target_type="organisation", target_id=organisation_id, detail=f"user={user_id}")
    return _read(session, org)


def coverage(
    *, session: Session, actor: Actor | None, place_id: int, period_start: date,
    period_end: date,
) -> Coverage:
    """Communes implementing the community model out of all communes of the place, commune by
    commune, by the report's definition (audited as a report view)."""
    me, ctx, _place = authorize_report(session, actor, place_id, period_start, period_end)
    communes = session.execute(
        select(col(Place.id), col(Place.name)).where(
            col(Place.kind) == PlaceKind.COMMUNE,
            col(Place.id).in_(ctx.area_places()),
            or_(col(Place.valid_to).is_(None), col(Place.valid_to) >= ctx.start),
        )
    ).tuples().all()
    managed: dict[int, int] = dict(session.execute(
        select(col(Client.commune_id), func.count(col(Client.id)))
        .where(col(Client.id).in_(_managed_ids(ctx)))
        .group_by(col(Client.commune_id))
    ).tuples().all())
    orgs: dict[int, dict[str, int]] = {}
    for pid, kind, n in session.execute(
        select(col(Organisation.place_id), col(Organisation.kind), func.count())
        .where(col(Organisation.kind).in_(MODEL_KINDS), col(Organisation.active).is_(True),
               col(Organisation.place_id).in_(ctx.area_places()),
               or_(col(Organisation.founded_on).is_(None),
                   col(Organisation.founded_on) <= ctx.end))
        .group_by(col(Organisation.place_id), col(Organisation.kind))
    ).tuples().all():
        orgs.setdefault(pid, {})[str(kind)] = int(n)
    rows = [
        CommuneCoverage(
            place_id=pid, name=name,
            implementing=bool(managed.get(pid)) or bool(
                orgs.get(pid, {}).get(OrgKind.VOLUNTEER_TEAM.value)),
            managed_clients=int(managed.get(pid, 0)), counts=orgs.get(pid, {}),
        )
        for pid, name in communes
    ]
    rows.sort(key=lambda c: (not c.implementing, vi_sort_key(c.name), c.place_id))
    audit.record(session, actor=me, action=Action.REPORT_VIEW, target_type="place",
                 target_id=place_id, detail="coverage")
    return Coverage(place_id=place_id, implementing=sum(1 for c in rows if c.implementing),
                    total=len(rows), communes=tuple(rows))


def _managed_ids(ctx: ReportContext) -> Select[Any]:
    """Clients of the place under community management in the period (report definition)."""
    return select(col(Episode.client_id)).where(
        col(Episode.episode_type).in_(COMMUNITY_TYPES),
        and_(col(Episode.start_date) <= ctx.end,
             or_(col(Episode.actual_end).is_(None), col(Episode.actual_end) >= ctx.start)),
        col(Episode.client_id).in_(ctx.area_clients()),
        col(Episode.client_id).in_(
            select(col(Client.id)).where(col(Client.status) != ClientStatus.MERGED)),
    )
