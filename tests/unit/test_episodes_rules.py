"""The law's terms as rows, and episodes opened by decision on them (issue 16).

The expectations below are written from ../shared/LAW.md, not read back from the rows the app
ships: every (type, age band, first/repeat rehab, previous type) is checked for a decision the
day before and the day Law 120/2025/QH15 took effect (1 July 2026).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from app.services.calendar import add_months, today_vn
from app.services.dto import DurationRuleCreate, EpisodeCreate
from app.services.errors import Conflict, ValidationFailed
from app.services.law import episodes, rules
from app.services.law.dto import EpisodeReductionCreate
from app.services.law.rules import ADULT, FIRST, MINOR, REPEAT, RuleQuery, load_rules, rule_for
from models import (
    Client,
    DurationRule,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    LawClock,
)
from tests.factories import (
    World,
    build_world,
    count,
    determined_if_voluntary,
    make_client,
    prepare_database,
)

E = EpisodeType
TODAY = today_vn()
BEFORE, FROM = date(2026, 6, 30), date(2026, 7, 1)


def law_expects(t: EpisodeType, band: str, order: str, prev: EpisodeType | None,
                on: date) -> tuple[int, int, int]:
    """(min, max, default) months, from LAW.md L2-L13."""
    new_law = on >= FROM
    if t == E.ILLEGAL_USE:
        return 12, 12, 12  # L2: 1 year from the decision, both laws
    if t in (E.MMT, E.PENDING_COMPULSORY):
        return 0, 0, 0  # L13, L8: open-ended
    if t in (E.VOLUNTARY_COMMUNITY, E.VOLUNTARY_FACILITY):
        if new_law:  # L10: 24 months first, 36 repeat
            return (24, 24, 24) if order == FIRST else (36, 36, 36)
        return 6, 12, 6  # L4, L5
    if t == E.COMPULSORY:
        if band == MINOR:
            return 6, 12, 12  # L7
        if new_law:
            return (24, 24, 24) if order == FIRST else (36, 36, 36)
        return 12, 24, 24  # L6
    # L9 / L11: post-rehab 2 years for an adult after compulsory rehab, else 1 year.
    years = 2 if prev == E.COMPULSORY and band == ADULT else 1
    return 12 * years, 12 * years, 12 * years


CASES = [
    (t, band, order, prev, on)
    for t in E for band in (MINOR, ADULT) for order in (FIRST, REPEAT)
    for prev in (None, *E) for on in (BEFORE, FROM)
]


@pytest.fixture(scope="module")
def rules_engine(tmp_path_factory: pytest.TempPathFactory,
                 pg_server_url: str | None) -> Iterator[Engine]:
    """A database of this module's own with the rules loaded once (on PostgreSQL a separate
    database: the per-test one is emptied after every test)."""
    if pg_server_url is None:
        url = f"sqlite:///{tmp_path_factory.mktemp('rules')}/r.db"
    else:
        name = f"dh_rules_{secrets.token_hex(4)}"
        admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    engine = prepare_database(url)
    with Session(engine) as s:
        load_rules(s)
        s.commit()
    yield engine
    engine.dispose()
    if pg_server_url is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def loaded(rules_engine: Engine) -> Iterator[Session]:
    with Session(rules_engine) as s:
        yield s


@pytest.mark.parametrize(("episode_type", "band", "order", "previous", "on"), CASES,
                         ids=lambda v: getattr(v, "value", str(v)))
def test_the_rule_for_every_type_band_order_and_previous_type_on_either_side_of_the_new_law(
    loaded: Session, episode_type: EpisodeType, band: str, order: str,
    previous: EpisodeType | None, on: date,
) -> None:
    rule = rule_for(loaded, RuleQuery(episode_type, on, band, order, previous))
    assert rule is not None
    assert (rule.min_months, rule.max_months, rule.months) == law_expects(
        episode_type, band, order, previous, on)
    assert rule.legal_basis.startswith("Law 120/2025") or on < FROM or \
        "carried over" in rule.legal_basis or "open-ended" in rule.legal_basis
    # Only rows built on the official text are trusted without review (LAW.md confidence).
    if on >= FROM:
        assert rule.needs_review


def test_management_of_illegal_use_counts_from_the_decision_date(loaded: Session) -> None:
    rule = rule_for(loaded, RuleQuery(E.ILLEGAL_USE, BEFORE, ADULT))
    assert rule is not None
    end = rules.term_end(rule, start=date(2026, 3, 20), decision=date(2026, 3, 2),
                         decided_months=None)
    assert end == date(2027, 3, 2)


def test_no_rule_before_the_2021_law_took_effect(loaded: Session) -> None:
    assert rule_for(loaded, RuleQuery(E.POST_REHAB, date(2021, 12, 31), ADULT)) is None


def test_loading_the_rules_is_idempotent_and_replaces_the_old_single_term_rows(
    session: Session,
) -> None:
    # The table as seeded before issue 16: one row per type, placeholders from 2026.
    session.add(DurationRule(episode_type=E.POST_REHAB, months=12,
                             effective_from=date(2022, 1, 1),
                             legal_basis="Law 73/2021/QH14 art. 40; Decree 116/2021: post-rehab"))
    session.add(DurationRule(episode_type=E.POST_REHAB, months=24, effective_from=FROM,
                             legal_basis="Law 120/2025/QH15 from 2026-07-01: PLACEHOLDER, x"))
    session.add(DurationRule(episode_type=E.MMT, months=0, effective_from=date(2030, 1, 1),
                             legal_basis="An administrator's own row"))
    session.flush()
    first = load_rules(session)
    again = load_rules(session)
    assert first == (len(rules.TERMS_2021) + len(rules.TERMS_2025) + len(rules.CLOCKS)
                     + len(rules.OVERLAPS))
    assert again == 0
    bases = session.exec(select(DurationRule.legal_basis)).all()
    assert not any("PLACEHOLDER" in b or b.startswith("Law 73/2021/QH14 art. ") for b in bases)
    assert "An administrator's own row" in bases
    assert count(session, LawClock) == len(rules.CLOCKS)


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 3, 15), 12, date(2026, 3, 15)),
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
])
def test_add_months_clamps_to_the_end_of_the_month(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end


# ---- opening by decision ----------------------------------------------------------------------


def _free(session: Session, client_id: int) -> None:
    """Setup: end the world client's episodes (illegal-use management blocks any rehab)."""
    for ep in session.exec(select(Episode).where(Episode.client_id == client_id)).all():
        ep.status = EpisodeStatus.CLOSED
        session.add(ep)
    session.flush()


