"""Fill a database with realistic, reproducible programme data for benchmarks.

    python -m bench.generate --size small|province|national --db-url URL [--seed 42]
                             [--province-code NN] [--append | --reset]

The same seed gives the same rows (names, dates, counts) on SQLite and PostgreSQL.
Rows are built as plain dicts from one `random.Random(seed)` and written with Core
bulk inserts (PostgreSQL: COPY), with ids assigned here so that no row has to be
read back. Dates run from 2022-01-01 to 2026-11-01 (never past today).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from bisect import bisect
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from faker import Faker
from faker.providers.person.vi_VN import Provider as FakerViPerson
from sqlalchemy import Connection, Table, func, insert, inspect, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from app.services.places import load_places
from app.services.security import hash_password
from app.services.text import fold
from bench import names_vi as vi
from models import (  # importing models registers every table on SQLModel.metadata
    ClientStatus,
    ContactCategory,
    EndReason,
    EpisodeStatus,
    EpisodeType,
    GroupActivityKind,
    OrgKind,
    PlaceKind,
    ReferralService,
    ReferralStatus,
    Role,
    SupportKind,
    TestResult,
    VisitKind,
)

WINDOW_START = date(2022, 1, 1)
WINDOW_END = date(2026, 11, 1)
DEFAULT_PROVINCE = 82  # Đồng Tháp: one of the two programmes in seeds/
PASSWORD = "benchmark-pass-1"
CHUNK = 10_000
CLIENTS_PER_VOLUNTEER = 25
MIN_CLIENTS_PER_COMMUNE = 8
PROGRAM_COMMUNE_SHARE = 0.89  # Đồng Tháp 2022: 127 of 143 communes ran the model


@dataclass(frozen=True)
class Size:
    provinces: int | None  # None: every province
    clients: int
    visits: int


SIZES: dict[str, Size] = {
    "tiny": Size(provinces=1, clients=50, visits=400),  # for tests; not offered in --help
    "small": Size(provinces=1, clients=2_000, visits=100_000),
    "province": Size(provinces=1, clients=20_000, visits=1_000_000),
    "national": Size(provinces=None, clients=250_000, visits=10_000_000),
}
PUBLIC_SIZES = ("small", "province", "national")

# Months an episode runs; None: open-ended (methadone continues as long as it helps).
EPISODE_MONTHS: dict[EpisodeType, int | None] = {
    EpisodeType.ILLEGAL_USE: 12,
    EpisodeType.VOLUNTARY_COMMUNITY: 6,
    EpisodeType.VOLUNTARY_FACILITY: 6,
    EpisodeType.MMT: None,
    EpisodeType.COMPULSORY: 24,
    EpisodeType.PENDING_COMPULSORY: 3,
    EpisodeType.POST_REHAB: 24,
}
FIRST_EPISODE = (
    (EpisodeType.ILLEGAL_USE, 40),
    (EpisodeType.VOLUNTARY_COMMUNITY, 20),
    (EpisodeType.MMT, 14),
    (EpisodeType.VOLUNTARY_FACILITY, 5),
    (EpisodeType.COMPULSORY, 8),
    (EpisodeType.PENDING_COMPULSORY, 8),
    (EpisodeType.POST_REHAB, 5),
)
NEXT_EPISODE: dict[EpisodeType, tuple[tuple[EpisodeType, float], ...]] = {
    EpisodeType.ILLEGAL_USE: (
        (EpisodeType.VOLUNTARY_COMMUNITY, 40),
        (EpisodeType.PENDING_COMPULSORY, 25),
        (EpisodeType.MMT, 20),
        (EpisodeType.VOLUNTARY_FACILITY, 15),
    ),
    EpisodeType.PENDING_COMPULSORY: ((EpisodeType.COMPULSORY, 80), (EpisodeType.ILLEGAL_USE, 20)),
    EpisodeType.COMPULSORY: ((EpisodeType.POST_REHAB, 1),),
    EpisodeType.VOLUNTARY_FACILITY: ((EpisodeType.POST_REHAB, 1),),
    EpisodeType.VOLUNTARY_COMMUNITY: ((EpisodeType.POST_REHAB, 60), (EpisodeType.ILLEGAL_USE, 40)),
    EpisodeType.MMT: ((EpisodeType.ILLEGAL_USE, 50), (EpisodeType.VOLUNTARY_COMMUNITY, 50)),
    EpisodeType.POST_REHAB: ((EpisodeType.ILLEGAL_USE, 70), (EpisodeType.MMT, 30)),
}
REHAB_TYPES = frozenset(
    {
        EpisodeType.VOLUNTARY_COMMUNITY,
        EpisodeType.VOLUNTARY_FACILITY,
        EpisodeType.COMPULSORY,
    }
)
# How often a volunteer sees a client relative to an ordinary community episode.
VISIT_FACTOR: dict[EpisodeType, float] = {
    EpisodeType.ILLEGAL_USE: 1.0,
    EpisodeType.VOLUNTARY_COMMUNITY: 1.3,
    EpisodeType.VOLUNTARY_FACILITY: 0.3,
    EpisodeType.MMT: 1.2,
    EpisodeType.COMPULSORY: 0.1,
    EpisodeType.PENDING_COMPULSORY: 1.0,
    EpisodeType.POST_REHAB: 0.9,
}
EARLY_END = (
    (EndReason.RELAPSE, 35),
    (EndReason.QUIT, 25),
    (EndReason.MOVED, 20),
    (EndReason.IMPRISONED, 12),
    (EndReason.DIED, 8),
)

VISIT_KINDS_DEFAULT = (
    (VisitKind.HOME, 50),
    (VisitKind.PHONE, 32),
    (VisitKind.COMMUNITY_MEETING, 12),
    (VisitKind.CLINIC_ATTENDANCE, 6),
)
VISIT_KINDS_MMT = (
    (VisitKind.CLINIC_ATTENDANCE, 35),
    (VisitKind.HOME, 30),
    (VisitKind.PHONE, 25),
    (VisitKind.COMMUNITY_MEETING, 10),
)
VISIT_KINDS_AWAY = ((VisitKind.PHONE, 80), (VisitKind.HOME, 20))  # client in a facility
VISIT_CONTENT = (
    "counselling",
    "education",
    "support",
    "counselling,education",
    "counselling,support",
    "counselling,education,support",
)

REFERRAL_SERVICES = (
    (ReferralService.TREATMENT, 12),
    (ReferralService.MMT, 10),
    (ReferralService.HIV_TEST, 18),
    (ReferralService.ARV, 3),
    (ReferralService.PREP, 3),
    (ReferralService.TB_HEPATITIS, 6),
    (ReferralService.MENTAL_HEALTH, 6),
    (ReferralService.HEALTH_CHECK, 15),
    (ReferralService.LEGAL_AID, 3),
    (ReferralService.IDENTITY_PAPERS, 6),
    (ReferralService.VOCATIONAL, 8),
    (ReferralService.JOB, 6),
    (ReferralService.LOAN, 4),
)
SUBSTANCES = (
    ("methamphetamine", 35),
    ("heroin", 30),
    ("heroin,methamphetamine", 12),
    ("cannabis", 6),
    ("methamphetamine,ketamine", 5),
    ("mdma,ketamine", 4),
    ("opium", 2),
    ("", 6),
)
TEST_PANEL = "morphine,methamphetamine,ketamine,thc"
MOBILE_PREFIXES = (
    "032",
    "033",
    "034",
    "035",
    "036",
    "037",
    "038",
    "039",
    "070",
    "076",
    "077",
    "078",
    "079",
    "081",
    "082",
    "083",
    "084",
    "085",
    "086",
    "088",
    "089",
    "090",
    "091",
    "093",
    "094",
    "096",
    "097",
    "098",
)
NICKNAMES = ("Tí", "Tèo", "Bé", "Cu", "Hai", "Ba", "Út", "Tư", "Bi", "Cò")
# (relation, relative is male); the spouse is picked by the client's sex.
RELATIVES = (("Mẹ", False), ("Bố", True), ("Anh trai", True), ("Chị gái", False), ("Em", None))
PRIORITY_GROUPS = ("poor_household", "ethnic_minority", "disability", "homeless")
LOAN_MILLIONS = (10, 15, 20, 25, 30, 35, 40, 50, 60, 80, 100)


# ----------------------------------------------------------------------------- helpers


class _Picker:
    """Weighted choice with precomputed cumulative weights (fast in hot loops)."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.items = [p[0] for p in pairs]
        total = 0.0
        self.cum: list[float] = []
        for _, weight in pairs:
            total += weight
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.total)]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:  # normal approximation: plenty for counts of visits
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _allocate(rng: random.Random, total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder; deterministic)."""
    s = sum(weights)
    exact = [total * w / s for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], rng.random()))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _d(ordinal: int) -> date:
    return date.fromordinal(ordinal)


# Timestamp columns are UTC. With SQLModel's UTCDateTime they take aware values only;
# a plain DateTime column takes naive UTC. Follow whichever the models declare.
_TZ = (
    UTC if getattr(SQLModel.metadata.tables["visit"].c.created_at.type, "timezone", False) else None
)


def _dt(ordinal: int, minutes: int) -> datetime:
    """A UTC timestamp `minutes` after midnight of a date ordinal."""
    return datetime.fromordinal(ordinal).replace(tzinfo=_TZ) + timedelta(minutes=minutes)


def _add_months(ordinal: int, months: int) -> int:
    d = date.fromordinal(ordinal)
    y, m = divmod(d.month - 1 + months, 12)
    return date(d.year + y, m + 1, min(d.day, 28)).toordinal()


# ----------------------------------------------------------------------------- writing


class _Writer:
    """Buffers rows per table and writes them in chunks, parents before children."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.tables = SQLModel.metadata.tables
        self.buffers: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.counts: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.next_ids: dict[str, int] = {}
        self._checked: set[str] = set()
        self._fill: dict[str, dict[str, Any]] = {}

    def new_id(self, table: str) -> int:
        if table not in self.next_ids:
            col = self.tables[table].c.id
            self.next_ids[table] = (self.conn.execute(select(func.max(col))).scalar() or 0) + 1
        value = self.next_ids[table]
        self.next_ids[table] = value + 1
        return value

    def add(self, table: str, row: dict[str, Any]) -> None:
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= CHUNK:
            self.flush(table)

    def flush(self, name: str) -> None:
        rows = self.buffers.get(name)
        if not rows:
            return
        table = self.tables[name]
        for fk in table.foreign_keys:  # a child's parents must be in the database first
            parent = fk.column.table.name
            if parent != name:
                self.flush(parent)
        if name not in self._checked:
            self._fill[name] = self._column_fill(table, rows[0].keys())
            self._checked.add(name)
        if self._fill.get(name):
            rows = [{**self._fill[name], **row} for row in rows]
        started = time.perf_counter()
        if self.pg:
            self._copy(table, rows)
        else:
            self.conn.execute(insert(table), rows)
        self.seconds[name] += time.perf_counter() - started
        self.counts[name] += len(rows)
        self.buffers[name] = []

    @staticmethod
    def _column_fill(table: Any, given: Any) -> dict[str, Any]:
        """Values for the columns a builder leaves out: NULL where the column allows it, else
        its scalar default. A required column with neither is a builder's mistake (COPY would
        silently write NULLs), so it stops the run."""
        fill: dict[str, Any] = {}
        for column in table.columns:
            if column.name in given:
                continue
            default = column.default
            if default is not None and default.is_scalar:
                fill[column.name] = default.arg
            elif column.nullable and not column.primary_key:
                fill[column.name] = None
            else:
                raise RuntimeError(f"{table.name}: rows lack the required column {column.name}")
        return fill

    def flush_all(self) -> None:
        for name in list(self.buffers):
            self.flush(name)

    def commit(self) -> None:
        self.flush_all()
        started = time.perf_counter()
        self.conn.commit()
        self.seconds["(commit)"] += time.perf_counter() - started

    def _copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        cols = [c.name for c in table.columns]
        sql = 'COPY "{}" ({}) FROM STDIN'.format(table.name, ", ".join(f'"{c}"' for c in cols))
        raw: Any = self.conn.connection.dbapi_connection  # a psycopg 3 connection
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[c] for c in cols])

    def fix_sequences(self) -> None:
        """After explicit ids, move PostgreSQL's sequences past the highest id."""
        if not self.pg:
            return
        for name in self.next_ids:
            self.conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f'(SELECT MAX(id) FROM "{name}"))'
                )
            )


