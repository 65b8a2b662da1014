"""The supervisor screens' States driven without a browser: roles, scope and what they change.

Each test signs a real user in (a real server-side session in a real SQLite file), puts the
token where the browser's cookie would be, and calls the handlers as Reflex would.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app.app  # noqa: F401  (registers every page and State)
from app.pages.caseload import CaseloadState
from app.pages.import_page import ImportState
from app.pages.reports import ReportsState
from app.pages.teams import TeamsState
from app.state.guard import HANDLER_ROLES
from app.state.session import AppState
from models import Client, Episode, EpisodeStatus, Organisation, Role
from tests.factories import World
from tests.state.conftest import audits, page_state, run, sign_in

STATES: tuple[type[AppState], ...] = (CaseloadState, ReportsState, TeamsState, ImportState)

# Plausible arguments for every handler of these screens (a new handler without one fails).
CALLS: dict[str, tuple[Any, ...]] = {
    "CaseloadState.load": (),
    "CaseloadState.apply_filters": ({"commune_id": "1"},),
    "CaseloadState.next_page": (),
    "CaseloadState.previous_page": (),
    "CaseloadState.toggle_select": ("1",),
    "CaseloadState.select_page": (),
    "CaseloadState.clear_selection": (),
    "CaseloadState.reassign": ({"to_volunteer": "1"},),
    "CaseloadState.approve_closure": ("1",),
    "CaseloadState.reject_closure": ("1",),
    "CaseloadState.load_duplicates": (),
    "CaseloadState.merge_pair": ("1", "2"),
    "CaseloadState.undo_merge": ("1",),
    "ReportsState.load": (),
    "ReportsState.run": ({"preset": "q_current", "place_id": "1"},),
    "ReportsState.drill": ("report.community.managed",),
    "ReportsState.close_drill": (False,),
    "ReportsState.set_deidentified": (False,),
    "ReportsState.download_report": ("xlsx",),
    "ReportsState.download_line_list": ("csv",),
    "TeamsState.load": (),
    "TeamsState.pick_place": ("1",),
    "TeamsState.edit": ("1",),
    "TeamsState.new": (),
    "TeamsState.save": ({"name": "Đội X", "kind": "volunteer_team", "place_id": "3"},),
    "TeamsState.add_member": ({"member": "1"},),
    "TeamsState.end_member": ("1",),
    "ImportState.load": (),
    "ImportState.download_template": (),
    "ImportState.commit": (),
}


@pytest.fixture
def world_db(world_db: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> World:
    """The shared world, run from the test's folder (the import staging folder lands there)."""
    monkeypatch.chdir(tmp_path)
    return world_db


def test_every_supervisor_handler_is_for_supervisors_only_and_is_exercised_here() -> None:
    names = {n: r for n, r in HANDLER_ROLES.items()
             if n.split(".")[0] in {c.__name__ for c in STATES}}
    assert set(names) - {"ImportState.upload"} == set(CALLS)
    assert all(roles == frozenset({Role.SUPERVISOR}) for roles in names.values())


@pytest.mark.parametrize("who", ["vol_a1", "clinic_a", "admin"])
@pytest.mark.parametrize("handler", sorted(CALLS))
def test_other_roles_are_refused_every_supervisor_handler_and_audited(
    world_db: World, engine: Engine, who: str, handler: str
) -> None:
    cls_name, name = handler.split(".")
    cls = next(c for c in STATES if c.__name__ == cls_name)
    state = page_state(cls, sign_in(engine, who))
    yielded = run(getattr(state, name), *CALLS[handler])
    assert yielded, "a refusal tells the browser something (a toast)"
    denied = audits(engine, action="handler.call", outcome="denied",
                     actor_id=world_db.users[who])
    assert [e.detail for e in denied] == [handler]
    assert not getattr(state, "rows", []) and not getattr(state, "orgs", [])


def test_the_caseload_of_a_province_supervisor_holds_only_their_clients(
    world_db: World, engine: Engine
) -> None:
    state = page_state(CaseloadState, sign_in(engine, "sup_a"))
    run(state.load)
    assert {r["id"] for r in state.rows} == {str(world_db.clients["a1"]),
                                            str(world_db.clients["a2"])}
    assert {c["id"] for c in state.closures} == {str(world_db.episodes["a1_proposed"]),
                                                str(world_db.episodes["a2_proposed"])}
    # Nothing sensitive travels in the rows.
    assert not any("hiv" in key or "ethnicity" in key for row in state.rows for key in row)


