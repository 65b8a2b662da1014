"""Sign-in with throttling, server-side sessions, and user administration within a scope.

Transactions: most functions only add to the caller's unit of work. Three paths commit the
caller's session themselves, on purpose, because a caller's rollback on the error they raise
must not erase them: a sign-in attempt is recorded (and committed) *before* it is counted
and evaluated, so concurrent guesses on several workers can never exceed the limits; failed
and throttled sign-ins and wrong current passwords are committed with their audit event
before the error is raised; and every permission denial commits its audit event before
PermissionDenied is raised (these paths have changed nothing else).

Admin scope (who may manage whom):
- An administrator's scope is the union of their ADMIN assignments. An assignment with
  neither place nor facility means everywhere ("national admin"); only admins may hold
  one, and only a national admin may grant it.
- A province assignment covers the province, its communes and the facilities located in
  any of them; a commune assignment covers the commune and its facilities.
- An admin may grant or remove an assignment only if its scope lies inside their own, and
  may manage a user only if every assignment that user holds lies inside their own (a user
  with no assignment yet can be managed by any admin: they can do nothing).
- Changing a user's roles or scopes, disabling them, resetting their password or their lost
  second factor ends all their sessions at once.
- No account may change its own roles or scopes (refused and audited).
- An account may hold the administrator role together with a role that reads client records
  (volunteer, supervisor, clinic) only if a second administrator approves: such a grant
  becomes a `RoleRequest`, granted by `approve_role_request` from another administrator (not
  the one who asked, not the account itself). Asking, approving and rejecting are audited.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, func
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.services import audit, second_factor, security
from app.services.account_dto import (
    RoleScopeRead,
    SecondFactorEnrolment,
    SecondFactorStatus,
    SecondStep,
    SessionRead,
    SignInResult,
    UserCreate,
    UserPage,
    UserRead,
    UserUpdate,
)
from app.services.actor import Actor, load_actor, roles_of
from app.services.errors import (
    AuthError,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.services.settings import Settings, load_settings
from app.services.text import clean, fold, required_reason, vi_sort_key
from models import (
    AuthSession,
    LoginAttempt,
    Organisation,
    Place,
    PlaceKind,
    Role,
    RoleAssignment,
    RoleRequest,
    SecondFactorChallenge,
    TotpCredential,
    User,
    utcnow,
)

log = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")
PAGE_SIZE = 50
# However the window settings are tuned, no account can have more than this many failed
# attempts evaluated against its hash in any rolling hour.
HOURLY_FAILURE_CAP = 100
# last_seen_at is written at most this often: validate_session runs on every event handler.
_TOUCH_EVERY = timedelta(seconds=60)
_USERNAME = re.compile(r"[a-z0-9._-]{3,64}")
_PHONE_SHAPE = re.compile(r"\+?[0-9 ().-]+")
_PHONE = re.compile(r"0[0-9]{8,10}")
_MAX_TOKEN_CHARS = 200


class Throttled(DomainError):
    """Too many failed sign-ins; `params["minutes"]` until the next attempt is evaluated."""

    key = "auth.throttled"


def _clock(now: datetime | None) -> datetime:
    """`now` for timestamps and comparisons: aware UTC like every stored datetime (a naive
    value, e.g. from a test, is taken to be UTC)."""
    if now is None:
        return utcnow()
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


# ---------------------------------------------------------------- audit (one entry point)


def _audit(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    target_type: str = "",
    target_id: int | None = None,
    outcome: str = "ok",
    detail: str = "",
    actor_id: int | None = None,
    durable: bool = False,
) -> None:
    """Append one audit event through `audit.record`. `durable` commits now, for events
    written just before an error is raised (the caller's transaction will roll back)."""
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        detail=detail,
        actor_id=actor_id,
    )
    if durable:
        session.commit()


# ---------------------------------------------------------------- sign-in and throttling


def normalise_phone(raw: str) -> str:
    """'+84 912 345 678', '0084912345678', '84912345678', '0912.345.678' -> '0912345678'.
    '' when the text is not a Vietnamese phone number."""
    text = raw.strip()
    if not text or not _PHONE_SHAPE.fullmatch(text):
        return ""
    digits = re.sub(r"[^0-9]", "", text)
    if text.startswith("+"):
        if not digits.startswith("84"):
            return ""
        digits = "0" + digits[2:]
    elif digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _PHONE.fullmatch(digits) else ""


def _find_login(session: Session, login: str) -> tuple[User | None, str]:
    """The user a login names (username or phone) and the key its attempts are counted under.
    Unknown logins are counted under a hash, so a password typed into the login box is
    never stored."""
    text = unicodedata.normalize("NFC", login).strip()
    phone = normalise_phone(text)
    if phone:
        user = session.exec(select(User).where(User.phone == phone)).first()
        name = "phone:" + phone
    else:
        user = session.exec(select(User).where(User.username == text.casefold())).first()
        name = "user:" + text.casefold()
    if user is not None:
        return user, f"id:{user.id}"
    return None, "login:" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:40]


def _minutes_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds() / 60))