# ----------------------------------------------------------------------------- the world


@dataclass(slots=True)
class _Episode:
    kind: EpisodeType
    start: int  # date ordinals
    expected_end: int | None
    actual_end: int | None
    provider_id: int | None


@dataclass(slots=True)
class _Client:
    id: int
    volunteer_id: int
    registered: int
    intensity: float
    good_progress: bool
    merged: bool
    episodes: list[_Episode]


@dataclass
class _Commune:
    id: int
    code: int
    name: str
    ward: bool  # phường: streets; xã / đặc khu: hamlets
    office_id: int = 0
    station_id: int = 0
    team_id: int = 0
    club_id: int = 0
    point_id: int = 0
    supervisor_id: int | None = None
    n_clients: int = 0
    volunteers: list[int] = field(default_factory=list)
    clients: list[_Client] = field(default_factory=list)


@dataclass
class _Province:
    id: int
    code: int
    name: str
    communes: list[_Commune]
    program: list[_Commune] = field(default_factory=list)
    police_id: int = 0
    health_dept_id: int = 0
    bank_id: int = 0
    rehab_id: int = 0
    legal_id: int = 0
    school_id: int = 0
    clinics: list[int] = field(default_factory=list)  # methadone / treatment clinics
    health: list[int] = field(default_factory=list)  # hospitals, district health centres
    supervisors: list[int] = field(default_factory=list)
    staff: dict[int, list[int]] = field(default_factory=dict)  # facility id -> user ids


