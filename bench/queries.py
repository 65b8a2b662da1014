"""The app's heaviest reads, timed against hand-written SQL that computes the same answer.

    python -m bench.queries --db-url URL [--repeat 7]

For each case the service is called as the app calls it (authorisation, audit row, result
objects: the transaction is rolled back afterwards so repeated runs leave the data alone) and
a hand-written SQL statement computes the same answer from the same tables. The answers are
compared — a benchmark that measures a wrong answer measures nothing — and the times are
reported as a ratio of the best of `repeat` runs each, after one warm-up run (the best run is
the one least disturbed by whatever else the machine does; medians are printed as well). The
service and the SQL take turns, run by run, so that a change in the machine's load falls on
both alike rather than on whichever happened to run second. On
SQLite, where the database works inside this process, the ratio is of CPU time, which other
processes on a busy 2-core machine disturb far less than wall-clock time; on PostgreSQL it is
of wall-clock time (the work happens in the server).

Cases:
- `today`: `activities.due_followups` for a volunteer (the Today list);
- `caseload.p1` / `caseload.deep` / `caseload.name`: `clients.search_clients` for a province
  supervisor: first page, last page, first page of a name search;
- `my_clients`: `clients.search_clients` page 1 for a volunteer;
- `timeline`: `clients.client_timeline` of the volunteer's client with the most records;
- `province_report`: `reports.province_report` for the province, the last 12 months.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from app.services import activities, clients, reports
from app.services.actor import Actor, load_actor
from app.services.calendar import today_vn
from app.services.dto import ClientFilters
from models import (
    Client,
    ClientStatus,
    ContactCategory,
    DrugTest,
    EpisodeType,
    GroupActivityKind,
    Place,
    PlaceKind,
    Referral,
    Role,
    RoleAssignment,
    Support,
    User,
    Visit,
)

# Targets (issue 8): the service within 1.5x of hand-written SQL; interactive pages < 100 ms.
RATIO_TARGET = 1.5
PAGE_TARGET_MS = 100.0
REPORT_TARGET_MS = 1000.0
INTERACTIVE = ("today", "caseload.p1", "caseload.deep", "caseload.name", "my_clients",
               "timeline")


@dataclass
class CaseResult:
    case: str
    service: Timing
    baseline: Timing
    rows: int  # size of the answer (items, page rows, figures)
    same: bool
    note: str = ""

    @property
    def service_ms(self) -> float:
        return self.service.best_ms

    @property
    def baseline_ms(self) -> float:
        return self.baseline.best_ms

    cpu_ratio: bool = False  # SQLite: compare CPU time, which a busy machine disturbs less

    @property
    def ratio(self) -> float:
        if self.cpu_ratio:
            svc, base = self.service.cpu_ms, self.baseline.cpu_ms
        else:
            svc, base = self.service_ms, self.baseline_ms
        return svc / base if base else float("inf")

    @property
    def target_ms(self) -> float:
        return REPORT_TARGET_MS if self.case == "province_report" else PAGE_TARGET_MS

    @property
    def judged_ms(self) -> float:
        """The time held against the target: CPU on SQLite (in-process), wall on PostgreSQL."""
        return self.service.cpu_ms if self.cpu_ratio else self.service_ms

    @property
    def ok(self) -> bool:
        return self.same and self.ratio <= RATIO_TARGET and self.judged_ms < self.target_ms


# --- SQL helpers ----------------------------------------------------------------------------


def _lit(values: Sequence[str]) -> str:
    """An SQL list of trusted constants (enum values of this code base, never user input)."""
    for v in values:
        if not v.replace("_", "").isalnum():
            raise ValueError(v)
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def _ids(values: Iterable[int]) -> str:
    ids = sorted(int(v) for v in values)
    return "(" + ", ".join(map(str, ids)) + ")" if ids else "(NULL)"


def _pg(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


@dataclass(frozen=True)
class Timing:
    best_ms: float  # wall clock, best run
    median_ms: float  # wall clock, median run
    cpu_ms: float  # this process's CPU time, best run (all of SQLite's work happens in-process)


def _timed(service: Callable[[], Any], baseline: Callable[[], Any],
           repeat: int) -> tuple[Timing, Any, Timing, Any]:
    """Wall and CPU milliseconds of `repeat` runs of each after one warm-up of each, taking
    turns, and the last answers: (service timing, its answer, SQL timing, its answer)."""
    fns = (service, baseline)
    answers = [fn() for fn in fns]
    walls: tuple[list[float], list[float]] = ([], [])
    cpus: tuple[list[float], list[float]] = ([], [])
    for _ in range(max(1, repeat)):
        for i, fn in enumerate(fns):
            cpu, wall = time.process_time(), time.perf_counter()
            answers[i] = fn()
            walls[i].append((time.perf_counter() - wall) * 1000)
            cpus[i].append((time.process_time() - cpu) * 1000)
    svc, sql = (Timing(min(walls[i]), statistics.median(walls[i]), min(cpus[i]))
                for i in range(2))
    return svc, answers[0], sql, answers[1]


def _in_rolled_back_session(engine: Engine, call: Callable[[Session], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with Session(engine, expire_on_commit=False) as session:
            try:
                return call(session)
            finally:
                session.rollback()
    return run


def _in_connection(engine: Engine, call: Callable[[Connection], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with engine.connect() as conn:
            return call(conn)
    return run


# --- who and what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Subjects:
    province_id: int
    supervisor: Actor
    volunteer: Actor
    client_id: int  # the volunteer's client with the most records
    name_query: str


def pick_subjects(engine: Engine) -> Subjects:
    """A province supervisor, the volunteer with the most active clients, their busiest client."""
    with Session(engine) as s:
        sup_id, province_id = s.exec(
            select(User.id, RoleAssignment.place_id)  # type: ignore[call-overload]
            .join(RoleAssignment, col(RoleAssignment.user_id) == col(User.id))
            .join(Place, col(Place.id) == col(RoleAssignment.place_id))
            .where(col(RoleAssignment.role) == Role.SUPERVISOR,
                   col(Place.kind) == PlaceKind.PROVINCE, col(User.is_active).is_(True))
            .order_by(col(User.id)).limit(1)
        ).one()
        vol_id = s.exec(
            select(Client.assigned_volunteer_id)  # type: ignore[call-overload]
            .join(User, col(User.id) == col(Client.assigned_volunteer_id))
            .where(col(Client.status) == ClientStatus.ACTIVE, col(User.is_active).is_(True))
            .group_by(col(Client.assigned_volunteer_id))
            .order_by(func.count().desc(), col(Client.assigned_volunteer_id)).limit(1)
        ).one()[0]
        visits = (select(Visit.client_id, func.count().label("n"))  # type: ignore[call-overload]
                  .join(Client, col(Client.id) == col(Visit.client_id))
                  .where(col(Client.assigned_volunteer_id) == vol_id)
                  .group_by(col(Visit.client_id)).order_by(func.count().desc(),
                                                          col(Visit.client_id)).limit(1))
        client_id = s.exec(visits).one()[0]
        supervisor = load_actor(s, user_id=sup_id, role=Role.SUPERVISOR)
        volunteer = load_actor(s, user_id=vol_id, role=Role.VOLUNTEER)
        assert supervisor is not None and volunteer is not None
    return Subjects(province_id, supervisor, volunteer, client_id, name_query="van")


# --- the cases ------------------------------------------------------------------------------


def _today_sql(conn: Connection, actor: Actor, today: date, stale: int, within: int) -> set[Any]:
    stale_before = today - timedelta(days=stale)
    if _pg(conn):
        created_day, plus_stale = "CAST(c.created_at AS DATE)", f"v.visit_date + {stale}"
    else:
        created_day, plus_stale = "date(c.created_at)", f"date(v.visit_date, '+{stale} days')"
    sql = f"""
    WITH c AS (
        SELECT id, created_at FROM client
        WHERE assigned_volunteer_id = :uid AND commune_id IN {_ids(actor.commune_ids)}
          AND status = 'active'),
    last AS (
        SELECT v.client_id, max(v.visit_date) AS d FROM visit v
        WHERE v.client_id IN (SELECT id FROM c) GROUP BY v.client_id),
    lv AS (
        SELECT v.client_id, max(v.id) AS id FROM visit v
        JOIN last ON last.client_id = v.client_id AND last.d = v.visit_date
        GROUP BY v.client_id)
    SELECT 'appointment', lv.client_id, v.next_appointment, v.id
      FROM lv JOIN visit v ON v.id = lv.id
     WHERE v.next_appointment IS NOT NULL AND v.next_appointment <= :today
    UNION ALL
    SELECT 'not_visited', c.id, NULL, NULL
      FROM c LEFT JOIN lv ON lv.client_id = c.id
     WHERE lv.id IS NULL AND {created_day} <= :stale_before
    UNION ALL
    SELECT 'not_visited', lv.client_id, {plus_stale}, v.id
      FROM lv JOIN visit v ON v.id = lv.id
     WHERE v.next_appointment IS NULL AND v.visit_date <= :stale_before
    UNION ALL
    SELECT 'referral_open', r.client_id, r.expires_on, r.id FROM referral r
     WHERE r.client_id IN (SELECT id FROM c) AND r.status IN ('sent', 'received')
    UNION ALL
    SELECT CASE WHEN e.expected_end < :today THEN 'episode_overdue' ELSE 'episode_ending' END,
           e.client_id, e.expected_end, e.id FROM episode e
     WHERE e.client_id IN (SELECT id FROM c) AND e.status = 'open'
       AND e.expected_end IS NOT NULL AND e.expected_end <= :horizon
    """
    rows = conn.execute(text(sql), {
        "uid": actor.user_id, "today": today, "stale_before": stale_before,
        "horizon": today + timedelta(days=within),
    }).all()
    return {(k, cid, _as_date(d), rid) for k, cid, d, rid in rows}


def case_today(engine: Engine, subj: Subjects, repeat: int) -> CaseResult:
    today, stale, within = today_vn(), 30, 30
    svc_t, items, sql_t, expected = _timed(
        _in_rolled_back_session(engine, lambda s: activities.due_followups(
            session=s, actor=subj.volunteer, today=today, stale_days=stale,
            ending_within_days=within)),
        _in_connection(engine, lambda c: _today_sql(c, subj.volunteer, today, stale, within)),
        repeat)
    got = {(i.kind, i.client_id, i.due_on, i.record_id) for i in items}
    return CaseResult("today", svc_t, sql_t, len(items), got == expected and
                      len(got) == len(items))


def _search_sql(conn: Connection, actor: Actor, query: str, page: int, size: int,
                status: str) -> tuple[int, list[int]]:
    where = [f"commune_id IN {_ids(actor.commune_ids)}", "status = :status"]
    params: dict[str, Any] = {"status": status, "off": (page - 1) * size, "size": size}
    if actor.role == Role.VOLUNTEER:
        where.append("assigned_volunteer_id = :uid")
        params["uid"] = actor.user_id
    if query:
        where.append("name_key LIKE :pat ESCAPE '\\'")
        params["pat"] = f"%{query}%"
    cond = " AND ".join(where)
    total = conn.execute(text(f"SELECT count(*) FROM client WHERE {cond}"), params).scalar_one()
    ids = conn.execute(text(
        f"SELECT id FROM client WHERE {cond} ORDER BY name_key, id LIMIT :size OFFSET :off"
    ), params).scalars().all()
    return int(total), list(ids)


def case_search(engine: Engine, name: str, actor: Actor, repeat: int, *, query: str = "",
                page: int = 1, size: int = 50) -> CaseResult:
    status = ClientStatus.ACTIVE
    if page < 0:  # the last page
        with engine.connect() as conn:
            total, _ = _search_sql(conn, actor, query, 1, size, status.value)
        page = max(1, -(-total // size))
    svc_t, result, sql_t, (total, ids) = _timed(
        _in_rolled_back_session(engine, lambda s: clients.search_clients(
            session=s, actor=actor, query=query, filters=ClientFilters(status=status),
            page=page, page_size=size)),
        _in_connection(engine, lambda c: _search_sql(c, actor, query, page, size, status.value)),
        repeat)
    same = result.total == total and [c.id for c in result.items] == ids
    return CaseResult(name, svc_t, sql_t, len(ids), same, f"page {page}, {total} matches")


def _timeline_sql(conn: Connection, client_id: int) -> list[tuple[str, int, date | None]]:
    sql = """
    SELECT 'visit', id, visit_date FROM visit WHERE client_id = :c
    UNION ALL SELECT 'referral', id, referred_on FROM referral WHERE client_id = :c
    UNION ALL SELECT 'test', id, tested_on FROM drugtest WHERE client_id = :c
    UNION ALL SELECT 'support', id, started_on FROM support WHERE client_id = :c
    UNION ALL SELECT 'episode', id, start_date FROM episode WHERE client_id = :c
    """
    rows = [(k, rid, _as_date(d)) for k, rid, d in conn.execute(text(sql), {"c": client_id})]
    rows.sort(key=lambda r: (r[2], r[0], r[1]), reverse=True)
    return rows


def case_timeline(engine: Engine, subj: Subjects, repeat: int) -> CaseResult:
    svc_t, items, sql_t, expected = _timed(
        _in_rolled_back_session(engine, lambda s: clients.client_timeline(
            session=s, actor=subj.volunteer, client_id=subj.client_id)),
        _in_connection(engine, lambda c: _timeline_sql(c, subj.client_id)), repeat)
    got = [(i.kind, i.record_id, i.on) for i in items]
    return CaseResult("timeline", svc_t, sql_t, len(items), got == expected,
                      f"client {subj.client_id}")


# --- the province report, by hand -----------------------------------------------------------

COMMUNITY = _lit([t.value for t in reports.COMMUNITY_TYPES])
FACILITY = {s: _lit([t.value for t, x in reports.FACILITY_TYPES.items() if s in (x, "total")])
            for s in (*reports.FACILITY_TYPES.values(), "total")}
MODEL_KINDS = _lit([k.value for k in reports.MODEL_KINDS])

# The place's sets, named once. `{ap}` is the place and its communes, looked up first and
# written as constants (a sub-query of places made PostgreSQL guess ~600 of a province's
# 20,000 clients); the rest is read once per statement: the community episodes of the
# place's clients (both "managed" sets come from them), their referrals, and the episodes
# at the place's rehab facilities.
_PRELUDE = f"""
WITH ce AS (SELECT e.client_id AS id, c.commune_id, e.actual_end FROM episode e
              JOIN client c ON c.id = e.client_id
             WHERE e.episode_type IN {COMMUNITY} AND e.start_date <= :e
               AND (e.actual_end IS NULL OR e.actual_end >= :s)
               AND c.commune_id IN {{ap}} AND c.status <> 'merged'),