def _open(session: Session, world: World, client: str, t: EpisodeType, start: date,
          decision: date | None = None, **extra: object) -> object:
    determined_if_voluntary(session, world.clients[client], t, decision, start)
    return episodes.open_episode(
        session=session, actor=world.actor(session, "sup_a"), client_id=world.clients[client],
        data=EpisodeCreate(episode_type=t, start_date=start, decision_date=decision,
                           **extra))  # type: ignore[arg-type]


def test_a_voluntary_rehab_decided_in_august_2026_gets_the_new_laws_24_months(
    session: Session, world: World,
) -> None:
    _free(session, world.clients["a1"])
    opened = _open(session, world, "a1", E.VOLUNTARY_COMMUNITY, date(2026, 8, 10),
                   date(2026, 8, 5), decision_number="12/QĐ-UBND",
                   decision_authority="UBND xã A Một", decision_signer="Nguyễn Văn Chủ")
    assert opened.expected_end == date(2028, 8, 10)  # type: ignore[attr-defined]
    assert opened.decision_authority == "UBND xã A Một"  # type: ignore[attr-defined]
    assert opened.age_band == ADULT  # type: ignore[attr-defined]


def test_a_second_rehab_under_the_new_law_is_36_months(session: Session, world: World) -> None:
    _free(session, world.clients["a1"])
    session.add(Episode(client_id=world.clients["a1"], episode_type=E.VOLUNTARY_FACILITY,
                        start_date=date(2023, 1, 1), status=EpisodeStatus.CLOSED,
                        actual_end=date(2023, 7, 1)))
    session.flush()
    opened = _open(session, world, "a1", E.VOLUNTARY_COMMUNITY, date(2026, 9, 1))
    assert opened.rehab_count == 2  # type: ignore[attr-defined]
    assert opened.expected_end == date(2029, 9, 1)  # type: ignore[attr-defined]


def test_a_decided_term_must_lie_within_the_bounds_on_the_decision_date(
    session: Session, world: World,
) -> None:
    _free(session, world.clients["a1"])
    with pytest.raises(ValidationFailed) as failed:
        _open(session, world, "a1", E.COMPULSORY, date(2026, 6, 1), date(2026, 5, 20),
              decided_months=30)
    assert failed.value.fields == {"decided_months": "error.term_out_of_bounds"}
    opened = _open(session, world, "a1", E.COMPULSORY, date(2026, 6, 1), date(2026, 5, 20),
                   decided_months=18)
    assert opened.expected_end == date(2027, 12, 1)  # type: ignore[attr-defined]


