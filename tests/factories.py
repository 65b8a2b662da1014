"""Builders for tests: databases, places, users with roles, clients, and a small shared world.

Append-only: other areas may add builders below; keep existing signatures stable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, func, select

from app.services.actor import Actor, load_actor
from app.services.audit import install_append_only_guard
from app.services.db import engine_for
from app.services.dto import ClientCreate, ConsentInput
from app.services.facility_registry import DEFAULT_SERVICES
from app.services.law.rules import load_rules as seed_duration_rules
from app.services.text import fold
from models import (
    Client,
    Consent,
    Episode,
    EpisodeStatus,
    EpisodeType,
    FacilityService,
    Organisation,
    OrganisationService,
    OrgKind,
    Place,
    PlaceKind,
    Referral,
    ReferralService,
    ReferralStatus,
    Role,
    RoleAssignment,
    Sex,
    User,
)

# --- databases -----------------------------------------------------------------------------


def prepare_database(url: str) -> Engine:
    """The engine for `url` with every table and the audit guard in place."""
    engine = engine_for(url)
    SQLModel.metadata.create_all(engine)
    install_append_only_guard(engine)
    return engine


def reset_database(engine: Engine) -> None:
    """Leave the database empty for the next test (PostgreSQL is shared by the session)."""
    if engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            # TRUNCATE fires no row trigger, so the append-only guard allows it here.
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def count(session: Session, model: type[SQLModel]) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


# --- rows ----------------------------------------------------------------------------------


def make_place(session: Session, code: str, name: str, parent_id: int | None = None) -> int:
    place = Place(
        code=code, name=name, name_key=fold(name),
        kind=PlaceKind.COMMUNE if parent_id else PlaceKind.PROVINCE, parent_id=parent_id,
    )
    session.add(place)
    session.flush()
    assert place.id is not None
    return place.id


def make_facility(session: Session, name: str, place_id: int,
                  kind: OrgKind = OrgKind.TREATMENT_CLINIC,
                  services: frozenset[FacilityService] | None = None) -> int:
    """A facility; it provides the usual services of its kind unless `services` says."""
    org = Organisation(name=name, kind=kind, place_id=place_id)
    session.add(org)
    session.flush()
    assert org.id is not None
    provided = DEFAULT_SERVICES.get(kind, frozenset()) if services is None else services
    for service in provided:
        session.add(OrganisationService(organisation_id=org.id, service=service))
    session.flush()
    return org.id


def make_user(
    session: Session,
    username: str,
    role: Role,
    *,
    place_id: int | None = None,
    facility_id: int | None = None,
    active: bool = True,
) -> int:
    user = User(username=username, full_name=username, password_hash="-", is_active=active)
    session.add(user)
    session.flush()
    assert user.id is not None
    session.add(RoleAssignment(user_id=user.id, role=role, place_id=place_id,
                               facility_id=facility_id))
    session.flush()
    return user.id


def make_determination(session: Session, client_id: int, on: date, *,
                       dependent: bool = True) -> int:
    """An addiction determination made on `on` (a voluntary registration needs a valid one
    of dependence)."""
    from models import AddictionDetermination

    row = AddictionDetermination(client_id=client_id, facility_name="Trạm y tế xã",
                                 determined_on=on, dependent=dependent)
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


VOLUNTARY = ("voluntary_community", "voluntary_facility")


def determined_if_voluntary(session: Session, client_id: int, episode_type: Any,
                            decision: date | None, start: date) -> None:
    """Setup for a voluntary registration: a determination of dependence made that day."""
    if str(getattr(episode_type, "value", episode_type)) in VOLUNTARY:
        make_determination(session, client_id, decision or start)


def make_client(session: Session, commune_id: int, volunteer_id: int | None,
                name: str = "Nguyễn Văn An", birth_year: int = 1990, **extra: Any) -> int:
    client = Client(full_name=name, name_key=fold(name), birth_year=birth_year, sex=Sex.MALE,
                    commune_id=commune_id, assigned_volunteer_id=volunteer_id, **extra)
    session.add(client)
    session.flush()
    assert client.id is not None
    return client.id


def make_referral(session: Session, client_id: int, facility_id: int,
                  status: ReferralStatus = ReferralStatus.SENT,
                  referred_on: date = date(2025, 9, 1)) -> int:
    ref = Referral(client_id=client_id, service=ReferralService.MMT, facility_id=facility_id,
                   referred_on=referred_on, consent=True, status=status)
    session.add(ref)
    session.flush()
    assert ref.id is not None
    return ref.id


def make_episode(session: Session, client_id: int, episode_type: EpisodeType,
                 status: EpisodeStatus = EpisodeStatus.OPEN, start: date = date(2025, 1, 1),
                 expected_end: date | None = date(2026, 1, 1)) -> int:
    ep = Episode(client_id=client_id, episode_type=episode_type, start_date=start,
                 expected_end=expected_end, status=status)
    session.add(ep)
    session.flush()
    assert ep.id is not None
    return ep.id


def client_create(commune_id: int, **overrides: Any) -> ClientCreate:
    """A valid registration for an adult, with consent naming drug use."""
    values: dict[str, Any] = {
        "full_name": "Trần Thị Bình",
        "birth_year": 1988,
        "sex": Sex.FEMALE,
        "commune_id": commune_id,
        "consents": [ConsentInput(purpose="case_management",
                                  sensitive_categories=["drug_use"], given_on=date(2025, 8, 1))],
    }
    values.update(overrides)
    return ClientCreate(**values)


# --- the shared world ----------------------------------------------------------------------

# Who is who in `build_world` (name -> what the scope is), for readable test ids.
WORLD_ACTORS = (
    "vol_a1",       # volunteer of commune A1, assigned to client_a1
    "vol_a1_peer",  # another volunteer of commune A1, assigned to nobody
    "vol_a2",       # volunteer of commune A2 (same province), assigned to client_a2
    "sup_a1",       # supervisor of commune A1
    "sup_a",        # supervisor of the whole province A
    "sup_b",        # supervisor of province B
    "clinic_a",     # clinic staff of facility A (client_a1 referred there)
    "clinic_b",     # clinic staff of facility B (client_a2 referred there)
    "admin",        # administrator
    "disabled",     # volunteer of A1 whose account is disabled
)


@dataclass
class World:
    province_a: int
    commune_a1: int
    commune_a2: int
    province_b: int
    commune_b1: int
    facility_a: int
    facility_b: int
    users: dict[str, int] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    clients: dict[str, int] = field(default_factory=dict)
    referrals: dict[str, int] = field(default_factory=dict)
    episodes: dict[str, int] = field(default_factory=dict)

    def actor(self, session: Session, name: str) -> Actor | None:
        return load_actor(session, user_id=self.users[name], role=self.roles[name])


def build_world(session: Session) -> World:
    """Two provinces, three communes, two clinics, one user per role and scope, three clients.

    client_a1: commune A1, volunteer vol_a1, referred to facility A.
    client_a2: commune A2, volunteer vol_a2, referred to facility B (a clinic elsewhere).
    client_b1: commune B1, unassigned, no referral.
    Each client has an open ILLEGAL_USE episode and a POST_REHAB episode proposed for closure.
    """
    seed_duration_rules(session)
    pa = make_place(session, "TA", "Tỉnh A")
    pb = make_place(session, "TB", "Tỉnh B")
    world = World(
        province_a=pa, commune_a1=make_place(session, "TA001", "Xã A Một", pa),
        commune_a2=make_place(session, "TA002", "Xã A Hai", pa),
        province_b=pb, commune_b1=make_place(session, "TB001", "Phường B Một", pb),
        facility_a=0, facility_b=0,
    )
    world.facility_a = make_facility(session, "Cơ sở điều trị A", world.commune_a1)
    world.facility_b = make_facility(session, "Cơ sở điều trị B", world.commune_b1)
    scopes: dict[str, tuple[Role, dict[str, Any]]] = {
        "vol_a1": (Role.VOLUNTEER, {"place_id": world.commune_a1}),
        "vol_a1_peer": (Role.VOLUNTEER, {"place_id": world.commune_a1}),
        "vol_a2": (Role.VOLUNTEER, {"place_id": world.commune_a2}),
        "sup_a1": (Role.SUPERVISOR, {"place_id": world.commune_a1}),
        "sup_a": (Role.SUPERVISOR, {"place_id": world.province_a}),
        "sup_b": (Role.SUPERVISOR, {"place_id": world.province_b}),
        "clinic_a": (Role.CLINIC, {"facility_id": world.facility_a}),
        "clinic_b": (Role.CLINIC, {"facility_id": world.facility_b}),
        "admin": (Role.ADMIN, {}),
        "disabled": (Role.VOLUNTEER, {"place_id": world.commune_a1, "active": False}),
    }
    for name, (role, kwargs) in scopes.items():
        world.users[name] = make_user(session, name, role, **kwargs)
        world.roles[name] = role
    world.clients["a1"] = make_client(session, world.commune_a1, world.users["vol_a1"],
                                      name="Lê Văn Cường", hiv_status="positive",
                                      ethnicity="Tày")
    session.add(Consent(client_id=world.clients["a1"], purpose="case_management",
                        sensitive_categories="drug_use,ethnicity,hiv_status",
                        given_on=date(2025, 8, 1)))
    world.clients["a2"] = make_client(session, world.commune_a2, world.users["vol_a2"],
                                      name="Phạm Thị Dung")
    world.clients["b1"] = make_client(session, world.commune_b1, None, name="Hoàng Văn Em")
    world.referrals["a1"] = make_referral(session, world.clients["a1"], world.facility_a)
    world.referrals["a2"] = make_referral(session, world.clients["a2"], world.facility_b)
    for key, client_id in world.clients.items():
        world.episodes[f"{key}_open"] = make_episode(session, client_id, EpisodeType.ILLEGAL_USE)
        world.episodes[f"{key}_proposed"] = make_episode(
            session, client_id, EpisodeType.POST_REHAB, status=EpisodeStatus.CLOSURE_PROPOSED)
    session.commit()
    return world


# --- the device outbox (issue 14) ----------------------------------------------------------


def outbox_payload(kind: str, world: World, today: date, **overrides: Any) -> dict[str, Any]:
    """A valid payload of one outbox record kind for vol_a1 (client a1, commune A1), as the
    device sends it (JSON values: ISO dates, enum values)."""
    day = today.isoformat()
    client = world.clients["a1"]
    payloads: dict[str, dict[str, Any]] = {
        "visit": {"client_id": client, "visit_date": day, "kind": "home", "notes": "ổn định",
                  "risk_flags": "", "content": "counselling"},
        "outreach_contact": {"contact_date": day, "place_id": world.commune_a1,
                             "category": "pwud", "count": 3, "topic": "HIV"},
        "drug_test": {"client_id": client, "tested_on": day, "result": "negative",
                      "sample": "urine", "method": "rapid"},
        "referral": {"client_id": client, "service": "mmt", "facility_id": world.facility_a,
                     "referred_on": day, "consent": True},
        "support": {"client_id": client, "kind": "loan", "started_on": day,
                    "amount_vnd": 5_000_000, "term_months": 12, "fund_source": "xã"},
        "group_activity": {"kind": "club_meeting", "held_on": day, "place_id": world.commune_a1,
                           "topic": "CLB", "attendees_total": 10, "attendees_clients": 2,
                           "client_ids": [client]},
        "client": {"full_name": "Đỗ Thị Giang", "birth_year": 1995, "sex": "female",
                   "commune_id": world.commune_a1, "phone": "0901 234 567",
                   "consents": [{"purpose": "case_management",
                                 "sensitive_categories": ["drug_use"], "given_on": day}]},
    }
    body = payloads[kind]
    body.update(overrides)
    return body


def outbox_record(kind: str, payload: dict[str, Any], *, key: str | None = None,
                  **envelope: Any) -> dict[str, Any]:
    """One record as the device sends it to POST /api/outbox/sync."""
    import uuid
    from datetime import UTC, datetime

    record: dict[str, Any] = {"key": key or str(uuid.uuid4()), "kind": kind,
                              "saved_at": datetime.now(UTC).isoformat(), "payload": payload}
    record.update(envelope)
    return record


def with_session_cookie(state: Any, token: str, url: str | None = None) -> Any:
    """Give a state tree what a websocket handshake with the `dh_session` cookie gives it: the
    cookie in the router's headers (the only place the server reads the session from), and
    the page's address (kept from the router already set when `url` is None)."""
    from reflex.istate.data import HeaderData, ReflexURL, RouterData

    current = state.router
    address = ReflexURL(url) if url is not None else current.url
    state.router = RouterData(
        url=address, headers=HeaderData(cookie=f"dh_session={token}" if token else "")
    )
    return state
