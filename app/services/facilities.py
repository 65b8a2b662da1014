"""Read-only choices for record forms: the facilities and communes an actor may pick from.

Facilities are the active organisations of the province(s) the actor works in (a volunteer of
one commune sees the whole province's clinics, legal-aid offices, schools…). Nothing here is
personal data, so reads are not audited; roles that never record activities get nothing.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.services import facility_registry
from app.services.actor import Actor
from app.services.policy import Action, authorize_grant
from app.services.text import vi_sort_key
from models import Organisation, Place


def _provinces_of(session: Session, actor: Actor) -> set[int]:
    provinces = set(actor.province_ids)
    if actor.commune_ids:
        parents = session.exec(
            select(Place.parent_id).where(col(Place.id).in_(actor.commune_ids))
        ).all()
        provinces.update(p for p in parents if p is not None)
    return provinces


def facilities_for(*, session: Session, actor: Actor | None) -> list[tuple[int, str, str]]:
    """(id, name, kind) of active organisations in the actor's provinces, in Vietnamese order."""
    me = authorize_grant(session, actor, Action.REFERRAL_CREATE)
    provinces = _provinces_of(session, me)
    if not provinces:
        return []
    communes = select(Place.id).where(col(Place.parent_id).in_(provinces))
    rows = session.exec(
        select(Organisation).where(
            col(Organisation.active).is_(True),
            col(Organisation.place_id).in_(provinces) | col(Organisation.place_id).in_(communes),
        )
    ).all()
    found = [(org.id, org.name, str(org.kind)) for org in rows if org.id is not None]
    return sorted(found, key=lambda row: vi_sort_key(row[1]))


def referral_facilities(
    *, session: Session, actor: Actor | None
) -> list[tuple[int, str, tuple[str, ...]]]:
    """(id, name, referral services it can receive) of the facilities `facilities_for` offers
    that provide at least one service: the referral form lists a facility only under a
    service it provides (`facility_registry.PROVIDERS`; the server checks it again)."""
    rows = facilities_for(session=session, actor=actor)
    services = facility_registry.services_of(session, [fid for fid, _n, _k in rows])
    out = []
    for fid, name, _kind in rows:
        serves = tuple(facility_registry.referral_services_of(services.get(fid, ())))
        if serves:
            out.append((fid, name, serves))
    return out


def communes_for(*, session: Session, actor: Actor | None) -> list[tuple[int, str]]:
    """(id, name) of the communes the actor works in, in Vietnamese order."""
    me = authorize_grant(session, actor, Action.CONTACT_CREATE)
    if not me.commune_ids:
        return []
    rows = session.exec(
        select(Place.id, Place.name).where(col(Place.id).in_(me.commune_ids))
    ).all()
    found = [(place_id, name) for place_id, name in rows if place_id is not None]
    return sorted(found, key=lambda row: vi_sort_key(row[1]))
