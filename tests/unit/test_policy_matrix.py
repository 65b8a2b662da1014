"""Role × action × scope: who may call which service on which record. Every cell is explicit.

The world (tests/factories.build_world): provinces A and B; communes A1, A2 (in A) and B1 (in
B); client_a1 (A1, volunteer vol_a1, referred to clinic A), client_a2 (A2, vol_a2, referred
to clinic B), client_b1 (B1, unassigned). Each cell runs in a transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.services import activities, clients, law
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.dto import (
    ClientUpdate,
    DrugTestCreate,
    DurationRuleCreate,
    EpisodeCreate,
    GroupActivityCreate,
    OutreachContactCreate,
    ReferralCreate,
    SupportCreate,
    VisitCreate,
)
from app.services.errors import NotFound, PermissionDenied
from app.services.law import episodes, rules
from app.services.law.dto import DeterminationCreate, ResidenceChangeCreate
from app.services.policy import (
    Action,
    ClientTarget,
    PlaceTarget,
    ReferralTarget,
    can,
    client_scope_filter,
    require,
    role_may,
    visible_fields,
)
from models import (
    Client,
    ContactCategory,
    DurationRule,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    GroupActivityKind,
    ReferralService,
    ReferralStatus,
    Role,
    SupportKind,
    VisitKind,
)
from models import (
    TestResult as DrugResult,
)
from tests.factories import (
    WORLD_ACTORS,
    World,
    build_world,
    client_create,
    make_determination,
    prepare_database,
    reset_database,
)

TODAY = today_vn()
YESTERDAY = TODAY - timedelta(days=1)


@pytest.fixture(scope="module")
def world_engine(tmp_path_factory: pytest.TempPathFactory,
                 pg_server_url: str | None) -> Iterator[Engine]:
    url = pg_server_url or f"sqlite:///{tmp_path_factory.mktemp('matrix')}/m.db"
    engine = prepare_database(url)
    yield engine
    reset_database(engine)


@pytest.fixture(scope="module")
def world(world_engine: Engine) -> World:
    with Session(world_engine) as s:
        return build_world(s)


@pytest.fixture
def cell(world_engine: Engine) -> Iterator[Session]:
    """One matrix cell: whatever the service writes is rolled back afterwards."""
    with Session(world_engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


Call = Callable[[Session, Actor | None, World, str], Any]


@dataclass(frozen=True)
class Case:
    service: str
    action: Action
    call: Call
    allowed: dict[str, frozenset[str]]  # target key -> actors allowed
    client_bound: bool = True  # target is a client record (else a commune, or nothing)


def _set(*names: str) -> frozenset[str]:
    return frozenset(names)


# Who may act on each client as its case worker (write to the record).
CASE_WORKERS = {
    "a1": _set("vol_a1", "sup_a1", "sup_a"),
    "a2": _set("vol_a2", "sup_a"),
    "b1": _set("sup_b"),
}
# Who may read each client: case workers plus the clinic the client was referred to.
READERS = {
    "a1": CASE_WORKERS["a1"] | {"clinic_a"},
    "a2": CASE_WORKERS["a2"] | {"clinic_b"},
    "b1": CASE_WORKERS["b1"],
}
SUPERVISORS = {"a1": _set("sup_a1", "sup_a"), "a2": _set("sup_a"), "b1": _set("sup_b")}
# Who may register clients / log contacts in each commune.
IN_COMMUNE = {
    "a1": _set("vol_a1", "vol_a1_peer", "sup_a1", "sup_a"),
    "a2": _set("vol_a2", "sup_a"),
    "b1": _set("sup_b"),
}


def _commune(w: World, key: str) -> int:
    return {"a1": w.commune_a1, "a2": w.commune_a2, "b1": w.commune_b1}[key]


def _register(s: Session, a: Actor | None, w: World, k: str) -> Any:
    data = client_create(_commune(w, k), full_name="Đặng Văn Giang", birth_year=1995)
    return clients.register_client(session=s, actor=a, data=data)


def _get(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return clients.get_client(session=s, actor=a, client_id=w.clients[k])


def _timeline(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return clients.client_timeline(session=s, actor=a, client_id=w.clients[k])


def _update(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return clients.update_client(session=s, actor=a, client_id=w.clients[k],
                                 data=ClientUpdate(address="Thôn 3"), expected_version=1)


def _reassign(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return clients.reassign_clients(session=s, actor=a, client_ids=[w.clients[k]],
                                    volunteer_id=None)


def _visit(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return activities.log_visit(session=s, actor=a, data=VisitCreate(
        client_id=w.clients[k], visit_date=YESTERDAY, kind=VisitKind.HOME))


def _test(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return activities.record_drug_test(session=s, actor=a, data=DrugTestCreate(
        client_id=w.clients[k], tested_on=YESTERDAY, result=DrugResult.NEGATIVE))


def _refer(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return activities.create_referral(session=s, actor=a, data=ReferralCreate(
        client_id=w.clients[k], service=ReferralService.HIV_TEST, facility_id=w.facility_a,
        referred_on=YESTERDAY, consent=True))


def _support(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return activities.record_support(session=s, actor=a, data=SupportCreate(
        client_id=w.clients[k], kind=SupportKind.LOAN, started_on=YESTERDAY,
        amount_vnd=35_000_000, term_months=24))


def _open_episode(s: Session, a: Actor | None, w: World, k: str) -> Any:
    # The world's clients are under illegal-use and post-rehab management, which the law lets
    # no rehab overlap: end them first (setup, not the call under test).
    for ep in s.exec(select(Episode).where(Episode.client_id == w.clients[k])).all():
        ep.status = EpisodeStatus.CLOSED
        s.add(ep)
    s.flush()
    make_determination(s, w.clients[k], YESTERDAY)  # a voluntary registration needs one
    return episodes.open_episode(session=s, actor=a, client_id=w.clients[k], data=EpisodeCreate(
        episode_type=EpisodeType.VOLUNTARY_COMMUNITY, start_date=YESTERDAY))


def _propose(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return episodes.propose_closure(
        session=s, actor=a, episode_id=w.episodes[f"{k}_open"], end_reason=EndReason.COMPLETED,
        actual_end=YESTERDAY, expected_version=1)


def _approve(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return episodes.approve_closure(session=s, actor=a, episode_id=w.episodes[f"{k}_proposed"],
                                    expected_version=1)


def _complete(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return activities.complete_referral(session=s, actor=a, referral_id=w.referrals[k],
                                        status=ReferralStatus.USED)


def _contact(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return activities.log_outreach_contact(session=s, actor=a, data=OutreachContactCreate(
        contact_date=YESTERDAY, place_id=_commune(w, k), category=ContactCategory.RELATIVE,
        count=3))


def _group(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return activities.record_group_activity(session=s, actor=a, data=GroupActivityCreate(
        kind=GroupActivityKind.THEMATIC_TALK, held_on=YESTERDAY, place_id=_commune(w, k),
        attendees_total=30, attendees_clients=0))


def _search(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return clients.search_clients(session=s, actor=a)


def _due(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return activities.due_followups(session=s, actor=a, today=TODAY)


def _overdue(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return episodes.episodes_overdue(session=s, actor=a, today=TODAY)


def _ending(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return episodes.episodes_ending_soon(session=s, actor=a, today=TODAY)


def _list_rules(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return rules.list_rules(session=s, actor=a)


def _add_rule(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return rules.add_rule(session=s, actor=a, data=DurationRuleCreate(
        episode_type=EpisodeType.POST_REHAB, months=18, effective_from=date(2027, 1, 1),
        legal_basis="A future decree"))


def _determination(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return law.record_determination(session=s, actor=a, client_id=w.clients[k],
                                    data=DeterminationCreate(determined_on=YESTERDAY,
                                                             dependent=False,
                                                             facility_name="Trạm y tế"))


def _move(s: Session, a: Actor | None, w: World, k: str) -> Any:
    to = w.commune_b1 if k != "b1" else w.commune_a1
    return law.record_move(session=s, actor=a, client_id=w.clients[k],
                           data=ResidenceChangeCreate(to_commune_id=to, moved_on=YESTERDAY))


def _term_changes(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return law.term_changes(session=s, actor=a)


def _deadlines(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return law.supervisor_deadlines(session=s, actor=a, today=TODAY)


def _proposals(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return law.post_rehab_proposals(session=s, actor=a)


def _close_rule(s: Session, a: Actor | None, w: World, k: str) -> Any:
    rule = s.exec(select(DurationRule).order_by(DurationRule.id)).first()  # type: ignore[arg-type]
    assert rule is not None and rule.id is not None
    return law.close_rule(session=s, actor=a, rule_id=rule.id,
                          effective_to=rule.effective_from + timedelta(days=1))


def _impact(s: Session, a: Actor | None, w: World, k: str) -> Any:
    return law.rule_change_impact(session=s, actor=a, add=DurationRuleCreate(
        episode_type=EpisodeType.MMT, months=0, effective_from=date(2027, 1, 1),
        legal_basis="A future decree"))


SUPERVISORS_ALL = {"-": _set("sup_a1", "sup_a", "sup_b")}
ADMINS = {"-": _set("admin")}
FIELD_WORKERS = {"-": _set("vol_a1", "vol_a1_peer", "vol_a2", "sup_a1", "sup_a", "sup_b")}
A_ = Action
CASES = [
    Case("get_client", A_.CLIENT_READ, _get, READERS),
    Case("client_timeline", A_.CLIENT_READ, _timeline, READERS),
    Case("update_client", A_.CLIENT_UPDATE, _update, CASE_WORKERS),
    Case("reassign_clients", A_.CLIENT_REASSIGN, _reassign, SUPERVISORS),
    Case("log_visit", A_.VISIT_CREATE, _visit, CASE_WORKERS),
    Case("record_drug_test", A_.TEST_CREATE, _test, CASE_WORKERS),
    Case("create_referral", A_.REFERRAL_CREATE, _refer, CASE_WORKERS),
    Case("record_support", A_.SUPPORT_CREATE, _support, CASE_WORKERS),
    # The volunteer enters the authority's decision for their own client; supervisors too.
    Case("open_episode", A_.EPISODE_OPEN, _open_episode, CASE_WORKERS),
    Case("propose_closure", A_.EPISODE_PROPOSE_CLOSE, _propose, CASE_WORKERS),
    Case("approve_closure", A_.EPISODE_APPROVE_CLOSE, _approve, SUPERVISORS),
    Case("complete_referral", A_.REFERRAL_COMPLETE, _complete,
         {"a1": _set("sup_a1", "sup_a", "clinic_a"), "a2": _set("sup_a", "clinic_b")}),
    Case("register_client", A_.CLIENT_CREATE, _register, IN_COMMUNE, client_bound=False),
    Case("log_outreach_contact", A_.CONTACT_CREATE, _contact, IN_COMMUNE, client_bound=False),
    Case("record_group_activity", A_.GROUP_CREATE, _group, IN_COMMUNE, client_bound=False),
    Case("search_clients", A_.CLIENT_SEARCH, _search,
         {"-": FIELD_WORKERS["-"] | {"clinic_a", "clinic_b"}}, client_bound=False),
    Case("due_followups", A_.CASELOAD_VIEW, _due, FIELD_WORKERS, client_bound=False),
    Case("episodes_overdue", A_.CASELOAD_VIEW, _overdue, FIELD_WORKERS, client_bound=False),
    Case("episodes_ending_soon", A_.CASELOAD_VIEW, _ending, FIELD_WORKERS, client_bound=False),
    Case("list_rules", A_.RULE_EDIT, _list_rules, {"-": _set("admin")}, client_bound=False),
    Case("add_rule", A_.RULE_EDIT, _add_rule, {"-": _set("admin")}, client_bound=False),
    # The law's records and decisions (issue 16).
    Case("record_determination", A_.LAW_RECORD, _determination, CASE_WORKERS),
    Case("record_move", A_.LAW_RECORD, _move, CASE_WORKERS),
    Case("term_changes", A_.EPISODE_DECIDE, _term_changes, SUPERVISORS_ALL, client_bound=False),
    Case("supervisor_deadlines", A_.EPISODE_DECIDE, _deadlines, SUPERVISORS_ALL,
         client_bound=False),
    Case("post_rehab_proposals", A_.EPISODE_DECIDE, _proposals, SUPERVISORS_ALL,
         client_bound=False),
    Case("close_rule", A_.RULE_EDIT, _close_rule, ADMINS, client_bound=False),
    Case("rule_change_impact", A_.RULE_EDIT, _impact, ADMINS, client_bound=False),
]


def _cell_id(case: Case, target: str, actor: str, allowed: bool) -> str:
    where = "" if target == "-" else ("client_" if case.client_bound else "commune_") + target
    return "-".join(p for p in (case.service, where, actor,
                                "allowed" if allowed else "denied") if p)


CELLS = [
    pytest.param(case, target, actor, actor in allowed,
                 id=_cell_id(case, target, actor, actor in allowed))
    for case in CASES
    for target, allowed in case.allowed.items()
    for actor in WORLD_ACTORS
]


@pytest.mark.parametrize(("case", "target", "actor_name", "expected"), CELLS)
def test_service_access_matrix(cell: Session, world: World, case: Case, target: str,
                               actor_name: str, expected: bool) -> None:
    actor = world.actor(cell, actor_name)
    if expected:
        case.call(cell, actor, world, target)
        return
    # A role that may do this to some clients must not learn that another client exists:
    # out of scope reads as NotFound. Lacking the action at all (or a place out of scope) is
    # PermissionDenied, whatever the record.
    hides_existence = case.client_bound and actor is not None and role_may(actor.role, case.action)
    with pytest.raises(NotFound if hides_existence else PermissionDenied) as denied:
        case.call(cell, actor, world, target)
    assert denied.type is (NotFound if hides_existence else PermissionDenied)


def test_disabled_user_has_no_actor(cell: Session, world: World) -> None:
    assert world.actor(cell, "disabled") is None


@pytest.mark.parametrize("action", list(Action), ids=str)
def test_nobody_without_an_actor_may_do_anything(action: Action) -> None:
    assert not can(None, action, PlaceTarget(1))
    assert not can(None, action)
    with pytest.raises(PermissionDenied):
        require(None, action)


def _target(w: World, key: str, s: Session) -> ClientTarget:
    from app.services.policy import client_target

    client = s.get(Client, w.clients[key])
    assert client is not None
    return client_target(s, client)


@pytest.mark.parametrize(("actor_name", "key", "expected"), [
    ("vol_a1", "a1", True),       # own assigned client
    ("vol_a1_peer", "a1", False),  # same commune, not assigned
    ("vol_a2", "a1", False),
    ("sup_a1", "a1", True),
    ("sup_a", "a2", True),
    ("sup_b", "a1", False),
    ("clinic_a", "a1", False),    # clinic never sees sensitive fields
    ("admin", "a1", False),
])
def test_sensitive_fields_visibility(cell: Session, world: World, actor_name: str, key: str,
                                     expected: bool) -> None:
    actor = world.actor(cell, actor_name)
    fields = visible_fields(actor, _target(world, key, cell))
    assert (fields == {"hiv_status", "ethnicity"}) is expected


@pytest.mark.parametrize(("actor_name", "expected"), [
    ("vol_a1", {"a1"}), ("vol_a1_peer", set()), ("vol_a2", {"a2"}), ("sup_a1", {"a1"}),
    ("sup_a", {"a1", "a2"}), ("sup_b", {"b1"}), ("clinic_a", {"a1"}), ("clinic_b", {"a2"}),
    ("admin", set()),
])
def test_client_scope_filter_returns_exactly_the_scope(cell: Session, world: World,
                                                       actor_name: str, expected: set[str]) -> None:
    from sqlmodel import select

    actor = world.actor(cell, actor_name)
    ids = set(cell.exec(select(Client.id).where(client_scope_filter(actor))).all())
    assert ids == {world.clients[k] for k in expected}


def test_clinic_loses_sight_of_a_client_when_the_referral_is_declined(cell: Session,
                                                                    world: World) -> None:
    clinic = world.actor(cell, "clinic_a")
    activities.complete_referral(session=cell, actor=world.actor(cell, "sup_a"),
                                 referral_id=world.referrals["a1"], status=ReferralStatus.DECLINED)
    with pytest.raises(NotFound):
        clients.get_client(session=cell, actor=clinic, client_id=world.clients["a1"])


def test_out_of_scope_client_looks_exactly_like_a_missing_one(cell: Session, world: World) -> None:
    vol = world.actor(cell, "vol_a1")
    with pytest.raises(NotFound) as out_of_scope:
        clients.get_client(session=cell, actor=vol, client_id=world.clients["b1"])
    with pytest.raises(NotFound) as missing:
        clients.get_client(session=cell, actor=vol, client_id=987654)
    assert (out_of_scope.value.key, out_of_scope.value.params) == (
        missing.value.key, missing.value.params)


def test_admin_is_refused_client_records_whether_or_not_they_exist(cell: Session,
                                                                 world: World) -> None:
    admin = world.actor(cell, "admin")
    for client_id in (world.clients["a1"], 987654):
        with pytest.raises(PermissionDenied):
            clients.get_client(session=cell, actor=admin, client_id=client_id)


def test_policy_targets_of_the_wrong_kind_are_denied(world: World) -> None:
    sup = Actor(user_id=1, role=Role.SUPERVISOR, commune_ids=frozenset({5}))
    client = ClientTarget(client_id=1, commune_id=5, assigned_volunteer_id=None)
    assert can(sup, Action.CLIENT_READ, client)
    assert not can(sup, Action.CLIENT_READ, PlaceTarget(5))  # a place is not a client
    assert not can(sup, Action.CLIENT_READ)  # a client action needs its client
    assert not can(sup, Action.REFERRAL_COMPLETE, client)
    assert can(sup, Action.REFERRAL_COMPLETE, ReferralTarget(facility_id=None, client=client))
    assert not can(sup, Action.USER_ADMIN)


def test_a_peer_volunteer_cannot_list_another_volunteers_client_at_a_group_talk(
    cell: Session, world: World
) -> None:
    peer = world.actor(cell, "vol_a1_peer")
    with pytest.raises(NotFound):
        activities.record_group_activity(session=cell, actor=peer, data=GroupActivityCreate(
            kind=GroupActivityKind.THEMATIC_TALK, held_on=YESTERDAY,
            place_id=_commune(world, "a1"), attendees_total=30, attendees_clients=1,
            client_ids=[world.clients["a1"]]))
    owner = world.actor(cell, "vol_a1")
    activities.record_group_activity(session=cell, actor=owner, data=GroupActivityCreate(
        kind=GroupActivityKind.THEMATIC_TALK, held_on=YESTERDAY,
        place_id=_commune(world, "a1"), attendees_total=30, attendees_clients=1,
        client_ids=[world.clients["a1"]]))
