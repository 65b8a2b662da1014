"""Report figures (app/services/reports.py): the seed articles' numbers rebuilt from records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.services import reports
from app.services.actor import load_actor
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.reports import province_report, report_drilldown
from models import (
    AuditEvent,
    Client,
    Consent,
    EpisodeType,
    LimitKind,
    ProcessingLimit,
    ReferralService,
    ReferralStatus,
    Role,
    Visit,
    VisitKind,
)
from tests.factories import (
    make_client,
    make_episode,
    make_facility,
    make_place,
    make_referral,
    make_user,
    prepare_database,
    reset_database,
)
from tests.fixtures_reports import (
    DT_END,
    DT_EXPECTED,
    DT_GOOD_PROGRESS_PERCENT,
    DT_START,
    QN_END,
    QN_EXPECTED,
    QN_START,
    SeedWorld,
    build_seed_world,
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory,
           pg_server_url: str | None) -> Iterator[tuple[Engine, SeedWorld]]:
    """One seed world for the module; tests never commit, so it stays as built."""
    url = pg_server_url or f"sqlite:///{Path(tmp_path_factory.mktemp('seed')) / 'r.db'}"
    engine = prepare_database(url)
    with Session(engine, expire_on_commit=False) as s:
        world = build_seed_world(s)
    yield engine, world
    reset_database(engine)


@pytest.fixture
def world(seeded: tuple[Engine, SeedWorld]) -> SeedWorld:
    return seeded[1]


@pytest.fixture
def db(seeded: tuple[Engine, SeedWorld]) -> Iterator[Session]:
    with Session(seeded[0], expire_on_commit=False) as s:
        yield s
        s.rollback()


def _value(report: reports.Report, key: str) -> object:
    fig = report.figure(key)
    return (fig.value, fig.denominator) if fig.denominator is not None else fig.value


def _dt(db: Session, world: SeedWorld, who: str = "sup_dt", place: int | None = None
        ) -> reports.Report:
    return province_report(session=db, actor=world.actor(db, who),
                           place_id=place or world.dt_province, period_start=DT_START,
                           period_end=DT_END)


def _qn(db: Session, world: SeedWorld) -> reports.Report:
    return province_report(session=db, actor=world.actor(db, "sup_qn"),
                           place_id=world.qn_province, period_start=QN_START, period_end=QN_END)


@pytest.mark.parametrize("key", sorted(DT_EXPECTED))
def test_dong_thap_2022_figure_is_reproduced_from_the_records(
        db: Session, world: SeedWorld, key: str) -> None:
    assert _value(_dt(db, world), key) == DT_EXPECTED[key]


def test_good_progress_is_427_of_1619_shown_as_26_point_4_percent(
        db: Session, world: SeedWorld) -> None:
    fig = _dt(db, world).figure("report.community.good_progress")
    assert (fig.value, fig.denominator, fig.percent) == (427, 1619, DT_GOOD_PROGRESS_PERCENT)


@pytest.mark.parametrize("key", sorted(QN_EXPECTED))
def test_quang_ninh_2022_figure_is_reproduced_from_the_records(
        db: Session, world: SeedWorld, key: str) -> None:
    assert _value(_qn(db, world), key) == QN_EXPECTED[key]


def test_the_three_named_outreach_groups_leave_60_contacts_in_other_categories(
        db: Session, world: SeedWorld) -> None:
    report = _qn(db, world)
    named = sum(int(report.figure(f"report.outreach.{c}").value)
                for c in ("pwud", "relative", "hiv"))
    assert (named, int(report.figure("report.outreach.total").value) - named) == (1150, 60)


def test_a_commune_report_counts_only_that_commune(db: Session, world: SeedWorld) -> None:
    report = _dt(db, world, place=world.dt_communes[0])
    assert _value(report, "report.community.managed") == 13
    assert _value(report, "report.models.communes_implementing") == (1, 1)
    assert _value(report, "report.models.volunteer_team") == 1


def test_a_person_who_stopped_statistics_leaves_the_aggregate_figures(
        db: Session, world: SeedWorld) -> None:
    """Withdrawing consent to statistics, or restricting or objecting to them, takes the
    person out of every figure; the seeds (no consent rows) are all counted (see above)."""
    place = world.dt_communes[0]
    fig = _dt(db, world, place=place).figure("report.community.managed")
    assert fig.value == 13 and fig.drilldown is not None
    people = report_drilldown(session=db, actor=world.actor(db, "sup_dt"),
                              figure_key=fig.drilldown.figure_key, place_id=place,
                              period_start=DT_START, period_end=DT_END)
    withdrawn, objected, restricted = (r.id for r in people[:3])
    db.add(Consent(client_id=withdrawn, purpose="reporting", sensitive_categories="",
                   given_on=date(2021, 1, 1), withdrawn_on=date(2022, 1, 1)))
    db.add(Consent(client_id=objected, purpose="reporting", sensitive_categories="",
                   given_on=date(2021, 1, 1)))  # a live consent, then an objection
    db.add(ProcessingLimit(client_id=objected, kind=LimitKind.OBJECTION, purpose="reporting",
                           started_on=date(2022, 1, 1)))
    db.add(ProcessingLimit(client_id=restricted, kind=LimitKind.RESTRICTION,
                           purpose="reporting", started_on=date(2022, 1, 1),
                           lifted_on=date(2022, 2, 1)))  # lifted: counted again
    db.flush()
    report = _dt(db, world, place=place)
    assert _value(report, "report.community.managed") == 11
    province = _value(_dt(db, world), "report.community.managed")
    assert province == DT_EXPECTED["report.community.managed"] - 2


def test_a_commune_supervisor_gets_the_report_of_their_commune_but_not_the_province(
        db: Session, world: SeedWorld) -> None:
    ok = _dt(db, world, who="sup_dt_commune", place=world.dt_communes[0])
    assert _value(ok, "report.community.managed") == 13
    with pytest.raises(PermissionDenied):
        _dt(db, world, who="sup_dt_commune")


@pytest.mark.parametrize("who", ["sup_other", "vol_dt", "admin"])
def test_roles_without_the_report_or_the_place_are_refused_and_the_refusal_is_audited(
        db: Session, world: SeedWorld, who: str) -> None:
    with pytest.raises(PermissionDenied):
        _dt(db, world, who=who)
    user_id = world.users[who][0]
    denied = db.exec(select(AuditEvent).where(AuditEvent.actor_id == user_id,
                                              AuditEvent.outcome == "denied")).all()
    assert denied and all(e.action == "report.view" for e in denied)


def test_viewing_a_report_is_audited_with_the_place_and_period(
        db: Session, world: SeedWorld) -> None:
    _dt(db, world)
    db.flush()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "report.view",
                                             AuditEvent.outcome == "ok")).one()
    assert (event.target_type, event.target_id) == ("place", world.dt_province)
    assert event.detail == "2021-04-01..2022-03-31"


def test_the_drilldown_lists_exactly_the_people_a_figure_counts(
        db: Session, world: SeedWorld) -> None:
    report = _dt(db, world)
    fig = report.figure("report.community.good_progress")
    assert fig.drilldown is not None
    rows = report_drilldown(session=db, actor=world.actor(db, "sup_dt"),
                            figure_key=fig.drilldown.figure_key, place_id=fig.drilldown.place_id,
                            period_start=fig.drilldown.period_start,
                            period_end=fig.drilldown.period_end)
    assert len(rows) == len({r.id for r in rows}) == 427
    assert {r.commune_id for r in rows} <= set(world.dt_communes)
    db.flush()
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "report.drilldown")).one()
    assert event.detail == "figure=report.community.good_progress results=427"


def test_the_drilldown_names_only_clients_the_reader_may_open(
        db: Session, world: SeedWorld) -> None:
    # The facility admits people from another province: counted in the figure, not named.
    rows = report_drilldown(session=db, actor=world.actor(db, "sup_qn"),
                            figure_key="report.facility.admitted.total",
                            place_id=world.qn_province, period_start=QN_START, period_end=QN_END)
    assert 0 < len(rows) < 390
    assert {r.commune_id for r in rows} <= set(world.qn_communes)


def test_figures_that_are_not_about_named_people_have_no_drilldown(
        db: Session, world: SeedWorld) -> None:
    report = _qn(db, world)
    assert report.figure("report.outreach.total").drilldown is None
    assert report.figure("report.events.conference").drilldown is None
    with pytest.raises(ValidationFailed) as err:
        report_drilldown(session=db, actor=world.actor(db, "sup_qn"),
                         figure_key="report.outreach.total", place_id=world.qn_province,
                         period_start=QN_START, period_end=QN_END)
    assert err.value.fields == {"figure_key": "report.error.no_drilldown"}


def test_a_period_ending_before_it_starts_is_refused(db: Session, world: SeedWorld) -> None:
    with pytest.raises(ValidationFailed) as err:
        province_report(session=db, actor=world.actor(db, "sup_dt"), place_id=world.dt_province,
                        period_start=DT_END, period_end=DT_START)
    assert err.value.fields == {"period_end": "report.error.period_order"}


def test_chart_data_referrals_by_service_and_outcome_and_episodes_by_type(
        db: Session, world: SeedWorld) -> None:
    me = world.actor(db, "sup_qn")
    kw: dict[str, Any] = {"place_id": world.qn_province, "period_start": QN_START,
                          "period_end": QN_END}
    outcomes = {(o.service, o.status): o.count
                for o in reports.referrals_by_service_and_outcome(session=db, actor=me, **kw)}
    assert outcomes[(ReferralService.TREATMENT, ReferralStatus.USED)] == 80
    assert outcomes[(ReferralService.MMT, ReferralStatus.SENT)] == 30
    assert outcomes[(ReferralService.HEALTH_CHECK, ReferralStatus.RECEIVED)] == 20
    types = {e.episode_type: e for e in reports.episodes_by_type(session=db, actor=me, **kw)}
    # Only residents of the province are counted here (the facility also admits outsiders).
    assert 0 < types[EpisodeType.COMPULSORY].started < 177
    assert types[EpisodeType.ILLEGAL_USE].live_at_end == 0
    trend = reports.monthly_trend(session=db, actor=me, **kw)
    assert [p.month for p in trend][:2] == [date(2021, 12, 1), date(2022, 1, 1)]
    assert len(trend) == 11 and sum(p.contacts for p in trend) == 1210


def test_months_in_a_period_count_calendar_months_touched() -> None:
    assert reports.months_in(date(2022, 1, 1), date(2022, 12, 31)) == 12
    assert reports.months_in(date(2021, 12, 15), date(2022, 10, 31)) == 11


def test_percent_rounds_half_up_to_one_decimal() -> None:
    assert reports.Figure("k", 427, 1619).percent == 26.4
    assert reports.Figure("k", 1, 8).percent == 12.5
    assert reports.Figure("k", 1, 16).percent == 6.3
    assert reports.Figure("k", 5, 0).percent is None


# --- volunteer activity, on a small hand-made commune ---------------------------------------


def test_volunteer_activity_figures(db: Session) -> None:
    session = db  # the seed database, rolled back afterwards; this province is separate
    province = make_place(session, "TV", "Tỉnh V")
    commune = make_place(session, "TV001", "Xã V", province)
    sup = make_user(session, "sup_v", Role.SUPERVISOR, place_id=province)
    volunteer = make_user(session, "vol_v", Role.VOLUNTEER, place_id=commune)
    clients = [make_client(session, commune, volunteer, name=f"Người V {i}") for i in range(5)]
    for c in clients[:4]:  # the fifth is not under management
        make_episode(session, c, EpisodeType.ILLEGAL_USE, start=date(2024, 6, 1),
                     expected_end=None)
    c1, c2, c3, c4, c5 = clients
    visits = [
        (c1, date(2025, 1, 10), None), (c1, date(2025, 3, 20), date(2025, 3, 25)),  # overdue
        (c2, date(2025, 1, 5), None),  # not visited in the last 30 days
        (c3, date(2025, 3, 30), date(2025, 4, 15)),  # fine
        (c5, date(2025, 2, 2), None),  # not managed: only in the monthly trend
    ]
    for client, on, nxt in visits:
        session.add(Visit(client_id=client, visit_date=on, kind=VisitKind.HOME,
                          next_appointment=nxt))
    clinic = make_place(session, "TV002", "Xã V2", province)
    facility = make_facility(session, "Phòng khám V", clinic)
    make_referral(session, c1, facility, ReferralStatus.SENT, date(2025, 2, 1))
    make_referral(session, c2, facility, ReferralStatus.USED, date(2025, 2, 1))
    make_referral(session, c3, facility, ReferralStatus.RECEIVED, date(2025, 2, 1))
    session.flush()
    me = load_actor(session, user_id=sup, role=Role.SUPERVISOR)
    report = province_report(session=session, actor=me, place_id=province,
                             period_start=date(2025, 1, 1), period_end=date(2025, 3, 31))
    assert _value(report, "report.activity.visits") == 4
    assert _value(report, "report.activity.visits_per_client_month") == 0.33
    assert _value(report, "report.activity.not_visited") == (2, 4)
    assert _value(report, "report.activity.overdue_followups") == 1
    assert _value(report, "report.activity.open_referrals") == 2
    assert [(p.month.month, p.visits) for p in report.trend] == [(1, 2), (2, 1), (3, 2)]
    listed = report_drilldown(session=session, actor=me,
                              figure_key="report.activity.not_visited", place_id=province,
                              period_start=date(2025, 1, 1), period_end=date(2025, 3, 31))
    assert sorted(r.id for r in listed) == sorted([c2, c4])
    names = {r.id: r.full_name for r in listed}
    assert names[c4] == session.get(Client, c4).full_name  # type: ignore[union-attr]