def _throttle_wait(
    session: Session, *, attempt: LoginAttempt, now: datetime, settings: Settings
) -> int | None:
    """Minutes until an attempt would be evaluated, or None if `attempt` may be evaluated.

    Counts failures other than `attempt` itself (which is already committed, so two
    concurrent attempts always see each other). Three limits, so that an attacker is slowed
    without locking the person out:
    - per account *and* address: the first `login_free_failures_per_pair` failures in the
      last hour cost nothing, then each further one waits twice as long as the last (1, 2, 4, 8
      minutes…, never more than the window) after the latest failure — a guesser at one
      address slows only themself;
    - per account, from any mix of addresses: a ceiling far above what a person mistypes
      (`login_max_failures_per_account` in the window), plus the hourly cap;
    - per address, on any accounts: `login_max_failures_per_address` in the window.
    Account and pair counts start again after a successful sign-in; the address count does
    not (a shared address must not unlock an attacker)."""
    window = timedelta(minutes=settings.login_window_minutes)
    hour = timedelta(hours=1)
    max_account = max(1, settings.login_max_failures_per_account)
    max_address = max(1, settings.login_max_failures_per_address)
    free_pair = max(1, settings.login_free_failures_per_pair)
    retry_at: list[datetime] = []

    failures = session.exec(
        select(LoginAttempt.id, LoginAttempt.at, LoginAttempt.client_addr)
        .where(
            LoginAttempt.account_key == attempt.account_key,
            LoginAttempt.success == False,  # noqa: E712
            LoginAttempt.id != attempt.id,
            LoginAttempt.at > now - max(window, hour),
        )
        .order_by(col(LoginAttempt.at).desc())
        .limit(max(HOURLY_FAILURE_CAP, max_account))
    ).all()
    # Ids, not clocks, order a success and the failures after it (clocks can tie).
    last_success_id = session.exec(
        select(func.max(LoginAttempt.id)).where(
            LoginAttempt.account_key == attempt.account_key,
            LoginAttempt.success == True,  # noqa: E712
        )
    ).one()
    since_success = [
        (at, addr)
        for attempt_id, at, addr in failures
        if last_success_id is None or (attempt_id or 0) > last_success_id
    ]
    recent = [at for at, _ in since_success if at > now - window]
    if len(recent) >= max_account:
        retry_at.append(recent[max_account - 1] + window)
    # The pair's delays grow over the last hour, so waiting out one window does not reset them.
    pair = [at for at, addr in since_success if addr == attempt.client_addr]
    if len(pair) >= free_pair:
        delay = min(timedelta(minutes=2 ** (len(pair) - free_pair)), window)
        retry_at.append(pair[0] + delay)
    in_hour = [at for _, at, _ in failures if at > now - hour]
    if len(in_hour) >= HOURLY_FAILURE_CAP:
        retry_at.append(in_hour[HOURLY_FAILURE_CAP - 1] + hour)

    if attempt.client_addr:
        by_address = session.exec(
            select(LoginAttempt.at)
            .where(
                LoginAttempt.client_addr == attempt.client_addr,
                LoginAttempt.success == False,  # noqa: E712
                LoginAttempt.id != attempt.id,
                LoginAttempt.at > now - window,
            )
            .order_by(col(LoginAttempt.at).desc())
            .limit(max_address)
        ).all()
        if len(by_address) >= max_address:
            retry_at.append(by_address[max_address - 1] + window)
    due = [moment for moment in retry_at if moment > now]
    return _minutes_until(max(due), now) if due else None


def _reserve_attempt(
    session: Session,
    *,
    account_key: str,
    client_addr: str,
    now: datetime,
    user_id: int | None,
    action: str,
) -> LoginAttempt:
    """Record a failed attempt *before* evaluating it, then count. Throttled: the record is
    removed again (a locked account unlocks on time even under attack) and Throttled raised."""
    settings = load_settings()
    attempt = LoginAttempt(account_key=account_key, client_addr=client_addr, at=now, success=False)
    session.add(attempt)
    session.commit()
    wait = _throttle_wait(session, attempt=attempt, now=now, settings=settings)
    if wait is None:
        return attempt
    session.delete(attempt)
    _audit(
        session,
        actor=None,
        actor_id=user_id,
        action=action,
        target_type="user" if user_id is not None else "",
        target_id=user_id,
        outcome="denied",
        detail=f"reason=throttled addr={client_addr}",
        durable=True,
    )
    raise Throttled(minutes=wait)


def begin_sign_in(
    *,
    session: Session,
    login: str,
    password: str,
    client_addr: str,
    now: datetime | None = None,
    role: Role | None = None,
) -> SignInResult | SecondStep:
    """The password step of a sign-in with a username or phone number. The same AuthError for
    an unknown login, a wrong password, a disabled user or a user with no role; Throttled when
    too many failures. For an account with a second factor, no session: a pending second step
    (`SecondStep`, finished by `complete_sign_in`); otherwise a new session (new token, only
    its hash stored) in `role`, or the user's first role. Commits the attempt record itself
    (see the module docstring).

    `client_addr` is the peer address as the server sees it (behind a proxy, the one the
    trusted proxy reports), never something the browser claims; '' turns the per-address
    limit off, the per-account limit always applies."""
    now = _clock(now)
    addr = client_addr.strip()[:64]
    user, account_key = _find_login(session, login)
    user_id = user.id if user is not None else None
    attempt = _reserve_attempt(
        session,
        account_key=account_key,
        client_addr=addr,
        now=now,
        user_id=user_id,
        action="session.sign_in",
    )
    # Unknown logins are checked against a dummy hash so they take as long as real ones.
    stored_hash = user.password_hash if user is not None else security.dummy_hash()
    password_ok = security.verify_password(password, stored_hash)
    roles = roles_of(session, user.id) if user is not None and user.id is not None else []

    if user is None or user.id is None or not password_ok or not user.is_active or not roles:
        if user is None:
            reason = "unknown_login"
        elif not password_ok:
            reason = "wrong_password"
        elif not user.is_active:
            reason = "disabled"
        else:
            reason = "no_role"
        _audit(
            session,
            actor=None,
            actor_id=user_id,
            action="session.sign_in",
            target_type="user" if user_id is not None else "",
            target_id=user_id,
            outcome="failed",
            detail=f"reason={reason} addr={addr}",
            durable=True,
        )
        raise AuthError("auth.invalid_credentials")

    attempt.success = True
    session.add(attempt)
    if role is not None and role not in roles:
        _audit(
            session,
            actor=None,
            actor_id=user.id,
            action="session.sign_in",
            target_type="user",
            target_id=user.id,
            outcome="denied",
            detail=f"reason=role_not_assigned role={role} addr={addr}",
            durable=True,
        )
        raise AuthError("auth.role_not_assigned")
    chosen = role if role is not None else roles[0]

    if security.needs_rehash(user.password_hash):
        user.password_hash = security.hash_password(password)
        session.add(user)

    if second_factor.enrolled(session, user.id):
        return _open_second_step(session, user_id=user.id, role=chosen, addr=addr, now=now)
    return _open_session(session, user=user, role=chosen, roles=roles, addr=addr, now=now)


def authenticate(
    *,
    session: Session,
    login: str,
    password: str,
    client_addr: str,
    now: datetime | None = None,
    role: Role | None = None,
) -> SignInResult:
    """`begin_sign_in` for an account without a second factor: the session. An account with
    one gets AuthError here (no session from a password alone); use `begin_sign_in`."""
    result = begin_sign_in(
        session=session, login=login, password=password, client_addr=client_addr, now=now,
        role=role,
    )
    if isinstance(result, SecondStep):
        raise AuthError("auth.second_factor_needed")
    return result


def _open_session(
    session: Session,
    *,
    user: User,
    role: Role,
    roles: list[Role],
    addr: str,
    now: datetime,
    second: str = "",
) -> SignInResult:
    """A new session for a user whose sign-in is complete; audited as the sign-in."""
    assert user.id is not None
    settings = load_settings()
    token = security.new_token()
    row = AuthSession(
        user_id=user.id,
        token_hash=security.token_hash(token),
        role=role,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_max_hours),
        client_addr=addr,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    _audit(
        session,
        actor=Actor(user_id=user.id, role=role, session_id=row.id),
        action="session.sign_in",
        target_type="user",
        target_id=user.id,
        detail=f"addr={addr}" + (f" second_factor={second}" if second else ""),
    )
    return SignInResult(
        token=token,
        session_id=row.id,
        user_id=user.id,
        role=role,
        roles=roles,
        must_change_password=user.must_change_password,
        language=user.language,
        full_name=user.full_name,
        expires_at=row.expires_at,
        must_enrol_second_factor=second_factor.needs_enrolment(
            session, user_id=user.id, role=role
        ),
    )


