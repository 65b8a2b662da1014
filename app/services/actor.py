"""Who is acting: a user in one role with the scope that role was given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from app.services import second_factor
from models import BreakGlass, Place, PlaceKind, Role, RoleAssignment, User, utcnow


@dataclass(frozen=True)
class Actor:
    """The unit of access. Built server-side from the database, never from the browser."""

    user_id: int
    role: Role
    # Communes the role covers (a province assignment is expanded to its communes).
    commune_ids: frozenset[int] = field(default_factory=frozenset)
    # Provinces assigned whole (for province-level reports).
    province_ids: frozenset[int] = field(default_factory=frozenset)
    facility_ids: frozenset[int] = field(default_factory=frozenset)
    session_id: int | None = None
    # After an administrator's reset (or for a new account) nothing but changing the
    # password is allowed; the state layer enforces it on every event.
    must_change_password: bool = False
    # The role requires a second factor and the user has none yet: likewise, nothing but
    # enrolling it on the account screen (app/services/second_factor.py).
    must_enrol_second_factor: bool = False
    # The staff member's own name, for greeting them (not client data).
    display_name: str = ""
    # Clients opened by break-glass, still running (see app/services/privacy/breakglass.py):
    # readable, and writable only for those in `glass_write_ids`. Never in lists or searches.
    glass_read_ids: frozenset[int] = field(default_factory=frozenset)
    glass_write_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def restricted(self) -> bool:
        """The session may only act on its own account (a new password, a second factor)."""
        return self.must_change_password or self.must_enrol_second_factor


def live_glass(
    session: Session, *, user_id: int, role: Role, now: datetime | None = None
) -> list[tuple[int, bool]]:
    """(client id, writable) of this user's break-glass openings in this role not yet over."""
    moment = now or utcnow()
    return [
        (client_id, writable)
        for client_id, writable in session.exec(
            select(BreakGlass.client_id, BreakGlass.writable).where(
                BreakGlass.user_id == user_id, BreakGlass.role == role.value,
                col(BreakGlass.expires_at) > moment, col(BreakGlass.ended_at).is_(None))
        ).all()
    ]


def load_actor(
    session: Session, *, user_id: int, role: Role, session_id: int | None = None,
    now: datetime | None = None,
) -> Actor | None:
    """The actor for this user in this role, or None if the user is disabled or lacks the role."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    rows = session.exec(
        select(RoleAssignment).where(RoleAssignment.user_id == user_id, RoleAssignment.role == role)
    ).all()
    if not rows:
        return None
    place_ids = {r.place_id for r in rows if r.place_id is not None}
    facility_ids = frozenset(r.facility_id for r in rows if r.facility_id is not None)
    communes: set[int] = set()
    provinces: set[int] = set()
    if place_ids:
        for place in session.exec(select(Place).where(Place.id.in_(place_ids))).all():  # type: ignore[union-attr]
            if place.kind == PlaceKind.PROVINCE:
                provinces.add(place.id)  # type: ignore[arg-type]
            else:
                communes.add(place.id)  # type: ignore[arg-type]
        if provinces:
            children = session.exec(
                select(Place.id).where(Place.parent_id.in_(provinces))  # type: ignore[union-attr]
            ).all()
            communes.update(c for c in children if c is not None)
    glass = live_glass(session, user_id=user_id, role=role, now=now) \
        if role in (Role.SUPERVISOR, Role.CLINIC) else []
    return Actor(
        glass_read_ids=frozenset(c for c, _w in glass),
        glass_write_ids=frozenset(c for c, w in glass if w),
        user_id=user_id,
        role=role,
        commune_ids=frozenset(communes),
        province_ids=frozenset(provinces),
        facility_ids=facility_ids,
        session_id=session_id,
        must_change_password=user.must_change_password,
        must_enrol_second_factor=second_factor.needs_enrolment(
            session, user_id=user_id, role=role
        ),
        display_name=user.full_name,
    )


def roles_of(session: Session, user_id: int) -> list[Role]:
    rows = session.exec(select(RoleAssignment.role).where(RoleAssignment.user_id == user_id)).all()
    order = [Role.VOLUNTEER, Role.SUPERVISOR, Role.CLINIC, Role.ADMIN]
    return [r for r in order if r in set(rows)]
