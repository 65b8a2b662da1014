"""Facilities screen service (app/services/facility_registry.py): who manages which
province's facilities, what a facility records, and referrals only where the service is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from app.services import activities, facilities, facility_registry
from app.services.calendar import today_vn
from app.services.dto import ReferralCreate
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from app.services.facility_registry import FacilityInput
from models import AuditEvent, FacilityService, OrgKind, ReferralService
from tests.factories import World

F = FacilityService


def legal_office(world: World, **overrides: object) -> FacilityInput:
    values: dict[str, object] = {
        "name": "Trung tâm Trợ giúp pháp lý tỉnh A", "kind": OrgKind.LEGAL_AID,
        "place_id": world.commune_a2, "address": "12 Lê Lợi", "services": frozenset({F.LEGAL}),
    }
    values.update(overrides)
    return FacilityInput(**values)  # type: ignore[arg-type]


def test_an_admin_and_a_provincial_supervisor_create_facilities_in_their_province(
    session: Session, world: World
) -> None:
    made = facility_registry.create_facility(
        session=session, actor=world.actor(session, "admin"), data=legal_office(world))
    assert (made.kind, made.place_name, made.address, made.services, made.active) == (
        OrgKind.LEGAL_AID, "Xã A Hai", "12 Lê Lợi", (F.LEGAL,), True)
    sup = world.actor(session, "sup_a")
    rehab = facility_registry.create_facility(session=session, actor=sup, data=legal_office(
        world, name="Cơ sở cai nghiện ma túy tỉnh A", kind=OrgKind.REHAB_FACILITY,
        services=frozenset({F.VOLUNTARY_REHAB, F.COMPULSORY_REHAB, F.VOCATIONAL})))
    listed = facility_registry.list_facilities(session=session, actor=sup,
                                               province_id=world.province_a)
    assert {f.id for f in listed} == {made.id, rehab.id, world.facility_a}
    clinic = next(f for f in listed if f.id == world.facility_a)
    assert clinic.staff == 1  # clinic_a is scoped to it
    creates = session.exec(select(AuditEvent).where(AuditEvent.action == "facility.create")).all()
    assert len(creates) == 2


@pytest.mark.parametrize("who", ["sup_a1", "vol_a1", "clinic_a"])
def test_commune_supervisors_and_other_roles_manage_no_facility(
    who: str, session: Session, world: World
) -> None:
    with pytest.raises(PermissionDenied):
        facility_registry.create_facility(session=session, actor=world.actor(session, who),
                                          data=legal_office(world))
    with pytest.raises(PermissionDenied):
        facility_registry.list_facilities(session=session, actor=world.actor(session, who),
                                          province_id=world.province_a)


def test_a_supervisor_cannot_touch_another_provinces_facilities(
    session: Session, world: World
) -> None:
    sup_b = world.actor(session, "sup_b")
    with pytest.raises(PermissionDenied):
        facility_registry.create_facility(session=session, actor=sup_b, data=legal_office(world))
    with pytest.raises(NotFound):
        facility_registry.update_facility(session=session, actor=sup_b,
                                          facility_id=world.facility_a, data=legal_office(world))
    assert [p for p, _n in facility_registry.manageable_provinces(
        session=session, actor=sup_b)] == [world.province_b]


def test_a_facility_needs_a_commune_a_unique_name_and_a_service(
    session: Session, world: World
) -> None:
    admin = world.actor(session, "admin")
    cases = {
        "services": legal_office(world, services=frozenset()),
        "place_id": legal_office(world, place_id=world.province_a),
        "kind": legal_office(world, kind=OrgKind.VOLUNTEER_TEAM),
        "name": legal_office(world, name="Cơ sở ĐIỀU TRỊ a", place_id=world.commune_a1),
    }
    for field, data in cases.items():
        with pytest.raises(ValidationFailed) as err:
            facility_registry.create_facility(session=session, actor=admin, data=data)
        assert field in err.value.fields


def test_the_referral_form_offers_a_facility_only_for_the_services_it_provides(
    session: Session, world: World
) -> None:
    admin = world.actor(session, "admin")
    legal = facility_registry.create_facility(session=session, actor=admin,
                                              data=legal_office(world))
    offered = {fid: set(serves) for fid, _name, serves in facilities.referral_facilities(
        session=session, actor=world.actor(session, "vol_a1"))}
    assert offered[legal.id] == {"legal_aid", "identity_papers"}
    assert {"mmt", "treatment", "arv", "hiv_test"} <= offered[world.facility_a]
    assert "legal_aid" not in offered[world.facility_a]
    vol = world.actor(session, "vol_a1")

    def refer(service: ReferralService, facility_id: int) -> None:
        activities.create_referral(session=session, actor=vol, data=ReferralCreate(
            client_id=world.clients["a1"], service=service, facility_id=facility_id,
            referred_on=today_vn() - timedelta(days=1), consent=True))

    with pytest.raises(ValidationFailed) as err:
        refer(ReferralService.MMT, legal.id)
    assert err.value.fields == {"facility_id": "facility.error.not_providing"}
    with pytest.raises(ValidationFailed):
        refer(ReferralService.LOAN, world.facility_a)  # a loan goes to no facility
    refer(ReferralService.LEGAL_AID, legal.id)


@pytest.mark.parametrize("service", list(ReferralService))
def test_no_referral_of_any_service_goes_to_a_volunteer_team(
    session: Session, world: World, service: ReferralService
) -> None:
    """Issue 19 item 9: a referral used to be accepted to any organisation id."""
    from models import Organisation

    team = Organisation(name="Đội tình nguyện xã A Một", kind=OrgKind.VOLUNTEER_TEAM,
                        place_id=world.commune_a1)
    session.add(team)
    session.flush()
    assert team.id is not None
    with pytest.raises(ValidationFailed) as err:
        activities.create_referral(session=session, actor=world.actor(session, "vol_a1"),
                                   data=ReferralCreate(
                                       client_id=world.clients["a1"], service=service,
                                       facility_id=team.id,
                                       referred_on=today_vn() - timedelta(days=1),
                                       consent=True))
    assert "facility_id" in err.value.fields


def test_a_deactivated_facility_is_kept_but_no_longer_offered(
    session: Session, world: World
) -> None:
    sup = world.actor(session, "sup_a")
    current = facility_registry.get_facility(session=session, actor=sup,
                                             facility_id=world.facility_a)
    closed = facility_registry.update_facility(
        session=session, actor=sup, facility_id=world.facility_a, data=FacilityInput(
            name=current.name, kind=current.kind, place_id=current.place_id,
            address="Đã chuyển", services=frozenset(current.services), active=False))
    assert closed.active is False and closed.address == "Đã chuyển"
    offered = facilities.referral_facilities(session=session,
                                             actor=world.actor(session, "vol_a1"))
    assert world.facility_a not in {fid for fid, _n, _s in offered}
    assert not facility_registry.provides(session, world.facility_a, ReferralService.MMT)
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "facility.deactivate")).first() is not None
