"""Teams, counselling points and clubs per commune; members; coverage by the report's rule."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from app.services.organisations import (
    OrganisationInput,
    add_member,
    coverage,
    create_organisation,
    end_membership,
    list_organisations,
    member_choices,
    update_organisation,
)
from app.services.reports import province_report
from models import AuditEvent, EpisodeType, OrgKind
from tests.factories import World, make_client, make_episode, make_place

START, END = date(2025, 7, 1), date(2025, 9, 30)


def _team(world: World, **overrides: object) -> OrganisationInput:
    values: dict[str, object] = {
        "name": "Đội CTXH tình nguyện xã A Một", "kind": OrgKind.VOLUNTEER_TEAM,
        "place_id": world.commune_a1, "founding_decision": "12/QĐ-UBND",
        "founded_on": date(2024, 3, 1),
    }
    values.update(overrides)
    return OrganisationInput(**values)  # type: ignore[arg-type]


def test_a_supervisor_creates_edits_and_lists_a_team_with_its_founding_decision(
    session: Session, world: World
) -> None:
    sup = world.actor(session, "sup_a")
    team = create_organisation(session=session, actor=sup, data=_team(world),
                               submission_key="k" * 32)
    again = create_organisation(session=session, actor=sup, data=_team(world),
                                submission_key="k" * 32)
    assert again.id == team.id  # a double tap creates one team
    point = create_organisation(session=session, actor=sup, data=_team(
        world, name="Điểm tư vấn xã A Hai", kind=OrgKind.COUNSELLING_POINT,
        place_id=world.commune_a2, founding_decision="", founded_on=None))
    edited = update_organisation(session=session, actor=sup, organisation_id=team.id,
                                 data=_team(world, founding_decision="15/QĐ-UBND"))
    assert edited.founding_decision == "15/QĐ-UBND" and edited.founded_on == date(2024, 3, 1)
    listed = list_organisations(session=session, actor=sup, place_id=world.province_a)
    assert [o.id for o in listed] == [point.id, team.id]  # "Xã A Hai" sorts before "Xã A Một"
    assert listed[0].place_name == "Xã A Hai"
    # The treatment clinic of the world is not a community model.
    assert all(o.kind != OrgKind.TREATMENT_CLINIC for o in listed)
    actions = {e.action for e in session.exec(select(AuditEvent)).all()}
    assert {"organisation.create", "organisation.update"} <= actions


def test_bad_input_names_the_field_and_saves_nothing(session: Session, world: World) -> None:
    sup = world.actor(session, "sup_a")
    with pytest.raises(ValidationFailed) as err:
        create_organisation(session=session, actor=sup, data=_team(
            world, name="x", founded_on=date(2999, 1, 1), kind=OrgKind.TREATMENT_CLINIC))
    assert set(err.value.fields) == {"name", "founded_on", "kind"}
    create_organisation(session=session, actor=sup, data=_team(world))
    with pytest.raises(ValidationFailed) as dup:
        create_organisation(session=session, actor=sup, data=_team(world))
    assert dup.value.fields == {"name": "sup.error.org_exists"}


def test_teams_outside_the_supervisor_places_cannot_be_created_seen_or_edited(
    session: Session, world: World
) -> None:
    sup_b = world.actor(session, "sup_b")
    other = create_organisation(session=session, actor=sup_b, data=_team(
        world, name="Đội B", place_id=world.commune_b1))
    sup_a = world.actor(session, "sup_a")
    with pytest.raises(PermissionDenied):
        create_organisation(session=session, actor=sup_a, data=_team(
            world, place_id=world.commune_b1))
    with pytest.raises(NotFound):
        update_organisation(session=session, actor=sup_a, organisation_id=other.id,
                            data=_team(world))
    with pytest.raises(PermissionDenied):
        list_organisations(session=session, actor=sup_a, place_id=world.province_b)
    with pytest.raises(PermissionDenied):
        create_organisation(session=session, actor=world.actor(session, "vol_a1"),
                            data=_team(world))


def test_members_join_and_leave_and_only_people_of_the_commune_can_join(
    session: Session, world: World
) -> None:
    sup = world.actor(session, "sup_a")
    team = create_organisation(session=session, actor=sup, data=_team(world))
    choices = {name for _uid, name in member_choices(session=session, actor=sup,
                                                       organisation_id=team.id)}
    assert {"vol_a1", "vol_a1_peer", "sup_a1", "sup_a"} <= choices
    assert "vol_a2" not in choices and "disabled" not in choices
    joined = add_member(session=session, actor=sup, organisation_id=team.id,
                        user_id=world.users["vol_a1"], joined_on=date(2025, 1, 1))
    assert [m.full_name for m in joined.members] == ["vol_a1"]
    with pytest.raises(ValidationFailed):
        add_member(session=session, actor=sup, organisation_id=team.id,
                   user_id=world.users["vol_a1"])
    with pytest.raises(ValidationFailed):
        add_member(session=session, actor=sup, organisation_id=team.id,
                   user_id=world.users["vol_a2"])
    left = end_membership(session=session, actor=sup, organisation_id=team.id,
                          user_id=world.users["vol_a1"], left_on=date(2025, 6, 1))
    assert left.members[0].left_on == date(2025, 6, 1)


def test_coverage_counts_communes_with_managed_clients_or_a_team_as_the_report_does(
    session: Session, world: World
) -> None:
    a3 = make_place(session, "TA003", "Xã A Ba", world.province_a)  # nothing there yet
    sup = world.actor(session, "sup_a")
    # A1 and A2: clients under community management (the world's ILLEGAL_USE episodes).
    cid = make_client(session, world.commune_a2, None, name="Người Mới")
    make_episode(session, cid, EpisodeType.MMT)  # MMT is not a community type
    session.commit()
    first = coverage(session=session, actor=sup, place_id=world.province_a,
                     period_start=START, period_end=END)
    report = province_report(session=session, actor=sup, place_id=world.province_a,
                             period_start=START, period_end=END)
    figure = report.figure("report.models.communes_implementing")
    assert (first.implementing, first.total) == (figure.value, figure.denominator) == (2, 3)
    by_name = {c.name: c for c in first.communes}
    assert by_name["Xã A Một"].implementing and not by_name["Xã A Ba"].implementing
    assert by_name["Xã A Một"].managed_clients == 1
    # A volunteer team founded by the period end makes A3 implement the model.
    create_organisation(session=session, actor=sup, data=_team(
        world, name="Đội xã A Ba", place_id=a3, founded_on=date(2025, 8, 1)))
    again = coverage(session=session, actor=sup, place_id=world.province_a,
                     period_start=START, period_end=END)
    assert (again.implementing, again.total) == (3, 3)
    assert {c.name: c for c in again.communes}["Xã A Ba"].counts == {"volunteer_team": 1}
    with pytest.raises(PermissionDenied):
        coverage(session=session, actor=sup, place_id=world.province_b, period_start=START,
                 period_end=END)