def _open_second_step(
    session: Session, *, user_id: int, role: Role, addr: str, now: datetime
) -> SecondStep:
    token = security.new_token()
    expires = now + timedelta(minutes=second_factor.CHALLENGE_MINUTES)
    row = SecondFactorChallenge(
        user_id=user_id,
        token_hash=security.token_hash(token),
        role=role,
        created_at=now,
        expires_at=expires,
        client_addr=addr,
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        actor=None,
        actor_id=user_id,
        action="session.second_step",
        target_type="user",
        target_id=user_id,
        detail=f"addr={addr}",
    )
    return SecondStep(token=token, expires_at=expires)


def _live_second_step(
    session: Session, token: str, now: datetime
) -> SecondFactorChallenge | None:
    if not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    row = session.exec(
        select(SecondFactorChallenge).where(
            SecondFactorChallenge.token_hash == security.token_hash(token)
        )
    ).first()
    if row is None or row.used_at is not None or now >= row.expires_at:
        return None
    return row


def second_step_pending(*, session: Session, token: str, now: datetime | None = None) -> bool:
    """Whether `token` names a pending second step (not used, not expired)."""
    return _live_second_step(session, token, _clock(now)) is not None


def complete_sign_in(
    *,
    session: Session,
    token: str,
    code: str,
    client_addr: str,
    now: datetime | None = None,
) -> SignInResult:
    """The second step: a code of the authenticator app (each accepted once) or an unused
    recovery code, for the pending step `token` names. Success ends the step (one use) and
    opens the session exactly as a one-step sign-in does. AuthError `auth.second_step_expired`
    if the step is unknown, used, expired or has had CHALLENGE_MAX_FAILURES wrong codes;
    `auth.code_wrong` for a wrong code (the step stays); Throttled like passwords (counted per
    account under its own key, so a right password never resets the count of wrong codes)."""
    now = _clock(now)
    addr = client_addr.strip()[:64]
    row = _live_second_step(session, token, now)
    if row is None or row.id is None:
        raise AuthError("auth.second_step_expired")
    user = session.get(User, row.user_id)
    roles = roles_of(session, row.user_id)
    role = Role(row.role)
    if user is None or user.id is None or not user.is_active or role not in roles:
        row.used_at = now
        session.add(row)
        session.commit()
        raise AuthError("auth.second_step_expired")
    attempt = _reserve_attempt(
        session,
        account_key=f"second:{user.id}",
        client_addr=addr,
        now=now,
        user_id=user.id,
        action="session.second_factor",
    )
    how = second_factor.accept_code(session, user_id=user.id, code=code, now=now)
    if not how:
        row.failures += 1
        spent = row.failures >= second_factor.CHALLENGE_MAX_FAILURES
        if spent:
            row.used_at = now
        session.add(row)
        _audit(
            session,
            actor=None,
            actor_id=user.id,
            action="session.second_factor",
            target_type="user",
            target_id=user.id,
            outcome="failed",
            detail=f"reason=wrong_code addr={addr}" + (" step_ended" if spent else ""),
            durable=True,
        )
        raise AuthError("auth.second_step_expired" if spent else "auth.code_wrong")
    attempt.success = True
    session.add(attempt)
    row.used_at = now
    session.add(row)
    return _open_session(
        session, user=user, role=role, roles=roles, addr=addr, now=now, second=how
    )


def prune_login_attempts(*, session: Session, now: datetime | None = None) -> int:
    """Delete attempt records too old to matter for throttling. Returns how many."""
    now = _clock(now)
    settings = load_settings()
    keep = max(timedelta(minutes=settings.login_window_minutes), timedelta(hours=1))
    old = session.exec(select(LoginAttempt).where(LoginAttempt.at <= now - keep)).all()
    for row in old:
        session.delete(row)
    return len(old)


# ---------------------------------------------------------------- sessions


# The ids of the sessions a unit of work ends, announced once it commits (`on_sessions_ended`).
_ENDED_KEY = "dh_ended_sessions"
_ended_listeners: list[Callable[[frozenset[int]], None]] = []


def on_sessions_ended(listener: Callable[[frozenset[int]], None]) -> Callable[[], None]:
    """Call `listener(ids)` after every commit that ended sessions (never after a rollback),
    in the thread that committed. The State layer drops the ended sessions' page state this
    way (app/state/session_end.py). Returns what removes the listener again."""
    _ended_listeners.append(listener)

    def remove() -> None:
        if listener in _ended_listeners:
            _ended_listeners.remove(listener)

    return remove


@event.listens_for(OrmSession, "after_commit")
def _announce_ended(session: OrmSession) -> None:
    ended = session.info.pop(_ENDED_KEY, None)
    if not ended:
        return
    for listener in list(_ended_listeners):
        try:
            listener(frozenset(ended))
        except Exception:  # a listener's failure must not turn a committed ending into an error
            log.exception("a listener of ended sessions failed")


@event.listens_for(OrmSession, "after_rollback")
def _forget_ended(session: OrmSession) -> None:
    session.info.pop(_ENDED_KEY, None)


def _end(session: Session, row: AuthSession, *, now: datetime, reason: str) -> None:
    """The one place a session ends (every way: sign-out, expiry, elsewhere, by an
    administrator, a password change…); announced to `on_sessions_ended` after the commit."""
    row.ended_at = now
    row.ended_reason = reason
    session.add(row)
    if row.id is not None:
        session.info.setdefault(_ENDED_KEY, set()).add(row.id)


def not_live(
    *, session: Session, session_ids: Iterable[int], now: datetime | None = None
) -> set[int]:
    """Which of `session_ids` are no longer live: ended, past their absolute expiry, idle for
    longer than the idle timeout, or gone. Only reads (the session's next contact records an
    expiry, as `validate_session` does); one query per 500 ids."""
    now = _clock(now)
    idle_since = now - timedelta(minutes=load_settings().session_idle_minutes)
    wanted = sorted(set(session_ids))
    live: set[int] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        live.update(found for found in session.exec(
            select(AuthSession.id).where(
                col(AuthSession.id).in_(chunk),
                col(AuthSession.ended_at).is_(None),
                AuthSession.expires_at > now,
                AuthSession.last_seen_at >= idle_since,
            )
        ).all() if found is not None)
    return set(wanted) - live


