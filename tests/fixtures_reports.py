"""A seed-figure world for report tests: the Đồng Tháp 2022 and Quảng Ninh 2022 figures rebuilt
from records, with distractors next to every rule so that an off-by-one definition shows.

Synthetic places only (the real place list is not needed). Rows go in with bulk Core inserts
(`INSERT … RETURNING` for the ids), so the whole world takes well under a second.

Expected values are in `DT_EXPECTED` / `QN_EXPECTED`: figure key -> value, or
(value, denominator) for figures reported "x of y".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

from app.services.actor import Actor, load_actor
from app.services.text import fold
from models import (
    Client,
    ClientStatus,
    ContactCategory,
    DrugTest,
    Episode,
    EpisodeStatus,
    EpisodeType,
    GroupActivity,
    GroupActivityKind,
    Organisation,
    OrgKind,
    OutreachContact,
    Place,
    PlaceKind,
    Referral,
    ReferralService,
    ReferralStatus,
    Role,
    RoleAssignment,
    Sex,
    Support,
    SupportKind,
    TestResult,
    User,
)

DT_START, DT_END = date(2021, 4, 1), date(2022, 3, 31)
QN_START, QN_END = date(2021, 12, 15), date(2022, 10, 31)

R = "report."
DT_EXPECTED: dict[str, Any] = {
    f"{R}community.managed": 1619,
    f"{R}models.communes_implementing": (127, 143),
    f"{R}community.good_progress": (427, 1619),
    f"{R}community.job_referrals": 52,
    f"{R}community.loans": 25,
    f"{R}community.loan_amount": 875_000_000,
}
DT_GOOD_PROGRESS_PERCENT = 26.4

QN_EXPECTED: dict[str, Any] = {
    f"{R}outreach.total": 1210,
    f"{R}outreach.pwud": 487,
    f"{R}outreach.relative": 650,
    f"{R}outreach.hiv": 13,
    f"{R}outreach.high_risk": 30,
    f"{R}outreach.student": 20,
    f"{R}outreach.other": 10,
    f"{R}connected_treatment": 101,
    f"{R}referred_health": 192,
    f"{R}referred_legal": 6,
    f"{R}events.conference": 21,
    f"{R}events.thematic_talk": 28,
    f"{R}events.campaign_event": 4,
    f"{R}events.club_meeting": 12,
    f"{R}events.training": 5,
    f"{R}models.volunteer_team": 25,
    f"{R}models.counselling_point": 6,
    f"{R}models.support_club": 9,
    f"{R}facility.admitted.voluntary": 199,
    f"{R}facility.admitted.compulsory": 177,
    f"{R}facility.admitted.pending": 14,
    f"{R}facility.admitted.total": 390,
    f"{R}facility.managed.voluntary": 145,
    f"{R}facility.managed.compulsory": 338,
    f"{R}facility.managed.pending": 14,
    f"{R}facility.managed.total": 497,
    f"{R}facility.vocational_classes": 3,
    f"{R}facility.vocational_learners": 105,
}


@dataclass
class SeedWorld:
    dt_province: int
    dt_communes: list[int]
    qn_province: int
    qn_communes: list[int]
    other_province: int
    other_communes: list[int]
    facility: int
    users: dict[str, tuple[int, Role]] = field(default_factory=dict)

    def actor(self, session: Session, name: str) -> Actor:
        user_id, role = self.users[name]
        actor = load_actor(session, user_id=user_id, role=role)
        assert actor is not None
        return actor


def _rows(model: type[SQLModel], items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Build through the model so every default (timestamps, "" texts, versions) is filled.
    return [model(**item).model_dump(exclude={"id"}) for item in items]


def _insert(session: Session, model: type[SQLModel], items: list[dict[str, Any]]) -> list[int]:
    if not items:
        return []
    table: Any = model
    stmt = insert(table).returning(table.id, sort_by_parameter_order=True)
    return list(session.execute(stmt, _rows(model, items)).scalars().all())


class _Builder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.rng = random.Random(2022)
        self.serial = 0

    def places(self, code: str, name: str, communes: int) -> tuple[int, list[int]]:
        (province,) = _insert(self.session, Place, [{
            "code": code, "name": name, "name_key": fold(name), "kind": PlaceKind.PROVINCE}])
        names = [f"Xã {name} {i + 1:03d}" for i in range(communes)]
        ids = _insert(self.session, Place, [
            {"code": f"{code}{i + 1:03d}", "name": n, "name_key": fold(n),
             "kind": PlaceKind.COMMUNE, "parent_id": province}
            for i, n in enumerate(names)
        ])
        return province, ids

    def clients(self, communes: list[int], n: int, **extra: Any) -> list[int]:
        items = []
        for i in range(n):
            self.serial += 1
            name = f"Người Thử {self.serial:05d}"
            items.append({"full_name": name, "name_key": fold(name),
                          "birth_year": 1970 + self.serial % 30, "sex": Sex.MALE,
                          "commune_id": communes[i % len(communes)],
                          "phone": f"09{self.serial:08d}", **extra})
        return _insert(self.session, Client, items)

    def day(self, start: date, end: date) -> date:
        return start + timedelta(days=self.rng.randrange((end - start).days + 1))

    def episodes(self, client_ids: list[int], etype: EpisodeType, start: date,
                 actual_end: date | None = None, provider: int | None = None) -> None:
        status = EpisodeStatus.CLOSED if actual_end else EpisodeStatus.OPEN
        _insert(self.session, Episode, [
            {"client_id": c, "episode_type": etype, "start_date": start,
             "actual_end": actual_end, "status": status, "provider_id": provider}
            for c in client_ids
        ])

    def tests(self, client_id: int, results: list[tuple[date, TestResult]]) -> list[dict[str, Any]]:
        return [{"client_id": client_id, "tested_on": d, "result": r} for d, r in results]

    def user(self, name: str, role: Role, place_id: int | None) -> tuple[int, Role]:
        (uid,) = _insert(self.session, User, [{"username": name, "full_name": name,
                                               "password_hash": "-"}])
        _insert(self.session, RoleAssignment, [{"user_id": uid, "role": role,
                                                "place_id": place_id}])
        return uid, role


def _dong_thap(b: _Builder, communes: list[int], other: list[int]) -> None:
    s, (start, end) = b.session, (DT_START, DT_END)
    implementing = communes[:127]
    # 1,619 people under community management in 127 communes: three community episode
    # types, started before or inside the period, some ended inside it (still counted).
    managed = b.clients(implementing, 1619)
    types = (EpisodeType.ILLEGAL_USE, EpisodeType.VOLUNTARY_COMMUNITY, EpisodeType.POST_REHAB)
    for i, etype in enumerate(types):
        group = managed[i::3]
        b.episodes(group[:300], etype, date(2020, 6, 1))
        b.episodes(group[300:450], etype, date(2021, 9, 1), actual_end=date(2022, 2, 1))
        b.episodes(group[450:], etype, date(2021, 5, 1))
    # A managed client may have two community episodes (counted once).
    b.episodes(managed[:20], EpisodeType.POST_REHAB, date(2021, 4, 1), actual_end=date(2021, 4, 2))

    # Not under management: ended before the period, only MMT, starting after the period,
    # merged away, or in another province.
    ended = b.clients(communes[127:], 16)
    b.episodes(ended, EpisodeType.ILLEGAL_USE, date(2019, 1, 1), actual_end=date(2021, 3, 31))
    mmt_only = b.clients([communes[0], communes[130]], 6)
    b.episodes(mmt_only, EpisodeType.MMT, date(2021, 1, 1))
    later = b.clients([communes[140]], 3)
    b.episodes(later, EpisodeType.ILLEGAL_USE, date(2022, 4, 10))
    merged = b.clients([communes[0]], 2, status=ClientStatus.MERGED)
    b.episodes(merged, EpisodeType.ILLEGAL_USE, date(2021, 1, 1))
    elsewhere = b.clients(other, 40)
    b.episodes(elsewhere, EpisodeType.ILLEGAL_USE, date(2021, 1, 1))

    # Teams: active ones in implementing communes; an inactive one in a commune without
    # clients does not make it "implementing"; nor do the MMT-only or ended clients.
    _insert(s, Organisation, [
        {"name": f"Đội CTXH {i}", "kind": OrgKind.VOLUNTEER_TEAM, "place_id": communes[i]}
        for i in range(20)
    ] + [{"name": "Đội CTXH cũ", "kind": OrgKind.VOLUNTEER_TEAM, "place_id": communes[141],
          "active": False}])

    # Good progress: 427 with negatives on two different days and no positive after the first.
    neg, pos = TestResult.NEGATIVE, TestResult.POSITIVE
    tests: list[dict[str, Any]] = []
    good, rest = managed[:427], managed[427:]
    for i, c in enumerate(good):
        d1 = b.day(start, date(2021, 12, 31))
        results = [(d1, neg), (d1 + timedelta(days=30), neg)]
        if i % 5 == 0:
            results.append((d1 - timedelta(days=1), pos))  # positive before: still good
        if i % 7 == 0:
            results.append((d1 + timedelta(days=60), neg))
        if i % 11 == 0:
            results.append((d1 + timedelta(days=40), TestResult.INVALID))
        if i == 3:
            results.append((end + timedelta(days=5), pos))  # after the period: not seen
        tests += b.tests(c, results)
    one_negative, same_day = rest[:100], rest[100:150]
    relapsed, early = rest[150:200], rest[200:230]
    for c in one_negative:
        tests += b.tests(c, [(date(2021, 6, 1), neg)])
    for c in same_day:
        tests += b.tests(c, [(date(2021, 7, 1), neg), (date(2021, 7, 1), neg)])
    for c in relapsed:
        tests += b.tests(c, [(date(2021, 6, 1), neg), (date(2021, 8, 1), neg),
                             (date(2021, 9, 1), pos)])
    for c in early:
        tests += b.tests(c, [(date(2021, 3, 1), neg), (date(2021, 6, 1), neg)])
    for c in elsewhere[:5] + ended[:3]:
        tests += b.tests(c, [(date(2021, 6, 1), neg), (date(2021, 8, 1), neg)])
    _insert(s, DrugTest, tests)

    # 52 job referrals: 30 placements, 15 job referrals, 7 with both.
    job = rest[300:352]
    support: list[dict[str, Any]] = [
        {"client_id": c, "kind": SupportKind.JOB_PLACEMENT, "started_on": date(2021, 10, 1)}
        for c in job[:30] + job[45:]
    ]
    referrals = [
        {"client_id": c, "service": ReferralService.JOB, "referred_on": date(2021, 11, 1),
         "consent": True}
        for c in job[30:]
    ]
    # Not counted: before the period, another kind, not managed, another province.
    support += [{"client_id": c, "kind": SupportKind.JOB_PLACEMENT, "started_on": date(2021, 3, 1)}
                for c in rest[400:405]]
    support += [{"client_id": c, "kind": SupportKind.VOCATIONAL_TRAINING,
                 "started_on": date(2021, 10, 1)} for c in rest[405:410]]
    support += [{"client_id": c, "kind": SupportKind.JOB_PLACEMENT, "started_on": date(2021, 10, 1)}
                for c in ended[:2] + elsewhere[:2]]

    # 25 people with loans totalling 875,000,000 đ (one of them took two loans).
    loans = rest[500:525]
    support += [{"client_id": c, "kind": SupportKind.LOAN, "started_on": date(2021, 12, 1),
                 "amount_vnd": 34_375_000, "term_months": 24} for c in loans[:24]]
    support += [{"client_id": loans[24], "kind": SupportKind.LOAN, "started_on": d,
                 "amount_vnd": amount, "term_months": 36}
                for d, amount in ((date(2021, 5, 1), 20_000_000), (date(2022, 1, 5), 30_000_000))]
    support += [{"client_id": c, "kind": SupportKind.LOAN, "started_on": d,
                 "amount_vnd": 99_000_000, "term_months": 12}
                for c, d in ((rest[530], date(2021, 1, 1)), (ended[0], date(2021, 6, 1)),
                             (elsewhere[0], date(2021, 6, 1)))]
    _insert(s, Support, support)
    _insert(s, Referral, referrals)


def _quang_ninh(b: _Builder, province: int, communes: list[int], other: list[int]) -> int:
    s, (start, end) = b.session, (QN_START, QN_END)
    place_ids = [*communes]
    # Outreach: 1,210 contacts in the period, some recorded at province level.
    contacts: list[dict[str, Any]] = []
    counts = {
        ContactCategory.PERSON_WHO_USES_DRUGS: [50] * 9 + [37],
        ContactCategory.RELATIVE: [50] * 13,
        ContactCategory.PERSON_WITH_HIV: [1] * 13,
        ContactCategory.HIGH_RISK: [10, 20],
        ContactCategory.STUDENT: [20],
        ContactCategory.OTHER: [5, 5],
    }
    for category, amounts in counts.items():
        for i, n in enumerate(amounts):
            contacts.append({"contact_date": b.day(start, end), "category": category, "count": n,
                             "place_id": place_ids[i % len(place_ids)]})
    contacts[0]["contact_date"], contacts[0]["place_id"] = start, province
    contacts[1]["contact_date"] = end
    contacts += [
        {"contact_date": start - timedelta(days=1), "category": ContactCategory.RELATIVE,
         "count": 99, "place_id": communes[0]},
        {"contact_date": end + timedelta(days=1), "category": ContactCategory.RELATIVE,
         "count": 99, "place_id": communes[0]},
        {"contact_date": date(2022, 5, 1), "category": ContactCategory.RELATIVE, "count": 99,
         "place_id": other[0]},
    ]
    _insert(s, OutreachContact, contacts)

    # Connections: 101 to treatment (80 treatment, 30 MMT, 9 both), 192 to health services
    # (20 of them twice), 6 to legal services (one twice).
    pool = b.clients(communes, 320)
    ref: list[dict[str, Any]] = []

    def refer(clients: list[int], service: ReferralService, status: ReferralStatus,
              on: date | None = None) -> None:
        ref.extend({"client_id": c, "service": service, "referred_on": on or b.day(start, end),
                    "consent": True, "status": status} for c in clients)

    treat = pool[:101]
    refer(treat[:80], ReferralService.TREATMENT, ReferralStatus.USED)
    refer(treat[71:], ReferralService.MMT, ReferralStatus.SENT)
    health = pool[101:293]
    services = (ReferralService.HIV_TEST, ReferralService.ARV, ReferralService.PREP,
                ReferralService.TB_HEPATITIS, ReferralService.MENTAL_HEALTH,
                ReferralService.HEALTH_CHECK)
    for i, svc in enumerate(services):
        refer(health[i::6], svc, ReferralStatus.USED if i % 2 else ReferralStatus.DECLINED)
    refer(health[:20], ReferralService.HEALTH_CHECK, ReferralStatus.RECEIVED)
    legal = pool[293:299]
    refer(legal[:4], ReferralService.LEGAL_AID, ReferralStatus.USED)
    refer(legal[3:], ReferralService.IDENTITY_PAPERS, ReferralStatus.SENT)
    # Not counted: outside the period, another province, other services.
    refer(pool[299:305], ReferralService.TREATMENT, ReferralStatus.USED, start - timedelta(days=1))
    refer(pool[305:310], ReferralService.HIV_TEST, ReferralStatus.USED, end + timedelta(days=1))
    refer(b.clients(other, 3), ReferralService.TREATMENT, ReferralStatus.USED, date(2022, 5, 1))
    refer(pool[310:315], ReferralService.VOCATIONAL, ReferralStatus.USED)
    _insert(s, Referral, ref)

    # Models: 25 volunteer teams, 6 counselling points, 9 clubs (+ ones that do not count).
    orgs: list[dict[str, Any]] = []
    for kind, n in ((OrgKind.VOLUNTEER_TEAM, 25), (OrgKind.COUNSELLING_POINT, 6),
                    (OrgKind.SUPPORT_CLUB, 9)):
        orgs += [{"name": f"{kind.value} {i}", "kind": kind, "place_id": communes[i % 13],
                  "founded_on": date(2020, 1, 1) if i % 2 else None} for i in range(n)]
    orgs += [
        {"name": "Đội đã giải thể", "kind": OrgKind.VOLUNTEER_TEAM, "place_id": communes[1],
         "active": False},
        {"name": "CLB mới", "kind": OrgKind.SUPPORT_CLUB, "place_id": communes[2],
         "founded_on": date(2022, 12, 1)},
        {"name": "Đội tỉnh khác", "kind": OrgKind.VOLUNTEER_TEAM, "place_id": other[0]},
    ]
    team_ids = _insert(s, Organisation, orgs)
    facility, clinic = _insert(s, Organisation, [
        {"name": "Cơ sở cai nghiện ma túy tỉnh (thử)", "kind": OrgKind.REHAB_FACILITY,
         "place_id": communes[0]},
        {"name": "Cơ sở điều trị Methadone (thử)", "kind": OrgKind.TREATMENT_CLINIC,
         "place_id": communes[0]},
    ])

    # Events: 21 conferences, 28 talks, 4 campaign events, 12 club meetings, 5 trainings of
    # which 3 are the facility's vocational classes of 35 learners.
    events: list[dict[str, Any]] = []
    for gkind, n in ((GroupActivityKind.CONFERENCE, 21), (GroupActivityKind.THEMATIC_TALK, 28),
                     (GroupActivityKind.CAMPAIGN_EVENT, 4), (GroupActivityKind.CLUB_MEETING, 12)):
        events += [{"kind": gkind, "held_on": b.day(start, end), "place_id": communes[i % 13],
                    "organiser_id": team_ids[i % 25], "attendees_total": 40} for i in range(n)]
    events += [{"kind": GroupActivityKind.TRAINING, "held_on": date(2022, m, 10),
                "place_id": communes[0], "organiser_id": facility, "attendees_total": 35,
                "attendees_clients": 35} for m in (2, 4, 6)]
    events += [{"kind": GroupActivityKind.TRAINING, "held_on": date(2022, 3, 3),
                "place_id": communes[i], "organiser_id": team_ids[0], "attendees_total": 25}
               for i in (1, 2)]
    events += [
        {"kind": GroupActivityKind.CONFERENCE, "held_on": start - timedelta(days=1),
         "place_id": communes[0], "attendees_total": 10},
        {"kind": GroupActivityKind.CONFERENCE, "held_on": date(2022, 5, 5),
         "place_id": other[0], "attendees_total": 10},
        {"kind": GroupActivityKind.TRAINING, "held_on": date(2021, 11, 1),
         "place_id": communes[0], "organiser_id": facility, "attendees_total": 35},
    ]
    _insert(s, GroupActivity, events)

    # Facility: 390 new admissions (199 + 177 + 14), 497 managed at the end (145 + 338 + 14).
    residents = b.clients(communes + other, 600)  # some live in another province: still counted
    take = iter(residents)

    def admit(n: int, etype: EpisodeType, on: date, actual_end: date | None = None,
              provider: int = facility) -> None:
        b.episodes([next(take) for _ in range(n)], etype, on, actual_end, provider)

    v, c, p = EpisodeType.VOLUNTARY_FACILITY, EpisodeType.COMPULSORY, EpisodeType.PENDING_COMPULSORY
    admit(139, v, date(2022, 3, 1))
    admit(60, v, date(2022, 1, 10), actual_end=date(2022, 7, 10))
    admit(6, v, date(2021, 9, 1))
    admit(10, v, date(2021, 6, 1), actual_end=date(2021, 12, 1))
    admit(177, c, date(2022, 5, 1))
    admit(161, c, date(2021, 3, 1))
    admit(5, c, date(2020, 11, 1), actual_end=end)  # left on the last day: not at the end
    admit(14, p, date(2022, 10, 1))
    admit(8, v, date(2022, 2, 1), provider=clinic)  # not a rehab facility
    return facility


def build_seed_world(session: Session) -> SeedWorld:
    """Insert both seed provinces and a third one, with users; commits."""
    b = _Builder(session)
    dt, dt_communes = b.places("T82", "Đồng Tháp Thử", 143)
    qn, qn_communes = b.places("T22", "Quảng Ninh Thử", 13)
    oth, oth_communes = b.places("T99", "Tỉnh Khác", 2)
    world = SeedWorld(dt, dt_communes, qn, qn_communes, oth, oth_communes, facility=0)
    _dong_thap(b, dt_communes, oth_communes)
    world.facility = _quang_ninh(b, qn, qn_communes, oth_communes)
    world.users = {
        "sup_dt": b.user("sup_dt", Role.SUPERVISOR, dt),
        "sup_qn": b.user("sup_qn", Role.SUPERVISOR, qn),
        "sup_dt_commune": b.user("sup_dt_commune", Role.SUPERVISOR, dt_communes[0]),
        "vol_dt": b.user("vol_dt", Role.VOLUNTEER, dt_communes[0]),
        "sup_other": b.user("sup_other", Role.SUPERVISOR, oth),
        "admin": b.user("admin", Role.ADMIN, None),
    }
    session.commit()
    return world