managed AS (SELECT DISTINCT id FROM ce),
managed_end AS (SELECT DISTINCT id FROM ce WHERE actual_end IS NULL OR actual_end > :e),
ar AS (SELECT r.client_id, r.service, r.status, r.referred_on FROM referral r
         JOIN client c ON c.id = r.client_id
        WHERE r.referred_on <= :e AND c.commune_id IN {{ap}} AND c.status <> 'merged'),
fac AS (SELECT id FROM organisation WHERE kind = 'rehab_facility' AND place_id IN {{ap}}),
fe AS (SELECT client_id, episode_type, start_date, actual_end FROM episode
        WHERE provider_id IN (SELECT id FROM fac) AND episode_type IN {FACILITY["total"]}
          AND start_date <= :e)
"""


def _referred(services: Sequence[Any]) -> str:
    return (f"(SELECT count(DISTINCT client_id) FROM ar WHERE service IN "
            f"{_lit([s.value for s in services])} AND referred_on BETWEEN :s AND :e)")


def _scalar_figures() -> dict[str, str]:
    k = "report."
    figs = {
        f"{k}connected_treatment": _referred(reports.TREATMENT_SERVICES),
        f"{k}referred_health": _referred(reports.HEALTH_SERVICES),
        f"{k}referred_legal": _referred(reports.LEGAL_SERVICES),
        f"{k}community.managed": "(SELECT count(*) FROM managed)",
        f"{k}community.good_progress": """(SELECT count(*) FROM (
            SELECT client_id, min(tested_on) AS first_negative,
                   count(DISTINCT tested_on) AS days FROM drugtest
             WHERE result = 'negative' AND tested_on BETWEEN :s AND :e
               AND client_id IN (SELECT id FROM managed)
             GROUP BY client_id) n
            WHERE n.days >= 2 AND NOT EXISTS (SELECT 1 FROM drugtest p
                WHERE p.client_id = n.client_id AND p.result = 'positive'
                  AND p.tested_on >= n.first_negative AND p.tested_on <= :e))""",
        f"{k}community.job_referrals": """(SELECT count(*) FROM managed m WHERE
            m.id IN (SELECT client_id FROM support WHERE kind = 'job_placement'
                      AND started_on BETWEEN :s AND :e)
            OR m.id IN (SELECT client_id FROM ar WHERE service = 'job'
                      AND referred_on BETWEEN :s AND :e))""",
        f"{k}community.loans": """(SELECT count(DISTINCT client_id) FROM support
            WHERE kind = 'loan' AND started_on BETWEEN :s AND :e
              AND client_id IN (SELECT id FROM managed))""",
        f"{k}community.loan_amount": """(SELECT coalesce(sum(amount_vnd), 0) FROM support
            WHERE kind = 'loan' AND started_on BETWEEN :s AND :e
              AND client_id IN (SELECT id FROM managed))""",
        f"{k}facility.vocational_classes": """(SELECT count(*) FROM groupactivity
            WHERE kind = 'training' AND organiser_id IN (SELECT id FROM fac)
              AND held_on BETWEEN :s AND :e)""",
        f"{k}facility.vocational_learners": """(SELECT coalesce(sum(attendees_total), 0)
            FROM groupactivity WHERE kind = 'training' AND organiser_id IN (SELECT id FROM fac)
              AND held_on BETWEEN :s AND :e)""",
        f"{k}activity.not_visited": """(SELECT count(*) FROM managed_end m
            WHERE NOT EXISTS (SELECT 1 FROM visit v WHERE v.client_id = m.id
                                AND v.visit_date > :since AND v.visit_date <= :e))""",
        f"{k}activity.overdue_followups": """(SELECT count(*) FROM managed_end m
            WHERE EXISTS (SELECT 1 FROM visit v WHERE v.client_id = m.id
                AND v.next_appointment < :e
                AND v.visit_date = (SELECT max(w.visit_date) FROM visit w
                                     WHERE w.client_id = m.id AND w.visit_date <= :e)))""",
        f"{k}activity.open_referrals": """(SELECT count(*) FROM ar
            WHERE status IN ('sent', 'received'))""",
        f"{k}models.communes_implementing": """(SELECT count(*) FROM place pl
            WHERE pl.kind = 'commune' AND pl.id IN {ap}
              AND (pl.valid_to IS NULL OR pl.valid_to >= :s)
              AND (pl.id IN (SELECT commune_id FROM ce)
                   OR pl.id IN (SELECT place_id FROM organisation WHERE kind = 'volunteer_team'
                        AND active = :yes AND (founded_on IS NULL OR founded_on <= :e))))""",
        "communes_total": """(SELECT count(*) FROM place pl WHERE pl.kind = 'commune'
              AND pl.id IN {ap} AND (pl.valid_to IS NULL OR pl.valid_to >= :s))""",
    }
    for suffix, types in FACILITY.items():
        figs[f"{k}facility.admitted.{suffix}"] = f"""(SELECT count(DISTINCT client_id)
            FROM fe WHERE episode_type IN {types} AND start_date >= :s)"""
        figs[f"{k}facility.managed.{suffix}"] = f"""(SELECT count(DISTINCT client_id)
            FROM fe WHERE episode_type IN {types} AND (actual_end IS NULL OR actual_end > :e))"""
    return figs


SCALARS = _scalar_figures()


def report_sql(conn: Connection, place_id: int, start: date, end: date,
               not_visited_days: int = reports.DEFAULT_NOT_VISITED_DAYS) -> dict[str, Any]:
    """Every number of the province report, by hand: the figures, trend, outcomes, types."""
    k = "report."
    p = {"p": place_id, "s": start, "e": end, "yes": True,
         "since": end - timedelta(days=not_visited_days)}
    ap = _ids(conn.execute(text("SELECT id FROM place WHERE id = :p OR parent_id = :p"),
                           p).scalars())
    prelude = _PRELUDE.format(ap=ap)
    names = list(SCALARS)
    row = conn.execute(text(prelude + "SELECT " + ",\n".join(
        f"{SCALARS[n].format(ap=ap)} AS f{i}" for i, n in enumerate(names))), p).one()
    out: dict[str, Any] = {n: int(v or 0) for n, v in zip(names, row, strict=True)}

    def grouped(sql: str) -> list[Any]:
        return list(conn.execute(text(prelude + sql.format(ap=ap)), p).all())

    outreach = dict(grouped("""SELECT category, sum("count") FROM outreachcontact
        WHERE place_id IN {ap} AND contact_date BETWEEN :s AND :e
        GROUP BY category"""))
    for c in ContactCategory:
        out[f"{k}outreach.{c.value}"] = int(outreach.get(c.value) or 0)
    out[f"{k}outreach.total"] = sum(int(v or 0) for v in outreach.values())
    events = {kind: (n, a) for kind, n, a in grouped("""SELECT kind, count(*),
        sum(attendees_total) FROM groupactivity WHERE place_id IN {ap}
        AND held_on BETWEEN :s AND :e GROUP BY kind""")}
    for g in GroupActivityKind:
        n, a = events.get(g.value, (0, 0))
        out[f"{k}events.{g.value}"] = int(n)
        out[f"{k}events.{g.value}.attendees"] = int(a or 0)
    models = dict(grouped(f"""SELECT kind, count(*) FROM organisation
        WHERE kind IN {MODEL_KINDS} AND active = :yes AND place_id IN {{ap}}
          AND (founded_on IS NULL OR founded_on <= :e) GROUP BY kind"""))
    for m in reports.MODEL_KINDS:
        out[f"{k}models.{m.value}"] = int(models.get(m.value, 0))
    month = ("to_char({c}, 'YYYY-MM')" if _pg(conn) else "strftime('%Y-%m', {c})")
    # One pass over the period's visits to the place's clients: the trend, and how many of
    # them were to clients under community management (the visits figure).
    visits = {m: (int(n), int(to_managed)) for m, n, to_managed in grouped(f"""
        SELECT {month.format(c='visit_date')}, count(*),
               count(CASE WHEN client_id IN (SELECT id FROM managed) THEN 1 END) FROM visit
        WHERE visit_date BETWEEN :s AND :e AND client_id IN (
            SELECT id FROM client WHERE commune_id IN {{ap}} AND status <> 'merged')
        GROUP BY 1""")}
    out[f"{k}activity.visits"] = sum(m for _, m in visits.values())
    contacts = dict(grouped(f"""SELECT {month.format(c='contact_date')}, sum("count")
        FROM outreachcontact WHERE contact_date BETWEEN :s AND :e
          AND place_id IN {{ap}} GROUP BY 1"""))
    out["trend"] = {m: (visits.get(m, (0, 0))[0], int(contacts.get(m) or 0))
                    for m in sorted(set(visits) | set(contacts))}
    out["outcomes"] = {(s, st): int(n) for s, st, n in grouped("""SELECT service, status,
        count(*) FROM ar WHERE referred_on BETWEEN :s AND :e GROUP BY service, status""")}
    types = grouped("""SELECT episode_type,
          count(DISTINCT CASE WHEN start_date >= :s THEN client_id END),
          count(DISTINCT CASE WHEN actual_end IS NULL OR actual_end > :e THEN client_id END)
        FROM episode WHERE start_date <= :e
          AND (start_date >= :s OR actual_end IS NULL OR actual_end > :e)
          AND client_id IN (SELECT id FROM client WHERE commune_id IN {ap}
                            AND status <> 'merged')
        GROUP BY episode_type""")
    found = {t: (int(a), int(b)) for t, a, b in types}
    out["episode_types"] = {t.value: found.get(t.value, (0, 0)) for t in EpisodeType}
    return out


def report_answer(report: reports.Report) -> dict[str, Any]:
    """The service's report in the shape `report_sql` returns (for comparing the two)."""
    out: dict[str, Any] = {}
    for key, fig in report.figures().items():
        if key == "report.activity.visits_per_client_month":
            continue  # arithmetic on two figures compared below
        out[key] = fig.value
        if key == "report.models.communes_implementing":
            out["communes_total"] = fig.denominator
    out["trend"] = {f"{p.month:%Y-%m}": (p.visits, p.contacts) for p in report.trend
                    if p.visits or p.contacts}
    out["outcomes"] = {(o.service.value, o.status.value): o.count
                       for o in report.referral_outcomes}
    out["episode_types"] = {e.episode_type.value: (e.started, e.live_at_end)
                            for e in report.episode_types}
    return out


