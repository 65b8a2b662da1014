"""Facilities a province works with: methadone and treatment clinics, rehab facilities, health
services, legal-aid offices, vocational schools — created, edited and deactivated on the
facilities screen, each with its commune, street address and the services it provides.

Who manages them: an administrator inside their own scope (`Action.PLACE_ADMIN`; a national
admin everywhere, a provincial admin in their province), and a *provincial* supervisor in
their province (`Action.REPORT_VIEW` with the province assigned whole): the people who know
which clinics exist. Commune supervisors and everyone else may not. A facility is never
deleted (referrals, episodes and clinic accounts name it); it is deactivated, and is then no
longer offered on the referral form nor as a clinic account's scope.

Services: the referral form offers a facility only for a service it provides
(`PROVIDERS`), and `check_referral_facility` refuses the rest on the server. Clinic staff are
scoped to one facility on the users screen (`admin_scopes.grant_choices` lists the active
facilities); this screen shows how many active accounts each facility has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlmodel import Session, col

from app.services import audit
from app.services.accounts import _admin_scope, _covers
from app.services.actor import Actor
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from app.services.policy import Action, role_may
from app.services.text import clean, fold, vi_sort_key
from models import (
    FacilityService,
    Organisation,
    OrganisationService,
    OrgKind,
    Place,
    PlaceKind,
    ReferralService,
    Role,
    RoleAssignment,
    User,
)

FACILITY_KINDS: tuple[OrgKind, ...] = (
    OrgKind.TREATMENT_CLINIC, OrgKind.REHAB_FACILITY, OrgKind.HEALTH_FACILITY,
    OrgKind.LEGAL_AID, OrgKind.VOCATIONAL_SCHOOL,
)
F = FacilityService
R = ReferralService
# Which facility services can receive a referral to each service (none: no facility).
PROVIDERS: dict[ReferralService, frozenset[FacilityService]] = {
    R.TREATMENT: frozenset({F.TREATMENT, F.VOLUNTARY_REHAB}),
    R.MMT: frozenset({F.METHADONE}),
    **{s: frozenset({F.HEALTH}) for s in (R.HIV_TEST, R.ARV, R.PREP, R.TB_HEPATITIS,
                                          R.MENTAL_HEALTH, R.HEALTH_CHECK)},
    R.LEGAL_AID: frozenset({F.LEGAL}),
    R.IDENTITY_PAPERS: frozenset({F.LEGAL}),
    R.VOCATIONAL: frozenset({F.VOCATIONAL}),
    R.JOB: frozenset({F.VOCATIONAL}),
    R.LOAN: frozenset(),
}
# What a facility of each kind provides when nothing else was said (data migration, tests).
DEFAULT_SERVICES: dict[OrgKind, frozenset[FacilityService]] = {
    OrgKind.TREATMENT_CLINIC: frozenset({F.METHADONE, F.TREATMENT, F.HEALTH}),
    OrgKind.REHAB_FACILITY: frozenset({F.VOLUNTARY_REHAB, F.COMPULSORY_REHAB, F.VOCATIONAL}),
    OrgKind.HEALTH_FACILITY: frozenset({F.HEALTH}),
    OrgKind.LEGAL_AID: frozenset({F.LEGAL}),
    OrgKind.VOCATIONAL_SCHOOL: frozenset({F.VOCATIONAL}),
}


@dataclass(frozen=True)
class FacilityInput:
    name: str
    kind: OrgKind
    place_id: int  # a commune
    address: str = ""
    services: frozenset[FacilityService] = frozenset()
    active: bool = True


@dataclass(frozen=True)
class FacilityRead:
    id: int
    name: str
    kind: OrgKind
    place_id: int
    place_name: str
    province_id: int
    address: str
    services: tuple[FacilityService, ...]
    active: bool
    staff: int  # active clinic accounts scoped to it


# --- who may manage where -------------------------------------------------------------------


def _grant(session: Session, actor: Actor | None) -> Actor:
    """An admin, or a supervisor with at least one whole province; PermissionDenied else."""
    if actor is not None and (
        (actor.role == Role.ADMIN and role_may(actor.role, Action.PLACE_ADMIN))
        or (actor.role == Role.SUPERVISOR and actor.province_ids)
    ):
        return actor
    audit.record_denial(session, actor=actor, action="facility.manage",
                        target_type="organisation", target_id=None)
    raise PermissionDenied()


def _may_manage_in(session: Session, me: Actor, province_id: int) -> bool:
    if me.role == Role.SUPERVISOR:
        return province_id in me.province_ids
    return _covers(session, _admin_scope(session, me, "facility.manage"), province_id, None)


def manageable_provinces(*, session: Session, actor: Actor | None) -> list[tuple[int, str]]:
    """(id, name) of the provinces whose facilities the actor manages, in Vietnamese order."""
    me = _grant(session, actor)
    rows = session.execute(
        select(col(Place.id), col(Place.name)).where(col(Place.kind) == PlaceKind.PROVINCE)
    ).tuples().all()
    found = [(pid, name) for pid, name in rows if _may_manage_in(session, me, pid)]
    return sorted(found, key=lambda r: vi_sort_key(r[1]))


def _province_of(session: Session, commune_id: int) -> Place | None:
    commune = session.get(Place, commune_id)
    if commune is None or commune.kind != PlaceKind.COMMUNE or commune.parent_id is None:
        return None
    return session.get(Place, commune.parent_id)


def _check_province(session: Session, me: Actor, province_id: int) -> None:
    if not _may_manage_in(session, me, province_id):
        audit.record_denial(session, actor=me, action="facility.manage", target_type="place",
                            target_id=province_id)
        raise PermissionDenied()


# --- reading ---------------------------------------------------------------------------------


def services_of(session: Session, org_ids: list[int]) -> dict[int, tuple[FacilityService, ...]]:
    out: dict[int, list[FacilityService]] = {}
    if org_ids:
        for org_id, service in session.execute(
            select(col(OrganisationService.organisation_id), col(OrganisationService.service))
            .where(col(OrganisationService.organisation_id).in_(org_ids))
        ).tuples():
            out.setdefault(org_id, []).append(FacilityService(service))
    order = list(FacilityService)
    return {k: tuple(sorted(v, key=order.index)) for k, v in out.items()}


def _staff_counts(session: Session, org_ids: list[int]) -> dict[int, int]:
    if not org_ids:
        return {}
    rows = session.execute(
        select(col(RoleAssignment.facility_id), func.count(func.distinct(col(User.id))))
        .join(User, col(User.id) == col(RoleAssignment.user_id))
        .where(col(RoleAssignment.facility_id).in_(org_ids),
               col(RoleAssignment.role) == Role.CLINIC, col(User.is_active).is_(True))
        .group_by(col(RoleAssignment.facility_id))
    ).tuples().all()
    return {fid: int(n) for fid, n in rows if fid is not None}


def _reads(session: Session, rows: list[tuple[Organisation, str, int]]) -> list[FacilityRead]:
    ids = [o.id for o, _n, _p in rows if o.id is not None]
    services, staff = services_of(session, ids), _staff_counts(session, ids)
    return [
        FacilityRead(id=o.id or 0, name=o.name, kind=OrgKind(o.kind), place_id=o.place_id,
                     place_name=pname, province_id=province, address=o.address,
                     services=services.get(o.id or 0, ()), active=o.active,
                     staff=staff.get(o.id or 0, 0))
        for o, pname, province in rows
    ]


def list_facilities(
    *, session: Session, actor: Actor | None, province_id: int
) -> list[FacilityRead]:
    """The facilities of a province (active first, then by name), with services and staff."""
    me = _grant(session, actor)
    _check_province(session, me, province_id)
    rows = session.execute(
        select(Organisation, col(Place.name), col(Place.parent_id))
        .join(Place, col(Place.id) == col(Organisation.place_id))
        .where(col(Organisation.kind).in_(FACILITY_KINDS),
               or_(col(Place.parent_id) == province_id, col(Place.id) == province_id))
    ).tuples().all()
    reads = _reads(session, [(o, n, p or province_id) for o, n, p in rows])
    return sorted(reads, key=lambda f: (not f.active, vi_sort_key(f.name), f.id))


def get_facility(*, session: Session, actor: Actor | None, facility_id: int) -> FacilityRead:
    me = _grant(session, actor)
    org = _managed(session, me, facility_id)
    place = session.get(Place, org.place_id)
    return _reads(session, [(org, place.name if place else "",
                             (place.parent_id if place else None) or org.place_id)])[0]


def _managed(session: Session, me: Actor, facility_id: int) -> Organisation:
    org = session.get(Organisation, facility_id)
    if org is None or org.kind not in FACILITY_KINDS:
        raise NotFound()
    place = session.get(Place, org.place_id)
    province = (place.parent_id if place is not None else None) or org.place_id
    if not _may_manage_in(session, me, province):
        audit.record_denial(session, actor=me, action="facility.manage",
                            target_type="organisation", target_id=facility_id)
        raise NotFound()
    return org


# --- writing ---------------------------------------------------------------------------------


def _validate(session: Session, data: FacilityInput, own_id: int | None) -> tuple[str, str, int]:
    errors: dict[str, str] = {}
    name, address = clean(data.name), clean(data.address)
    if not 2 <= len(name) <= 200:
        errors["name"] = "sup.error.org_name"
    if len(address) > 300:
        errors["address"] = "error.too_long"
    if data.kind not in FACILITY_KINDS:
        errors["kind"] = "error.invalid_value"
    if not data.services or not all(isinstance(s, FacilityService) for s in data.services):
        errors["services"] = "facility.error.services"
    province = _province_of(session, data.place_id)
    if province is None or province.id is None:
        errors["place_id"] = "sup.error.commune"
    elif "name" not in errors:
        names = session.execute(
            select(col(Organisation.name)).where(col(Organisation.place_id) == data.place_id,
                                                 col(Organisation.id) != (own_id or 0))
        ).scalars()
        if fold(name) in {fold(n) for n in names}:
            errors["name"] = "sup.error.org_exists"
    if errors:
        raise ValidationFailed(errors)
    assert province is not None and province.id is not None
    return name, address, province.id


def _store_services(session: Session, org_id: int, services: frozenset[FacilityService]) -> None:
    session.execute(delete(OrganisationService).where(
        col(OrganisationService.organisation_id) == org_id))
    for service in sorted(services, key=list(FacilityService).index):
        session.add(OrganisationService(organisation_id=org_id, service=service))
    session.flush()


def _detail(data: FacilityInput) -> str:
    services = ",".join(sorted(s.value for s in data.services))
    return f"kind={data.kind.value} place={data.place_id} services={services}"[:200]


def create_facility(*, session: Session, actor: Actor | None, data: FacilityInput) -> FacilityRead:
    """A new facility in a commune of a province the actor manages (audited)."""
    me = _grant(session, actor)
    name, address, province = _validate(session, data, None)
    _check_province(session, me, province)
    org = Organisation(name=name, kind=data.kind, place_id=data.place_id, address=address,
                       active=data.active)
    session.add(org)
    session.flush()
    assert org.id is not None
    _store_services(session, org.id, data.services)
    audit.record(session, actor=me, action="facility.create", target_type="organisation",
                 target_id=org.id, detail=_detail(data))
    return get_facility(session=session, actor=me, facility_id=org.id)


def update_facility(
    *, session: Session, actor: Actor | None, facility_id: int, data: FacilityInput
) -> FacilityRead:
    """Edit everything, including deactivating or reactivating it (old and new province must
    both be the actor's) (audited)."""
    me = _grant(session, actor)
    org = _managed(session, me, facility_id)
    name, address, province = _validate(session, data, org.id)
    _check_province(session, me, province)
    org.name, org.kind, org.place_id, org.address = name, data.kind, data.place_id, address
    was_active, org.active = org.active, data.active
    session.add(org)
    _store_services(session, facility_id, data.services)
    action = ("facility.deactivate" if was_active and not data.active else
              "facility.reactivate" if data.active and not was_active else "facility.update")
    audit.record(session, actor=me, action=action, target_type="organisation",
                 target_id=facility_id, detail=_detail(data))
    return get_facility(session=session, actor=me, facility_id=facility_id)


# --- referrals ------------------------------------------------------------------------------


def provides(session: Session, facility_id: int, service: ReferralService) -> bool:
    """Whether the facility is active and provides what a referral to `service` needs."""
    accepted = PROVIDERS.get(service, frozenset())
    org = session.get(Organisation, facility_id)
    if org is None or not org.active or not accepted:
        return False
    found = session.execute(
        select(col(OrganisationService.service)).where(
            col(OrganisationService.organisation_id) == facility_id,
            col(OrganisationService.service).in_([s.value for s in accepted]))
    ).first()
    return found is not None


def referral_services_of(services: tuple[FacilityService, ...] | list[Any]) -> list[str]:
    """The referral services (values) a facility with these services can receive."""
    have = {FacilityService(s) for s in services}
    return [r.value for r, accepted in PROVIDERS.items() if accepted & have]
