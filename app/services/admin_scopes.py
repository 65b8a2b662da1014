"""What an administrator may grant, as choices for a screen, and the names of granted scopes.

The rules themselves live in `accounts` (which scope each role takes, what lies inside an
admin's own scope); this module only lists the places and facilities that pass them, so a
screen never offers a choice the service would refuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.services import places
from app.services.accounts import _admin_scope, _covers, _scope_shape_ok
from app.services.actor import Actor
from app.services.dto import PlaceRead
from app.services.text import vi_sort_key
from models import Organisation, Place, PlaceKind, Role

EVERYWHERE = "everywhere"


@dataclass(frozen=True)
class ScopeChoice:
    """One scope an admin may grant. `kind`: everywhere, province, commune or facility."""

    kind: str
    id: int | None
    name: str

    @property
    def value(self) -> str:
        """The form value of this choice, read back by `parse_scope`."""
        return f"{self.kind}:{self.id if self.id is not None else ''}"


def parse_scope(value: str) -> tuple[int | None, int | None] | None:
    """(place_id, facility_id) of a choice's form value; None if it is not one."""
    kind, _, raw = value.partition(":")
    if kind == EVERYWHERE and not raw:
        return None, None
    if not raw.isdigit() or len(raw) > 12:
        return None
    if kind in (PlaceKind.PROVINCE.value, PlaceKind.COMMUNE.value):
        return int(raw), None
    if kind == "facility":
        return None, int(raw)
    return None


def grant_provinces(*, session: Session, actor: Actor) -> list[PlaceRead]:
    """Provinces in which the acting admin may grant something, in Vietnamese order."""
    scope = _admin_scope(session, actor, "account.scope_choices")
    if scope.national:
        return places.provinces(session)
    ids = set(scope.provinces)
    if scope.communes:
        parents = session.exec(
            select(Place.parent_id).where(col(Place.id).in_(scope.communes))
        ).all()
        ids.update(p for p in parents if p is not None)
    found = [places.get_place(session, pid) for pid in ids]
    return sorted((p for p in found if p is not None), key=lambda p: vi_sort_key(p.name))


def grant_choices(
    *, session: Session, actor: Actor, role: Role, province_id: int | None
) -> list[ScopeChoice]:
    """Scopes of `role` inside the acting admin's own, within one province (and "everywhere"
    for a national admin granting the admin role). Places first, then facilities."""
    scope = _admin_scope(session, actor, "account.scope_choices")
    choices: list[ScopeChoice] = []
    if role == Role.ADMIN and scope.national:
        choices.append(ScopeChoice(EVERYWHERE, None, ""))
    province = session.get(Place, province_id) if province_id is not None else None
    if province is None or province.id is None or province.kind != PlaceKind.PROVINCE:
        return choices
    area: list[int] = []
    candidates = [places.get_place(session, province.id), *places.communes_of(session, province.id)]
    for place in candidates:
        if place is None:
            continue
        area.append(place.id)
        if _covers(session, scope, place.id, None) and _scope_shape_ok(
            session, role, place.id, None
        ):
            choices.append(ScopeChoice(place.kind.value, place.id, place.name))
    facilities = session.exec(
        select(Organisation).where(
            col(Organisation.place_id).in_(area), col(Organisation.active).is_(True)
        )
    ).all()
    for org in sorted(facilities, key=lambda o: vi_sort_key(o.name)):
        if org.id is not None and _covers(session, scope, None, org.id) and _scope_shape_ok(
            session, role, None, org.id
        ):
            choices.append(ScopeChoice("facility", org.id, org.name))
    return choices


def scope_names(
    *, session: Session, scopes: Iterable[tuple[int | None, int | None]]
) -> dict[tuple[int | None, int | None], str]:
    """The display name of each (place_id, facility_id) scope; "" for everywhere. Place and
    facility names are reference data, not personal data."""
    names: dict[tuple[int | None, int | None], str] = {}
    for place_id, facility_id in scopes:
        if (place_id, facility_id) in names:
            continue
        if facility_id is not None:
            org = session.get(Organisation, facility_id)
            names[(place_id, facility_id)] = org.name if org is not None else ""
        else:
            names[(place_id, facility_id)] = places.place_name(session, place_id)
    return names