def report_period() -> tuple[date, date]:
    """The last 12 whole months of the generated data (it runs up to 2026-11-01)."""
    first = min(today_vn(), date(2026, 11, 1)).replace(day=1)
    return date(first.year - 1, first.month, 1), first - timedelta(days=1)


def case_report(engine: Engine, subj: Subjects, repeat: int) -> CaseResult:
    start, end = report_period()
    svc_t, rep, sql_t, expected = _timed(
        _in_rolled_back_session(engine, lambda s: reports.province_report(
            session=s, actor=subj.supervisor, place_id=subj.province_id, period_start=start,
            period_end=end)),
        _in_connection(engine, lambda c: report_sql(c, subj.province_id, start, end)), repeat)
    got = report_answer(rep)
    diff = sorted(k for k in set(got) | set(expected) if got.get(k) != expected.get(k))
    return CaseResult("province_report", svc_t, sql_t, len(got), not diff,
                      f"{start:%d/%m/%Y}–{end:%d/%m/%Y}" + (f"; differ: {diff[:5]}" if diff
                                                            else ""))


def run_queries(engine: Engine, repeat: int = 7) -> list[CaseResult]:
    subj = pick_subjects(engine)
    results = [
        case_today(engine, subj, repeat),
        case_search(engine, "caseload.p1", subj.supervisor, repeat),
        case_search(engine, "caseload.deep", subj.supervisor, repeat, page=-1),
        case_search(engine, "caseload.name", subj.supervisor, repeat, query=subj.name_query),
        case_search(engine, "my_clients", subj.volunteer, repeat),
        case_timeline(engine, subj, repeat),
        # Fewer runs of the ~1 s report, but enough for a best run on a shared machine.
        case_report(engine, subj, max(3, repeat * 2 // 3)),
    ]
    for r in results:
        r.cpu_ratio = engine.dialect.name == "sqlite"
    return results


def count_rows(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            name: int(s.exec(select(func.count()).select_from(table)).one()[0])  # type: ignore[call-overload]
            for name, table in (("clients", Client), ("visits", Visit), ("tests", DrugTest),
                                ("referrals", Referral), ("support", Support))
        }


def format_results(results: Sequence[CaseResult]) -> str:
    lines = [f"  {'case':<17}{'service ms':>11}{'(median)':>9}{'(cpu)':>8}{'SQL ms':>9}"
             f"{'(median)':>9}{'(cpu)':>8}{'ratio':>7}{'rows':>6}{'same':>6}  target"]
    for r in results:
        target = f"≤{RATIO_TARGET}×, <{r.target_ms:.0f} ms"
        lines.append(f"  {r.case:<17}{r.service_ms:>11.1f}{r.service.median_ms:>9.1f}"
                     f"{r.service.cpu_ms:>8.1f}{r.baseline_ms:>9.1f}{r.baseline.median_ms:>9.1f}"
                     f"{r.baseline.cpu_ms:>8.1f}"
                     f"{r.ratio:>7.2f}{r.rows:>6}{'yes' if r.same else 'NO':>6}  "
                     f"{target} {'ok' if r.ok else 'MISSED'}  {r.note}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.queries", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    from app.services.db import engine_for

    engine = engine_for(args.db_url)
    results = run_queries(engine, args.repeat)
    print(format_results(results))
    return 0 if all(r.same for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