def test_a_minors_compulsory_rehab_is_6_to_12_months(session: Session, world: World) -> None:
    minor = make_client(session, world.commune_a1, world.users["vol_a1"], name="Trẻ Vị Thành",
                        birth_year=2010, birth_date=date(2010, 3, 1))
    opened = episodes.open_episode(
        session=session, actor=world.actor(session, "sup_a"), client_id=minor,
        data=EpisodeCreate(episode_type=E.COMPULSORY, start_date=date(2025, 5, 1),
                           decision_date=date(2025, 4, 20), decided_months=9))
    assert (opened.age_band, opened.expected_end) == (MINOR, date(2026, 2, 1))


def test_admission_ends_pending_management_and_facility_time_counts_against_the_term(
    session: Session, world: World,
) -> None:
    _free(session, world.clients["a1"])
    pending = _open(session, world, "a1", E.PENDING_COMPULSORY, date(2025, 1, 1),
                    held_at="facility")
    assert pending.expected_end is None  # type: ignore[attr-defined]
    admitted = _open(session, world, "a1", E.COMPULSORY, date(2025, 1, 31), date(2025, 1, 30))
    assert admitted.credited_days == 30  # type: ignore[attr-defined]
    assert admitted.expected_end == date(2027, 1, 31) - timedelta(days=30)  # type: ignore[attr-defined]
    ended = session.get(Episode, pending.id)  # type: ignore[attr-defined]
    assert ended is not None
    assert (ended.status, ended.end_reason, ended.actual_end) == (
        EpisodeStatus.CLOSED, EndReason.ADMITTED, date(2025, 1, 31))


def test_pending_management_at_home_credits_nothing(session: Session, world: World) -> None:
    _free(session, world.clients["a1"])
    _open(session, world, "a1", E.PENDING_COMPULSORY, date(2025, 1, 1), held_at="family")
    admitted = _open(session, world, "a1", E.COMPULSORY, date(2025, 1, 31))
    assert admitted.credited_days == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(("live", "new", "key"), [
    (E.VOLUNTARY_COMMUNITY, E.COMPULSORY, "error.overlap.one_rehab"),
    (E.MMT, E.VOLUNTARY_FACILITY, "error.overlap.one_rehab"),
    (E.COMPULSORY, E.POST_REHAB, "error.overlap.post_rehab"),
    (E.ILLEGAL_USE, E.VOLUNTARY_COMMUNITY, "error.overlap.illegal_use"),
    (E.PENDING_COMPULSORY, E.ILLEGAL_USE, "error.overlap.illegal_use"),
    (E.ILLEGAL_USE, E.ILLEGAL_USE, "error.episode_already_open"),
])
def test_overlaps_the_law_forbids_are_refused_naming_the_rule(
    session: Session, world: World, live: EpisodeType, new: EpisodeType, key: str,
) -> None:
    _free(session, world.clients["a1"])
    _open(session, world, "a1", live, date(2025, 1, 1),
          held_at="family" if live == E.PENDING_COMPULSORY else "")
    with pytest.raises(ValidationFailed) as failed:
        _open(session, world, "a1", new, date(2025, 2, 1))
    assert failed.value.fields == {"episode_type": key}


def test_methadone_has_no_expected_end(session: Session, world: World) -> None:
    _free(session, world.clients["a1"])
    assert _open(session, world, "a1", E.MMT, TODAY).expected_end is None  # type: ignore[attr-defined]


def test_a_reduction_is_recorded_with_its_own_decision_and_moves_the_end(
    session: Session, world: World,
) -> None:
    _free(session, world.clients["a1"])
    opened = _open(session, world, "a1", E.COMPULSORY, date(2025, 3, 1), date(2025, 2, 20))
    reduced = episodes.add_reduction(
        session=session, actor=world.actor(session, "sup_a"),
        episode_id=opened.id,  # type: ignore[attr-defined]
        data=EpisodeReductionCreate(months=4, decision_number="7/QĐ-TA",
                                    decision_date=date(2025, 12, 1),
                                    decision_authority="Tòa án nhân dân khu vực 1"))
    assert reduced.expected_end == date(2026, 11, 1)
    with pytest.raises(ValidationFailed):
        episodes.add_reduction(
            session=session, actor=world.actor(session, "sup_a"),
            episode_id=opened.id,  # type: ignore[attr-defined]
            data=EpisodeReductionCreate(months=21, decision_number="8/QĐ-TA",
                                        decision_date=date(2025, 12, 2)))


# ---- rule changes never rewrite episodes; supervisors confirm --------------------------------


