"""Who is acting: a user in one role with the scope that role was given."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from models import Place, PlaceKind, Role, RoleAssignment, User


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
    # The staff member's own name, for greeting them (not client data).
    display_name: str = ""


def load_actor(
    session: Session, *, user_id: int, role: Role, session_id: int | None = None
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
    return Actor(
        user_id=user_id,
        role=role,
        commune_ids=frozenset(communes),
        province_ids=frozenset(provinces),
        facility_ids=facility_ids,
        session_id=session_id,
        must_change_password=user.must_change_password,
        display_name=user.full_name,
    )


def roles_of(session: Session, user_id: int) -> list[Role]:
    rows = session.exec(select(RoleAssignment.role).where(RoleAssignment.user_id == user_id)).all()
    order = [Role.VOLUNTEER, Role.SUPERVISOR, Role.CLINIC, Role.ADMIN]
    return [r for r in order if r in set(rows)]