def _session_by_token(session: Session, token: str) -> AuthSession | None:
    if not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    return session.exec(
        select(AuthSession).where(AuthSession.token_hash == security.token_hash(token))
    ).first()


def validate_session(
    *, session: Session, token: str, now: datetime | None = None, touch: bool = True
) -> Actor | None:
    """The actor behind a session token, or None (and the session ended) if it is idle, past
    its absolute expiry, already ended, or its user is disabled or lost the role. One query
    for the session, load_actor's two to four, and a write at most once a minute. The caller
    commits (as session_scope does on a normal return) so an ending is recorded."""
    row = _session_by_token(session, token)
    if row is None or row.ended_at is not None or row.id is None:
        return None
    now = _clock(now)
    settings = load_settings()
    reason = ""
    if now >= row.expires_at:
        reason = "expired"
    elif now - row.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        reason = "idle"
    actor = (
        None
        if reason
        else load_actor(session, user_id=row.user_id, role=Role(row.role), session_id=row.id,
                        now=now)
    )
    if actor is None:
        _end(session, row, now=now, reason=reason or "access_lost")
        _audit(
            session,
            actor=None,
            actor_id=row.user_id,
            action="session.end",
            target_type="session",
            target_id=row.id,
            detail=f"reason={reason or 'access_lost'}",
        )
        return None
    if touch and now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return actor


def sign_out(*, session: Session, token: str, now: datetime | None = None) -> None:
    """End the session of this token. Unknown or already ended tokens are ignored."""
    row = _session_by_token(session, token)
    if row is None or row.ended_at is not None:
        return
    _end(session, row, now=_clock(now), reason="sign_out")
    _audit(
        session,
        actor=None,
        actor_id=row.user_id,
        action="session.sign_out",
        target_type="session",
        target_id=row.id,
    )


def end_user_sessions(
    *,
    session: Session,
    user_id: int,
    reason: str,
    now: datetime | None = None,
    keep_session_id: int | None = None,
) -> int:
    """End every open session of a user (but `keep_session_id`). Returns how many."""
    now = _clock(now)
    rows = session.exec(
        select(AuthSession).where(
            AuthSession.user_id == user_id, col(AuthSession.ended_at).is_(None)
        )
    ).all()
    ended = 0
    for row in rows:
        if row.id != keep_session_id:
            _end(session, row, now=now, reason=reason)
            ended += 1
    return ended


def list_sessions(
    *, session: Session, actor: Actor, user_id: int, now: datetime | None = None
) -> list[SessionRead]:
    """Open sessions of a user: one's own, or (admin) of a user in scope. Newest first."""
    if user_id != actor.user_id:
        _managed_user(session, actor, user_id, action="session.list")
    now = _clock(now)
    idle = timedelta(minutes=load_settings().session_idle_minutes)
    rows = session.exec(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            col(AuthSession.ended_at).is_(None),
            AuthSession.expires_at > now,
            AuthSession.last_seen_at >= now - idle,
        )
        .order_by(col(AuthSession.created_at).desc())
    ).all()
    return [
        SessionRead(
            id=r.id or 0,
            user_id=r.user_id,
            role=r.role,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            expires_at=r.expires_at,
            client_addr=r.client_addr,
            current=r.id == actor.session_id,
        )
        for r in rows
    ]


def end_session(
    *, session: Session, actor: Actor, session_id: int, now: datetime | None = None
) -> None:
    """End one session: one's own (e.g. a lost phone), or (admin) a session of a user in scope.
    Someone else's session is reported as not found."""
    row = session.get(AuthSession, session_id)
    if row is None:
        raise NotFound()
    if row.user_id != actor.user_id:
        if actor.role != Role.ADMIN:
            raise NotFound()
        _managed_user(session, actor, row.user_id, action="session.revoke")
    if row.ended_at is None:
        reason = "ended_by_user" if row.user_id == actor.user_id else "ended_by_admin"
        _end(session, row, now=_clock(now), reason=reason)
    _audit(session, actor=actor, action="session.revoke", target_type="session", target_id=row.id)


# ---------------------------------------------------------------- one's own account


def change_password(
    *,
    session: Session,
    actor: Actor,
    current: str,
    new: str,
    client_addr: str = "",
    now: datetime | None = None,
) -> None:
    """Change one's password. Guesses at `current` are throttled like sign-ins. Ends every
    *other* session of the user; the session making the change stays signed in."""
    now = _clock(now)
    user = session.get(User, actor.user_id)
    if user is None or user.id is None:
        raise NotFound()
    attempt = _reserve_attempt(
        session,
        account_key=f"id:{user.id}",
        client_addr=client_addr.strip()[:64],
        now=now,
        user_id=user.id,
        action="account.password_change",
    )
    if not security.verify_password(current, user.password_hash):
        _audit(
            session,
            actor=actor,
            action="account.password_change",
            target_type="user",
            target_id=user.id,
            outcome="failed",
            detail="reason=wrong_current_password",
            durable=True,
        )
        raise ValidationFailed({"current": "account.current_password_wrong"})
    # The current password was right: whatever the new one is refused for (the policy), it
    # is not a guess and must never count towards throttling sign-in.
    attempt.success = True
    session.add(attempt)
    session.commit()
    security.check_new_password(
        new, username=user.username, field="new", context=(user.full_name, user.phone or "")
    )
    if security.verify_password(new, user.password_hash):
        raise ValidationFailed({"new": "account.password_unchanged"})
    user.password_hash = security.hash_password(new)
    user.must_change_password = False
    user.password_changed_at = now
    user.version += 1
    session.add(user)
    end_user_sessions(
        session=session,
        user_id=user.id,
        reason="password_changed",
        now=now,
        keep_session_id=actor.session_id,
    )
    _audit(
        session,
        actor=actor,
        action="account.password_change",
        target_type="user",
        target_id=user.id,
    )


# ---------------------------------------------------------------- one's own second factor


def second_factor_status(*, session: Session, actor: Actor) -> SecondFactorStatus:
    cred = second_factor.enrolled_credential(session, actor.user_id)
    return SecondFactorStatus(
        enrolled=cred is not None,
        required=second_factor.required_for(session, actor.role),
        confirmed_at=cred.confirmed_at if cred is not None else None,
        recovery_codes_left=(
            second_factor.recovery_codes_left(session, user_id=actor.user_id) if cred else 0
        ),
    )