def test_an_administrator_rule_change_applies_to_later_decisions_only(
    session: Session, world: World,
) -> None:
    admin = world.actor(session, "admin")
    _free(session, world.clients["a1"])
    _free(session, world.clients["a2"])
    before = _open(session, world, "a2", E.VOLUNTARY_COMMUNITY, date(2025, 5, 31))
    change = DurationRuleCreate(episode_type=E.VOLUNTARY_COMMUNITY, months=9, min_months=6,
                                max_months=12, effective_from=date(2025, 5, 1),
                                effective_to=FROM, legal_basis="Correction by the province")
    impact = episodes.rule_change_impact(session=session, actor=admin, add=change)
    assert [(i.episode_id, i.current_end, i.new_end) for i in impact] == [
        (before.id, date(2025, 11, 30), date(2026, 2, 28))]  # type: ignore[attr-defined]
    rules.add_rule(session=session, actor=admin, data=change)
    after = _open(session, world, "a1", E.VOLUNTARY_COMMUNITY, date(2025, 6, 1))
    assert after.expected_end == date(2026, 3, 1)  # type: ignore[attr-defined]
    kept = session.get(Episode, before.id)  # type: ignore[attr-defined]
    assert kept is not None and kept.expected_end == date(2025, 11, 30)
    # The supervisor sees it among the terms to review, and confirms it.
    sup = world.actor(session, "sup_a")
    review = episodes.term_changes(session=session, actor=sup)
    assert [(c.episode_id, c.new_end) for c in review] == [
        (before.id, date(2026, 2, 28))]  # type: ignore[attr-defined]
    assert episodes.confirm_terms(session=session, actor=sup,
                                  versions={review[0].episode_id: review[0].version}) == 1
    session.refresh(kept)
    assert kept.expected_end == date(2026, 2, 28)
    assert episodes.term_changes(session=session, actor=sup) == []


def test_existing_episodes_show_the_term_the_new_rules_would_give_and_a_stale_confirm_conflicts(
    session: Session, world: World,
) -> None:
    # Carried over by the migration as the old table set it: a voluntary rehab opened in
    # August 2026 with the 6-month placeholder end. Its dates were not changed.
    _free(session, world.clients["a1"])
    old = Episode(client_id=world.clients["a1"], episode_type=E.VOLUNTARY_COMMUNITY,
                  start_date=date(2026, 8, 1), expected_end=date(2027, 2, 1))
    session.add(old)
    session.flush()
    sup = world.actor(session, "sup_a1")
    review = episodes.term_changes(session=session, actor=sup)
    assert [(c.episode_id, c.current_end, c.new_end) for c in review] == [
        (old.id, date(2027, 2, 1), date(2028, 8, 1))]
    assert episodes.term_changes(session=session, actor=world.actor(session, "sup_b")) == []
    with pytest.raises(Conflict):
        episodes.confirm_terms(session=session, actor=sup,
                               versions={c.episode_id: c.version + 1 for c in review})
    assert episodes.confirm_terms(session=session, actor=sup,
                                  versions={c.episode_id: c.version for c in review}) == 1
    session.refresh(old)
    assert (old.start_date, old.expected_end) == (date(2026, 8, 1), date(2028, 8, 1))


def test_closing_a_rule_changes_the_rule_for_later_decisions(session: Session,
                                                            world: World) -> None:
    admin = world.actor(session, "admin")
    rule = rule_for(session, RuleQuery(E.VOLUNTARY_COMMUNITY, FROM, ADULT, FIRST))
    assert rule is not None
    with pytest.raises(ValidationFailed):
        rules.close_rule(session=session, actor=admin, rule_id=rule.id,
                         effective_to=rule.effective_from)
    closed = rules.close_rule(session=session, actor=admin, rule_id=rule.id,
                              effective_to=date(2027, 1, 1))
    assert closed.effective_to == date(2027, 1, 1)
    assert rule_for(session, RuleQuery(E.VOLUNTARY_COMMUNITY, date(2027, 1, 1), ADULT,
                                       FIRST)) is None


# ---- closing --------------------------------------------------------------------------------


def test_closure_is_proposed_then_approved(session: Session, world: World) -> None:
    ep_id = world.episodes["a1_open"]
    proposed = episodes.propose_closure(
        session=session, actor=world.actor(session, "vol_a1"), episode_id=ep_id,
        end_reason=EndReason.COMPLETED, actual_end=TODAY, expected_version=1)
    assert proposed.status == EpisodeStatus.CLOSURE_PROPOSED
    closed = episodes.approve_closure(session=session, actor=world.actor(session, "sup_a1"),
                                      episode_id=ep_id, expected_version=2)
    assert (closed.status, closed.end_reason, closed.actual_end) == (
        EpisodeStatus.CLOSED, EndReason.COMPLETED, TODAY)