class _Generator:
    def __init__(self, conn: Connection, size: Size, seed: int, until: date) -> None:
        self.w = _Writer(conn)
        self.conn = conn
        self.size = size
        self.rng = random.Random(seed)
        self.faker = Faker("vi_VN")
        self.faker.seed_instance(seed)
        self.start = WINDOW_START.toordinal()
        self.end = until.toordinal()
        self.streets = sorted({self.faker.street_name() for _ in range(400)})
        self.given_male = sorted(set(vi.GIVEN_NAMES_MALE) | set(FakerViPerson.first_names_male))
        self.given_female = sorted(
            set(vi.GIVEN_NAMES_FEMALE) | set(FakerViPerson.first_names_female)
        )
        self.family = _Picker(vi.FAMILY_NAMES)
        self.ethnicity = _Picker(vi.ETHNICITIES)
        self.substances = _Picker(SUBSTANCES)
        self.first_episode = _Picker(FIRST_EPISODE)
        self.next_episode = {k: _Picker(v) for k, v in NEXT_EPISODE.items()}
        self.early_end = _Picker(EARLY_END)
        self.referral_service = _Picker(REFERRAL_SERVICES)
        self.visit_kinds = {
            "default": _Picker(VISIT_KINDS_DEFAULT),
            "mmt": _Picker(VISIT_KINDS_MMT),
            "away": _Picker(VISIT_KINDS_AWAY),
        }
        self.password_hash = hash_password(PASSWORD)  # once: argon2 is slow on purpose
        self.usernames: set[str] = set(conn.execute(text('SELECT username FROM "user"')).scalars())
        self.provinces: list[_Province] = []

    # -- names

    def person_name(self, male: bool) -> str:
        rng = self.rng
        family = self.family(rng)
        if male:
            return f"{family} {rng.choice(vi.MIDDLE_NAMES_MALE)} {rng.choice(self.given_male)}"
        return f"{family} {rng.choice(vi.MIDDLE_NAMES_FEMALE)} {rng.choice(self.given_female)}"

    def national_id(self, province_code: int, male: bool, birth_year: int) -> str:
        """12 digits shaped like a citizen-ID number: place, sex and century, year, serial."""
        sex_century = (0 if male else 1) + (2 if birth_year >= 2000 else 0)
        serial = self.rng.randrange(1_000_000)
        return f"{province_code:03d}{sex_century}{birth_year % 100:02d}{serial:06d}"

    def family_contact(self, client_male: bool) -> str:
        rng = self.rng
        if rng.random() < 0.3:
            relation, male = ("Vợ", False) if client_male else ("Chồng", True)
        else:
            relation, known = rng.choice(RELATIVES)
            male = rng.random() < 0.5 if known is None else known
        return f"{relation}: {self.person_name(male)} - {self.mobile()}"

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10_000_000):07d}"

    # -- places (loaded by app.services.places before the generator starts)

    def pick_provinces(self, province_code: int | None) -> None:
        place = SQLModel.metadata.tables["place"]
        rows = self.conn.execute(
            select(
                place.c.id,
                place.c.code,
                place.c.name,
                place.c.kind,
                place.c.division_type,
                place.c.parent_id,
            ).order_by(place.c.code)
        ).all()
        provinces = {
            r.id: _Province(r.id, int(r.code), r.name, [])
            for r in rows
            if r.kind == PlaceKind.PROVINCE.value
        }
        for r in rows:
            if r.kind == PlaceKind.COMMUNE.value and r.parent_id in provinces:
                provinces[r.parent_id].communes.append(
                    _Commune(r.id, int(r.code), r.name, r.division_type == "phường")
                )
        by_code = {p.code: p for p in provinces.values() if p.communes}
        if self.size.provinces is None:
            if province_code is not None:
                raise ValueError("--province-code applies to single-province sizes only")
            self.provinces = sorted(by_code.values(), key=lambda p: p.code)
        else:
            code = DEFAULT_PROVINCE if province_code is None else province_code
            if code not in by_code:
                raise ValueError(f"no province with code {code:02d} and communes")
            self.provinces = [by_code[code]]

    # -- organisations and users

    def org(self, name: str, kind: OrgKind, place_id: int) -> int:
        rng = self.rng
        oid = self.w.new_id("organisation")
        founded = date(rng.randint(2016, 2021), rng.randint(1, 12), rng.randint(1, 28))
        self.w.add(
            "organisation",
            {
                "id": oid,
                "name": name[:200],
                "kind": kind.value,
                "place_id": place_id,
                "founding_decision": f"{rng.randint(12, 3999)}/QĐ-UBND",
                "founded_on": founded,
                "active": True,
                "address": "",
                "created_at": _dt(self.start - 31, 120),
            },
        )
        return oid

    def user(
        self,
        username: str,
        role: Role,
        *,
        org_id: int | None,
        place_id: int | None = None,
        facility_id: int | None = None,
    ) -> int:
        rng = self.rng
        uid = self.w.new_id("user")
        if username in self.usernames:  # --append over an existing run: stay unique
            username = f"{username}-{uid}"
        self.usernames.add(username)
        created = _dt(self.start - rng.randint(0, 60), rng.randint(60, 600))
        self.w.add(
            "user",
            {
                "id": uid,
                "username": username,
                # 7919 is prime, so distinct ids give distinct numbers.
                "phone": f"09{(uid * 7919 + 1_234_567) % 100_000_000:08d}",
                "full_name": self.person_name(rng.random() < 0.6),
                "password_hash": self.password_hash,
                "language": "en" if rng.random() < 0.03 else "vi",
                "is_active": rng.random() > 0.02,
                "must_change_password": False,
                "organisation_id": org_id,
                "created_at": created,
                "password_changed_at": None,
                "version": 1,
            },
        )
        self.w.add(
            "roleassignment",
            {
                "id": self.w.new_id("roleassignment"),
                "user_id": uid,
                "role": role.value,
                "place_id": place_id,
                "facility_id": facility_id,
                "created_at": created,
            },
        )
        return uid

    def build_organisations_and_users(self) -> None:
        rng = self.rng
        if "admin" not in self.usernames:
            self.user("admin", Role.ADMIN, org_id=None)
        weights = [len(p.communes) * rng.uniform(0.5, 1.6) for p in self.provinces]
        per_province = _allocate(rng, self.size.clients, weights)
        for prov, n_clients in zip(self.provinces, per_province, strict=True):
            self._province_orgs(prov)
            # Most communes run the model, but a handful of clients don't spread over a hundred.
            n_program = max(
                1,
                min(
                    round(len(prov.communes) * PROGRAM_COMMUNE_SHARE),
                    math.ceil(n_clients / MIN_CLIENTS_PER_COMMUNE),
                ),
            )
            prov.program = sorted(rng.sample(prov.communes, n_program), key=lambda c: c.code)
            for commune in prov.communes:
                commune.office_id = self.org(
                    f"UBND {commune.name}", OrgKind.COMMUNE_OFFICE, commune.id
                )
            client_counts = _allocate(
                rng, n_clients, [rng.lognormvariate(0, 0.8) for _ in prov.program]
            )
            for commune, count in zip(prov.program, client_counts, strict=True):
                self._commune_team(prov, commune, count)
        self.w.commit()

    def _province_orgs(self, prov: _Province) -> None:
        rng, pid, pname = self.rng, prov.id, prov.name
        short = pname.removeprefix("Thành phố ")
        prov.police_id = self.org(f"Công an {pname} — Phòng PC04", OrgKind.POLICE, pid)
        prov.health_dept_id = self.org(f"Sở Y tế {short}", OrgKind.AGENCY, pid)
        prov.bank_id = self.org(
            f"Ngân hàng Chính sách xã hội chi nhánh {short}", OrgKind.AGENCY, pid
        )
        prov.rehab_id = self.org(f"Cơ sở cai nghiện ma túy {short}", OrgKind.REHAB_FACILITY, pid)
        prov.legal_id = self.org(
            f"Trung tâm Trợ giúp pháp lý nhà nước {short}", OrgKind.LEGAL_AID, pid
        )
        prov.school_id = self.org(f"Trường Cao đẳng nghề {short}", OrgKind.VOCATIONAL_SCHOOL, pid)
        prov.health.append(self.org(f"Bệnh viện Đa khoa {short}", OrgKind.HEALTH_FACILITY, pid))
        n_clinics = max(2, len(prov.communes) // 30)
        for c in sorted(
            rng.sample(prov.communes, min(n_clinics, len(prov.communes))), key=lambda c: c.code
        ):
            prov.clinics.append(
                self.org(f"Cơ sở điều trị Methadone {c.name}", OrgKind.TREATMENT_CLINIC, c.id)
            )
        n_centres = max(2, len(prov.communes) // 25)
        for c in sorted(
            rng.sample(prov.communes, min(n_centres, len(prov.communes))), key=lambda c: c.code
        ):
            prov.health.append(
                self.org(f"Trung tâm Y tế khu vực {c.name}", OrgKind.HEALTH_FACILITY, c.id)
            )
        for k in (1, 2):
            prov.supervisors.append(
                self.user(
                    f"gs.{prov.code:02d}.{k}", Role.SUPERVISOR, org_id=prov.police_id, place_id=pid
                )
            )
        staff_no = 0
        for facility in [*prov.clinics, *prov.health, prov.rehab_id]:
            per = 2 if facility in prov.clinics else 1
            prov.staff[facility] = []
            for _ in range(per):
                staff_no += 1
                prov.staff[facility].append(
                    self.user(
                        f"yt.{prov.code:02d}.{staff_no:03d}",
                        Role.CLINIC,
                        org_id=facility,
                        facility_id=facility,
                    )
                )

    def _commune_team(self, prov: _Province, commune: _Commune, n_clients: int) -> None:
        rng = self.rng
        commune.team_id = self.org(
            f"Đội công tác xã hội tình nguyện {commune.name}", OrgKind.VOLUNTEER_TEAM, commune.id
        )
        commune.station_id = self.org(
            f"Trạm Y tế {commune.name}", OrgKind.HEALTH_FACILITY, commune.id
        )
        if rng.random() < 0.2:
            commune.point_id = self.org(
                f"Điểm tư vấn {commune.name}", OrgKind.COUNSELLING_POINT, commune.id
            )
        if rng.random() < 0.3:
            commune.club_id = self.org(
                f"Câu lạc bộ Đồng hành {commune.name}", OrgKind.SUPPORT_CLUB, commune.id
            )
        if rng.random() < 0.3:
            commune.supervisor_id = self.user(
                f"gs.{commune.code:05d}",
                Role.SUPERVISOR,
                org_id=commune.office_id,
                place_id=commune.id,
            )
        n_volunteers = max(1, math.ceil(n_clients / CLIENTS_PER_VOLUNTEER))
        for k in range(1, n_volunteers + 1):
            uid = self.user(
                f"tnv.{commune.code:05d}.{k}",
                Role.VOLUNTEER,
                org_id=commune.team_id,
                place_id=commune.id,
            )
            commune.volunteers.append(uid)
            self.w.add(
                "teammember",
                {
                    "id": self.w.new_id("teammember"),
                    "organisation_id": commune.team_id,
                    "user_id": uid,
                    "joined_on": _d(self.start - rng.randint(0, 400)),
                    "left_on": None,
                },
            )
        commune.n_clients = n_clients

    # -- clients, consents, episodes

    def build_clients(self) -> None:
        for prov in self.provinces:
            for commune in prov.program:
                for _ in range(commune.n_clients):
                    commune.clients.append(self._client(prov, commune))
        self.w.commit()

    def _episodes(self, prov: _Province, commune: _Commune) -> list[_Episode]:
        rng = self.rng
        start = rng.randint(self.start - 365, self.end - 30)
        kind: EpisodeType = self.first_episode(rng)
        out: list[_Episode] = []
        for _ in range(3):
            months = EPISODE_MONTHS[kind]
            expected = _add_months(start, months) if months else None
            natural_end = expected if expected is not None else start + rng.randint(200, 1500)
            actual: int | None
            r = rng.random()
            if r < 0.18:  # ends early
                actual = start + rng.randint(20, max(21, natural_end - start))
            elif r < 0.85:
                actual = natural_end + rng.randint(-5, 40)
            else:
                actual = None
            if actual is not None and actual > self.end:
                actual = None
            out.append(_Episode(kind, start, expected, actual, self._provider(prov, commune, kind)))
            if actual is None or rng.random() < 0.45:
                break
            start = actual + rng.randint(1, 90)
            if start > self.end - 10:
                break
            kind = self.next_episode[kind](rng)
        return out

    def _provider(self, prov: _Province, commune: _Commune, kind: EpisodeType) -> int:
        if kind == EpisodeType.MMT:
            return self.rng.choice(prov.clinics)
        if kind in (EpisodeType.COMPULSORY, EpisodeType.VOLUNTARY_FACILITY):
            return prov.rehab_id
        return commune.office_id

    def _client(self, prov: _Province, commune: _Commune) -> _Client:
        rng, w = self.rng, self.w
        cid = w.new_id("client")
        volunteer = rng.choice(commune.volunteers)
        episodes = self._episodes(prov, commune)
        registered = episodes[0].start
        r = rng.random()
        male = r < 0.94
        sex = "male" if male else ("female" if r < 0.995 else "other")
        name = self.person_name(male)
        birth_year = self.end_year() - int(rng.triangular(16, 62, 33))
        minor = self.end_year() - birth_year < 18
        substances = self.substances(rng)
        hiv = rng.choices(("", "negative", "positive"), (55, 39, 6))[0]
        merged_into = None
        if commune.clients and rng.random() < 0.003:
            merged_into = rng.choice(commune.clients).id
        status = (
            ClientStatus.MERGED
            if merged_into
            else (ClientStatus.ACTIVE if episodes[-1].actual_end is None else ClientStatus.CLOSED)
        )
        if commune.ward:
            address = f"{rng.randint(1, 300)} {rng.choice(self.streets)}"
        else:
            address = f"{rng.choice(vi.STREET_KINDS)} {rng.randint(1, 15)}"
        w.add(
            "client",
            {
                "id": cid,
                "full_name": name,
                "name_key": fold(name),
                "other_names": rng.choice(NICKNAMES) if rng.random() < 0.06 else "",
                "birth_year": birth_year,
                "birth_date": date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
                if rng.random() < 0.65
                else None,
                "sex": sex,
                "national_id": self.national_id(prov.code, male, birth_year)
                if rng.random() < 0.85
                else None,
                "phone": self.mobile() if rng.random() < 0.75 else "",
                "commune_id": commune.id,
                "address": address,
                "former_address": "",
                "legal_rep_name": self.person_name(rng.random() < 0.5) if minor else "",
                "legal_rep_phone": self.mobile() if minor else "",
                "family_contact": self.family_contact(male) if rng.random() < 0.7 else "",
                "priority_group": rng.choice(PRIORITY_GROUPS) if rng.random() < 0.08 else "",
                "substances": substances,
                "injects": "heroin" in substances and rng.random() < 0.25,
                "hiv_status": hiv,
                "ethnicity": self.ethnicity(rng) if rng.random() < 0.5 else "",
                "photo_path": "",
                "assigned_volunteer_id": volunteer,
                "status": status.value,
                "merged_into_id": merged_into,
                "created_at": _dt(registered, rng.randint(420, 1080)),
                "created_by_id": volunteer,
                "version": 1 + (rng.random() < 0.3),
            },
        )
        withdrawn = rng.random() < 0.01
        w.add(
            "consent",
            {
                "id": w.new_id("consent"),
                "client_id": cid,
                "purpose": "case_management",
                "sensitive_categories": "drug_use,test_results" + (",hiv" if hiv else ""),
                "given_on": _d(registered),
                "withdrawn_on": _d(min(self.end, registered + rng.randint(30, 400)))
                if withdrawn
                else None,
                "recorded_by_id": volunteer,
                "created_at": _dt(registered, rng.randint(420, 1080)),
            },
        )
        rehab_count = 0
        for ep in episodes:
            rehab_count += ep.kind in REHAB_TYPES
            self._episode_row(cid, commune, volunteer, ep, max(1, rehab_count))
        return _Client(
            cid,
            volunteer,
            registered,
            rng.lognormvariate(0, 0.45),
            rng.random() < 0.3,
            merged_into is not None,
            episodes,
        )

    def end_year(self) -> int:
        return date.fromordinal(self.end).year

    def _episode_row(
        self, cid: int, commune: _Commune, manager: int, ep: _Episode, rehab_count: int
    ) -> None:
        rng = self.rng
        if ep.actual_end is not None:
            status = EpisodeStatus.CLOSED
            if ep.expected_end is not None and ep.actual_end >= ep.expected_end - 5:
                reason: EndReason | None = EndReason.COMPLETED
            else:
                reason = self.early_end(rng)
        else:
            reason = None
            overdue = ep.expected_end is not None and ep.expected_end < self.end
            status = (
                EpisodeStatus.CLOSURE_PROPOSED
                if overdue and rng.random() < 0.4
                else EpisodeStatus.OPEN
            )
        court = ep.kind in (EpisodeType.COMPULSORY,)
        decided = ep.kind != EpisodeType.MMT
        decision_date = ep.start - rng.randint(1, 20)
        self.w.add(
            "episode",
            {
                "id": self.w.new_id("episode"),
                "client_id": cid,
                "episode_type": ep.kind.value,
                "decision_number": (
                    f"{rng.randint(1, 999)}/QĐ-TA" if court else f"{rng.randint(1, 2999)}/QĐ-UBND"
                )
                if decided
                else "",
                "decision_date": _d(decision_date) if decided else None,
                "decision_signer": (
                    "Tòa án nhân dân khu vực" if court else f"Chủ tịch UBND {commune.name}"
                )
                if decided
                else "",
                "start_date": _d(ep.start),
                "expected_end": _d(ep.expected_end) if ep.expected_end else None,
                "actual_end": _d(ep.actual_end) if ep.actual_end else None,
                "end_reason": reason.value if reason else None,
                "rehab_count": rehab_count,
                "manager_id": manager,
                "provider_id": ep.provider_id,
                "stages_completed": "detox,psychosocial,reintegration"
                if reason == EndReason.COMPLETED and ep.kind in REHAB_TYPES
                else "",
                "status": status.value,
                "created_at": _dt(ep.start, rng.randint(420, 1080)),
                "version": 1 if status == EpisodeStatus.OPEN else 2,
                # The law's columns (issue 16): carried-over episodes, as the migration leaves
                # them, with the decision's authority.
                "decision_authority": (
                    "Tòa án nhân dân khu vực" if court else f"UBND {commune.name}"
                )
                if decided
                else "",
                "rule_id": None,
                "age_band": "",
                "decided_months": None,
                "credited_days": 0,
                "previous_episode_id": None,
                "held_at": "family" if ep.kind == EpisodeType.PENDING_COMPULSORY else "",
                "start_notice_on": None,
                "end_notice_on": None,
                "term_checked_at": None,
            },
        )

    # -- what volunteers record about clients

    def _segments(self, client: _Client) -> list[tuple[int, int, _Episode]]:
        """Parts of the client's episodes inside the window, as (first, last, episode)."""
        out = []
        for ep in client.episodes:
            first = max(ep.start, self.start)
            last = min(ep.actual_end if ep.actual_end is not None else self.end, self.end)
            if last >= first:
                out.append((first, last, ep))
        return out

    def build_activity(self) -> None:
        all_clients = [
            (prov, commune, client)
            for prov in self.provinces
            for commune in prov.program
            for client in commune.clients
            if not client.merged
        ]
        weighted_days = sum(
            (last - first + 1) * VISIT_FACTOR[ep.kind] * client.intensity
            for _, _, client in all_clients
            for first, last, ep in self._segments(client)
        )
        rate = self.size.visits / weighted_days if weighted_days else 0.0
        for prov, commune, client in all_clients:
            segments = self._segments(client)
            if not segments:
                continue
            for first, last, ep in segments:
                self._visits(prov, commune, client, first, last, ep, rate)
            self._drug_tests(commune, client, segments)
            self._referrals(prov, commune, client, segments)
            self._supports(prov, client, segments)
        self.w.commit()

    def _visits(
        self,
        prov: _Province,
        commune: _Commune,
        client: _Client,
        first: int,
        last: int,
        ep: _Episode,
        rate: float,
    ) -> None:
        rng, add, new_id = self.rng, self.w.add, self.w.new_id
        days = last - first + 1
        n = _poisson(rng, days * VISIT_FACTOR[ep.kind] * client.intensity * rate)
        if not n:
            return
        if ep.kind == EpisodeType.MMT:
            kinds = self.visit_kinds["mmt"]
        elif ep.kind in (EpisodeType.COMPULSORY, EpisodeType.VOLUNTARY_FACILITY):
            kinds = self.visit_kinds["away"]
        else:
            kinds = self.visit_kinds["default"]
        clinic_staff = prov.staff.get(ep.provider_id or 0)
        notes, flags = vi.VISIT_NOTES, vi.RISK_FLAGS
        for day in sorted(rng.randrange(days) for _ in range(n)):
            o = first + day
            kind: VisitKind = kinds(rng)
            if kind == VisitKind.CLINIC_ATTENDANCE:
                author = rng.choice(clinic_staff or prov.staff[rng.choice(prov.clinics)])
            elif commune.supervisor_id and rng.random() < 0.05:
                author = commune.supervisor_id
            else:
                author = client.volunteer_id
            add(
                "visit",
                {
                    "id": new_id("visit"),
                    "client_id": client.id,
                    "visit_date": _d(o),
                    "kind": kind.value,
                    "author_id": author,
                    "content": rng.choice(VISIT_CONTENT),
                    "notes": rng.choice(notes) if rng.random() < 0.55 else "",
                    "risk_flags": rng.choice(flags) if rng.random() < 0.08 else "",
                    "next_appointment": _d(o + rng.randint(7, 30)) if rng.random() < 0.4 else None,
                    "created_at": _dt(
                        min(self.end, o + (rng.random() < 0.1) * rng.randint(1, 3)),
                        rng.randint(60, 780),
                    ),
                },
            )

    def _drug_tests(
        self, commune: _Commune, client: _Client, segments: list[tuple[int, int, _Episode]]
    ) -> None:
        rng = self.rng
        negative_share = 0.92 if client.good_progress else 0.45
        tested_once = False
        for first, last, ep in segments:
            if ep.kind in (EpisodeType.COMPULSORY, EpisodeType.VOLUNTARY_FACILITY):
                continue  # tested inside the facility, not recorded by the commune
            o = first + rng.randint(0, 14)
            while o <= last:
                if not tested_once:
                    result = TestResult.POSITIVE if rng.random() < 0.75 else TestResult.NEGATIVE
                    tested_once = True
                elif rng.random() < 0.02:
                    result = TestResult.INVALID
                else:
                    result = (
                        TestResult.NEGATIVE
                        if rng.random() < negative_share
                        else TestResult.POSITIVE
                    )
                self.w.add(
                    "drugtest",
                    {
                        "id": self.w.new_id("drugtest"),
                        "client_id": client.id,
                        "tested_on": _d(o),
                        "sample": "urine" if rng.random() < 0.97 else "hair",
                        "method": "rapid" if rng.random() < 0.85 else "lab",
                        "substances": TEST_PANEL,
                        "result": result.value,
                        "performed_by": f"Trạm Y tế {commune.name}"
                        if rng.random() < 0.7
                        else f"Công an {commune.name}",
                        "author_id": client.volunteer_id,
                        "created_at": _dt(o, rng.randint(420, 1080)),
                    },
                )
                o += rng.randint(60, 150)

    @staticmethod
    def _random_day(rng: random.Random, segments: list[tuple[int, int, _Episode]]) -> int:
        first, last, _ = rng.choices(segments, [s[1] - s[0] + 1 for s in segments])[0]
        return rng.randint(first, last)

    def _referral_facility(
        self, prov: _Province, commune: _Commune, service: ReferralService
    ) -> int | None:
        rng = self.rng
        match service:
            case ReferralService.TREATMENT:
                return prov.rehab_id if rng.random() < 0.6 else rng.choice(prov.clinics)
            case ReferralService.MMT:
                return rng.choice(prov.clinics)
            case ReferralService.LEGAL_AID:
                return prov.legal_id
            case ReferralService.IDENTITY_PAPERS:
                return commune.office_id if rng.random() < 0.6 else None
            case ReferralService.VOCATIONAL:
                return prov.school_id
            case ReferralService.LOAN:
                return prov.bank_id
            case ReferralService.JOB:
                return None
            case _:
                return commune.station_id if rng.random() < 0.4 else rng.choice(prov.health)

    def _referrals(
        self,
        prov: _Province,
        commune: _Commune,
        client: _Client,
        segments: list[tuple[int, int, _Episode]],
    ) -> None:
        rng = self.rng
        for _ in range(_poisson(rng, 1.2)):
            o = self._random_day(rng, segments)
            service: ReferralService = self.referral_service(rng)
            facility = self._referral_facility(prov, commune, service)
            age = self.end - o
            if age < 14:
                status = rng.choices(("sent", "received"), (70, 30))[0]
            elif age < 60:
                status = rng.choices(
                    ("sent", "received", "used", "declined", "expired"), (15, 25, 45, 10, 5)
                )[0]
            else:
                status = rng.choices(
                    ("sent", "received", "used", "declined", "expired"), (5, 5, 60, 12, 18)
                )[0]
            feedback = (
                min(self.end, o + rng.randint(1, 30))
                if status in ("received", "used", "declined")
                else None
            )
            expires = o + 60
            changed = (
                feedback
                if feedback is not None
                else (min(expires, self.end) if status == "expired" else o)
            )
            closer = None
            if status in ("used", "declined"):
                staff = prov.staff.get(facility or 0)
                closer = rng.choice(staff) if staff else client.volunteer_id
            self.w.add(
                "referral",
                {
                    "id": self.w.new_id("referral"),
                    "client_id": client.id,
                    "service": service.value,
                    "facility_id": facility,
                    "referred_on": _d(o),
                    "consent": rng.random() < 0.96,
                    "status": ReferralStatus(status).value,
                    "status_changed_at": _dt(changed, rng.randint(420, 1080)),
                    "feedback_on": _d(feedback) if feedback else None,
                    "expires_on": _d(expires),
                    "author_id": client.volunteer_id,
                    "closed_by_id": closer,
                    "created_at": _dt(o, rng.randint(420, 1080)),
                    "version": {"sent": 1, "received": 2, "expired": 2}.get(status, 3),
                },
            )

    def _supports(
        self, prov: _Province, client: _Client, segments: list[tuple[int, int, _Episode]]
    ) -> None:
        rng = self.rng
        for kind, share in (
            (SupportKind.VOCATIONAL_TRAINING, 0.06),
            (SupportKind.JOB_PLACEMENT, 0.04),
            (SupportKind.LOAN, 0.016),
            (SupportKind.SCHOOLING, 0.005),
            (SupportKind.SOCIAL_ASSISTANCE, 0.04),
        ):
            if rng.random() >= share:
                continue
            o = self._random_day(rng, segments)
            amount: int | None = None
            term: int | None = None
            fund, status = "", rng.choices(("active", "completed"), (40, 60))[0]
            if kind == SupportKind.LOAN:
                amount = rng.choice(LOAN_MILLIONS) * 1_000_000
                term = rng.choice((12, 24, 36, 60))
                fund = "Ngân hàng Chính sách xã hội"
                status = rng.choices(("active", "repaid", "overdue"), (60, 30, 10))[0]
            elif kind == SupportKind.SOCIAL_ASSISTANCE:
                amount = rng.randint(5, 40) * 100_000
                fund = "Ngân sách xã"
            elif kind == SupportKind.VOCATIONAL_TRAINING:
                amount = rng.choice((0, 1_500_000, 2_000_000, 3_000_000, 4_500_000)) or None
                fund = f"Ngân sách tỉnh {prov.name.removeprefix('Thành phố ')}"
            self.w.add(
                "support",
                {
                    "id": self.w.new_id("support"),
                    "client_id": client.id,
                    "kind": kind.value,
                    "started_on": _d(o),
                    "amount_vnd": amount,
                    "term_months": term,
                    "fund_source": fund,
                    "status": status,
                    "notes": "",
                    "author_id": client.volunteer_id,
                    "created_at": _dt(o, rng.randint(420, 1080)),
                },
            )

    # -- outreach and group activities

    def _months(self) -> list[int]:
        out, d = [], WINDOW_START
        while d.toordinal() <= self.end:
            out.append(d.toordinal())
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return out

    def build_outreach_and_groups(self) -> None:
        months = self._months()
        categories = _Picker(
            (
                (ContactCategory.PERSON_WHO_USES_DRUGS, 40),
                (ContactCategory.RELATIVE, 45),
                (ContactCategory.PERSON_WITH_HIV, 2),
                (ContactCategory.HIGH_RISK, 6),
                (ContactCategory.STUDENT, 3),
                (ContactCategory.OTHER, 4),
            )
        )
        for prov in self.provinces:
            for commune in prov.program:
                self._outreach(commune, months, categories)
            self._groups(prov, months)
        self.w.commit()

    def _outreach(self, commune: _Commune, months: list[int], categories: _Picker) -> None:
        rng = self.rng
        for m in months:
            for volunteer in commune.volunteers:
                if rng.random() >= 0.45:
                    continue
                for _ in range(rng.randint(1, 3)):
                    o = min(self.end, m + rng.randint(0, 27))
                    category: ContactCategory = categories(rng)
                    count = {
                        ContactCategory.STUDENT: rng.randint(10, 40),
                        ContactCategory.RELATIVE: rng.randint(1, 5),
                    }.get(category, rng.randint(1, 3))
                    linked = None
                    if (
                        category == ContactCategory.PERSON_WHO_USES_DRUGS
                        and commune.clients
                        and rng.random() < 0.15
                    ):
                        linked = rng.choice(commune.clients).id
                        count = 1
                    self.w.add(
                        "outreachcontact",
                        {
                            "id": self.w.new_id("outreachcontact"),
                            "contact_date": _d(o),
                            "place_id": commune.id,
                            "category": category.value,
                            "count": count,
                            "topic": rng.choice(vi.OUTREACH_TOPICS),
                            "client_id": linked,
                            "author_id": volunteer,
                            "created_at": _dt(o, rng.randint(420, 1080)),
                        },
                    )

    def _group(
        self,
        kind: GroupActivityKind,
        o: int,
        place_id: int,
        organiser: int,
        author: int | None,
        total: int,
        clients: list[_Client],
    ) -> None:
        rng = self.rng
        gid = self.w.new_id("groupactivity")
        present = [c for c in clients if c.registered <= o and not c.merged]
        linked = rng.sample(present, min(len(present), rng.randint(3, 12))) if present else []
        self.w.add(
            "groupactivity",
            {
                "id": gid,
                "kind": kind.value,
                "held_on": _d(o),
                "place_id": place_id,
                "organiser_id": organiser,
                "topic": rng.choice(vi.GROUP_TOPICS[kind.value]),
                "attendees_total": max(total, len(linked)),
                "attendees_clients": len(linked),
                "author_id": author,
                "created_at": _dt(o, rng.randint(420, 1080)),
            },
        )
        for c in sorted(linked, key=lambda c: c.id):
            self.w.add("groupactivityclient", {"activity_id": gid, "client_id": c.id})

    def _day_in(self, month_start: int) -> int:
        return min(self.end, month_start + self.rng.randint(0, 27))

    def _groups(self, prov: _Province, months: list[int]) -> None:
        rng = self.rng
        communes = prov.program
        supervisor = prov.supervisors[0]
        for m in months:
            month = date.fromordinal(m).month
            for commune in communes:
                if commune.club_id:
                    self._group(
                        GroupActivityKind.CLUB_MEETING,
                        self._day_in(m),
                        commune.id,
                        commune.club_id,
                        rng.choice(commune.volunteers),
                        rng.randint(8, 25),
                        commune.clients,
                    )
                if rng.random() < 0.02:
                    self._group(
                        GroupActivityKind.THEMATIC_TALK,
                        self._day_in(m),
                        commune.id,
                        commune.point_id or commune.team_id,
                        rng.choice(commune.volunteers),
                        rng.randint(30, 120),
                        commune.clients,
                    )
                if month == 6 and rng.random() < 0.5:
                    self._group(
                        GroupActivityKind.CAMPAIGN_EVENT,
                        self._day_in(m),
                        commune.id,
                        commune.office_id,
                        commune.supervisor_id or supervisor,
                        rng.randint(50, 300),
                        commune.clients,
                    )
                if month in (6, 12) and rng.random() < 0.08:
                    self._group(
                        GroupActivityKind.CONFERENCE,
                        self._day_in(m),
                        commune.id,
                        commune.office_id,
                        commune.supervisor_id or supervisor,
                        rng.randint(25, 80),
                        [],
                    )
            if month in (1, 7):
                self._group(
                    GroupActivityKind.CONFERENCE,
                    self._day_in(m),
                    prov.id,
                    prov.police_id,
                    supervisor,
                    rng.randint(60, 200),
                    [],
                )
            if rng.random() < 0.3:
                self._group(
                    GroupActivityKind.TRAINING,
                    self._day_in(m),
                    prov.id,
                    prov.health_dept_id,
                    supervisor,
                    rng.randint(20, 60),
                    [],
                )


# ----------------------------------------------------------------------------- entry points


@dataclass
class GenerationReport:
    counts: dict[str, int]
    seconds: dict[str, float]
    total_seconds: float


def is_empty(engine: Engine) -> bool:
    """True if none of the app's tables holds a row (missing tables count as empty)."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in present and conn.execute(select(table).limit(1)).first():
                return False
    return True


def reset_database(engine: Engine) -> None:
    """Drop and recreate every table of the app: all data is lost."""
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)


def run(
    engine: Engine,
    size: str,
    seed: int = 42,
    province_code: int | None = None,
    *,
    append: bool = False,
    until: date = WINDOW_END,
) -> GenerationReport:
    """Generate one data set; refuses a non-empty database unless `append`."""
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r}; one of {', '.join(PUBLIC_SIZES)}")
    until = min(until, date.today())  # nothing recorded in the future
    started = time.perf_counter()
    SQLModel.metadata.create_all(engine)
    if not append and not is_empty(engine):
        raise RuntimeError("the database is not empty: use --append or --reset")
    places_started = time.perf_counter()
    with Session(engine) as session:  # the app's own loader: one place list for everyone
        loaded = load_places(session)
        session.commit()
    places_added = loaded.provinces_added + loaded.communes_added
    places_seconds = time.perf_counter() - places_started
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # a benchmark load: durability is not the point, the result is re-creatable
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
        try:
            gen = _Generator(conn, SIZES[size], seed, until)
            if places_added:
                gen.w.counts["place"] = places_added
                gen.w.seconds["place"] = places_seconds
            gen.pick_provinces(province_code)
            gen.build_organisations_and_users()
            gen.build_clients()
            gen.build_activity()
            gen.build_outreach_and_groups()
            gen.w.fix_sequences()
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
    return GenerationReport(dict(gen.w.counts), dict(gen.w.seconds), time.perf_counter() - started)


def generate(
    engine: Engine, size: str, seed: int = 42, province_code: int | None = None
) -> dict[str, int]:
    """Fill an empty database; returns rows written per table."""
    return run(engine, size, seed, province_code).counts


def format_report(report: GenerationReport) -> str:
    lines = [f"{'table':<22}{'rows':>14}{'write s':>10}"]
    for name in sorted(report.counts, key=lambda n: -report.counts[n]):
        lines.append(f"{name:<22}{report.counts[name]:>14,}{report.seconds.get(name, 0):>10.1f}")
    total_rows = sum(report.counts.values())
    writes = sum(report.seconds.values())
    lines.append(f"{'(commit)':<22}{'':>14}{report.seconds.get('(commit)', 0):>10.1f}")
    lines.append(f"{'total':<22}{total_rows:>14,}{writes:>10.1f}")
    lines.append(
        f"wall time {report.total_seconds:.1f} s "
        f"(generation in Python {report.total_seconds - writes:.1f} s)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--size", required=True, choices=sorted(SIZES), metavar="{" + ",".join(PUBLIC_SIZES) + "}"
    )
    parser.add_argument(
        "--db-url", required=True, help="sqlite:///path.db or postgresql+psycopg://user@host/db"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--province-code",
        type=int,
        default=None,
        help=f"province for single-province sizes (default {DEFAULT_PROVINCE})",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--append", action="store_true", help="add to a database that has data")
    mode.add_argument("--reset", action="store_true", help="drop and recreate every table first")
    args = parser.parse_args(argv)

    from app.services.db import engine_for

    engine = engine_for(args.db_url)
    if args.reset:
        reset_database(engine)
    try:
        report = run(engine, args.size, args.seed, args.province_code, append=args.append)
    except (RuntimeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