def start_second_factor(
    *, session: Session, actor: Actor, now: datetime | None = None
) -> SecondFactorEnrolment:
    """A new secret for one's own account, unconfirmed until a first valid code
    (`confirm_second_factor`). Replaces an earlier unconfirmed one; Conflict if a second
    factor is already on (turn it off first, with the password and a code)."""
    user = session.get(User, actor.user_id)
    if user is None or user.id is None:
        raise NotFound()
    if second_factor.enrolled(session, user.id):
        raise Conflict("second_factor.already_on")
    secret = second_factor.new_secret()
    sealed = second_factor.seal(secret, user_id=user.id)
    cred = session.get(TotpCredential, user.id)
    if cred is None:
        cred = TotpCredential(user_id=user.id, secret=sealed)
    cred.secret, cred.created_at, cred.last_step = sealed, _clock(now), 0
    session.add(cred)
    session.flush()
    _audit(session, actor=actor, action="second_factor.start", target_type="user",
           target_id=user.id)
    return SecondFactorEnrolment(
        secret=secret, uri=second_factor.provisioning_uri(secret, user.username)
    )


def confirm_second_factor(
    *,
    session: Session,
    actor: Actor,
    code: str,
    client_addr: str = "",
    now: datetime | None = None,
) -> list[str]:
    """Turn the second factor on with a first valid code of the started enrolment; returns
    the recovery codes (the only time they exist in clear). Wrong codes are throttled like
    passwords and audited."""
    now = _clock(now)
    cred = session.get(TotpCredential, actor.user_id)
    if cred is None or cred.confirmed_at is not None:
        raise ValidationFailed({"code": "second_factor.not_started"})
    attempt = _reserve_attempt(
        session,
        account_key=f"second:{actor.user_id}",
        client_addr=client_addr.strip()[:64],
        now=now,
        user_id=actor.user_id,
        action="second_factor.enrol",
    )
    secret = second_factor.unseal(cred.secret, user_id=actor.user_id)
    step = None if secret is None else second_factor.matching_step(
        secret, code, now=now, after_step=cred.last_step)
    if step is None:
        _audit(session, actor=actor, action="second_factor.enrol", target_type="user",
               target_id=actor.user_id, outcome="failed", detail="reason=wrong_code",
               durable=True)
        raise ValidationFailed({"code": "auth.code_wrong"})
    attempt.success = True
    session.add(attempt)
    cred.confirmed_at, cred.last_step = now, step
    session.add(cred)
    codes = second_factor.new_recovery_codes(session, user_id=actor.user_id, now=now)
    _audit(session, actor=actor, action="second_factor.enrol", target_type="user",
           target_id=actor.user_id)
    return codes


def _check_password_and_code(
    session: Session,
    actor: Actor,
    *,
    password: str,
    code: str,
    client_addr: str,
    now: datetime,
    action: str,
) -> User:
    """The password and a code (app or recovery) of one's own enrolled second factor, before
    turning it off or making new recovery codes. Throttled like sign-ins, failures audited."""
    user = session.get(User, actor.user_id)
    if user is None or user.id is None:
        raise NotFound()
    if not second_factor.enrolled(session, user.id):
        raise ValidationFailed({"code": "second_factor.not_on"})
    attempt = _reserve_attempt(
        session,
        account_key=f"second:{user.id}",
        client_addr=client_addr.strip()[:64],
        now=now,
        user_id=user.id,
        action=action,
    )
    password_ok = security.verify_password(password, user.password_hash)
    how = second_factor.accept_code(session, user_id=user.id, code=code, now=now) \
        if password_ok else ""
    if not how:
        reason = "wrong_code" if password_ok else "wrong_password"
        _audit(session, actor=actor, action=action, target_type="user", target_id=user.id,
               outcome="failed", detail=f"reason={reason}", durable=True)
        if password_ok:
            raise ValidationFailed({"code": "auth.code_wrong"})
        raise ValidationFailed({"password": "account.current_password_wrong"})
    attempt.success = True
    session.add(attempt)
    return user


def disable_second_factor(
    *,
    session: Session,
    actor: Actor,
    password: str,
    code: str,
    client_addr: str = "",
    now: datetime | None = None,
) -> None:
    """Turn one's second factor off (password and a code). Where the role requires one, the
    session is restricted again until a new one is enrolled."""
    now = _clock(now)
    user = _check_password_and_code(session, actor, password=password, code=code,
                                    client_addr=client_addr, now=now,
                                    action="second_factor.disable")
    second_factor.remove(session, user_id=user.id or 0)
    _audit(session, actor=actor, action="second_factor.disable", target_type="user",
           target_id=user.id)


def regenerate_recovery_codes(
    *,
    session: Session,
    actor: Actor,
    password: str,
    code: str,
    client_addr: str = "",
    now: datetime | None = None,
) -> list[str]:
    """New recovery codes (password and a code); the old ones stop working."""
    now = _clock(now)
    user = _check_password_and_code(session, actor, password=password, code=code,
                                    client_addr=client_addr, now=now,
                                    action="second_factor.recovery_codes")
    codes = second_factor.new_recovery_codes(session, user_id=user.id or 0, now=now)
    _audit(session, actor=actor, action="second_factor.recovery_codes", target_type="user",
           target_id=user.id)
    return codes


def preferred_language(*, session: Session, user_id: int) -> str:
    """The language saved on the account ('vi' if the account is gone)."""
    user = session.get(User, user_id)
    return user.language if user is not None and user.language in LANGUAGES else "vi"


def set_language(*, session: Session, actor: Actor, language: str) -> None:
    """The user's interface language, 'vi' or 'en'."""
    if language not in LANGUAGES:
        raise ValidationFailed({"language": "account.language_invalid"})
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound()
    user.language = language
    session.add(user)
    _audit(
        session,
        actor=actor,
        action="account.language",
        target_type="user",
        target_id=user.id,
        detail=f"language={language}",
    )


# ---------------------------------------------------------------- admin scope


@dataclass(frozen=True)
class _AdminScope:
    national: bool
    communes: frozenset[int]
    provinces: frozenset[int]
    facilities: frozenset[int]


def _deny(session: Session, actor: Actor, action: str, key: str | None = None) -> PermissionDenied:
    _audit(session, actor=actor, action=action, outcome="denied", detail=key or "", durable=True)
    return PermissionDenied(key)


def _admin_scope(session: Session, actor: Actor, action: str) -> _AdminScope:
    """The acting admin's scope; PermissionDenied (audited) for any other role."""
    if actor.role != Role.ADMIN:
        raise _deny(session, actor, action)
    national = session.exec(
        select(RoleAssignment.id).where(
            RoleAssignment.user_id == actor.user_id,
            RoleAssignment.role == Role.ADMIN,
            col(RoleAssignment.place_id).is_(None),
            col(RoleAssignment.facility_id).is_(None),
        )
    ).first()
    return _AdminScope(
        national=national is not None,
        communes=actor.commune_ids,
        provinces=actor.province_ids,
        facilities=actor.facility_ids,
    )