def test_reassigning_a_client_of_another_province_is_not_found_and_audited(
    world_db: World, engine: Engine
) -> None:
    state = page_state(CaseloadState, sign_in(engine, "sup_a"))
    run(state.load)
    run(state.toggle_select, str(world_db.clients["b1"]))
    run(state.reassign, {"to_volunteer": str(world_db.users["vol_a1"])})
    assert state.error == "Không tìm thấy."
    with Session(engine) as s:
        assert s.get(Client, world_db.clients["b1"]).assigned_volunteer_id is None  # type: ignore[union-attr]
    assert audits(engine, action="client.reassign", outcome="denied",
                   target_id=world_db.clients["b1"])


def test_reassigning_to_a_volunteer_of_the_commune_changes_the_client(
    world_db: World, engine: Engine
) -> None:
    state = page_state(CaseloadState, sign_in(engine, "sup_a"))
    run(state.load)
    run(state.toggle_select, str(world_db.clients["a1"]))
    run(state.toggle_select, "not-a-number")
    assert state.selected == [str(world_db.clients["a1"])]
    run(state.reassign, {"to_volunteer": str(world_db.users["vol_a1_peer"])})
    assert state.error == "" and state.success
    with Session(engine) as s:
        client = s.get(Client, world_db.clients["a1"])
        assert client is not None and client.assigned_volunteer_id == world_db.users["vol_a1_peer"]


def test_closures_are_decided_only_for_those_listed_in_scope(
    world_db: World, engine: Engine
) -> None:
    state = page_state(CaseloadState, sign_in(engine, "sup_a"))
    run(state.load)
    run(state.approve_closure, str(world_db.episodes["b1_proposed"]))
    assert state.error == "Không tìm thấy."
    run(state.approve_closure, str(world_db.episodes["a1_proposed"]))
    run(state.reject_closure, str(world_db.episodes["a2_proposed"]))
    with Session(engine) as s:
        statuses = {e.id: e.status for e in s.exec(select(Episode)).all()}
    assert statuses[world_db.episodes["a1_proposed"]] == EpisodeStatus.CLOSED
    assert statuses[world_db.episodes["a2_proposed"]] == EpisodeStatus.OPEN
    assert statuses[world_db.episodes["b1_proposed"]] == EpisodeStatus.CLOSURE_PROPOSED


def test_merging_with_a_client_of_another_province_is_not_found_and_audited(
    world_db: World, engine: Engine
) -> None:
    state = page_state(CaseloadState, sign_in(engine, "sup_a"))
    run(state.merge_pair, str(world_db.clients["a1"]), str(world_db.clients["b1"]))
    assert state.error == "Không tìm thấy."
    assert audits(engine, action="client.reassign", outcome="denied",
                   target_id=world_db.clients["b1"])
    with Session(engine) as s:
        assert s.get(Client, world_db.clients["b1"]).status == "active"  # type: ignore[union-attr]


def test_the_report_of_another_province_is_refused_and_a_drilldown_lists_people_in_scope(
    world_db: World, engine: Engine
) -> None:
    state = page_state(ReportsState, sign_in(engine, "sup_a"))
    run(state.load)
    assert state.place_id == str(world_db.province_a) and state.rows
    run(state.drill, "report.community.managed")
    assert state.drill_open
    assert all(r["href"].startswith("/clients/") for r in state.drill_rows)
    run(state.run, {"preset": "q_current", "place_id": str(world_db.province_b)})
    assert state.error and state.rows == []
    # Downloads use the report on screen, which is now none.
    assert run(state.download_report, "xlsx") == []


def test_a_team_saved_on_the_teams_screen_lands_in_the_commune(
    world_db: World, engine: Engine
) -> None:
    state = page_state(TeamsState, sign_in(engine, "sup_a"))
    run(state.load)
    form = {"name": "Đội CTXH xã A Một", "kind": "volunteer_team",
            "place_id": str(world_db.commune_a1), "founding_decision": "12/QĐ-UBND",
            "founded_on": "2024-03-01", "active": "on"}
    run(state.save, form)
    run(state.save, form)  # a double tap: the same form key, one team
    with Session(engine) as s:
        teams = s.exec(select(Organisation).where(Organisation.name == form["name"])).all()
    assert len(teams) == 1 and teams[0].place_id == world_db.commune_a1
    assert state.implementing >= 1 and state.total == 2
    run(state.save, {**form, "name": "Đội B", "place_id": str(world_db.commune_b1)})
    assert state.error
    with Session(engine) as s:
        assert not s.exec(select(Organisation).where(Organisation.name == "Đội B")).all()
