"""The TOTP second factor (issue 19 item 8), through the services: enrolment, the two-step
sign-in, codes accepted once, recovery codes used once, throttling, the requirement per role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlmodel import Session, select

from app.i18n import t
from app.services import accounts, deployment, second_factor, security
from app.services.account_dto import SecondStep, SignInResult, UserRead
from app.services.accounts import Throttled
from app.services.actor import Actor, load_actor
from app.services.errors import AuthError, Conflict, PermissionDenied, ValidationFailed
from models import (
    AuditEvent,
    AuthSession,
    RecoveryCode,
    Role,
    SecondFactorChallenge,
    TotpCredential,
    User,
)
from tests.factories import World

PASSWORD = "Mật-khẩu-thử-2026"
NOW = datetime(2026, 12, 7, 4, 0, 0, tzinfo=UTC)


@pytest.fixture
def people(session: Session, world: World) -> World:
    for name in ("vol_a1", "sup_a", "admin"):
        user = session.get(User, world.users[name])
        assert user is not None
        user.password_hash = security.hash_password(PASSWORD)
        session.add(user)
    session.commit()
    return world


def _actor(session: Session, world: World, name: str) -> Actor:
    actor = world.actor(session, name)
    assert actor is not None
    return actor


def _enrol(session: Session, world: World, name: str, now: datetime = NOW) -> tuple[str, list[str]]:
    """Turn the second factor on for `name`; returns the secret and the recovery codes."""
    actor = _actor(session, world, name)
    started = accounts.start_second_factor(session=session, actor=actor, now=now)
    codes = accounts.confirm_second_factor(
        session=session, actor=actor, code=pyotp.TOTP(started.secret).at(now), now=now
    )
    session.commit()
    return started.secret, codes


def _begin(session: Session, login: str, now: datetime, addr: str = "10.0.0.1"
           ) -> SignInResult | SecondStep:
    result = accounts.begin_sign_in(session=session, login=login, password=PASSWORD,
                                    client_addr=addr, now=now)
    session.commit()
    return result


def _complete(session: Session, token: str, code: str, now: datetime, addr: str = "10.0.0.1"
              ) -> SignInResult:
    try:
        result = accounts.complete_sign_in(session=session, token=token, code=code,
                                           client_addr=addr, now=now)
        session.commit()
        return result
    except Exception:
        session.rollback()
        raise


def _sessions(session: Session, user_id: int) -> int:
    return len(session.exec(select(AuthSession).where(AuthSession.user_id == user_id)).all())


# ---- enrolment --------------------------------------------------------------------------------


def test_enrolment_needs_a_first_valid_code_and_gives_ten_recovery_codes_stored_as_hashes(
    session: Session, people: World
) -> None:
    actor = _actor(session, people, "vol_a1")
    started = accounts.start_second_factor(session=session, actor=actor, now=NOW)
    assert len(started.secret) == 32
    assert started.uri.startswith("otpauth://totp/") and "secret=" + started.secret in started.uri
    assert second_factor.qr_data_uri(started.uri).startswith("data:image/svg+xml;base64,")
    # Not on until confirmed, and a wrong code confirms nothing.
    assert not accounts.second_factor_status(session=session, actor=actor).enrolled
    with pytest.raises(ValidationFailed) as refused:
        accounts.confirm_second_factor(session=session, actor=actor, code="000000", now=NOW)
    assert refused.value.fields == {"code": "auth.code_wrong"}
    assert not second_factor.enrolled(session, people.users["vol_a1"])

    codes = accounts.confirm_second_factor(
        session=session, actor=actor, code=pyotp.TOTP(started.secret).at(NOW), now=NOW)
    session.commit()
    assert len(codes) == 10 and len(set(codes)) == 10
    status = accounts.second_factor_status(session=session, actor=actor)
    assert status.enrolled and status.recovery_codes_left == 10
    # Nothing returns the secret any more, and the codes exist only as hashes.
    assert started.secret not in status.model_dump_json()
    with pytest.raises(Conflict):
        accounts.start_second_factor(session=session, actor=actor, now=NOW)
    stored = {r.code_hash for r in session.exec(select(RecoveryCode)).all()}
    assert stored == {second_factor.recovery_hash(c) for c in codes}
    assert not any(c in h or c.replace("-", "") in h for c in codes for h in stored)
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert {"second_factor.start", "second_factor.enrol"} <= set(actions)


# ---- the two-step sign-in ---------------------------------------------------------------------


def test_with_a_second_factor_the_password_alone_opens_no_session(
    session: Session, people: World
) -> None:
    _enrol(session, people, "sup_a")
    user_id = people.users["sup_a"]
    step = _begin(session, "sup_a", NOW)
    assert isinstance(step, SecondStep)
    assert step.expires_at == NOW + timedelta(minutes=5)
    assert _sessions(session, user_id) == 0
    stored = session.exec(select(SecondFactorChallenge)).one()
    assert stored.token_hash == security.token_hash(step.token)
    assert step.token not in stored.token_hash
    with pytest.raises(AuthError) as one_step:
        accounts.authenticate(session=session, login="sup_a", password=PASSWORD,
                              client_addr="", now=NOW)
    assert one_step.value.key == "auth.second_factor_needed"
    session.rollback()
    assert _sessions(session, user_id) == 0


def test_a_valid_code_completes_the_sign_in_once_and_the_same_code_is_never_accepted_again(
    session: Session, people: World
) -> None:
    secret, _ = _enrol(session, people, "sup_a")
    totp = pyotp.TOTP(secret)
    later = NOW + timedelta(minutes=2)
    step = _begin(session, "sup_a", later)
    assert isinstance(step, SecondStep)
    code = totp.at(later)
    done = _complete(session, step.token, code, later)
    assert done.role == Role.SUPERVISOR and done.token
    assert accounts.validate_session(session=session, token=done.token, now=later) is not None
    # The step is used up.
    with pytest.raises(AuthError) as used:
        _complete(session, step.token, totp.at(later + timedelta(seconds=30)), later)
    assert used.value.key == "auth.second_step_expired"
    # Replay: the same code (time step) on a new sign-in, within its validity, is refused.
    again = _begin(session, "sup_a", later + timedelta(seconds=5))
    assert isinstance(again, SecondStep)
    with pytest.raises(AuthError) as replay:
        _complete(session, again.token, code, later + timedelta(seconds=5))
    assert replay.value.key == "auth.code_wrong"
    # The next time step's code works.
    nxt = later + timedelta(seconds=30)
    assert _complete(session, again.token, totp.at(nxt), nxt).token
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "session.sign_in",
                                                   AuditEvent.outcome == "ok")).all()
    assert [e.detail.split()[-1] for e in events] == ["second_factor=totp"] * 2


def test_a_wrong_code_keeps_the_step_and_five_end_it(session: Session, people: World) -> None:
    _enrol(session, people, "sup_a")
    step = _begin(session, "sup_a", NOW)
    assert isinstance(step, SecondStep)
    keys = []
    for i in range(5):  # different addresses: the pair's throttle does not get in the way
        with pytest.raises(AuthError) as wrong:
            _complete(session, step.token, "123456", NOW, addr=f"10.0.1.{i}")
        keys.append(wrong.value.key)
    assert keys == ["auth.code_wrong"] * 4 + ["auth.second_step_expired"]
    failed = session.exec(select(AuditEvent).where(AuditEvent.action == "session.second_factor",
                                                   AuditEvent.outcome == "failed")).all()
    assert len(failed) == 5 and all("123456" not in e.detail for e in failed)


def test_the_step_expires_after_five_minutes(session: Session, people: World) -> None:
    secret, _ = _enrol(session, people, "sup_a")
    step = _begin(session, "sup_a", NOW)
    assert isinstance(step, SecondStep)
    late = NOW + timedelta(minutes=5, seconds=1)
    with pytest.raises(AuthError) as expired:
        _complete(session, step.token, pyotp.TOTP(secret).at(late), late)
    assert expired.value.key == "auth.second_step_expired"
    with pytest.raises(AuthError):
        _complete(session, "not-a-token", pyotp.TOTP(secret).at(NOW), NOW)


def test_a_recovery_code_signs_in_once(session: Session, people: World) -> None:
    _, codes = _enrol(session, people, "admin")
    first = _begin(session, "admin", NOW)
    assert isinstance(first, SecondStep)
    # Typed with spaces and capitals, it still counts.
    typed = codes[3].upper().replace("-", " ")
    assert _complete(session, first.token, typed, NOW).role == Role.ADMIN
    second = _begin(session, "admin", NOW)
    assert isinstance(second, SecondStep)
    with pytest.raises(AuthError) as reused:
        _complete(session, second.token, codes[3], NOW)
    assert reused.value.key == "auth.code_wrong"
    assert _complete(session, second.token, codes[4], NOW).token
    actor = _actor(session, people, "admin")
    assert accounts.second_factor_status(session=session, actor=actor).recovery_codes_left == 8


def test_wrong_codes_are_throttled_like_passwords_and_a_right_password_does_not_reset_them(
    session: Session, people: World
) -> None:
    secret, _ = _enrol(session, people, "sup_a")
    step = _begin(session, "sup_a", NOW)
    assert isinstance(step, SecondStep)
    for _ in range(3):  # the pair's free failures
        with pytest.raises(AuthError):
            _complete(session, step.token, "000000", NOW)
    # A new password step (right password) does not start the count of wrong codes again.
    fresh = _begin(session, "sup_a", NOW)
    assert isinstance(fresh, SecondStep)
    with pytest.raises(Throttled) as slowed:
        _complete(session, fresh.token, pyotp.TOTP(secret).at(NOW), NOW)
    assert slowed.value.params["minutes"] == 1
    # After the wait, the right code works.
    later = NOW + timedelta(minutes=1, seconds=1)
    assert _complete(session, fresh.token, pyotp.TOTP(secret).at(later), later).token


# ---- turning it off, new recovery codes -------------------------------------------------------


def test_turning_it_off_or_new_codes_need_the_password_and_a_code(
    session: Session, people: World
) -> None:
    secret, codes = _enrol(session, people, "vol_a1")
    actor = _actor(session, people, "vol_a1")
    totp = pyotp.TOTP(secret)
    t1 = NOW + timedelta(seconds=60)
    with pytest.raises(ValidationFailed) as wrong_password:
        accounts.disable_second_factor(session=session, actor=actor, password="nope-nope",
                                       code=totp.at(t1), now=t1)
    assert wrong_password.value.fields == {"password": "account.current_password_wrong"}
    with pytest.raises(ValidationFailed) as wrong_code:
        accounts.regenerate_recovery_codes(session=session, actor=actor, password=PASSWORD,
                                           code="999999", now=t1)
    assert wrong_code.value.fields == {"code": "auth.code_wrong"}
    fresh = accounts.regenerate_recovery_codes(session=session, actor=actor, password=PASSWORD,
                                               code=totp.at(t1), now=t1)
    session.commit()
    assert set(fresh).isdisjoint(codes)
    # The old codes no longer work; a new one turns the factor off.
    t2 = t1 + timedelta(seconds=30)
    with pytest.raises(ValidationFailed):
        accounts.disable_second_factor(session=session, actor=actor, password=PASSWORD,
                                       code=codes[0], now=t2)
    accounts.disable_second_factor(session=session, actor=actor, password=PASSWORD,
                                   code=fresh[0], now=t2)
    session.commit()
    assert session.get(TotpCredential, people.users["vol_a1"]) is None
    assert session.exec(select(RecoveryCode)).all() == []
    assert isinstance(_begin(session, "vol_a1", t2), SignInResult)


# ---- the requirement per role -----------------------------------------------------------------


def _require(session: Session, *roles: Role) -> None:
    for role in Role:
        second_factor.set_required(session, role=role, required=role in roles)
    session.commit()


def test_the_requirement_is_a_row_per_role_and_restricts_who_has_not_enrolled(
    session: Session, people: World
) -> None:
    # No rows (a database made without the migration): optional for everyone.
    assert not any(second_factor.requirement(session).values())
    _require(session, Role.SUPERVISOR, Role.ADMIN)
    supervisor = _actor(session, people, "sup_a")
    volunteer = _actor(session, people, "vol_a1")
    assert supervisor.must_enrol_second_factor and supervisor.restricted
    assert not volunteer.must_enrol_second_factor and not volunteer.restricted
    # Signing in gives the supervisor a session that must enrol; enrolling lifts it.
    signed = _begin(session, "sup_a", NOW)
    assert isinstance(signed, SignInResult) and signed.must_enrol_second_factor
    assert accounts.validate_session(session=session, token=signed.token, now=NOW).restricted  # type: ignore[union-attr]
    _enrol(session, people, "sup_a", NOW)
    actor = accounts.validate_session(session=session, token=signed.token, now=NOW)
    assert actor is not None and not actor.restricted
    # An administrator changes the rule (audited); the volunteer is then restricted too.
    admin = _actor(session, people, "admin")
    rule = deployment.set_second_factor_requirement(session=session, actor=admin,
                                                    role=Role.VOLUNTEER, required=True)
    session.commit()
    assert rule[Role.VOLUNTEER] and rule[Role.SUPERVISOR] and not rule[Role.CLINIC]
    changed = load_actor(session, user_id=people.users["vol_a1"], role=Role.VOLUNTEER)
    assert changed is not None and changed.must_enrol_second_factor
    assert session.exec(select(AuditEvent).where(
        AuditEvent.action == "settings.second_factor")).one().detail == (
        "role=volunteer required=1")


def test_a_code_is_six_digits_within_one_step_of_now() -> None:
    secret = second_factor.new_secret()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(NOW)
    assert second_factor.matching_step(secret, totp.at(NOW), now=NOW, after_step=0) == step
    spaced = totp.at(NOW)[:3] + " " + totp.at(NOW)[3:]
    assert second_factor.matching_step(secret, spaced, now=NOW, after_step=0) == step
    assert second_factor.matching_step(secret, totp.at(NOW - timedelta(seconds=30)), now=NOW,
                                       after_step=0) == step - 1
    assert second_factor.matching_step(secret, totp.at(NOW - timedelta(seconds=90)), now=NOW,
                                       after_step=0) is None
    assert second_factor.matching_step(secret, totp.at(NOW), now=NOW, after_step=step) is None
    assert second_factor.matching_step(secret, "12345a", now=NOW, after_step=0) is None


def test_the_demo_seed_makes_it_optional_and_the_banner_says_so(
    session: Session, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import second_factor_line
    from app.services.demo import seed_demo

    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    _require(session, Role.SUPERVISOR, Role.ADMIN)  # as migration 0060 leaves it
    assert second_factor_line().endswith("required for: supervisor, admin.")
    seed_demo(session=session)
    session.commit()
    assert not any(second_factor.requirement(session).values())
    assert second_factor_line() == (
        "Demo: the second factor is optional here; a real deployment requires it for "
        "supervisors and administrators.")
    # Seeding again (an existing demo database, migrated since) turns it off again.
    _require(session, Role.SUPERVISOR, Role.ADMIN)
    assert seed_demo(session=session) is False
    session.commit()
    assert not any(second_factor.requirement(session).values())
    demo = session.exec(select(User).where(User.username == "gs.demo")).one()
    signed = accounts.begin_sign_in(session=session, login="gs.demo",
                                    password="DongHanh-2026", client_addr="")
    assert isinstance(signed, SignInResult) and not signed.must_enrol_second_factor
    assert signed.user_id == demo.id


def test_the_secret_is_kept_sealed_under_the_server_key_and_opens_only_for_its_account(
    session: Session, people: World
) -> None:
    secret, _ = _enrol(session, people, "sup_a")
    user_id = people.users["sup_a"]
    stored = session.get(TotpCredential, user_id)
    assert stored is not None
    session.refresh(stored)
    assert stored.secret.startswith("s1:") and len(stored.secret) <= 64
    assert secret not in stored.secret
    assert second_factor.unseal(stored.secret, user_id=user_id) == secret
    # Moved to another account, altered, or under another server key: it does not open.
    assert second_factor.unseal(stored.secret, user_id=user_id + 1) is None
    flipped = stored.secret[:-3] + ("A" if stored.secret[-3] != "A" else "B") + stored.secret[-2:]
    assert second_factor.unseal(flipped, user_id=user_id) is None
    assert second_factor.unseal(stored.secret, user_id=user_id, key=b"k" * 32) is None
    # Two seals of the same secret differ (a fresh nonce each time).
    assert second_factor.seal(secret, user_id=1) != second_factor.seal(secret, user_id=1)
    # A database copied without the server key computes no code: the sign-in refuses it.
    stored.secret = second_factor.seal(secret, user_id=user_id, key=b"another-key" * 3)
    session.add(stored)
    session.commit()
    step = _begin(session, "sup_a", NOW)
    assert isinstance(step, SecondStep)
    later = NOW + timedelta(minutes=1)
    with pytest.raises(AuthError):
        _complete(session, step.token, pyotp.TOTP(secret).at(later), later)


# ---- an administrator resets a lost second factor ------------------------------------------


LOST = "Mất điện thoại và mã khôi phục, đã gọi lại xác nhận"


def _reset(session: Session, world: World, who: str, target: str, reason: str = LOST,
           now: datetime = NOW) -> UserRead:
    result = accounts.reset_second_factor(
        session=session, actor=_actor(session, world, who), user_id=world.users[target],
        reason=reason, now=now)
    session.commit()
    return result


def test_an_administrator_resets_a_lost_second_factor_and_the_user_must_enrol_again(
    session: Session, people: World
) -> None:
    _require(session, Role.SUPERVISOR, Role.ADMIN)
    secret, codes = _enrol(session, people, "sup_a")
    user_id = people.users["sup_a"]
    step = _begin(session, "sup_a", NOW)  # a second step pending on some phone
    assert isinstance(step, SecondStep)
    signed = _complete(session, step.token, pyotp.TOTP(secret).at(NOW + timedelta(seconds=30)),
                       NOW + timedelta(seconds=30))
    pending = _begin(session, "sup_a", NOW + timedelta(seconds=40))
    assert isinstance(pending, SecondStep)
    later = NOW + timedelta(minutes=1)

    read = _reset(session, people, "admin", "sup_a", now=later)

    assert not read.second_factor
    assert session.get(TotpCredential, user_id) is None
    assert session.exec(select(RecoveryCode).where(RecoveryCode.user_id == user_id)).all() == []
    # Every session ended (announced to the page-state drop like any ending), with the reason.
    rows = session.exec(select(AuthSession).where(AuthSession.user_id == user_id)).all()
    assert rows and all(r.ended_at is not None for r in rows)
    assert {r.ended_reason for r in rows} == {"second_factor_reset"}
    assert accounts.validate_session(session=session, token=signed.token, now=later) is None
    # The pending second step is over, and no old code or recovery code opens anything.
    with pytest.raises(AuthError):
        _complete(session, pending.token, pyotp.TOTP(secret).at(later), later)
    with pytest.raises(AuthError):
        _complete(session, pending.token, codes[0], later)
    # Audited with the reason, never a secret or a code.
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "second_factor.reset")).one()
    assert event.actor_id == people.users["admin"] and event.target_id == user_id
    assert event.outcome == "ok" and "reason=Mất điện thoại" in event.detail
    assert "sessions=1" in event.detail
    assert secret not in event.detail and not any(c in event.detail for c in codes)
    # The next sign-in is the password alone, to a session that may only enrol again ...
    again = _begin(session, "sup_a", later + timedelta(minutes=1))
    assert isinstance(again, SignInResult) and again.must_enrol_second_factor
    actor = accounts.validate_session(session=session, token=again.token,
                                      now=later + timedelta(minutes=1))
    assert actor is not None and actor.restricted
    # ... and enrolling a new phone works and lifts the restriction.
    new_secret, _ = _enrol(session, people, "sup_a", later + timedelta(minutes=2))
    assert new_secret != secret
    actor = accounts.validate_session(session=session, token=again.token,
                                      now=later + timedelta(minutes=2))
    assert actor is not None and not actor.restricted


def test_an_administrator_cannot_reset_their_own_second_factor(
    session: Session, people: World
) -> None:
    _enrol(session, people, "admin")
    with pytest.raises(ValidationFailed) as refused:
        _reset(session, people, "admin", "admin")
    assert refused.value.fields == {"user": "second_factor.reset_not_self"}
    session.rollback()
    assert second_factor.enrolled(session, people.users["admin"])
    assert "trang Cá nhân" in t("second_factor.reset_not_self", "vi")


@pytest.mark.parametrize("who", ["vol_a1", "sup_a"])
def test_only_an_administrator_resets_a_second_factor_and_a_refusal_is_audited(
    session: Session, people: World, who: str
) -> None:
    target = "sup_a" if who == "vol_a1" else "vol_a1"
    _enrol(session, people, target)
    with pytest.raises(PermissionDenied):
        _reset(session, people, who, target)
    session.rollback()
    assert second_factor.enrolled(session, people.users[target])
    denied = session.exec(select(AuditEvent).where(
        AuditEvent.action == "second_factor.reset")).one()
    assert denied.outcome == "denied" and denied.actor_id == people.users[who]


def test_a_reset_needs_a_short_reason_and_a_second_factor_to_reset(
    session: Session, people: World
) -> None:
    with pytest.raises(ValidationFailed) as nothing_on:
        _reset(session, people, "admin", "sup_a")
    assert nothing_on.value.fields == {"user": "second_factor.not_on"}
    session.rollback()
    _enrol(session, people, "sup_a")
    for reason, key in (("  \n ", "error.reason_required"), ("x" * 201, "error.too_long")):
        with pytest.raises(ValidationFailed) as refused:
            _reset(session, people, "admin", "sup_a", reason=reason)
        assert refused.value.fields == {"reason": key}
        session.rollback()
    assert second_factor.enrolled(session, people.users["sup_a"])
    assert not session.exec(select(AuditEvent).where(
        AuditEvent.action == "second_factor.reset")).all()