def _place_covered(scope: _AdminScope, place: Place) -> bool:
    if place.id in scope.provinces or place.id in scope.communes:
        return True
    return place.kind == PlaceKind.COMMUNE and place.parent_id in scope.provinces


def _covers(
    session: Session, scope: _AdminScope, place_id: int | None, facility_id: int | None
) -> bool:
    """Whether an assignment with this scope lies inside the admin's own. Deny by default."""
    if scope.national:
        return True
    if place_id is not None:
        place = session.get(Place, place_id)
        return place is not None and _place_covered(scope, place)
    if facility_id is not None:
        if facility_id in scope.facilities:
            return True
        org = session.get(Organisation, facility_id)
        place = session.get(Place, org.place_id) if org is not None else None
        return place is not None and _place_covered(scope, place)
    return False  # "everywhere": national admins only


def _scope_shape_ok(
    session: Session, role: Role, place_id: int | None, facility_id: int | None
) -> bool:
    """Which scope each role takes: volunteer a commune; supervisor a commune or province;
    clinic staff a facility; admin a province, a commune, or nothing (= everywhere)."""
    if place_id is not None and facility_id is not None:
        return False
    place = session.get(Place, place_id) if place_id is not None else None
    if place_id is not None and place is None:
        return False
    if facility_id is not None and session.get(Organisation, facility_id) is None:
        return False
    if role == Role.VOLUNTEER:
        return place is not None and place.kind == PlaceKind.COMMUNE
    if role == Role.SUPERVISOR:
        return place is not None
    if role == Role.CLINIC:
        return facility_id is not None
    return facility_id is None  # ADMIN


def _can_manage(
    session: Session,
    scope: _AdminScope,
    user_id: int,
    assignments: Sequence[RoleAssignment] | None = None,
) -> bool:
    """Every assignment the user holds lies inside the admin's scope (pass `assignments`
    when they are already loaded)."""
    if scope.national:
        return True
    if assignments is None:
        assignments = session.exec(
            select(RoleAssignment).where(RoleAssignment.user_id == user_id)
        ).all()
    return all(_covers(session, scope, r.place_id, r.facility_id) for r in assignments)


def _managed_user(
    session: Session, actor: Actor, user_id: int, *, action: str
) -> tuple[User, _AdminScope]:
    """A user the acting admin may manage, and the admin's scope. NotFound if the user is
    missing or outside the scope (reported exactly alike)."""
    scope = _admin_scope(session, actor, action)
    user = session.get(User, user_id)
    if user is None or not _can_manage(session, scope, user_id):
        raise NotFound()
    return user, scope


def _read(
    session: Session,
    user: User,
    one_time_password: str | None = None,
    *,
    enrolled: bool | None = None,
) -> UserRead:
    rows = session.exec(
        select(RoleAssignment)
        .where(RoleAssignment.user_id == user.id)
        .order_by(col(RoleAssignment.id))
    ).all()
    pending = session.exec(
        select(RoleRequest)
        .where(RoleRequest.user_id == user.id, RoleRequest.status == "pending")
        .order_by(col(RoleRequest.id))
    ).all()
    return UserRead(
        id=user.id or 0,
        username=user.username,
        phone=user.phone,
        full_name=user.full_name,
        language=user.language,
        is_active=user.is_active,
        must_change_password=user.must_change_password,
        organisation_id=user.organisation_id,
        version=user.version,
        roles=[
            RoleScopeRead(id=r.id or 0, role=r.role, place_id=r.place_id, facility_id=r.facility_id)
            for r in rows
        ],
        pending=[
            RoleScopeRead(id=r.id or 0, role=r.role, place_id=r.place_id, facility_id=r.facility_id)
            for r in pending
        ],
        one_time_password=one_time_password,
        second_factor=(
            second_factor.enrolled(session, user.id or 0) if enrolled is None else enrolled
        ),
    )


# ---------------------------------------------------------------- field checks


def _check_username(session: Session, raw: str, errors: dict[str, str]) -> str:
    username = unicodedata.normalize("NFC", raw).strip().casefold()
    # At least one letter: a username can then never be mistaken for a phone number.
    if not _USERNAME.fullmatch(username) or not re.search(r"[a-z]", username):
        errors["username"] = "account.username_invalid"
    elif session.exec(select(User.id).where(User.username == username)).first() is not None:
        errors["username"] = "account.username_taken"
    return username


def _check_full_name(raw: str, errors: dict[str, str]) -> str:
    name = clean(raw)
    if not name:
        errors["full_name"] = "account.full_name_required"
    elif len(name) > 120:
        errors["full_name"] = "account.full_name_too_long"
    return name


def _check_phone(
    session: Session, raw: str | None, errors: dict[str, str], *, user_id: int | None = None
) -> str | None:
    if raw is None or not raw.strip():
        return None
    phone = normalise_phone(raw)
    if not phone:
        errors["phone"] = "account.phone_invalid"
        return None
    owner = session.exec(select(User.id).where(User.phone == phone)).first()
    if owner is not None and owner != user_id:
        errors["phone"] = "account.phone_taken"
    return phone


def _check_language(raw: str, errors: dict[str, str]) -> str:
    if raw not in LANGUAGES:
        errors["language"] = "account.language_invalid"
    return raw


def _check_organisation(
    session: Session, scope: _AdminScope, organisation_id: int | None, errors: dict[str, str]
) -> None:
    if organisation_id is None:
        return
    org = session.get(Organisation, organisation_id)
    if org is None or not _covers(session, scope, None, organisation_id):
        errors["organisation_id"] = "account.organisation_invalid"


def _check_grant(
    session: Session,
    actor: Actor,
    scope: _AdminScope,
    *,
    role: Role,
    place_id: int | None,
    facility_id: int | None,
    action: str,
) -> None:
    if not _scope_shape_ok(session, role, place_id, facility_id):
        raise ValidationFailed({"scope": "account.scope_invalid"})
    if not _covers(session, scope, place_id, facility_id):
        raise _deny(session, actor, action, "account.scope_too_broad")


# ---------------------------------------------------------------- administration


