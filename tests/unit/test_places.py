"""The place table: Vietnam's 34 provinces and 3,321 communes, loaded fast and only once."""

from __future__ import annotations

import time
from datetime import date

from sqlmodel import Session, col, select

from app.services.places import communes_of, load_places, place_name, provinces
from models import Place, PlaceKind
from tests.factories import count


def _count_kind(session: Session, kind: PlaceKind) -> int:
    return len(session.exec(select(Place.id).where(Place.kind == kind)).all())


def test_loading_places_gives_34_provinces_and_3321_communes_quickly(session: Session) -> None:
    started = time.perf_counter()
    result = load_places(session)
    session.commit()
    elapsed = time.perf_counter() - started
    assert (result.provinces_added, result.communes_added) == (34, 3321)
    assert _count_kind(session, PlaceKind.PROVINCE) == 34
    assert _count_kind(session, PlaceKind.COMMUNE) == 3321
    assert elapsed < 2.0


def test_loading_places_twice_adds_nothing(session: Session) -> None:
    load_places(session)
    session.commit()
    again = load_places(session)
    session.commit()
    assert (again.provinces_added, again.communes_added) == (0, 0)
    assert count(session, Place) == 34 + 3321


def test_codes_are_zero_padded_names_folded_and_communes_have_a_province(session: Session) -> None:
    load_places(session)
    hanoi = session.exec(select(Place).where(Place.code == "01")).one()
    assert (hanoi.name, hanoi.name_key, hanoi.kind) == (
        "Thành phố Hà Nội", "thanh pho ha noi", PlaceKind.PROVINCE)
    assert hanoi.valid_from == date(2025, 7, 1)
    hoan_kiem = session.exec(select(Place).where(Place.code == "00070")).one()
    assert (hoan_kiem.name, hoan_kiem.parent_id, hoan_kiem.division_type) == (
        "Phường Hoàn Kiếm", hanoi.id, "phường")
    orphans = session.exec(select(Place.id).where(
        Place.kind == PlaceKind.COMMUNE, col(Place.parent_id).is_(None))).all()
    assert orphans == []


def test_communes_of_a_province_are_in_vietnamese_order(session: Session) -> None:
    load_places(session)
    hanoi = session.exec(select(Place).where(Place.code == "01")).one()
    assert hanoi.id is not None
    names = [c.name for c in communes_of(session, hanoi.id)]
    assert "Phường Hoàn Kiếm" in names
    # 'Xã Ba Vì' (b) sorts before 'Xã Đông Anh' (đ after d) in Vietnamese order.
    xa = [n for n in names if n.startswith("Xã ")]
    assert xa.index("Xã Ba Vì") < xa.index("Xã Đông Anh")
    assert len(provinces(session)) == 34


def test_place_name_of_a_missing_place_is_empty(session: Session) -> None:
    load_places(session)
    assert place_name(session, 99_999_999) == ""
    assert place_name(session, None) == ""
