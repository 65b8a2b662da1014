"""The device outbox on the server (issue 14): every kind through the sync, exactly once under
replays, temporary client ids, duplicates as questions, the review list, the snapshot's scope
and the device key."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from app.services import clients, outbox
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from models import (
    AuditEvent,
    AuthSession,
    Client,
    ClientStatus,
    Consent,
    DrugTest,
    Episode,
    EpisodeStatus,
    GroupActivity,
    GroupActivityClient,
    OutboxRecord,
    OutboxStatus,
    OutreachContact,
    Referral,
    Setting,
    Support,
    Visit,
    utcnow,
)
from tests.factories import World, count, make_client, outbox_payload, outbox_record

TODAY = today_vn()
DEVICE = "0f0e0d0c-0b0a-4908-8706-050403020100"
KIND_MODELS: dict[str, type[SQLModel]] = {
    "visit": Visit, "outreach_contact": OutreachContact, "drug_test": DrugTest,
    "referral": Referral, "support": Support, "group_activity": GroupActivity, "client": Client,
}


def _actor(session: Session, world: World, name: str = "vol_a1") -> Actor:
    """The actor as the API gets it: with a live AuthSession row."""
    now = utcnow()
    row = AuthSession(user_id=world.users[name], token_hash=uuid.uuid4().hex,
                      role=world.roles[name], created_at=now, last_seen_at=now,
                      expires_at=now + timedelta(hours=12))
    session.add(row)
    session.commit()
    actor = world.actor(session, name)
    assert actor is not None and row.id is not None
    return Actor(user_id=actor.user_id, role=actor.role, commune_ids=actor.commune_ids,
                 province_ids=actor.province_ids, facility_ids=actor.facility_ids,
                 session_id=row.id)


def _sync(engine: Engine, actor: Actor, records: list[Any]) -> list[outbox.SyncResult]:
    return outbox.apply_batch(actor=actor, device_id=DEVICE, records=records, engine=engine)


def _fresh(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def _counts(engine: Engine) -> dict[str, int]:
    with _fresh(engine) as s:
        return {kind: count(s, model) for kind, model in KIND_MODELS.items()}


# --- every kind, exactly once --------------------------------------------------------------


def test_every_kind_is_applied_through_its_service_once_whatever_the_replays(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    before = _counts(engine)
    batch = [outbox_record(kind, outbox_payload(kind, world, TODAY)) for kind in KIND_MODELS]
    first = _sync(engine, me, batch)
    assert [r.status for r in first] == ["applied"] * len(KIND_MODELS), first
    assert all(r.record_id and r.received_at and r.applied_at for r in first)
    after = _counts(engine)
    assert {k: after[k] - before[k] for k in after} == dict.fromkeys(KIND_MODELS, 1)
    # The whole batch again, three times (lost answers, a double tap, a reload).
    for _ in range(3):
        again = _sync(engine, me, batch)
        assert [(r.status, r.record_id, r.applied_at) for r in again] == \
            [(r.status, r.record_id, r.applied_at) for r in first]
    assert _counts(engine) == after
    with _fresh(engine) as s:
        visit = s.get(Visit, first[0].record_id)
        assert visit is not None and visit.author_id == me.user_id and visit.notes == "ổn định"
        attendees = s.exec(select(GroupActivityClient.client_id)).all()
        assert attendees == [world.clients["a1"]]
        new_client = s.get(Client, first[-1].record_id)
        assert new_client is not None and new_client.assigned_volunteer_id == me.user_id
        assert first[-1].client_id == new_client.id
        # Audited like the online forms: one create event per record, none for the replays.
        actions = s.exec(select(AuditEvent.action).where(AuditEvent.actor_id == me.user_id,
                                                         AuditEvent.outcome == "ok")).all()
        for action in ("visit.create", "contact.create", "test.create", "referral.create",
                       "support.create", "group.create", "client.create"):
            assert actions.count(action) == 1, action


def test_the_same_batch_from_three_tabs_at_once_is_stored_once(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    before = _counts(engine)
    batch = [outbox_record(kind, outbox_payload(kind, world, TODAY))
             for kind in ("visit", "drug_test", "client", "group_activity")]
    start = threading.Barrier(3)
    answers: list[list[outbox.SyncResult]] = []
    errors: list[BaseException] = []

    def send() -> None:
        start.wait()
        try:
            answers.append(_sync(engine, me, batch))
        except BaseException as err:  # noqa: BLE001  (reported below)
            errors.append(err)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(answers) == 3
    for answer in answers:
        assert [(r.status, r.record_id) for r in answer] == \
            [("applied", r.record_id) for r in answers[0]]
    after = _counts(engine)
    assert {k: after[k] - before[k] for k in after} == {
        "visit": 1, "outreach_contact": 0, "drug_test": 1, "referral": 0, "support": 0,
        "group_activity": 1, "client": 1}


def test_a_registration_from_the_device_carries_who_gave_the_consent_or_the_defaults(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    named = outbox_payload("client", world, TODAY, full_name="Đỗ Văn Hải",
                           consent_given_by="representative",
                           consent_representative_name="Đỗ Thị Lan",
                           consent_representative_relation="vợ", consent_method="paper",
                           consent_form_number="12/2026")
    older = outbox_payload("client", world, TODAY, full_name="Đỗ Văn Hòa")  # no giver fields
    applied = _sync(engine, me, [outbox_record("client", named), outbox_record("client", older)])
    assert [r.status for r in applied] == ["applied", "applied"], applied
    with _fresh(engine) as s:
        givers = [s.exec(select(Consent).where(Consent.client_id == r.record_id)).one()
                  for r in applied]
        assert [(c.given_by, c.representative_name, c.representative_relation, c.method,
                 c.form_number) for c in givers] == [
            ("representative", "Đỗ Thị Lan", "vợ", "paper", "12/2026"),
            ("subject", "", "", "screen", "")]
    bad = outbox_payload("client", world, TODAY, full_name="Đỗ Văn Hưng",
                         consent_method="fax")
    [kept] = _sync(engine, me, [outbox_record("client", bad)])
    assert kept.status == "kept" and kept.fields == {"consent_method": "error.invalid_choice"}


def test_a_field_rule_keeps_the_record_with_per_field_messages_and_a_fix_applies_it(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    key = str(uuid.uuid4())
    bad = outbox_payload("visit", world, TODAY, visit_date=(TODAY + timedelta(days=3)).isoformat(),
                         next_appointment=TODAY.isoformat())
    [kept] = _sync(engine, me, [outbox_record("visit", bad, key=key)])
    assert kept.status == "kept" and kept.reason == "outbox.reason.rule"
    assert kept.fields == {"visit_date": "error.date_range",
                           "next_appointment": "error.appointment_range"}
    assert kept.review_id is not None and count(session, Visit) == 0
    [item] = outbox.own_items(session=session, actor=me)
    session.commit()
    assert item.payload == bad and item.status == "kept"  # the whole record, as typed
    fixed = outbox_payload("visit", world, TODAY)
    [applied] = _sync(engine, me, [outbox_record("visit", fixed, key=key)])
    assert applied.status == "applied" and applied.received_at == kept.received_at
    with _fresh(engine) as s:
        assert count(s, Visit) == 1
        row = s.exec(select(OutboxRecord).where(OutboxRecord.key == key)).one()
        assert row.status == OutboxStatus.APPLIED and row.payload == "{}"
        assert outbox.own_items(session=s, actor=me) == []


def test_the_online_forms_choices_are_checked_too(engine: Engine, session: Session,
                                                  world: World) -> None:
    me = _actor(session, world)
    no_sample = outbox_payload("drug_test", world, TODAY, substances="heroin,glue")
    del no_sample["sample"]
    odd_visit = outbox_payload("visit", world, TODAY, content="counselling,dancing",
                               risk_flags="relapse")
    test, visit = _sync(engine, me, [outbox_record("drug_test", no_sample),
                                     outbox_record("visit", odd_visit)])
    assert test.status == "kept" and test.fields == {"sample": "rec.error.choose_one",
                                                     "substances": "error.invalid_choice"}
    assert visit.status == "kept" and visit.fields == {"content": "error.invalid_choice"}
    assert count(session, DrugTest) == 0 and count(session, Visit) == 0


def test_a_drug_test_sent_with_its_time_starts_the_24_hour_clock_from_it(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    yesterday = TODAY - timedelta(days=1)
    timed = outbox_payload("drug_test", world, yesterday, tested_time="21:30")
    untimed = outbox_payload("drug_test", world, yesterday)
    first, second = _sync(engine, me, [outbox_record("drug_test", timed),
                                       outbox_record("drug_test", untimed)])
    assert first.status == second.status == "applied"
    stored = {t.id: t.tested_at for t in session.exec(select(DrugTest)).all()}
    assert stored[second.record_id] is None  # a date only: the clock counts whole days
    moment = stored[first.record_id]
    assert moment is not None and moment.hour == 14 and moment.minute == 30  # 21:30 in Vietnam


@pytest.mark.parametrize("client_id", [2**63, 2**31, -1, 0, "abc", True, 1.5, [1], None])
def test_impossible_ids_are_a_per_record_refusal_never_an_error(
    engine: Engine, session: Session, world: World, client_id: Any
) -> None:
    me = _actor(session, world)
    payload = outbox_payload("drug_test", world, TODAY, client_id=client_id)
    good = outbox_record("visit", outbox_payload("visit", world, TODAY))
    results = _sync(engine, me, [outbox_record("drug_test", payload), good])
    assert results[0].status == "kept" and results[0].fields.get("client_id"), results[0]
    assert results[1].status == "applied"  # the rest of the batch goes on
    assert count(session, DrugTest) == 0


@pytest.mark.parametrize("record", [
    "not an object", {"key": "no-uuid", "kind": "visit", "payload": {}},
    {"key": str(uuid.uuid4()), "kind": "parcel", "payload": {}},
    {"key": str(uuid.uuid4()), "kind": "visit", "payload": []},
    {"key": str(uuid.uuid4()), "kind": "visit", "payload": {}, "saved_at": "yesterday"},
    {"key": str(uuid.uuid4()), "kind": "visit", "payload": {}, "context": {"episode_id": 2**63}},
    {"key": str(uuid.uuid4()), "kind": "visit", "payload": {}, "answer": {"new": True}},
    {"key": str(uuid.uuid4()), "kind": "client", "payload": {}, "answer": {"same_as": -4}},
])
def test_a_malformed_envelope_is_invalid_alone(engine: Engine, session: Session, world: World,
                                               record: Any) -> None:
    me = _actor(session, world)
    results = _sync(engine, me, [record])
    assert [r.status for r in results] == ["invalid"]
    assert count(session, OutboxRecord) == 0


def test_a_batch_too_large_or_a_bad_device_is_refused_whole(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    with pytest.raises(ValidationFailed):
        _sync(engine, me, [{}] * (outbox.MAX_BATCH + 1))
    with pytest.raises(ValidationFailed):
        outbox.apply_batch(actor=me, device_id="../etc", records=[], engine=engine)
    supervisor = world.actor(session, "sup_a1")
    with pytest.raises(PermissionDenied):
        _sync(engine, supervisor, [])  # type: ignore[arg-type]


def test_another_users_key_is_never_answered_nor_overwritten(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    peer = _actor(session, world, "vol_a2")
    record = outbox_record("visit", outbox_payload("visit", world, TODAY))
    [mine] = _sync(engine, me, [record])
    stolen = dict(record, payload=outbox_payload("visit", world, TODAY,
                                                 client_id=world.clients["a2"]))
    [theirs] = _sync(engine, peer, [stolen])
    assert mine.status == "applied" and theirs.status == "invalid"
    assert theirs.record_id is None and count(session, Visit) == 1


# --- temporary client ids ------------------------------------------------------------------


def test_records_for_a_client_registered_offline_follow_it_to_its_real_id(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    reg = outbox_record("client", outbox_payload("client", world, TODAY))
    temp = f"tmp:{reg['key']}"
    visit = outbox_record("visit", outbox_payload("visit", world, TODAY, client_id=temp))
    test = outbox_record("drug_test", outbox_payload("drug_test", world, TODAY, client_id=temp))
    group = outbox_record("group_activity", outbox_payload(
        "group_activity", world, TODAY, client_ids=[world.clients["a1"], temp]))
    # Sent before its registration (a device bug): it waits, nothing is stored.
    [early] = _sync(engine, me, [visit])
    assert early.status == "waiting" and count(session, Visit) == 0
    results = _sync(engine, me, [reg, visit, test, group])
    assert [r.status for r in results] == ["applied"] * 4, results
    real = results[0].client_id
    assert real is not None and results[1].client_id == real and results[2].client_id == real
    # A later batch (another day) still names the client by its temporary id.
    referral = outbox_record("referral", outbox_payload("referral", world, TODAY,
                                                        client_id=temp))
    later = _sync(engine, me, [referral, reg, visit])
    assert [r.status for r in later] == ["applied"] * 3
    assert later[1].client_id == real and later[2].record_id == results[1].record_id
    with _fresh(engine) as s:
        assert count(s, Client) == 4  # the world's three and one new
        assert [v.client_id for v in s.exec(select(Visit)).all()] == [real]
        assert s.exec(select(DrugTest.client_id)).all() == [real]
        assert s.exec(select(Referral.client_id).where(Referral.client_id == real)).all() == \
            [real]
        assert sorted(s.exec(select(GroupActivityClient.client_id)).all()) == \
            sorted([world.clients["a1"], real])


def test_a_temporary_id_is_only_its_own_users(engine: Engine, session: Session,
                                              world: World) -> None:
    me = _actor(session, world)
    peer = _actor(session, world, "vol_a1_peer")
    reg = outbox_record("client", outbox_payload("client", world, TODAY))
    [applied] = _sync(engine, me, [reg])
    visit = outbox_record("visit", outbox_payload("visit", world, TODAY,
                                                  client_id=f"tmp:{reg['key']}"))
    [other] = _sync(engine, peer, [visit])
    assert applied.status == "applied" and other.status == "waiting"
    assert count(session, Visit) == 0


# --- duplicates come back as questions ------------------------------------------------------


def _twin(world: World, **overrides: Any) -> dict[str, Any]:
    """A registration of the person already registered as client a1."""
    return outbox_payload("client", world, TODAY, full_name="Lê Văn Cường", birth_year=1990,
                          sex="male", **overrides)


def test_a_possible_duplicate_is_a_question_and_same_person_links_without_a_second_client(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    # Someone else's client, same person: never named, not even counted (issue 19 item 4).
    make_client(session, world.commune_a1, world.users["vol_a1_peer"], name="Lê Văn Cường")
    session.commit()
    reg = outbox_record("client", _twin(world))
    visit = outbox_record("visit", outbox_payload("visit", world, TODAY,
                                                  client_id=f"tmp:{reg['key']}"))
    before = count(session, Client)
    question, waiting = _sync(engine, me, [reg, visit])
    assert question.status == "question" and waiting.status == "waiting"
    assert [c["id"] for c in question.candidates] == [world.clients["a1"]]
    assert question.candidates[0]["commune_name"] == "Xã A Một"
    assert question.hidden_count == 0
    assert count(session, Client) == before
    answered = dict(reg, answer={"same_as": world.clients["a1"]})
    linked, sent = _sync(engine, me, [answered, visit])
    assert linked.status == "applied" and linked.linked and linked.record_id is None
    assert linked.client_id == world.clients["a1"]
    assert sent.status == "applied" and sent.client_id == world.clients["a1"]
    assert _sync(engine, me, [answered, reg])[1].client_id == world.clients["a1"]  # replays
    with _fresh(engine) as s:
        assert count(s, Client) == before


def test_a_different_person_answer_registers_once(engine: Engine, session: Session,
                                                 world: World) -> None:
    me = _actor(session, world)
    reg = outbox_record("client", _twin(world))
    [question] = _sync(engine, me, [reg])
    assert question.status == "question"
    answered = dict(reg, answer={"new": True})
    first = _sync(engine, me, [answered])[0]
    again = _sync(engine, me, [answered, reg])
    assert first.status == "applied" and not first.linked
    assert {r.client_id for r in again} == {first.client_id}
    assert count(session, Client) == 4


def test_linking_to_a_client_out_of_scope_keeps_the_registration(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    reg = outbox_record("client", _twin(world), answer={"same_as": world.clients["a2"]})
    [kept] = _sync(engine, me, [reg])
    assert kept.status == "kept" and kept.reason == "outbox.reason.client_unavailable"
    assert count(session, Client) == 3


# --- what the sync refuses is kept, and the supervisor's review ----------------------------


def _reassign_a1_to_peer(engine: Engine, world: World) -> None:
    with _fresh(engine) as s:
        sup = world.actor(s, "sup_a1")
        clients.reassign_clients(session=s, actor=sup, client_ids=[world.clients["a1"]],
                                 volunteer_id=world.users["vol_a1_peer"])
        s.commit()


def test_reassigned_client_refusal_is_kept_then_the_supervisor_applies_it_exactly_once(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    _reassign_a1_to_peer(engine, world)
    record = outbox_record("visit", outbox_payload("visit", world, TODAY, notes="đã gặp"))
    [kept] = _sync(engine, me, [record])
    assert kept.status == "kept" and kept.reason == "outbox.reason.client_unavailable"
    assert count(session, Visit) == 0
    assert _sync(engine, me, [record])[0].review_id == kept.review_id  # still one item
    with _fresh(engine) as s:
        assert outbox.review_items(session=s, actor=world.actor(s, "sup_b")) == []
        sup = world.actor(s, "sup_a1")
        [item] = outbox.review_items(session=s, actor=sup)
        assert item.review_id == kept.review_id and item.author_name == "vol_a1"
        assert item.payload["notes"] == "đã gặp"
        with pytest.raises(NotFound):
            outbox.review_item(session=s, actor=world.actor(s, "sup_b"),
                               review_id=item.review_id)
        assert outbox.review_item(session=s, actor=sup,
                                  review_id=item.review_id).client_name == "Lê Văn Cường"
        done = outbox.apply_item(session=s, actor=sup, review_id=item.review_id)
        s.commit()
        assert done.status == "applied" and done.decision == "applied"
    with _fresh(engine) as s:
        [visit] = s.exec(select(Visit)).all()
        assert visit.author_id == me.user_id and visit.notes == "đã gặp"
        assert visit.id == done.record_id
        events = s.exec(select(AuditEvent.action).where(
            AuditEvent.target_type == "outboxrecord")).all()
        assert "outbox.kept" in events and "outbox.apply" in events
    # The volunteer's device resends (it never heard): answered with that visit, no second.
    [resent] = _sync(engine, me, [record])
    assert resent.status == "applied" and resent.record_id == done.record_id
    with _fresh(engine) as s:
        assert count(s, Visit) == 1
        with pytest.raises(ValidationFailed):
            outbox.apply_item(session=s, actor=world.actor(s, "sup_a1"),
                              review_id=done.review_id)


def test_the_supervisor_applies_to_the_right_client_or_dismisses_with_a_reason(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    _reassign_a1_to_peer(engine, world)
    wrong = outbox_record("drug_test", outbox_payload("drug_test", world, TODAY))
    other = outbox_record("support", outbox_payload("support", world, TODAY))
    kept = _sync(engine, me, [wrong, other])
    assert [r.status for r in kept] == ["kept", "kept"]
    with _fresh(engine) as s:
        sup = world.actor(s, "sup_a")
        right = make_client(s, world.commune_a1, world.users["vol_a1"], name="Lê Văn Cương")
        s.commit()
        applied = outbox.apply_item(session=s, actor=sup, review_id=kept[0].review_id or 0,
                                    client_id=right)
        with pytest.raises(ValidationFailed):
            outbox.dismiss_item(session=s, actor=sup, review_id=kept[1].review_id or 0,
                                reason=" ")
        dismissed = outbox.dismiss_item(session=s, actor=sup, review_id=kept[1].review_id or 0,
                                        reason="Trùng với khoản vay đã ghi")
        s.commit()
    assert applied.client_id == right and dismissed.status == "dismissed"
    with _fresh(engine) as s:
        assert s.exec(select(DrugTest.client_id)).all() == [right]
        assert count(s, Support) == 0
        own = {i.key: i for i in outbox.own_items(session=s, actor=me)}
        assert own[other["key"]].decision_reason == "Trùng với khoản vay đã ghi"
        assert own[wrong["key"]].decision == "applied"
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "outbox.dismiss")).one()
    [again] = _sync(engine, me, [other])
    assert again.status == "kept" and again.reason == "outbox.reason.dismissed"
    assert again.decision_reason == "Trùng với khoản vay đã ghi" and count(session, Support) == 0


def test_records_waiting_for_a_kept_registration_follow_it_once_the_supervisor_applies_it(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    # Answered "same person as" a client who is not the volunteer's: kept for the supervisor.
    reg = outbox_record("client", outbox_payload("client", world, TODAY),
                        answer={"same_as": world.clients["a2"]})
    visit = outbox_record("visit", outbox_payload("visit", world, TODAY,
                                                  client_id=f"tmp:{reg['key']}"))
    kept, waiting = _sync(engine, me, [reg, visit])
    assert (kept.status, kept.reason) == ("kept", "outbox.reason.client_unavailable")
    assert waiting.status == "waiting"
    with _fresh(engine) as s:
        item = outbox.apply_item(session=s, actor=world.actor(s, "sup_a1"),
                                 review_id=kept.review_id or 0)
        s.commit()
    new_client = item.client_id
    assert new_client is not None
    again = _sync(engine, me, [reg, visit])
    assert [(r.status, r.client_id) for r in again] == [("applied", new_client)] * 2
    with _fresh(engine) as s:
        client = s.get(Client, new_client)
        assert client is not None and client.created_by_id == me.user_id
        assert client.assigned_volunteer_id == me.user_id
        assert s.exec(select(Visit.client_id)).all() == [new_client]
        assert count(s, Client) == 4


def test_closed_episode_or_case_is_kept_and_a_confirmed_resend_applies(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    episode = session.get(Episode, world.episodes["a1_open"])
    assert episode is not None
    episode.status = EpisodeStatus.CLOSED
    session.add(episode)
    session.commit()
    record = outbox_record("visit", outbox_payload("visit", world, TODAY),
                           context={"episode_id": world.episodes["a1_open"]})
    [kept] = _sync(engine, me, [record])
    assert kept.status == "kept" and kept.reason == "outbox.reason.episode_closed"
    assert kept.confirmable
    [sent] = _sync(engine, me, [dict(record, confirm=True)])
    assert sent.status == "applied" and count(session, Visit) == 1
    client = session.get(Client, world.clients["a1"])
    assert client is not None
    client.status = ClientStatus.CLOSED
    session.add(client)
    session.commit()
    [closed] = _sync(engine, me, [outbox_record("drug_test",
                                                outbox_payload("drug_test", world, TODAY))])
    assert closed.reason == "outbox.reason.client_closed" and closed.confirmable


def test_a_volunteer_may_withdraw_only_their_own_kept_record(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    peer = _actor(session, world, "vol_a2")
    _reassign_a1_to_peer(engine, world)
    record = outbox_record("visit", outbox_payload("visit", world, TODAY))
    _sync(engine, me, [record])
    with _fresh(engine) as s:
        with pytest.raises(NotFound):
            outbox.withdraw(session=s, actor=peer, key=record["key"])
        assert outbox.own_items(session=s, actor=peer) == []
        item = outbox.withdraw(session=s, actor=me, key=record["key"])
        s.commit()
    assert item.status == "dismissed" and item.decision == "withdrawn"


# --- the offline snapshot ------------------------------------------------------------------


def test_the_snapshot_holds_the_volunteers_own_caseload_and_nothing_else(
    engine: Engine, session: Session, world: World
) -> None:
    me = _actor(session, world)
    # A client of another volunteer in the same commune, and one unassigned.
    other = make_client(session, world.commune_a1, world.users["vol_a1_peer"],
                        name="Vũ Văn Khánh", address="12 Lê Lợi", phone="0912345678")
    make_client(session, world.commune_a1, None, name="Trịnh Văn Long")
    session.commit()
    for i in range(7):
        _sync(engine, me, [outbox_record("visit", outbox_payload(
            "visit", world, TODAY - timedelta(days=i), notes=f"lần {i}"))])
    data = outbox.snapshot(session=session, actor=me, today=TODAY)
    text = json.dumps(data, ensure_ascii=False)
    assert [c["id"] for c in data["clients"]] == [world.clients["a1"]]
    assert {row["client_id"] for row in data["today_list"]} <= {world.clients["a1"]}
    for name in ("Phạm Thị Dung", "Hoàng Văn Em", "Vũ Văn Khánh", "Trịnh Văn Long",
                 "12 Lê Lợi", "0912345678", "positive", "Tày"):
        assert name not in text  # others' clients, and sensitive fields, never
    assert str(other) not in {str(c["id"]) for c in data["clients"]}
    [client] = data["clients"]
    assert client["full_name"] == "Lê Văn Cường" and client["commune_name"] == "Xã A Một"
    assert client["open_episode"]["id"] in (world.episodes["a1_open"],
                                            world.episodes["a1_proposed"])
    assert len(client["recent"]) == 5
    assert client["recent"][0]["kind"] == "visit" and client["recent"][0]["fields"]["notes"] == \
        "lần 0"
    assert [r["id"] for r in client["open_referrals"]] == [world.referrals["a1"]]
    assert data["user"]["id"] == me.user_id and data["places"][0]["id"] == world.commune_a1
    assert data["expires_after_days"] == 7 and data["idle_minutes"] == 30
    assert [(f["id"], "mmt" in f["services"]) for f in data["facilities"]] == \
        [(world.facility_a, True)]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "outbox.snapshot")).all()


def test_the_snapshot_expiry_is_a_setting(session: Session, world: World) -> None:
    me = _actor(session, world)
    session.add(Setting(key="outbox.snapshot_days", value="3"))
    session.commit()
    assert outbox.snapshot(session=session, actor=me, today=TODAY)["expires_after_days"] == 3
    with pytest.raises(PermissionDenied):
        outbox.snapshot(session=session, actor=world.actor(session, "sup_a1"), today=TODAY)


# --- the device key ------------------------------------------------------------------------


def test_the_device_key_is_stable_per_user_and_device_and_nobody_elses(
    session: Session, world: World
) -> None:
    me = _actor(session, world)
    first = outbox.device_key(session=session, actor=me, device_id=DEVICE)
    session.commit()
    # Signed out and in again: a new session, the same key for the same device.
    again = outbox.device_key(session=session, actor=_actor(session, world), device_id=DEVICE)
    assert (again.key, again.key_id) == (first.key, first.key_id) and len(first.key) == 64
    other_device = outbox.device_key(session=session, actor=me,
                                     device_id="11111111-2222-4333-8444-555555555555")
    peer = outbox.device_key(session=session, actor=_actor(session, world, "vol_a1_peer"),
                             device_id=DEVICE)
    assert len({first.key, other_device.key, peer.key}) == 3
    with pytest.raises(PermissionDenied):
        outbox.device_key(session=session, actor=world.actor(session, "sup_a1"),
                          device_id=DEVICE)
    with pytest.raises(ValidationFailed):
        outbox.device_key(session=session, actor=me, device_id="x")
