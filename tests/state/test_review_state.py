"""The supervisor's review screen of refused records, driven without a browser: who may call
it, what it shows, and that applying or dismissing goes through the service once."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app.app  # noqa: F401  (registers every page and State)
from app.pages.review import ReviewState
from app.services import clients, outbox
from app.services.calendar import today_vn
from app.state.guard import HANDLER_ROLES
from models import AuditEvent, DrugTest, OutboxRecord, OutboxStatus, Role, Visit
from tests.factories import World, count, outbox_payload, outbox_record
from tests.state.conftest import page_state, run, sign_in

DEVICE = "0f0e0d0c-0b0a-4908-8706-050403020100"
TODAY = today_vn()
CALLS: dict[str, tuple[Any, ...]] = {
    "ReviewState.load": (),
    "ReviewState.load_count": (),
    "ReviewState.open_item": ("1",),
    "ReviewState.close_item": (),
    "ReviewState.search": ({"query": "Lê"},),
    "ReviewState.choose": ("1",),
    "ReviewState.apply": (),
    "ReviewState.link": (),
    "ReviewState.dismiss": ({"reason": "trùng"},),
}


def _kept_visit(engine: Engine, world: World, kind: str = "visit") -> dict[str, Any]:
    """vol_a1's record for client a1, refused because a1 was reassigned meanwhile."""
    with Session(engine, expire_on_commit=False) as s:
        clients.reassign_clients(session=s, actor=world.actor(s, "sup_a1"),
                                 client_ids=[world.clients["a1"]],
                                 volunteer_id=world.users["vol_a1_peer"])
        s.commit()
        volunteer = world.actor(s, "vol_a1")
    record = outbox_record(kind, outbox_payload(kind, world, TODAY, notes="Đã gặp ở chợ")
                           if kind == "visit" else outbox_payload(kind, world, TODAY))
    [result] = outbox.apply_batch(actor=volunteer, device_id=DEVICE, records=[record],
                                  engine=engine)
    assert result.status == "kept"
    return record


def test_every_review_handler_is_for_supervisors_only_and_is_exercised_here() -> None:
    names = {n: r for n, r in HANDLER_ROLES.items() if n.startswith("ReviewState.")}
    assert set(names) == set(CALLS)
    assert all(roles == frozenset({Role.SUPERVISOR}) for roles in names.values())


@pytest.mark.parametrize("who", ["vol_a1", "clinic_a", "admin"])
def test_other_roles_are_refused_every_review_handler_and_audited(
    world_db: World, engine: Engine, who: str
) -> None:
    _kept_visit(engine, world_db)
    state = page_state(ReviewState, sign_in(engine, who))
    for handler, args in CALLS.items():
        assert run(getattr(state, handler.split(".")[1]), *args), handler
    with Session(engine) as s:
        denied = s.exec(select(AuditEvent.detail).where(
            AuditEvent.action == "handler.call", AuditEvent.outcome == "denied",
            AuditEvent.actor_id == world_db.users[who])).all()
    assert sorted(denied) == sorted(CALLS)
    assert state.rows == [] and state.detail_fields == []


def test_the_supervisor_reads_the_whole_record_and_applies_it_once(
    world_db: World, engine: Engine
) -> None:
    record = _kept_visit(engine, world_db)
    other = page_state(ReviewState, sign_in(engine, "sup_b"))
    run(other.load)
    assert other.rows == []  # another province's supervisor sees nothing of it
    state = page_state(ReviewState, sign_in(engine, "sup_a1"))
    run(state.load_count)
    assert state.waiting == 1  # the notice on the supervisor's home
    run(state.load)
    [row] = state.rows
    assert row["kind"] == "Lần thăm" and row["author"] == "Người ghi: vol_a1"
    assert "không còn phụ trách đối tượng này" in row["reason"]
    run(state.open_item, row["id"])
    shown = {f["name"]: f["value"] for f in state.detail_fields}
    assert shown["notes"] == "Đã gặp ở chợ" and state.detail["client"] == "Lê Văn Cường"
    assert shown["client_id"] == "Lê Văn Cường" and shown["kind"] == "Thăm tại nhà"
    assert shown["visit_date"] == TODAY.strftime("%d/%m/%Y")
    run(state.apply)
    run(state.apply)  # a double tap: the list is back, nothing open
    assert state.success == "Đã áp dụng bản ghi." and state.rows == []
    run(state.load_count)
    assert state.waiting == 0
    with Session(engine) as s:
        [visit] = s.exec(select(Visit)).all()
        assert visit.author_id == world_db.users["vol_a1"] and visit.notes == "Đã gặp ở chợ"
        row_ = s.exec(select(OutboxRecord).where(OutboxRecord.key == record["key"])).one()
        assert row_.status == OutboxStatus.APPLIED
        assert row_.decided_by_id == world_db.users["sup_a1"]


def test_the_supervisor_applies_to_a_chosen_client_or_dismisses_with_a_reason(
    world_db: World, engine: Engine
) -> None:
    _kept_visit(engine, world_db, "drug_test")
    state = page_state(ReviewState, sign_in(engine, "sup_a"))
    run(state.load)
    run(state.open_item, state.rows[0]["id"])
    run(state.search, {"query": "Phạm Thị"})
    assert [m["name"] for m in state.matches] == ["Phạm Thị Dung"]
    run(state.choose, "999999")  # not among the matches: ignored
    assert state.chosen_id == 0
    run(state.choose, state.matches[0]["id"])
    assert state.chosen_name == "Phạm Thị Dung"
    run(state.apply)
    with Session(engine) as s:
        assert s.exec(select(DrugTest.client_id)).all() == [world_db.clients["a2"]]
    _kept_visit(engine, world_db, "support")
    run(state.load)
    run(state.open_item, state.rows[0]["id"])
    run(state.dismiss, {"reason": " "})
    assert state.fields["reason"].startswith("Ghi lý do")
    run(state.dismiss, {"reason": "Đã ghi trên giấy"})
    assert state.success == "Đã bỏ qua bản ghi." and state.rows == []
    with Session(engine) as s:
        assert count(s, DrugTest) == 1
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "outbox.dismiss")).one()