def test_approving_with_a_stale_version_is_a_conflict(session: Session, world: World) -> None:
    with pytest.raises(Conflict):
        episodes.approve_closure(session=session, actor=world.actor(session, "sup_a"),
                                 episode_id=world.episodes["a1_proposed"], expected_version=5)


def test_a_rejected_closure_reopens_the_episode(session: Session, world: World) -> None:
    reopened = episodes.reject_closure(session=session, actor=world.actor(session, "sup_a"),
                                       episode_id=world.episodes["a1_proposed"],
                                       expected_version=1)
    assert (reopened.status, reopened.end_reason) == (EpisodeStatus.OPEN, None)


def test_overdue_and_ending_soon_lists_respect_scope(session: Session, world: World) -> None:
    # World episodes are open until 2026-01-01.
    today = date(2026, 1, 10)
    overdue = episodes.episodes_overdue(session=session, actor=world.actor(session, "sup_a"),
                                        today=today)
    assert {i.client_id for i in overdue} == {world.clients["a1"], world.clients["a2"]}
    assert all(i.days_left == -9 for i in overdue)
    soon = episodes.episodes_ending_soon(session=session, actor=world.actor(session, "vol_a1"),
                                         today=date(2025, 12, 15), within_days=30)
    assert [(i.client_id, i.expected_end) for i in soon] == [
        (world.clients["a1"], date(2026, 1, 1))]
    none_yet = episodes.episodes_ending_soon(session=session, actor=world.actor(session, "sup_b"),
                                             today=date(2025, 11, 1), within_days=30)
    assert none_yet == []


def test_a_closure_date_in_the_future_is_refused(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        episodes.propose_closure(
            session=session, actor=world.actor(session, "vol_a1"),
            episode_id=world.episodes["a1_open"], end_reason=EndReason.MOVED,
            actual_end=TODAY + timedelta(days=1), expected_version=1)
    assert failed.value.fields == {"actual_end": "error.date_range"}


# ---- the property ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prop_world(rules_engine: Engine) -> World:
    with Session(rules_engine) as s:
        return build_world(s)


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    episode_type=st.sampled_from([t for t in E if t != E.POST_REHAB]),
    decision=st.dates(min_value=date(2022, 1, 1), max_value=TODAY),
    lag=st.integers(min_value=0, max_value=60),
    age=st.integers(min_value=12, max_value=70),
    earlier_rehabs=st.integers(min_value=0, max_value=3),
    decided=st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
)
def test_every_expected_end_lies_within_the_bounds_of_the_rule_in_force_on_the_decision_date(
    rules_engine: Engine, prop_world: World, episode_type: EpisodeType, decision: date,
    lag: int, age: int, earlier_rehabs: int, decided: int | None,
) -> None:
    with Session(rules_engine, expire_on_commit=False) as s:
        try:
            birth = date(decision.year - age, 1, 1)
            cid = make_client(s, prop_world.commune_a1, None, name="Người Thử",
                              birth_year=birth.year, birth_date=birth)
            for n in range(earlier_rehabs):
                s.add(Episode(client_id=cid, episode_type=E.VOLUNTARY_FACILITY,
                              start_date=date(2015 + n, 1, 1), status=EpisodeStatus.CLOSED,
                              actual_end=date(2015 + n, 7, 1)))
            s.flush()
            start = decision + timedelta(days=lag)
            determined_if_voluntary(s, cid, episode_type, decision, start)
            client = s.get(Client, cid)
            assert client is not None
            q = RuleQuery(episode_type, decision, rules.age_band(age),
                          FIRST if earlier_rehabs == 0 or episode_type not in rules.REHAB_TYPES
                          else REPEAT)
            rule = rule_for(s, q)
            assert rule is not None
            try:
                opened = episodes.open_episode(
                    session=s, actor=prop_world.actor(s, "sup_a"), client_id=cid,
                    data=EpisodeCreate(episode_type=episode_type, start_date=start,
                                       decision_date=decision, decided_months=decided,
                                       held_at="facility"))
            except ValidationFailed as refused:
                # Only a term outside the rule's bounds may be refused.
                assert set(refused.fields) == {"decided_months"}
                assert decided is not None and not (
                    rule.min_months <= decided <= rule.max_months and rule.max_months > 0)
                return
            assert opened.rule_id == rule.id
            if rule.max_months == 0:
                assert opened.expected_end is None
                return
            base = decision if rule.counts_from == "decision" else start
            assert opened.expected_end is not None
            assert add_months(base, rule.min_months) <= opened.expected_end \
                <= add_months(base, rule.max_months)
        finally:
            s.rollback()
