"""The place table: Vietnam's 34 provinces and 3,321 communes (from 1 July 2025), and look-ups.

The list comes from the `vietnam_provinces` package. Codes are stored as the official
zero-padded strings: two digits for a province ("01"), five for a commune ("00070").
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert
from sqlmodel import Session, select
from vietnam_provinces import Province, Ward

from app.services.dto import PlaceLoadResult, PlaceRead
from app.services.text import fold, vi_sort_key
from models import Place, PlaceKind

# The two-tier administrative system took effect on this date (Resolution 202/2025/QH15).
REFORM_DATE = date(2025, 7, 1)


def province_code(code: int) -> str:
    return f"{int(code):02d}"


def commune_code(code: int) -> str:
    return f"{int(code):05d}"


def _codes_to_ids(session: Session, kind: PlaceKind) -> dict[str, int]:
    rows = session.exec(select(Place.code, Place.id).where(Place.kind == kind)).all()
    return {code: pid for code, pid in rows if pid is not None}


def load_places(session: Session) -> PlaceLoadResult:
    """Insert every province and commune not yet present (idempotent, bulk, in one flush)."""
    provinces = _codes_to_ids(session, PlaceKind.PROVINCE)
    new_provinces = [
        {
            "code": province_code(p.code),
            "name": p.name,
            "name_key": fold(p.name)[:120],
            "kind": PlaceKind.PROVINCE.value,
            "division_type": p.division_type.value,
            "parent_id": None,
            "valid_from": REFORM_DATE,
        }
        for p in Province.iter_all()
        if province_code(p.code) not in provinces
    ]
    if new_provinces:
        session.execute(insert(Place), new_provinces)
        provinces = _codes_to_ids(session, PlaceKind.PROVINCE)

    communes = _codes_to_ids(session, PlaceKind.COMMUNE)
    new_communes = [
        {
            "code": commune_code(w.code),
            "name": w.name,
            "name_key": fold(w.name)[:120],
            "kind": PlaceKind.COMMUNE.value,
            "division_type": w.division_type.value,
            "parent_id": provinces[province_code(w.province_code)],
            "valid_from": REFORM_DATE,
        }
        for w in Ward.iter_all()
        if commune_code(w.code) not in communes
    ]
    if new_communes:
        session.execute(insert(Place), new_communes)
    session.flush()
    return PlaceLoadResult(provinces_added=len(new_provinces), communes_added=len(new_communes))


def _read(place: Place) -> PlaceRead:
    assert place.id is not None
    return PlaceRead(
        id=place.id, code=place.code, name=place.name, kind=place.kind, parent_id=place.parent_id
    )


def provinces(session: Session) -> list[PlaceRead]:
    """All provinces, in Vietnamese alphabetical order."""
    rows = session.exec(select(Place).where(Place.kind == PlaceKind.PROVINCE)).all()
    return sorted((_read(p) for p in rows), key=lambda p: vi_sort_key(p.name))


def communes_of(session: Session, province_id: int) -> list[PlaceRead]:
    """The communes of one province, in Vietnamese alphabetical order."""
    rows = session.exec(
        select(Place).where(Place.parent_id == province_id, Place.kind == PlaceKind.COMMUNE)
    ).all()
    return sorted((_read(p) for p in rows), key=lambda p: vi_sort_key(p.name))


def place_name(session: Session, place_id: int | None) -> str:
    """The place's name, or "" if there is none (names are public, no scope needed)."""
    if place_id is None:
        return ""
    place = session.get(Place, place_id)
    return place.name if place is not None else ""


def get_place(session: Session, place_id: int) -> PlaceRead | None:
    place = session.get(Place, place_id)
    return _read(place) if place is not None else None
