"""Facility and commune pickers of the record forms: only the actor's province and communes."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from app.services import facilities
from app.services.errors import PermissionDenied
from models import Organisation, OrgKind
from tests.factories import World, make_facility


def test_a_volunteer_is_offered_the_active_facilities_of_their_province_only(
    session: Session, world: World
) -> None:
    legal = make_facility(session, "Trung tâm trợ giúp pháp lý A", world.commune_a2,
                          OrgKind.LEGAL_AID)
    closed = make_facility(session, "Cơ sở đã đóng", world.commune_a1)
    org = session.get(Organisation, closed)
    assert org is not None
    org.active = False
    session.commit()
    offered = facilities.facilities_for(session=session, actor=world.actor(session, "vol_a1"))
    assert offered == [
        (world.facility_a, "Cơ sở điều trị A", "treatment_clinic"),
        (legal, "Trung tâm trợ giúp pháp lý A", "legal_aid"),
    ]


def test_a_province_supervisor_is_offered_their_province_facilities(
    session: Session, world: World
) -> None:
    offered = facilities.facilities_for(session=session, actor=world.actor(session, "sup_b"))
    assert [f[0] for f in offered] == [world.facility_b]


def test_communes_offered_are_the_actors_own(session: Session, world: World) -> None:
    assert facilities.communes_for(session=session, actor=world.actor(session, "vol_a1")) == [
        (world.commune_a1, "Xã A Một")
    ]
    province = facilities.communes_for(session=session, actor=world.actor(session, "sup_a"))
    assert province == [(world.commune_a2, "Xã A Hai"), (world.commune_a1, "Xã A Một")]


def test_roles_that_record_nothing_get_no_pickers(session: Session, world: World) -> None:
    for name in ("admin", "clinic_a"):
        with pytest.raises(PermissionDenied):
            facilities.facilities_for(session=session, actor=world.actor(session, name))
