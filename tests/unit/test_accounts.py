"""Sign-in, throttling and user administration within a scope (app/services/accounts.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from passlib.context import CryptContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from app.services import accounts, security
from app.services.account_dto import UserCreate, UserUpdate
from app.services.actor import Actor, load_actor, roles_of
from app.services.db import engine_for
from app.services.errors import (
    AuthError,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from models import (
    AuditEvent,
    AuthSession,
    LoginAttempt,
    Organisation,
    OrgKind,
    Place,
    PlaceKind,
    Role,
    RoleAssignment,
    User,
)

T0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
ADMIN_PASSWORD = "trống đồng Đông Sơn"
PASSWORD = "hoa sen trong đầm"


@dataclass
class World:
    engine: Engine
    province_a: int
    commune_a1: int
    commune_a2: int
    province_b: int
    commune_b1: int
    clinic_a1: int
    clinic_b1: int
    national_admin: int


@pytest.fixture(autouse=True)
def _default_settings(session_settings: None) -> None:
    """Every test here runs with the shipped timeouts and throttling (tests/conftest.py)."""


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    # `engine` (tests/conftest.py): SQLite by default, PostgreSQL in the pg lane.
    with Session(engine, expire_on_commit=False) as s:
        pa = Place(code="PA", name="Tỉnh A", name_key="tinh a", kind=PlaceKind.PROVINCE)
        pb = Place(code="PB", name="Tỉnh B", name_key="tinh b", kind=PlaceKind.PROVINCE)
        s.add_all([pa, pb])
        s.flush()
        a1 = Place(
            code="A1", name="Xã A1", name_key="xa a1", kind=PlaceKind.COMMUNE, parent_id=pa.id
        )
        a2 = Place(
            code="A2", name="Xã A2", name_key="xa a2", kind=PlaceKind.COMMUNE, parent_id=pa.id
        )
        b1 = Place(
            code="B1", name="Xã B1", name_key="xa b1", kind=PlaceKind.COMMUNE, parent_id=pb.id
        )
        s.add_all([a1, a2, b1])
        s.flush()
        ca = Organisation(name="Cơ sở A1", kind=OrgKind.TREATMENT_CLINIC, place_id=a1.id or 0)
        cb = Organisation(name="Cơ sở B1", kind=OrgKind.TREATMENT_CLINIC, place_id=b1.id or 0)
        s.add_all([ca, cb])
        s.flush()
        admin = accounts.create_first_admin(
            session=s, username="quantri", password=ADMIN_PASSWORD, full_name="Quản trị Quốc gia"
        )
        s.commit()
        yield World(
            engine=engine,
            province_a=pa.id or 0,
            commune_a1=a1.id or 0,
            commune_a2=a2.id or 0,
            province_b=pb.id or 0,
            commune_b1=b1.id or 0,
            clinic_a1=ca.id or 0,
            clinic_b1=cb.id or 0,
            national_admin=admin.id,
        )
    engine.dispose()


def _session(world: World) -> Session:
    return Session(world.engine, expire_on_commit=False)


def _actor(s: Session, user_id: int, role: Role) -> Actor:
    actor = load_actor(s, user_id=user_id, role=role)
    assert actor is not None
    return actor


def _make_user(
    s: Session,
    world: World,
    username: str,
    *,
    role: Role | None = Role.VOLUNTEER,
    place_id: int | None = None,
    facility_id: int | None = None,
    password: str = PASSWORD,
    full_name: str = "Nguyễn Thị Lan",
    phone: str | None = None,
) -> int:
    """A user with a known password (bypassing the one-time password for brevity)."""
    admin = _actor(s, world.national_admin, Role.ADMIN)
    if role == Role.VOLUNTEER and place_id is None:
        place_id = world.commune_a1
    created = accounts.create_user(
        session=s,
        actor=admin,
        data=UserCreate(
            username=username,
            full_name=full_name,
            phone=phone,
            role=role,
            place_id=place_id,
            facility_id=facility_id,
        ),
    )
    user = s.get(User, created.id)
    assert user is not None
    user.password_hash = security.hash_password(password)
    user.must_change_password = False
    s.add(user)
    s.commit()
    return created.id


def _sign_in_error(
    s: Session, login: str, password: str, *, addr: str = "10.0.0.1", now: datetime = T0
) -> str:
    with pytest.raises(AuthError) as caught:
        accounts.authenticate(session=s, login=login, password=password, client_addr=addr, now=now)
    return caught.value.key


def _throttled_minutes(
    s: Session, login: str, password: str, *, addr: str = "10.0.0.1", now: datetime = T0
) -> int:
    with pytest.raises(accounts.Throttled) as caught:
        accounts.authenticate(session=s, login=login, password=password, client_addr=addr, now=now)
    assert caught.value.key == "auth.throttled"
    return int(caught.value.params["minutes"])


# ---------------------------------------------------------------- sign-in


def test_a_user_signs_in_with_username_or_any_spelling_of_their_phone(world: World) -> None:
    with _session(world) as s:
        user_id = _make_user(s, world, "lan.nguyen", phone="0912 345 678")
        assert s.get(User, user_id).phone == "0912345678"  # type: ignore[union-attr]
        for login in ("lan.nguyen", "LAN.Nguyen ", "0912345678", "+84 912 345 678", "0912.345.678"):
            result = accounts.authenticate(
                session=s, login=login, password=PASSWORD, client_addr="10.0.0.1", now=T0
            )
            assert result.user_id == user_id, login
            assert result.role == Role.VOLUNTEER
            assert result.full_name == "Nguyễn Thị Lan"
            assert result.language == "vi"
            assert not result.must_change_password


def test_unknown_login_wrong_password_disabled_user_and_no_role_all_fail_alike(
    world: World,
) -> None:
    with _session(world) as s:
        _make_user(s, world, "lan.nguyen")
        disabled = _make_user(s, world, "old.user")
        roleless = _make_user(s, world, "no.role", role=None)
        s.get(User, disabled).is_active = False  # type: ignore[union-attr]
        s.commit()
        keys = {
            _sign_in_error(s, "nobody.here", PASSWORD),
            _sign_in_error(s, "lan.nguyen", "not the password"),
            _sign_in_error(s, "old.user", PASSWORD),
            _sign_in_error(s, "no.role", PASSWORD),
        }
        assert keys == {"auth.invalid_credentials"}
        assert roleless


def test_unknown_logins_are_still_checked_against_a_hash(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real_verify = security.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        checked.append(stored)
        return real_verify(password, stored)

    monkeypatch.setattr(security, "verify_password", counting_verify)
    with _session(world) as s:
        _sign_in_error(s, "nobody.here", PASSWORD)
    assert checked == [security.dummy_hash()]


def test_failed_sign_ins_are_audited_without_the_password_or_the_typed_login(
    world: World,
) -> None:
    with _session(world) as s:
        user_id = _make_user(s, world, "lan.nguyen")
        _sign_in_error(s, "typed-secret-login", "Secret-Pass-1")
        _sign_in_error(s, "lan.nguyen", "Secret-Pass-2")
    with _session(world) as s:
        events = s.exec(
            select(AuditEvent).where(
                AuditEvent.action == "session.sign_in", AuditEvent.outcome == "failed"
            )
        ).all()
        assert [e.actor_id for e in events] == [None, user_id]
        for event in events:
            assert "Secret-Pass" not in event.detail
            assert "typed-secret-login" not in event.detail
        attempts = s.exec(select(LoginAttempt)).all()
        assert all("typed-secret-login" not in a.account_key for a in attempts)


def test_successful_sign_in_is_audited_with_the_role(world: World) -> None:
    with _session(world) as s:
        user_id = _make_user(s, world, "lan.nguyen")
        accounts.authenticate(
            session=s, login="lan.nguyen", password=PASSWORD, client_addr="10.0.0.9", now=T0
        )
        s.commit()
        event = s.exec(
            select(AuditEvent).where(
                AuditEvent.action == "session.sign_in", AuditEvent.outcome == "ok"
            )
        ).one()
        assert (event.actor_id, event.role, event.target_id) == (user_id, "volunteer", user_id)
        assert PASSWORD not in event.detail


def test_a_user_with_several_roles_signs_in_as_the_role_they_pick(world: World) -> None:
    with _session(world) as s:
        user_id = _make_user(s, world, "lan.nguyen")
        admin = _actor(s, world.national_admin, Role.ADMIN)
        accounts.assign_role(
            session=s, actor=admin, user_id=user_id, role=Role.SUPERVISOR, place_id=world.province_a
        )
        s.commit()
        first = accounts.authenticate(
            session=s, login="lan.nguyen", password=PASSWORD, client_addr="", now=T0
        )
        assert first.role == Role.VOLUNTEER
        assert first.roles == [Role.VOLUNTEER, Role.SUPERVISOR]
        picked = accounts.authenticate(
            session=s,
            login="lan.nguyen",
            password=PASSWORD,
            client_addr="",
            now=T0,
            role=Role.SUPERVISOR,
        )
        assert picked.role == Role.SUPERVISOR
        with pytest.raises(AuthError) as caught:
            accounts.authenticate(
                session=s,
                login="lan.nguyen",
                password=PASSWORD,
                client_addr="",
                now=T0,
                role=Role.ADMIN,
            )
        assert caught.value.key == "auth.role_not_assigned"


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(world: World) -> None:
    with _session(world) as s:
        user_id = _make_user(s, world, "lan.nguyen")
        weak = CryptContext(
            schemes=["argon2"], argon2__type="ID", argon2__memory_cost=8192, argon2__time_cost=1
        ).hash(PASSWORD)
        s.get(User, user_id).password_hash = weak  # type: ignore[union-attr]
        s.commit()
        accounts.authenticate(
            session=s, login="lan.nguyen", password=PASSWORD, client_addr="", now=T0
        )
        s.commit()
        stored = s.get(User, user_id).password_hash  # type: ignore[union-attr]
        assert stored != weak
        assert "m=19456" in stored or not security.needs_rehash(stored)
        assert security.verify_password(PASSWORD, stored)


# ---------------------------------------------------------------- throttling


def test_failures_from_one_address_wait_longer_and_longer(world: World) -> None:
    with _session(world) as s:
        _make_user(s, world, "lan.nguyen")
        for i in range(3):  # three mistakes cost nothing
            key = _sign_in_error(s, "lan.nguyen", "wrong", now=T0 + timedelta(seconds=i))
            assert key == "auth.invalid_credentials"
        # Then 1, 2, 4, 8 minutes after the latest failure; never more than the window.
        at = T0 + timedelta(seconds=2)
        for wait in (1, 2, 4, 8, 15, 15):
            assert _throttled_minutes(s, "lan.nguyen", PASSWORD,
                                      now=at + timedelta(seconds=1)) == wait
            at += timedelta(minutes=wait, seconds=1)
            _sign_in_error(s, "lan.nguyen", "wrong", now=at)
        events = s.exec(
            select(AuditEvent).where(
                AuditEvent.outcome == "denied", AuditEvent.action == "session.sign_in"
            )
        ).all()
        assert len(events) == 6 and all("throttled" in e.detail for e in events)


def test_a_guesser_at_one_address_does_not_lock_the_person_out(world: World) -> None:
    with _session(world) as s:
        user_id = _make_user(s, world, "lan.nguyen")
        for i in range(12):  # the attacker keeps going as fast as the delays allow
            try:
                _sign_in_error(s, "lan.nguyen", f"guess-{i}", addr="203.0.113.7",
                               now=T0 + timedelta(minutes=i * 5))
            except accounts.Throttled:
                pass
        _throttled_minutes(s, "lan.nguyen", PASSWORD, addr="203.0.113.7",
                           now=T0 + timedelta(minutes=60))
        # The person, on their own phone, signs in at once.
        result = accounts.authenticate(session=s, login="lan.nguyen", password=PASSWORD,
                                       client_addr="10.0.0.9", now=T0 + timedelta(minutes=60))
        assert result.user_id == user_id


def test_the_account_ceiling_stops_a_guesser_with_many_addresses(world: World) -> None:
    with _session(world) as s:
        _make_user(s, world, "lan.nguyen")
        for i in range(30):
            _sign_in_error(s, "lan.nguyen", "wrong", addr=f"10.9.{i}.1",
                           now=T0 + timedelta(seconds=i))
        # The 31st in the window waits for the oldest to leave it, from any address.
        assert _throttled_minutes(s, "lan.nguyen", PASSWORD, addr="10.0.0.9",
                                  now=T0 + timedelta(minutes=1)) == 14


def test_throttling_also_applies_to_unknown_logins(world: World) -> None:
    with _session(world) as s:
        for _ in range(3):
            _sign_in_error(s, "nobody.here", "wrong")
        assert _throttled_minutes(s, "nobody.here", "wrong") == 1


def test_the_phone_and_the_username_share_one_failure_count(world: World) -> None:
    with _session(world) as s:
        _make_user(s, world, "lan.nguyen", phone="0912345678")
        for i in range(3):
            login = "lan.nguyen" if i % 2 else "+84912345678"
            _sign_in_error(s, login, "wrong", now=T0 + timedelta(seconds=i))
        _throttled_minutes(s, "0912345678", PASSWORD, now=T0 + timedelta(seconds=5))


def test_sign_in_works_again_once_the_delay_has_passed(world: World) -> None:
    with _session(world) as s:
        user_id = _make_user(s, world, "lan.nguyen")
        for _ in range(3):
            _sign_in_error(s, "lan.nguyen", "wrong")
        _throttled_minutes(s, "lan.nguyen", PASSWORD, now=T0 + timedelta(seconds=59))
        result = accounts.authenticate(
            session=s, login="lan.nguyen", password=PASSWORD, client_addr="10.0.0.1",
            now=T0 + timedelta(minutes=1, seconds=1),
        )
        assert result.user_id == user_id


def test_throttled_attempts_do_not_extend_the_delay(world: World) -> None:
    with _session(world) as s:
        _make_user(s, world, "lan.nguyen")
        for _ in range(4):
            try:
                _sign_in_error(s, "lan.nguyen", "wrong")
            except accounts.Throttled:
                pass
        for second in range(1, 60, 5):
            _throttled_minutes(s, "lan.nguyen", "wrong", now=T0 + timedelta(seconds=second))
        result = accounts.authenticate(
            session=s, login="lan.nguyen", password=PASSWORD, client_addr="10.0.0.1",
            now=T0 + timedelta(minutes=1, seconds=1),
        )
        assert result.role == Role.VOLUNTEER


def test_a_successful_sign_in_resets_the_account_count(world: World) -> None:
    with _session(world) as s:
        _make_user(s, world, "lan.nguyen")
        for i in range(3):
            _sign_in_error(s, "lan.nguyen", "wrong", now=T0 + timedelta(seconds=i))
        accounts.authenticate(
            session=s, login="lan.nguyen", password=PASSWORD, client_addr="10.0.0.1",
            now=T0 + timedelta(minutes=2),
        )
        for i in range(3):
            key = _sign_in_error(s, "lan.nguyen", "wrong",
                                 now=T0 + timedelta(minutes=2, seconds=1 + i))
            assert key == "auth.invalid_credentials"


def test_one_address_failing_on_many_accounts_is_throttled_but_others_are_not(
    world: World,
) -> None:
    with _session(world) as s:
        user_id = _make_user(s, world, "lan.nguyen")
        for i in range(20):
            _sign_in_error(
                s, f"guess{i}", "wrong", addr="203.0.113.7", now=T0 + timedelta(seconds=i)
            )
        minutes = _throttled_minutes(
            s, "lan.nguyen", PASSWORD, addr="203.0.113.7", now=T0 + timedelta(minutes=1)
        )
        assert minutes == 14
        result = accounts.authenticate(
            session=s,
            login="lan.nguyen",
            password=PASSWORD,
            client_addr="198.51.100.2",
            now=T0 + timedelta(minutes=1),
        )
        assert result.user_id == user_id


def _hammer(world: World, monkeypatch: pytest.MonkeyPatch, *, attempts: int) -> tuple[int, int]:
    """`attempts` wrong guesses at one account spread evenly over one hour, each from a new
    address. Returns (evaluated against a hash, throttled)."""
    evaluated = 0
    real_verify = security.verify_password

    def counting_verify(password: str, stored: str) -> bool:
        nonlocal evaluated
        evaluated += 1
        return real_verify(password, stored)

    with _session(world) as s:
        _make_user(s, world, "lan.nguyen")
        monkeypatch.setattr(security, "verify_password", counting_verify)
        throttled = 0
        step = timedelta(hours=1) / attempts
        for i in range(attempts):
            try:
                accounts.authenticate(
                    session=s,
                    login="lan.nguyen",
                    password=f"guess-{i}",
                    client_addr=f"10.{i // 250}.{i % 250}.1",
                    now=T0 + step * i,
                )
            except accounts.Throttled:
                throttled += 1
            except AuthError:
                pass
    return evaluated, throttled


def test_200_guesses_in_an_hour_get_at_most_100_evaluated(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    evaluated, throttled = _hammer(world, monkeypatch, attempts=200)
    # Each from a new address (no per-pair delay): the account ceiling of 30 in any 15
    # minutes, and never more than the hourly cap of 100.
    assert 30 <= evaluated <= accounts.HOURLY_FAILURE_CAP, evaluated
    assert evaluated + throttled == 200


def test_the_hourly_cap_holds_even_with_lax_window_settings(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DH_LOGIN_WINDOW_MINUTES", "1")
    monkeypatch.setenv("DH_LOGIN_MAX_FAILURES_ACCOUNT", "50")
    evaluated, throttled = _hammer(world, monkeypatch, attempts=200)
    assert evaluated == accounts.HOURLY_FAILURE_CAP == 100
    assert throttled == 100


def test_old_attempt_records_can_be_pruned(world: World) -> None:
    with _session(world) as s:
        _sign_in_error(s, "nobody.here", "wrong", now=T0)
        _sign_in_error(s, "nobody.here", "wrong", now=T0 + timedelta(hours=2))
        assert accounts.prune_login_attempts(session=s, now=T0 + timedelta(hours=2)) == 1
        s.commit()
        assert len(s.exec(select(LoginAttempt)).all()) == 1


# ---------------------------------------------------------------- administration


def test_an_admin_creates_a_user_with_a_one_time_password_to_change(world: World) -> None:
    with _session(world) as s:
        admin = _actor(s, world.national_admin, Role.ADMIN)
        created = accounts.create_user(
            session=s,
            actor=admin,
            data=UserCreate(
                username="Minh.Tran",
                full_name="  Trần   Văn Minh ",
                phone="+84 987 000 111",
                role=Role.VOLUNTEER,
                place_id=world.commune_a1,
            ),
        )
        s.commit()
        assert created.username == "minh.tran"
        assert created.full_name == "Trần Văn Minh"
        assert created.phone == "0987000111"
        assert created.must_change_password
        assert created.one_time_password
        assert [(r.role, r.place_id) for r in created.roles] == [(Role.VOLUNTEER, world.commune_a1)]
        stored = s.get(User, created.id).password_hash  # type: ignore[union-attr]
        assert created.one_time_password not in stored
        result = accounts.authenticate(
            session=s,
            login="minh.tran",
            password=created.one_time_password,
            client_addr="",
            now=T0,
        )
        assert result.must_change_password
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "account.create")).one()


def test_usernames_and_phones_are_checked_and_unique(world: World) -> None:
    with _session(world) as s:
        _make_user(s, world, "lan.nguyen", phone="0912345678")
        admin = _actor(s, world.national_admin, Role.ADMIN)
        cases = {
            "ab": "account.username_invalid",
            "bad name": "account.username_invalid",
            "0912999888": "account.username_invalid",
            "lan.nguyen": "account.username_taken",
        }
        for username, key in cases.items():
            with pytest.raises(ValidationFailed) as caught:
                accounts.create_user(
                    session=s, actor=admin, data=UserCreate(username=username, full_name="X")
                )
            assert caught.value.fields["username"] == key
        with pytest.raises(ValidationFailed) as caught:
            accounts.create_user(
                session=s,
                actor=admin,
                data=UserCreate(username="new.one", full_name="", phone="+84 912 345 678"),
            )
        assert caught.value.fields == {
            "full_name": "account.full_name_required",
            "phone": "account.phone_taken",
        }
        with pytest.raises(ValidationFailed) as caught:
            accounts.create_user(
                session=s,
                actor=admin,
                data=UserCreate(username="new.one", full_name="Y", phone="12ab", language="fr"),
            )
        assert caught.value.fields == {
            "phone": "account.phone_invalid",
            "language": "account.language_invalid",
        }


def test_a_non_admin_cannot_create_users_and_the_denial_is_audited(world: World) -> None:
    with _session(world) as s:
        volunteer_id = _make_user(s, world, "lan.nguyen")
        volunteer = _actor(s, volunteer_id, Role.VOLUNTEER)
        with pytest.raises(PermissionDenied):
            accounts.create_user(
                session=s, actor=volunteer, data=UserCreate(username="x.y.z", full_name="X")
            )
        s.rollback()
    with _session(world) as s:
        denied = s.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).one()
        assert (denied.actor_id, denied.action) == (volunteer_id, "account.create")
        assert s.exec(select(User).where(User.username == "x.y.z")).first() is None


def test_admin_functions_refuse_every_non_admin_role(world: World) -> None:
    with _session(world) as s:
        supervisor_id = _make_user(
            s, world, "sup.one", role=Role.SUPERVISOR, place_id=world.province_a
        )
        target = _make_user(s, world, "lan.nguyen")
        supervisor = _actor(s, supervisor_id, Role.SUPERVISOR)
        calls = [
            lambda: accounts.disable_user(session=s, actor=supervisor, user_id=target),
            lambda: accounts.enable_user(session=s, actor=supervisor, user_id=target),
            lambda: accounts.reset_password(session=s, actor=supervisor, user_id=target),
            lambda: accounts.list_users(session=s, actor=supervisor),
            lambda: accounts.assign_role(
                session=s,
                actor=supervisor,
                user_id=target,
                role=Role.SUPERVISOR,
                place_id=world.commune_a1,
            ),
        ]
        for call in calls:
            with pytest.raises(PermissionDenied):
                call()


def test_a_province_admin_grants_only_inside_their_province(world: World) -> None:
    with _session(world) as s:
        admin_a_id = _make_user(s, world, "admin.a", role=Role.ADMIN, place_id=world.province_a)
        target = _make_user(s, world, "new.person", role=None)
        admin_a = _actor(s, admin_a_id, Role.ADMIN)
        grants_inside = [
            (Role.VOLUNTEER, world.commune_a2, None),
            (Role.SUPERVISOR, world.province_a, None),
            (Role.CLINIC, None, world.clinic_a1),
            (Role.ADMIN, world.commune_a1, None),
        ]
        for role, place_id, facility_id in grants_inside:
            accounts.assign_role(
                session=s,
                actor=admin_a,
                user_id=target,
                role=role,
                place_id=place_id,
                facility_id=facility_id,
            )
        outside = [
            (Role.VOLUNTEER, world.commune_b1, None),
            (Role.SUPERVISOR, world.province_b, None),
            (Role.CLINIC, None, world.clinic_b1),
            (Role.ADMIN, None, None),
        ]
        for role, place_id, facility_id in outside:
            with pytest.raises(PermissionDenied) as caught:
                accounts.assign_role(
                    session=s,
                    actor=admin_a,
                    user_id=target,
                    role=role,
                    place_id=place_id,
                    facility_id=facility_id,
                )
            assert caught.value.key == "account.scope_too_broad"
        roles = s.exec(select(RoleAssignment).where(RoleAssignment.user_id == target)).all()
        # The administrator role on top of roles that read client records waits for a second
        # administrator's approval.
        assert len(roles) == 3
        assert [r.role for r in accounts.list_users(
            session=s, actor=admin_a, query="new.person").items[0].pending] == [Role.ADMIN]


def test_a_commune_admin_cannot_grant_the_whole_province(world: World) -> None:
    with _session(world) as s:
        admin_id = _make_user(s, world, "admin.a1", role=Role.ADMIN, place_id=world.commune_a1)
        target = _make_user(s, world, "new.person", role=None)
        admin = _actor(s, admin_id, Role.ADMIN)
        accounts.assign_role(
            session=s, actor=admin, user_id=target, role=Role.SUPERVISOR, place_id=world.commune_a1
        )
        with pytest.raises(PermissionDenied):
            accounts.assign_role(
                session=s,
                actor=admin,
                user_id=target,
                role=Role.SUPERVISOR,
                place_id=world.province_a,
            )
        with pytest.raises(PermissionDenied):
            accounts.create_user(
                session=s,
                actor=admin,
                data=UserCreate(
                    username="other.one",
                    full_name="Z",
                    role=Role.VOLUNTEER,
                    place_id=world.commune_a2,
                ),
            )


def test_a_national_admin_may_grant_anywhere_including_national_admin(world: World) -> None:
    with _session(world) as s:
        admin = _actor(s, world.national_admin, Role.ADMIN)
        target = _make_user(s, world, "new.person", role=None)
        read = accounts.assign_role(session=s, actor=admin, user_id=target, role=Role.ADMIN)
        assert [(r.role, r.place_id, r.facility_id) for r in read.roles] == [
            (Role.ADMIN, None, None)
        ]
        other = _make_user(s, world, "clinic.person", role=None)
        read = accounts.assign_role(
            session=s, actor=admin, user_id=other, role=Role.CLINIC, facility_id=world.clinic_b1
        )
        assert [(r.role, r.facility_id) for r in read.roles] == [(Role.CLINIC, world.clinic_b1)]


def test_a_scope_must_fit_the_role(world: World) -> None:
    with _session(world) as s:
        admin = _actor(s, world.national_admin, Role.ADMIN)
        target = _make_user(s, world, "new.person", role=None)
        wrong = [
            (Role.VOLUNTEER, world.province_a, None),
            (Role.VOLUNTEER, None, None),
            (Role.SUPERVISOR, None, world.clinic_a1),
            (Role.CLINIC, world.commune_a1, None),
            (Role.SUPERVISOR, None, None),
            (Role.ADMIN, None, world.clinic_a1),
            (Role.VOLUNTEER, 999_999, None),
        ]
        for role, place_id, facility_id in wrong:
            with pytest.raises(ValidationFailed) as caught:
                accounts.assign_role(
                    session=s,
                    actor=admin,
                    user_id=target,
                    role=role,
                    place_id=place_id,
                    facility_id=facility_id,
                )
            assert caught.value.fields == {"scope": "account.scope_invalid"}, (role, place_id)


def test_an_admin_cannot_manage_users_outside_their_scope(world: World) -> None:
    with _session(world) as s:
        admin_a_id = _make_user(s, world, "admin.a", role=Role.ADMIN, place_id=world.province_a)
        in_b = _make_user(s, world, "vol.b", place_id=world.commune_b1)
        in_a = _make_user(s, world, "vol.a", place_id=world.commune_a2)
        admin_a = _actor(s, admin_a_id, Role.ADMIN)
        with pytest.raises(NotFound):
            accounts.disable_user(session=s, actor=admin_a, user_id=in_b)
        with pytest.raises(NotFound):
            accounts.reset_password(session=s, actor=admin_a, user_id=in_b)
        with pytest.raises(NotFound):
            accounts.disable_user(session=s, actor=admin_a, user_id=world.national_admin)
        assert not accounts.disable_user(session=s, actor=admin_a, user_id=in_a).is_active


def test_an_admin_cannot_disable_themselves_or_drop_their_own_admin_role(world: World) -> None:
    with _session(world) as s:
        admin = _actor(s, world.national_admin, Role.ADMIN)
        with pytest.raises(ValidationFailed):
            accounts.disable_user(session=s, actor=admin, user_id=world.national_admin)
        with pytest.raises(PermissionDenied):
            accounts.remove_role(
                session=s, actor=admin, user_id=world.national_admin, role=Role.ADMIN
            )


def test_no_account_changes_its_own_roles_and_the_attempt_is_audited(world: World) -> None:
    with _session(world) as s:
        admin = _actor(s, world.national_admin, Role.ADMIN)
        for role, place in ((Role.SUPERVISOR, world.province_a), (Role.ADMIN, world.province_b)):
            with pytest.raises(PermissionDenied) as caught:
                accounts.assign_role(session=s, actor=admin, user_id=world.national_admin,
                                     role=role, place_id=place)
            assert caught.value.key == "account.not_self"
        s.rollback()
        assert roles_of(s, world.national_admin) == [Role.ADMIN]
        denied = s.exec(select(AuditEvent).where(AuditEvent.action == "account.role_assign",
                                                 AuditEvent.outcome == "denied")).all()
        assert [e.detail for e in denied] == ["account.not_self"] * 2


def test_an_administrator_reading_client_records_needs_a_second_administrator(
    world: World,
) -> None:
    with _session(world) as s:
        first = _actor(s, world.national_admin, Role.ADMIN)
        second_id = _make_user(s, world, "admin.two", role=Role.ADMIN)
        target = _make_user(s, world, "admin.three", role=Role.ADMIN)
        s.commit()
        token = accounts.authenticate(session=s, login="admin.three", password=PASSWORD,
                                      client_addr="", now=T0).token
        s.commit()
        read = accounts.assign_role(session=s, actor=first, user_id=target,
                                    role=Role.SUPERVISOR, place_id=world.province_a)
        s.commit()
        # Asked, not granted: the account still holds only the administrator role.
        assert [r.role for r in read.roles] == [Role.ADMIN]
        assert [(r.role, r.place_id) for r in read.pending] == [
            (Role.SUPERVISOR, world.province_a)]
        request_id = read.pending[0].id
        # Neither the administrator who asked nor the account itself may approve.
        with pytest.raises(PermissionDenied):
            accounts.decide_role_request(session=s, actor=first, request_id=request_id,
                                         approve=True)
        s.rollback()
        with pytest.raises(PermissionDenied):
            accounts.decide_role_request(session=s, actor=_actor(s, target, Role.ADMIN),
                                         request_id=request_id, approve=True)
        s.rollback()
        assert roles_of(s, target) == [Role.ADMIN]
        # A second administrator approves: granted, and the account's sessions end.
        approved = accounts.decide_role_request(
            session=s, actor=_actor(s, second_id, Role.ADMIN), request_id=request_id,
            approve=True)
        s.commit()
        assert sorted(r.role for r in approved.roles) == sorted([Role.ADMIN, Role.SUPERVISOR])
        assert approved.pending == []
        assert accounts.validate_session(session=s, token=token, now=T0) is None
        actions = s.exec(select(AuditEvent.action, AuditEvent.actor_id, AuditEvent.outcome)
                         .where(AuditEvent.target_id == target,
                                col(AuditEvent.action).like("account.role_%"))).all()
        assert ("account.role_request", world.national_admin, "ok") in actions
        assert ("account.role_approve", second_id, "ok") in actions
        with pytest.raises(NotFound):  # decided once
            accounts.decide_role_request(session=s, actor=_actor(s, second_id, Role.ADMIN),
                                         request_id=request_id, approve=False)


def test_a_rejected_request_grants_nothing(world: World) -> None:
    with _session(world) as s:
        first = _actor(s, world.national_admin, Role.ADMIN)
        second_id = _make_user(s, world, "admin.two", role=Role.ADMIN)
        clinic_user = _make_user(s, world, "yte.one", role=Role.CLINIC,
                                 facility_id=world.clinic_a1)
        read = accounts.assign_role(session=s, actor=first, user_id=clinic_user,
                                    role=Role.ADMIN)
        assert [r.role for r in read.roles] == [Role.CLINIC] and len(read.pending) == 1
        rejected = accounts.decide_role_request(
            session=s, actor=_actor(s, second_id, Role.ADMIN), request_id=read.pending[0].id,
            approve=False)
        assert [r.role for r in rejected.roles] == [Role.CLINIC] and rejected.pending == []


def test_update_user_needs_the_version_it_was_read_at(world: World) -> None:
    with _session(world) as s:
        admin = _actor(s, world.national_admin, Role.ADMIN)
        user_id = _make_user(s, world, "lan.nguyen")
        version = s.get(User, user_id).version  # type: ignore[union-attr]
        updated = accounts.update_user(
            session=s,
            actor=admin,
            user_id=user_id,
            data=UserUpdate(full_name="Nguyễn Thị Lan Anh", phone="0987 111 222", language="en"),
            expected_version=version,
        )
        assert (updated.full_name, updated.phone, updated.language) == (
            "Nguyễn Thị Lan Anh",
            "0987111222",
            "en",
        )
        assert updated.version == version + 1
        with pytest.raises(Conflict):
            accounts.update_user(
                session=s,
                actor=admin,
                user_id=user_id,
                data=UserUpdate(full_name="Stale"),
                expected_version=version,
            )
        cleared = accounts.update_user(
            session=s,
            actor=admin,
            user_id=user_id,
            data=UserUpdate(phone=""),
            expected_version=updated.version,
        )
        assert cleared.phone is None


def test_list_users_shows_only_users_in_scope_and_searches_without_diacritics(
    world: World,
) -> None:
    with _session(world) as s:
        admin_a_id = _make_user(
            s, world, "admin.a", role=Role.ADMIN, place_id=world.province_a, full_name="Bùi Quản"
        )
        _make_user(s, world, "vol.a", place_id=world.commune_a1, full_name="Đặng Văn Ân")
        _make_user(s, world, "vol.a2", place_id=world.commune_a2, full_name="Nguyễn Thị Lan")
        _make_user(s, world, "vol.b", place_id=world.commune_b1, full_name="Nguyễn Văn Bình")
        admin_a = _actor(s, admin_a_id, Role.ADMIN)
        page = accounts.list_users(session=s, actor=admin_a)
        assert [u.username for u in page.items] == ["admin.a", "vol.a", "vol.a2"]
        assert page.total == 3
        found = accounts.list_users(session=s, actor=admin_a, query="nguyen")
        assert [u.username for u in found.items] == ["vol.a2"]
        national = _actor(s, world.national_admin, Role.ADMIN)
        everyone = accounts.list_users(session=s, actor=national, query="NGUYỄN")
        assert {u.username for u in everyone.items} == {"vol.a2", "vol.b"}


def test_the_first_admin_is_created_once_and_never_with_a_weak_password(
    world: World, tmp_path: object
) -> None:
    with _session(world) as s:
        with pytest.raises(Conflict) as caught:
            accounts.create_first_admin(
                session=s, username="second", password="a long enough secret", full_name="B"
            )
        assert caught.value.key == "account.admin_exists"
    engine = engine_for(f"sqlite:///{tmp_path}/fresh.db")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        with pytest.raises(ValidationFailed) as weak:
            accounts.create_first_admin(
                session=s, username="boss", password="matkhau123", full_name="B"
            )
        assert weak.value.fields == {"password": "account.password_too_common"}
        read = accounts.create_first_admin(
            session=s, username="boss", password="a long enough secret", full_name="Chủ"
        )
        assert not read.must_change_password
        assert [(r.role, r.place_id) for r in read.roles] == [(Role.ADMIN, None)]
        s.commit()
        assert s.exec(select(AuthSession)).first() is None
    engine.dispose()