def create_user(*, session: Session, actor: Actor, data: UserCreate) -> UserRead:
    """A new account with a one-time password (in the result, shown once) that must be changed
    at first sign-in, and optionally its first role."""
    scope = _admin_scope(session, actor, "account.create")
    errors: dict[str, str] = {}
    username = _check_username(session, data.username, errors)
    full_name = _check_full_name(data.full_name, errors)
    phone = _check_phone(session, data.phone, errors)
    language = _check_language(data.language, errors)
    _check_organisation(session, scope, data.organisation_id, errors)
    if errors:
        raise ValidationFailed(errors)
    if data.role is not None:
        _check_grant(
            session,
            actor,
            scope,
            role=data.role,
            place_id=data.place_id,
            facility_id=data.facility_id,
            action="account.create",
        )
    otp = security.one_time_password()
    user = User(
        username=username,
        phone=phone,
        full_name=full_name,
        password_hash=security.hash_password(otp),
        language=language,
        must_change_password=True,
        organisation_id=data.organisation_id,
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    if data.role is not None:
        session.add(
            RoleAssignment(
                user_id=user.id,
                role=data.role,
                place_id=data.place_id,
                facility_id=data.facility_id,
            )
        )
        session.flush()
    _audit(session, actor=actor, action="account.create", target_type="user", target_id=user.id)
    return _read(session, user, one_time_password=otp)


def update_user(
    *, session: Session, actor: Actor, user_id: int, data: UserUpdate, expected_version: int
) -> UserRead:
    """Change name, phone, language or organisation. Conflict if someone changed it first."""
    user, scope = _managed_user(session, actor, user_id, action="account.update")
    if user.version != expected_version:
        raise Conflict()
    errors: dict[str, str] = {}
    wanted: dict[str, object] = {}
    if data.full_name is not None:
        wanted["full_name"] = _check_full_name(data.full_name, errors)
    if data.phone is not None:
        wanted["phone"] = _check_phone(session, data.phone, errors, user_id=user.id)
    if data.language is not None:
        wanted["language"] = _check_language(data.language, errors)
    if data.organisation_id is not None and data.organisation_id != user.organisation_id:
        _check_organisation(session, scope, data.organisation_id, errors)
        wanted["organisation_id"] = data.organisation_id
    if errors:
        raise ValidationFailed(errors)
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    for name in changed:
        setattr(user, name, wanted[name])
    if changed:
        user.version += 1
        session.add(user)
        _audit(
            session,
            actor=actor,
            action="account.update",
            target_type="user",
            target_id=user.id,
            detail="fields=" + ",".join(changed),
        )
    return _read(session, user)


def disable_user(
    *, session: Session, actor: Actor, user_id: int, now: datetime | None = None
) -> UserRead:
    """Block sign-in and end every session of the user at once. Not oneself."""
    user, _ = _managed_user(session, actor, user_id, action="account.disable")
    if user.id == actor.user_id:
        raise ValidationFailed({"user": "account.not_self"})
    user.is_active = False
    user.version += 1
    session.add(user)
    end_user_sessions(session=session, user_id=user_id, reason="disabled", now=now)
    _audit(session, actor=actor, action="account.disable", target_type="user", target_id=user.id)
    return _read(session, user)


def enable_user(*, session: Session, actor: Actor, user_id: int) -> UserRead:
    user, _ = _managed_user(session, actor, user_id, action="account.enable")
    user.is_active = True
    user.version += 1
    session.add(user)
    _audit(session, actor=actor, action="account.enable", target_type="user", target_id=user.id)
    return _read(session, user)


def _assignment(
    session: Session, user_id: int, role: Role, place_id: int | None, facility_id: int | None
) -> RoleAssignment | None:
    """The user's assignment of `role` in exactly this scope, if they hold it."""
    return session.exec(
        select(RoleAssignment).where(
            RoleAssignment.user_id == user_id,
            RoleAssignment.role == role,
            RoleAssignment.place_id == place_id,
            RoleAssignment.facility_id == facility_id,
        )
    ).first()


def _roles_changed(session: Session, user: User, now: datetime | None) -> None:
    """What follows any change to a user's roles: their row's version moves (an open editor
    of it is stale) and every session of theirs ends, so no page keeps the old rights."""
    user.version += 1
    session.add(user)
    assert user.id is not None
    end_user_sessions(session=session, user_id=user.id, reason="role_changed", now=now)


def assign_role(
    *,
    session: Session,
    actor: Actor,
    user_id: int,
    role: Role,
    place_id: int | None = None,
    facility_id: int | None = None,
    now: datetime | None = None,
) -> UserRead:
    """Give a user a role in a scope no broader than the admin's own; ends their sessions.
    Never one's own; an administrator together with a role that reads client records only
    as a request for a second administrator's approval (see the module docstring)."""
    if user_id == actor.user_id:
        raise _deny(session, actor, "account.role_assign", "account.not_self")
    user, scope = _managed_user(session, actor, user_id, action="account.role_assign")
    _check_grant(
        session,
        actor,
        scope,
        role=role,
        place_id=place_id,
        facility_id=facility_id,
        action="account.role_assign",
    )
    if _assignment(session, user_id, role, place_id, facility_id) is not None:
        return _read(session, user)
    if _needs_second_admin(roles_of(session, user_id), role):
        _request_role(session, actor, user_id, role, place_id, facility_id)
        return _read(session, user)
    session.add(
        RoleAssignment(user_id=user_id, role=role, place_id=place_id, facility_id=facility_id)
    )
    _roles_changed(session, user, now)
    _audit(
        session,
        actor=actor,
        action="account.role_assign",
        target_type="user",
        target_id=user_id,
        detail=f"role={role} place={place_id} facility={facility_id}",
    )
    session.flush()
    return _read(session, user)


def remove_role(
    *,
    session: Session,
    actor: Actor,
    user_id: int,
    role: Role,
    place_id: int | None = None,
    facility_id: int | None = None,
    now: datetime | None = None,
) -> UserRead:
    """Take away one role assignment; ends the user's sessions. An admin can't remove their
    own admin role (that is how the last administrator would lock everyone out)."""
    if user_id == actor.user_id:
        raise _deny(session, actor, "account.role_remove", "account.not_self")
    user, _ = _managed_user(session, actor, user_id, action="account.role_remove")
    row = _assignment(session, user_id, role, place_id, facility_id)
    if row is None:
        raise NotFound()
    session.delete(row)
    _roles_changed(session, user, now)
    _audit(
        session,
        actor=actor,
        action="account.role_remove",
        target_type="user",
        target_id=user_id,
        detail=f"role={role} place={place_id} facility={facility_id}",
    )
    session.flush()
    return _read(session, user)


# Roles that read client records: never held with the administrator role without a second
# administrator's approval.
CLIENT_READING_ROLES = frozenset({Role.VOLUNTEER, Role.SUPERVISOR, Role.CLINIC})


def _needs_second_admin(held: Sequence[Role], role: Role) -> bool:
    after = {*held, role}
    return Role.ADMIN in after and bool(after & CLIENT_READING_ROLES)


def _request_role(
    session: Session,
    actor: Actor,
    user_id: int,
    role: Role,
    place_id: int | None,
    facility_id: int | None,
) -> None:
    same = session.exec(
        select(RoleRequest.id).where(
            RoleRequest.user_id == user_id,
            RoleRequest.role == role,
            RoleRequest.place_id == place_id,
            RoleRequest.facility_id == facility_id,
            RoleRequest.status == "pending",
        )
    ).first()
    if same is not None:
        return
    request = RoleRequest(
        user_id=user_id,
        role=role,
        place_id=place_id,
        facility_id=facility_id,
        requested_by=actor.user_id,
    )
    session.add(request)
    session.flush()
    _audit(
        session,
        actor=actor,
        action="account.role_request",
        target_type="user",
        target_id=user_id,
        detail=f"request={request.id} role={role} place={place_id} facility={facility_id}",
    )


def decide_role_request(
    *,
    session: Session,
    actor: Actor,
    request_id: int,
    approve: bool,
    now: datetime | None = None,
) -> UserRead:
    """A second administrator approves (the role is granted, the user's sessions end) or
    rejects a pending request. Not the administrator who asked, not the account itself; the
    grant must lie inside the approver's own scope. Audited either way."""
    action = "account.role_approve" if approve else "account.role_reject"
    request = session.get(RoleRequest, request_id)
    if request is None or request.status != "pending":
        raise NotFound()
    if actor.user_id in (request.requested_by, request.user_id):
        raise _deny(session, actor, action, "account.second_admin_needed")
    user, scope = _managed_user(session, actor, request.user_id, action=action)
    _check_grant(
        session,
        actor,
        scope,
        role=request.role,
        place_id=request.place_id,
        facility_id=request.facility_id,
        action=action,
    )
    request.status = "approved" if approve else "rejected"
    request.decided_by = actor.user_id
    request.decided_at = _clock(now)
    session.add(request)
    if approve:
        session.add(
            RoleAssignment(
                user_id=request.user_id,
                role=request.role,
                place_id=request.place_id,
                facility_id=request.facility_id,
            )
        )
        _roles_changed(session, user, now)
    _audit(
        session,
        actor=actor,
        action=action,
        target_type="user",
        target_id=request.user_id,
        detail=f"request={request.id} role={request.role} asked_by={request.requested_by}",
    )
    session.flush()
    return _read(session, user)


def reset_password(
    *, session: Session, actor: Actor, user_id: int, now: datetime | None = None
) -> str:
    """A new one-time password (returned, shown once) to change at next sign-in; ends the
    user's sessions."""
    now = _clock(now)
    user, _ = _managed_user(session, actor, user_id, action="account.password_reset")
    otp = security.one_time_password()
    user.password_hash = security.hash_password(otp)
    user.must_change_password = True
    user.password_changed_at = now
    user.version += 1
    session.add(user)
    end_user_sessions(session=session, user_id=user_id, reason="password_reset", now=now)
    _audit(
        session, actor=actor, action="account.password_reset", target_type="user", target_id=user.id
    )
    return otp


MAX_RESET_REASON = 200


def reset_second_factor(
    *, session: Session, actor: Actor, user_id: int, reason: str, now: datetime | None = None
) -> UserRead:
    """Another account's lost second factor (phone and recovery codes gone): its secret and
    recovery codes are removed, its pending second steps and every session end, and at the
    next sign-in it has a password step only — where its role requires a second factor, a
    session restricted to enrolling again (`second_factor.needs_enrolment`). An administrator
    in scope only, never on their own account (they have /account); the reason is required
    and kept in the audit event (never a secret)."""
    now = _clock(now)
    user, _ = _managed_user(session, actor, user_id, action="second_factor.reset")
    if user.id == actor.user_id:
        raise ValidationFailed({"user": "second_factor.reset_not_self"})
    text = required_reason(reason, MAX_RESET_REASON)
    if session.get(TotpCredential, user_id) is None:
        raise ValidationFailed({"user": "second_factor.not_on"})
    second_factor.remove(session, user_id=user_id)
    for step in session.exec(
        select(SecondFactorChallenge).where(
            SecondFactorChallenge.user_id == user_id,
            col(SecondFactorChallenge.used_at).is_(None),
        )
    ).all():
        step.used_at = now
        session.add(step)
    ended = end_user_sessions(
        session=session, user_id=user_id, reason="second_factor_reset", now=now
    )
    user.version += 1
    session.add(user)
    _audit(
        session,
        actor=actor,
        action="second_factor.reset",
        target_type="user",
        target_id=user.id,
        detail=f"sessions={ended} reason={text}",
    )
    return _read(session, user)


def list_users(*, session: Session, actor: Actor, query: str = "", page: int = 1) -> UserPage:
    """Users the admin may manage, matching `query` (name, username or phone; diacritics and
    case ignored), in Vietnamese name order, PAGE_SIZE a page."""
    scope = _admin_scope(session, actor, "account.list")
    needle = fold(query)
    users = session.exec(select(User)).all()
    by_user: dict[int, list[RoleAssignment]] = {}
    for row in session.exec(select(RoleAssignment)).all():
        by_user.setdefault(row.user_id, []).append(row)
    matches = [
        u
        for u in users
        if u.id is not None
        and (
            not needle
            or needle in fold(u.full_name)
            or needle in u.username
            or (u.phone is not None and needle.replace(" ", "") in u.phone)
        )
        and _can_manage(session, scope, u.id, by_user.get(u.id, []))
    ]
    matches.sort(key=lambda u: (vi_sort_key(u.full_name), u.username))
    page = max(1, page)
    chunk = matches[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    with_second_factor = set(session.exec(
        select(TotpCredential.user_id).where(
            col(TotpCredential.user_id).in_([u.id for u in chunk]),
            col(TotpCredential.confirmed_at).is_not(None),
        )
    ).all())
    return UserPage(
        items=[_read(session, u, enrolled=u.id in with_second_factor) for u in chunk],
        total=len(matches),
        page=page,
        page_size=PAGE_SIZE,
    )


def create_first_admin(
    *, session: Session, username: str, password: str, full_name: str
) -> UserRead:
    """Bootstrap of a real deployment: the first, national administrator, with a password the
    operator chose (there is no default). Refused once any administrator exists."""
    if session.exec(select(RoleAssignment.id).where(RoleAssignment.role == Role.ADMIN)).first():
        raise Conflict("account.admin_exists")
    errors: dict[str, str] = {}
    name = _check_username(session, username, errors)
    clean_name = _check_full_name(full_name, errors)
    if errors:
        raise ValidationFailed(errors)
    security.check_new_password(password, username=name, context=(clean_name,))
    user = User(
        username=name,
        full_name=clean_name,
        password_hash=security.hash_password(password),
        must_change_password=False,
        password_changed_at=utcnow(),
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    session.add(RoleAssignment(user_id=user.id, role=Role.ADMIN))
    session.flush()
    _audit(
        session,
        actor=None,
        action="account.bootstrap_admin",
        target_type="user",
        target_id=user.id,
    )
    return _read(session, user)
