"""Server-side sessions: tokens stored as hashes, timeouts, and every way a session ends."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.services import accounts, security
from app.services.account_dto import SignInResult, UserCreate
from app.services.actor import Actor, load_actor
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from models import AuditEvent, AuthSession, Place, PlaceKind, Role, RoleAssignment, User

T0 = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
PASSWORD = "hoa sen trong đầm"
NEW_PASSWORD = "mây trắng bay trên núi"


@dataclass
class World:
    engine: Engine
    province: int
    commune: int
    admin_id: int
    user_id: int


@pytest.fixture(autouse=True)
def _default_settings(session_settings: None) -> None:
    """Every test here runs with the shipped timeouts and throttling (tests/conftest.py)."""


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    # `engine` (tests/conftest.py): SQLite by default, PostgreSQL in the pg lane.
    with Session(engine, expire_on_commit=False) as s:
        province = Place(code="P1", name="Tỉnh Một", name_key="tinh mot", kind=PlaceKind.PROVINCE)
        s.add(province)
        s.flush()
        commune = Place(
            code="C1",
            name="Xã Một",
            name_key="xa mot",
            kind=PlaceKind.COMMUNE,
            parent_id=province.id,
        )
        s.add(commune)
        s.flush()
        admin = accounts.create_first_admin(
            session=s, username="quantri", password="trống đồng Đông Sơn", full_name="Quản trị"
        )
        admin_actor = load_actor(s, user_id=admin.id, role=Role.ADMIN)
        assert admin_actor is not None
        user = accounts.create_user(
            session=s,
            actor=admin_actor,
            data=UserCreate(
                username="lan.nguyen",
                full_name="Nguyễn Thị Lan",
                role=Role.VOLUNTEER,
                place_id=commune.id,
            ),
        )
        row = s.get(User, user.id)
        assert row is not None
        row.password_hash = security.hash_password(PASSWORD)
        row.must_change_password = False
        s.commit()
        yield World(
            engine=engine,
            province=province.id or 0,
            commune=commune.id or 0,
            admin_id=admin.id,
            user_id=user.id,
        )
    engine.dispose()


def _session(world: World) -> Session:
    return Session(world.engine, expire_on_commit=False)


def _sign_in(
    s: Session, *, now: datetime = T0, login: str = "lan.nguyen", password: str = PASSWORD
) -> SignInResult:
    result = accounts.authenticate(
        session=s, login=login, password=password, client_addr="192.0.2.10", now=now
    )
    s.commit()
    return result


def _admin(s: Session, world: World) -> Actor:
    actor = load_actor(s, user_id=world.admin_id, role=Role.ADMIN)
    assert actor is not None
    return actor


def _valid(s: Session, token: str, now: datetime) -> Actor | None:
    actor = accounts.validate_session(session=s, token=token, now=now)
    s.commit()
    return actor


def _ended_reason(s: Session, session_id: int) -> str:
    row = s.get(AuthSession, session_id)
    assert row is not None
    s.refresh(row)
    return row.ended_reason


def test_only_the_hash_of_the_token_is_stored(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        row = s.get(AuthSession, result.session_id)
        assert row is not None
        assert row.token_hash == security.token_hash(result.token)
        for column in AuthSession.__table__.columns:  # type: ignore[attr-defined]
            assert result.token not in str(getattr(row, column.name)), column.name
        raw = s.connection().exec_driver_sql("SELECT * FROM authsession").all()
        assert all(result.token not in str(cell) for line in raw for cell in line)


def test_a_session_records_its_expiry_address_and_role(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        row = s.get(AuthSession, result.session_id)
        assert row is not None
        assert row.expires_at == T0 + timedelta(hours=12) == result.expires_at
        assert row.client_addr == "192.0.2.10"
        assert row.role == Role.VOLUNTEER


def test_every_sign_in_gets_a_new_token(world: World) -> None:
    with _session(world) as s:
        first = _sign_in(s)
        second = _sign_in(s, now=T0 + timedelta(minutes=1))
        assert first.token != second.token
        assert _valid(s, first.token, T0 + timedelta(minutes=2)) is not None
        assert _valid(s, second.token, T0 + timedelta(minutes=2)) is not None


def test_a_valid_token_gives_the_actor_of_its_session(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        actor = _valid(s, result.token, T0 + timedelta(minutes=5))
        assert actor is not None
        assert actor.user_id == world.user_id
        assert actor.role is Role.VOLUNTEER
        assert actor.commune_ids == frozenset({world.commune})
        assert actor.session_id == result.session_id


def test_unknown_empty_or_huge_tokens_give_no_actor(world: World) -> None:
    with _session(world) as s:
        _sign_in(s)
        for token in ("", "x", security.new_token(), "A" * 5000):
            assert accounts.validate_session(session=s, token=token, now=T0) is None


def test_a_session_idle_for_longer_than_the_limit_ends(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        assert _valid(s, result.token, T0 + timedelta(minutes=30)) is not None
        assert _valid(s, result.token, T0 + timedelta(minutes=61)) is None
        assert _ended_reason(s, result.session_id) == "idle"
        # Ended stays ended, even if asked at an earlier clock.
        assert _valid(s, result.token, T0 + timedelta(minutes=62)) is None


def test_activity_keeps_a_session_alive_but_not_past_its_absolute_expiry(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        moment = T0
        while moment + timedelta(minutes=20) < T0 + timedelta(hours=12):
            moment += timedelta(minutes=20)
            assert _valid(s, result.token, moment) is not None, moment
        assert _valid(s, result.token, T0 + timedelta(hours=12)) is None
        assert _ended_reason(s, result.session_id) == "expired"


def test_validating_without_touch_does_not_extend_the_session(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        later = T0 + timedelta(minutes=20)
        assert accounts.validate_session(session=s, token=result.token, now=later, touch=False)
        s.commit()
        assert _valid(s, result.token, T0 + timedelta(minutes=31)) is None


def test_last_seen_is_written_at_most_once_a_minute(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        _valid(s, result.token, T0 + timedelta(seconds=30))
        row = s.get(AuthSession, result.session_id)
        assert row is not None
        assert row.last_seen_at == T0
        _valid(s, result.token, T0 + timedelta(seconds=90))
        s.refresh(row)
        assert row.last_seen_at == T0 + timedelta(seconds=90)


def test_sign_out_ends_the_session_at_once(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        other = _sign_in(s)
        accounts.sign_out(session=s, token=result.token, now=T0 + timedelta(minutes=1))
        s.commit()
        assert _valid(s, result.token, T0 + timedelta(minutes=1)) is None
        assert _ended_reason(s, result.session_id) == "sign_out"
        assert _valid(s, other.token, T0 + timedelta(minutes=1)) is not None
        accounts.sign_out(session=s, token=result.token)  # twice is harmless
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "session.sign_out")).one()


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(world: World) -> None:
    with _session(world) as s:
        here = _sign_in(s)
        elsewhere = _sign_in(s)
        now = T0 + timedelta(minutes=2)
        actor = _valid(s, here.token, now)
        assert actor is not None
        accounts.change_password(
            session=s, actor=actor, current=PASSWORD, new=NEW_PASSWORD, now=now
        )
        s.commit()
        assert _valid(s, elsewhere.token, now) is None
        assert _ended_reason(s, elsewhere.session_id) == "password_changed"
        assert _valid(s, here.token, now) is not None
        with pytest.raises(accounts.AuthError):
            _sign_in(s, now=now)
        assert _sign_in(s, now=now, password=NEW_PASSWORD).user_id == world.user_id


def test_changing_the_password_checks_the_current_one_and_the_policy(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        actor = _valid(s, result.token, T0)
        assert actor is not None
        with pytest.raises(ValidationFailed) as wrong:
            accounts.change_password(
                session=s, actor=actor, current="nope", new=NEW_PASSWORD, now=T0
            )
        assert wrong.value.fields == {"current": "account.current_password_wrong"}
        with pytest.raises(ValidationFailed) as common:
            accounts.change_password(
                session=s, actor=actor, current=PASSWORD, new="anhyeuem", now=T0
            )
        assert common.value.fields == {"new": "account.password_too_common"}
        with pytest.raises(ValidationFailed) as same:
            accounts.change_password(session=s, actor=actor, current=PASSWORD, new=PASSWORD, now=T0)
        assert same.value.fields == {"new": "account.password_unchanged"}


def test_guessing_the_current_password_is_throttled_like_sign_in(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        actor = _valid(s, result.token, T0)
        assert actor is not None
        for _ in range(3):
            with pytest.raises(ValidationFailed):
                accounts.change_password(
                    session=s, actor=actor, current="guess", new=NEW_PASSWORD, now=T0
                )
        with pytest.raises(accounts.Throttled):
            accounts.change_password(
                session=s, actor=actor, current=PASSWORD, new=NEW_PASSWORD, now=T0
            )


def test_password_policy_refusals_never_count_as_failed_sign_ins(world: World) -> None:
    """Ten refused new passwords (too short, too common, the username) with the right
    current one: no delay for the next change, none for signing in."""
    with _session(world) as s:
        result = _sign_in(s)
        actor = _valid(s, result.token, T0)
        assert actor is not None
        for weak in ("short", "12345678", "password", "matkhau123", "qwertyui") * 2:
            with pytest.raises(ValidationFailed) as refused:
                accounts.change_password(session=s, actor=actor, current=PASSWORD, new=weak,
                                         now=T0)
            assert "new" in refused.value.fields
            s.rollback()  # as the caller's unit of work does on an error
        accounts.change_password(session=s, actor=actor, current=PASSWORD, new=NEW_PASSWORD,
                                 now=T0)
        s.commit()
        assert _sign_in(s, password=NEW_PASSWORD).user_id == world.user_id


def test_a_forced_password_change_clears_the_flag(world: World) -> None:
    with _session(world) as s:
        otp = accounts.reset_password(session=s, actor=_admin(s, world), user_id=world.user_id)
        s.commit()
        result = _sign_in(s, password=otp)
        assert result.must_change_password
        actor = _valid(s, result.token, T0)
        assert actor is not None
        accounts.change_password(session=s, actor=actor, current=otp, new=NEW_PASSWORD, now=T0)
        s.commit()
        assert not _sign_in(s, password=NEW_PASSWORD).must_change_password


def test_disabling_a_user_ends_their_sessions_at_once(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        accounts.disable_user(session=s, actor=_admin(s, world), user_id=world.user_id)
        s.commit()
        assert _valid(s, result.token, T0 + timedelta(minutes=1)) is None
        assert _ended_reason(s, result.session_id) == "disabled"
        accounts.enable_user(session=s, actor=_admin(s, world), user_id=world.user_id)
        s.commit()
        assert _valid(s, result.token, T0 + timedelta(minutes=1)) is None


def test_assigning_or_removing_a_role_ends_the_users_sessions(world: World) -> None:
    with _session(world) as s:
        before = _sign_in(s)
        accounts.assign_role(
            session=s,
            actor=_admin(s, world),
            user_id=world.user_id,
            role=Role.SUPERVISOR,
            place_id=world.province,
        )
        s.commit()
        assert _valid(s, before.token, T0) is None
        assert _ended_reason(s, before.session_id) == "role_changed"
        again = _sign_in(s)
        accounts.remove_role(
            session=s,
            actor=_admin(s, world),
            user_id=world.user_id,
            role=Role.SUPERVISOR,
            place_id=world.province,
        )
        s.commit()
        assert _valid(s, again.token, T0) is None


def test_a_password_reset_ends_the_users_sessions(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        accounts.reset_password(session=s, actor=_admin(s, world), user_id=world.user_id)
        s.commit()
        assert _valid(s, result.token, T0) is None
        assert _ended_reason(s, result.session_id) == "password_reset"


def test_a_role_lost_by_any_other_means_ends_the_session_at_its_next_use(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        for row in s.exec(select(RoleAssignment).where(RoleAssignment.user_id == world.user_id)):
            s.delete(row)
        s.commit()
        assert _valid(s, result.token, T0 + timedelta(minutes=1)) is None
        assert _ended_reason(s, result.session_id) == "access_lost"


def test_users_list_and_end_their_own_sessions(world: World) -> None:
    with _session(world) as s:
        here = _sign_in(s)
        lost_phone = _sign_in(s)
        actor = _valid(s, here.token, T0)
        assert actor is not None
        listed = accounts.list_sessions(session=s, actor=actor, user_id=world.user_id, now=T0)
        assert {r.id for r in listed} == {here.session_id, lost_phone.session_id}
        assert [r.current for r in listed if r.id == here.session_id] == [True]
        accounts.end_session(session=s, actor=actor, session_id=lost_phone.session_id, now=T0)
        s.commit()
        assert _valid(s, lost_phone.token, T0) is None
        listed = accounts.list_sessions(session=s, actor=actor, user_id=world.user_id, now=T0)
        assert [r.id for r in listed] == [here.session_id]


def test_a_user_cannot_see_or_end_someone_elses_sessions(world: World) -> None:
    with _session(world) as s:
        mine = _sign_in(s)
        admins = _sign_in(s, login="quantri", password="trống đồng Đông Sơn")
        actor = _valid(s, mine.token, T0)
        assert actor is not None
        with pytest.raises(PermissionDenied):
            accounts.list_sessions(session=s, actor=actor, user_id=world.admin_id, now=T0)
        with pytest.raises(NotFound):
            accounts.end_session(session=s, actor=actor, session_id=admins.session_id, now=T0)
        assert _valid(s, admins.token, T0) is not None


def test_an_admin_can_end_a_session_of_a_user_in_scope(world: World) -> None:
    with _session(world) as s:
        result = _sign_in(s)
        admin = _admin(s, world)
        listed = accounts.list_sessions(session=s, actor=admin, user_id=world.user_id, now=T0)
        assert [r.id for r in listed] == [result.session_id]
        accounts.end_session(session=s, actor=admin, session_id=result.session_id, now=T0)
        s.commit()
        assert _valid(s, result.token, T0) is None
        assert _ended_reason(s, result.session_id) == "ended_by_admin"


def test_the_language_choice_is_saved(world: World) -> None:
    with _session(world) as s:
        actor = _valid(s, _sign_in(s).token, T0)
        assert actor is not None
        accounts.set_language(session=s, actor=actor, language="en")
        s.commit()
        assert _sign_in(s).language == "en"
        with pytest.raises(ValidationFailed):
            accounts.set_language(session=s, actor=actor, language="fr")


def test_ended_sessions_are_announced_after_the_commit_and_never_after_a_rollback(
    world: World,
) -> None:
    """What lets the State layer drop an ended session's page state (app/state/session_end.py)."""
    heard: list[frozenset[int]] = []
    stop = accounts.on_sessions_ended(heard.append)
    try:
        with _session(world) as s:
            kept = _sign_in(s)
            lost = _sign_in(s, now=T0 + timedelta(minutes=1))
            accounts.sign_out(session=s, token=lost.token, now=T0 + timedelta(minutes=2))
            assert heard == []  # not before the commit
            s.rollback()
            assert heard == []
            accounts.sign_out(session=s, token=lost.token, now=T0 + timedelta(minutes=2))
            s.commit()
            assert heard == [frozenset({lost.session_id})]
            # Expiry noticed by a request ends (and announces) the session too.
            assert _valid(s, kept.token, T0 + timedelta(hours=13)) is None
            assert heard[-1] == frozenset({kept.session_id})
    finally:
        stop()
    with _session(world) as s:
        accounts.sign_out(session=s, token=_sign_in(s).token)
        s.commit()
    assert len(heard) == 2  # no longer listening


def test_not_live_names_the_ended_idle_expired_and_unknown_sessions(world: World) -> None:
    with _session(world) as s:
        live = _sign_in(s, now=T0 + timedelta(hours=1))
        idle = _sign_in(s, now=T0)
        ended = _sign_in(s, now=T0 + timedelta(hours=1))
        accounts.sign_out(session=s, token=ended.token, now=T0 + timedelta(hours=1))
        old = _sign_in(s, now=T0 - timedelta(hours=12))
        row = s.get(AuthSession, old.session_id)
        assert row is not None
        row.last_seen_at = T0 + timedelta(minutes=50)  # kept busy, but past its lifetime
        s.add(row)
        s.commit()
        ids = [live.session_id, idle.session_id, ended.session_id, old.session_id, 999_999]
        dead = accounts.not_live(session=s, session_ids=ids, now=T0 + timedelta(hours=1))
    assert dead == {idle.session_id, ended.session_id, old.session_id, 999_999}
