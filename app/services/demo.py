"""Demo data for `make run`: one province, a few communes, one user per role, some clients.

Never used on a real deployment: a real one starts with `python -m app.cli create-admin`.
Seeding turns the second-factor requirement off for this database (see `seed_demo`).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, col, select

from app.services import second_factor, security
from app.services.facility_registry import DEFAULT_SERVICES
from app.services.reference import load_reference_data
from app.services.text import fold
from models import (
    Organisation,
    OrganisationService,
    OrgKind,
    Place,
    PlaceKind,
    Role,
    RoleAssignment,
    User,
)

DEMO_PASSWORD = "DongHanh-2026"  # noqa: S105 (demo data only, printed by `make run`)
DEMO_PROVINCE = "Đồng Tháp"
DEMO_LOGINS: tuple[tuple[str, str, str], ...] = (
    ("volunteer", "tnv.demo", DEMO_PASSWORD),
    ("supervisor", "gs.demo", DEMO_PASSWORD),
    ("clinic", "yte.demo", DEMO_PASSWORD),
    ("admin", "qt.demo", DEMO_PASSWORD),
)


def _id(value: int | None) -> int:
    """A flushed row's id (SQLModel types primary keys as optional)."""
    if value is None:
        raise RuntimeError("row not flushed")
    return value


def _demo_places(session: Session) -> tuple[Place, list[Place]]:
    province = session.exec(
        select(Place).where(
            Place.kind == PlaceKind.PROVINCE, col(Place.name_key).contains(fold(DEMO_PROVINCE))
        )
    ).first()
    if province is None:
        raise RuntimeError("places not loaded")
    communes = list(
        session.exec(
            select(Place).where(Place.parent_id == province.id).order_by(Place.code).limit(4)
        ).all()
    )
    return province, communes


def seed_demo(*, session: Session, today: date | None = None) -> bool:
    """Load the demo once; returns False if it was already there."""
    load_reference_data(session=session)
    # The demo logins must work without an authenticator app: on this demo database only,
    # the second factor is optional for every role (a real deployment requires it of
    # supervisors and administrators; migration 0060_second_factor). `banner` says so.
    for role in Role:
        second_factor.set_required(session, role=role, required=False)
    if session.exec(select(User).where(User.username == "qt.demo")).first() is not None:
        return False
    today = today or date.today()
    province, communes = _demo_places(session)
    home_commune_id = _id(communes[0].id)
    team = Organisation(
        name="Đội công tác xã hội tình nguyện (demo)",
        kind=OrgKind.VOLUNTEER_TEAM,
        place_id=home_commune_id,
    )
    clinic = Organisation(
        name="Cơ sở điều trị Methadone (demo)",
        kind=OrgKind.TREATMENT_CLINIC,
        place_id=home_commune_id,
    )
    session.add_all([team, clinic])
    session.flush()
    session.add_all([OrganisationService(organisation_id=_id(clinic.id), service=service)
                     for service in DEFAULT_SERVICES[OrgKind.TREATMENT_CLINIC]])
    hashed = security.hash_password(DEMO_PASSWORD)
    scopes = {
        "tnv.demo": (Role.VOLUNTEER, communes[0].id, None, "Nguyễn Thị Hoa"),
        "gs.demo": (Role.SUPERVISOR, province.id, None, "Trần Văn Minh"),
        "yte.demo": (Role.CLINIC, None, clinic.id, "Lê Thị Lan"),
        "qt.demo": (Role.ADMIN, province.id, None, "Phạm Quốc Bảo"),
    }
    users: dict[str, User] = {}
    for username, (role, place_id, facility_id, name) in scopes.items():
        user = User(username=username, full_name=name, password_hash=hashed, language="vi")
        session.add(user)
        session.flush()
        session.add(
            RoleAssignment(
                user_id=_id(user.id), role=role, place_id=place_id, facility_id=facility_id
            )
        )
        users[username] = user
    session.flush()
    _seed_clients(
        session,
        volunteer=users["tnv.demo"],
        supervisor=users["gs.demo"],
        commune=communes[0],
        clinic=clinic,
        today=today,
    )
    return True


def _seed_clients(
    session: Session,
    *,
    volunteer: User,
    supervisor: User,
    commune: Place,
    clinic: Organisation,
    today: date,
) -> None:
    """A handful of clients through the real services, so the demo obeys every rule."""
    from app.services import activities, clients
    from app.services.actor import load_actor
    from app.services.dto import (
        ClientCreate,
        ConsentInput,
        EpisodeCreate,
        ReferralCreate,
        VisitCreate,
    )
    from app.services.law import episodes, records
    from app.services.law.dto import DeterminationCreate
    from models import EpisodeType, ReferralService, Sex, VisitKind

    actor = load_actor(session, user_id=volunteer.id, role=Role.VOLUNTEER)  # type: ignore[arg-type]
    manager = load_actor(session, user_id=supervisor.id, role=Role.SUPERVISOR)  # type: ignore[arg-type]
    assert actor is not None and manager is not None
    people = [
        ("Nguyễn Văn An", 1990, Sex.MALE, EpisodeType.VOLUNTARY_COMMUNITY),
        ("Trần Thị Bích", 1988, Sex.FEMALE, EpisodeType.POST_REHAB),
        ("Lê Văn Cường", 1995, Sex.MALE, EpisodeType.ILLEGAL_USE),
        ("Phạm Minh Đức", 1984, Sex.MALE, EpisodeType.MMT),
        ("Võ Thị Én", 1999, Sex.FEMALE, EpisodeType.POST_REHAB),
    ]
    for i, (name, year, sex, episode_type) in enumerate(people):
        client = clients.register_client(
            session=session,
            actor=actor,
            confirm_duplicates=True,
            data=ClientCreate(
                full_name=name,
                birth_year=year,
                sex=sex,
                commune_id=commune.id,  # type: ignore[arg-type]
                consents=[ConsentInput(given_on=today)],
            ),
        )
        start = today - timedelta(days=90 + 30 * i)
        if episode_type in episodes.VOLUNTARY_REGISTRATION:
            # A voluntary registration needs a valid determination of dependence.
            records.record_determination(
                session=session,
                actor=manager,
                client_id=client.id,
                data=DeterminationCreate(
                    determined_on=start - timedelta(days=10), dependent=True,
                    facility_name="Trạm y tế xã",
                ),
            )
        episodes.open_episode(
            session=session,
            actor=manager,
            client_id=client.id,
            data=EpisodeCreate(episode_type=episode_type, start_date=start),
        )
        visit_day = today - timedelta(days=7 * (i + 1))
        activities.log_visit(
            session=session,
            actor=actor,
            data=VisitCreate(
                client_id=client.id,
                visit_date=visit_day,
                kind=VisitKind.HOME,
                content="counselling",
                next_appointment=max(today + timedelta(days=i - 2), visit_day + timedelta(days=1)),
            ),
        )
        if i < 2:
            activities.create_referral(
                session=session,
                actor=actor,
                data=ReferralCreate(
                    client_id=client.id,
                    service=ReferralService.MMT,
                    facility_id=clinic.id,
                    referred_on=today - timedelta(days=3),
                    consent=True,
                ),
            )
