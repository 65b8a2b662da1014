"""Client registration, duplicates, consent, idempotency, edits, search and the timeline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, select

from app.services import activities, clients, merge, privacy
from app.services.calendar import today_vn
from app.services.clients import DuplicateCandidates
from app.services.dto import (
    ClientFilters,
    ClientReadSensitive,
    ClientUpdate,
    ConsentInput,
    DrugTestCreate,
    SupportCreate,
    VisitCreate,
)
from app.services.errors import Conflict, PermissionDenied, ValidationFailed
from models import (
    AuditEvent,
    Client,
    Consent,
    EpisodeStatus,
    EpisodeType,
    Organisation,
    Submission,
    SupportKind,
    User,
    Visit,
    VisitKind,
)
from models import TestResult as DrugResult
from tests.factories import World, client_create, count, make_client, make_episode

TODAY = today_vn()


def _register(session: Session, world: World, actor_name: str = "vol_a1", **overrides: object):
    actor = world.actor(session, actor_name)
    data = client_create(overrides.pop("commune_id", world.commune_a1), **overrides)  # type: ignore[arg-type]
    result = clients.register_client(session=session, actor=actor, data=data)
    session.commit()
    return result


def test_a_volunteer_registers_a_client_assigned_to_themself(session: Session,
                                                             world: World) -> None:
    created = _register(session, world, full_name="  Trần   Thị  Bình ")
    assert created.full_name == "Trần Thị Bình"
    assert created.assigned_volunteer_id == world.users["vol_a1"]
    row = session.get(Client, created.id)
    assert row is not None and row.name_key == "tran thi binh"
    consents = session.exec(select(Consent).where(Consent.client_id == created.id)).all()
    assert [c.sensitive_categories for c in consents] == ["drug_use"]


@pytest.mark.parametrize(("overrides", "field", "key"), [
    ({"full_name": "A"}, "full_name", "error.name_length"),
    ({"full_name": "x" * 121}, "full_name", "error.name_length"),
    ({"full_name": "12 34"}, "full_name", "error.name_invalid"),
    ({"birth_year": 1899}, "birth_year", "error.birth_year_range"),
    ({"birth_year": TODAY.year + 1}, "birth_year", "error.birth_year_range"),
    ({"birth_year": TODAY.year - 15}, "legal_rep_name", "error.legal_rep_required"),
    ({"national_id": "12345678901"}, "national_id", "error.national_id_format"),
    ({"national_id": "12345678901a"}, "national_id", "error.national_id_format"),
    ({"phone": "0912"}, "phone", "error.phone_format"),
    ({"phone": "09x2345678"}, "phone", "error.phone_format"),
    ({"consents": []}, "consents", "error.consent_required"),
    ({"hiv_status": "positive"}, "consents", "error.consent_missing_category"),
    ({"hiv_status": "maybe"}, "hiv_status", "error.invalid_choice"),
    ({"commune_id": 999_999}, "commune_id", "error.invalid_commune"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_invalid_registration_names_the_field_and_saves_nothing(
    session: Session, world: World, overrides: dict[str, object], field: str, key: str
) -> None:
    before = count(session, Client)
    with pytest.raises(ValidationFailed) as failed:
        _register(session, world, **overrides)
    session.rollback()
    assert failed.value.fields[field] == key
    assert count(session, Client) == before


def test_a_minor_with_a_legal_representative_is_accepted(session: Session, world: World) -> None:
    created = _register(session, world, birth_year=TODAY.year - 16, legal_rep_name="Trần Văn Hùng")
    assert created.legal_rep_name == "Trần Văn Hùng"


def test_registration_records_who_gave_the_consent_and_how(session: Session,
                                                          world: World) -> None:
    created = _register(session, world, full_name="Phan Văn Lộc",
                        consent_given_by="representative",
                        consent_representative_name=" Phan Thị  Mai ",
                        consent_representative_relation="mẹ", consent_method="paper",
                        consent_form_number="PĐY-0042")
    consent = session.exec(select(Consent).where(Consent.client_id == created.id)).one()
    assert (consent.given_by, consent.representative_name, consent.representative_relation,
            consent.method, consent.form_number) == ("representative", "Phan Thị Mai", "mẹ",
                                                     "paper", "PĐY-0042")
    # Checked as on the consent page, the errors under the registration form's names.
    with pytest.raises(ValidationFailed) as failed:
        _register(session, world, full_name="Phan Văn Lợi", consent_given_by="representative",
                  consent_representative_name="Mai", consent_method="paper")
    session.rollback()
    assert failed.value.fields == {
        "consent_representative_relation": "privacy.error.relation_required",
        "consent_form_number": "privacy.error.form_number_required"}


def test_an_older_form_without_the_giver_records_the_person_or_a_minors_representative(
        session: Session, world: World) -> None:
    adult = _register(session, world, full_name="Vũ Văn Nam")
    minor = _register(session, world, full_name="Vũ Văn Nhỏ", birth_year=TODAY.year - 16,
                      legal_rep_name="Vũ Thị Hà")
    found = {c.client_id: (c.given_by, c.representative_name, c.method) for c in session.exec(
        select(Consent).where(col(Consent.client_id).in_((adult.id, minor.id)))).all()}
    assert found == {adult.id: ("subject", "", "screen"),
                     minor.id: ("representative", "Vũ Thị Hà", "screen")}


def test_national_id_and_phone_are_stored_as_digits(session: Session, world: World) -> None:
    created = _register(session, world, national_id="0012 3456 7890", phone="091.234-5678")
    assert (created.national_id, created.phone) == ("001234567890", "0912345678")


def test_a_volunteer_cannot_register_in_another_commune(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        _register(session, world, commune_id=world.commune_a2)


def test_same_name_year_and_commune_is_a_duplicate_until_confirmed(session: Session,
                                                                  world: World) -> None:
    first = _register(session, world, full_name="Ngô Văn Khải")
    with pytest.raises(DuplicateCandidates) as dup:
        _register(session, world, full_name="ngo van khai")
    session.rollback()
    assert [(c.id, c.full_name) for c in dup.value.candidates] == [(first.id, "Ngô Văn Khải")]
    data = client_create(world.commune_a1, full_name="ngo van khai")
    second = clients.register_client(session=session, actor=world.actor(session, "vol_a1"),
                                     data=data, confirm_duplicates=True)
    assert second.id != first.id


def test_a_look_alike_letter_of_another_script_does_not_slip_past_the_duplicate_check(
        session: Session, world: World) -> None:
    first = _register(session, world, full_name="Ngô Văn Khải")
    # Cyrillic 'о' and 'К', Greek 'α', full-width 'ｎ': the same name to the eye.
    for disguised in ("Ng\u043e V\u0103n \u041ah\u1ea3i", "Ngô V\u03b1n Khải",
                      "Ngô Vă\uff4e Khải"):
        with pytest.raises(DuplicateCandidates) as dup:
            _register(session, world, full_name=disguised)
        session.rollback()
        assert [c.id for c in dup.value.candidates] == [first.id], disguised


def test_a_national_id_registered_elsewhere_is_not_revealed_but_goes_to_review(
        session: Session, world: World) -> None:
    """Issue 19 item 4: no membership oracle. The volunteer's registration is saved as if
    nothing matched; the look-up is audited with what it found; the supervisor of the new
    record's area sees it on the duplicates-across-areas list (only their own side)."""
    other = make_client(session, world.commune_b1, None, name="Người Khác",
                        national_id="001234567890")
    session.commit()
    created = _register(session, world, full_name="Người Mới", national_id="001234567890")
    assert created.id != other
    checks = session.exec(select(AuditEvent.detail).where(
        AuditEvent.action == "client.duplicate_check",
        AuditEvent.actor_id == world.users["vol_a1"])).all()
    assert checks == ["national_id=1 shown=0 hidden=1"]
    review = merge.duplicates_elsewhere(session=session, actor=world.actor(session, "sup_a"))
    assert [(r.client_id, r.full_name) for r in review] == [(created.id, "Người Mới")]
    assert "Người Khác" not in repr(review)


def test_national_id_look_ups_are_rate_limited_per_user(session: Session,
                                                        world: World) -> None:
    for i in range(clients.NATIONAL_ID_LOOKUPS_PER_HOUR):
        _register(session, world, full_name=f"Người Thứ {i}",
                  national_id=f"0010000{i:05d}")
    with pytest.raises(ValidationFailed) as refused:
        _register(session, world, full_name="Người Quá Hạn", national_id="001000099999")
    session.rollback()
    assert refused.value.fields == {"national_id": "client.lookup_throttled"}
    # Without an ID number nothing is probed: registering goes on.
    assert _register(session, world, full_name="Người Không Số").id
    # Another user is not held back.
    assert _register(session, world, actor_name="sup_a", full_name="Người Của Giám Sát",
                     national_id="001000088888").id


def test_a_repeated_submission_key_returns_the_first_client_and_creates_nothing(
    session: Session, world: World
) -> None:
    actor = world.actor(session, "vol_a1")
    data = client_create(world.commune_a1, full_name="Vũ Thị Lan")
    first = clients.register_client(session=session, actor=actor, data=data, submission_key="k-1")
    session.commit()
    before = (count(session, Client), count(session, Submission))
    again = clients.register_client(session=session, actor=actor, data=data, submission_key="k-1")
    assert again.id == first.id
    assert (count(session, Client), count(session, Submission)) == before


def test_a_submission_key_of_someone_else_is_a_conflict(session: Session, world: World) -> None:
    data = client_create(world.commune_a1, full_name="Vũ Thị Lan")
    clients.register_client(session=session, actor=world.actor(session, "vol_a1"), data=data,
                            submission_key="k-2")
    session.commit()
    with pytest.raises(Conflict):
        clients.register_client(session=session, actor=world.actor(session, "sup_a"), data=data,
                                submission_key="k-2")


def test_sensitive_fields_are_absent_not_blank_for_clinic_staff(session: Session,
                                                                world: World) -> None:
    seen = clients.get_client(session=session, actor=world.actor(session, "clinic_a"),
                              client_id=world.clients["a1"])
    assert "hiv_status" not in seen.model_dump()
    assert "ethnicity" not in seen.model_dump()
    assert not isinstance(seen, ClientReadSensitive)


def test_the_assigned_volunteer_sees_sensitive_fields(session: Session, world: World) -> None:
    seen = clients.get_client(session=session, actor=world.actor(session, "vol_a1"),
                              client_id=world.clients["a1"])
    assert isinstance(seen, ClientReadSensitive)
    assert (seen.hiv_status, seen.ethnicity) == ("positive", "Tày")


def test_an_edit_with_a_stale_version_is_a_conflict(session: Session, world: World) -> None:
    sup = world.actor(session, "sup_a")
    updated = clients.update_client(session=session, actor=sup, client_id=world.clients["a1"],
                                    data=ClientUpdate(address="Thôn 1"), expected_version=1)
    session.commit()
    assert updated.version == 2
    with pytest.raises(Conflict):
        clients.update_client(session=session, actor=sup, client_id=world.clients["a1"],
                              data=ClientUpdate(address="Thôn 2"), expected_version=1)


def _edit_national_id(session: Session, world: World, actor_name: str, client_key: str,
                      national_id: str):
    client = session.get(Client, world.clients[client_key])
    assert client is not None
    result = clients.update_client(session=session, actor=world.actor(session, actor_name),
                                   client_id=world.clients[client_key],
                                   data=ClientUpdate(national_id=national_id),
                                   expected_version=client.version)
    session.commit()
    return result


def _lookups(session: Session, world: World, actor_name: str) -> list[str]:
    return list(session.exec(select(AuditEvent.detail).where(
        AuditEvent.action == "client.duplicate_check",
        AuditEvent.actor_id == world.users[actor_name]).order_by(AuditEvent.id)).all())


def test_editing_a_national_id_to_one_outside_scope_is_saved_and_goes_to_review(
        session: Session, world: World) -> None:
    """Issue 19 item 4, the edit door: "already in use" would tell the volunteer that the
    person is registered elsewhere. The edit is saved, the look-up audited, and the supervisor
    of the edited record sees it on the duplicates-across-areas list."""
    make_client(session, world.commune_b1, None, name="Người Khác", national_id="001234567890")
    session.commit()
    edited = _edit_national_id(session, world, "vol_a1", "a1", "001234567890")
    assert edited.national_id == "001234567890"
    assert _lookups(session, world, "vol_a1") == ["national_id=1 shown=0 hidden=1"]
    review = merge.duplicates_elsewhere(session=session, actor=world.actor(session, "sup_a"))
    assert [r.client_id for r in review] == [world.clients["a1"]]
    assert "Người Khác" not in repr(review)


def test_editing_a_national_id_to_one_in_scope_says_already_in_use(session: Session,
                                                                   world: World) -> None:
    make_client(session, world.commune_a1, world.users["vol_a1"], name="Người Cùng Xã",
                national_id="001234567891")
    session.commit()
    with pytest.raises(ValidationFailed) as refused:
        _edit_national_id(session, world, "vol_a1", "a1", "001234567891")
    session.rollback()
    assert refused.value.fields == {"national_id": "error.national_id_in_use"}


def test_national_id_edits_share_the_look_up_limit_with_registration(session: Session,
                                                                     world: World) -> None:
    for i in range(clients.NATIONAL_ID_LOOKUPS_PER_HOUR):
        _register(session, world, full_name=f"Người Thứ {i}", national_id=f"0010000{i:05d}")
    with pytest.raises(ValidationFailed) as refused:
        _edit_national_id(session, world, "vol_a1", "a1", "001000099999")
    session.rollback()
    assert refused.value.fields == {"national_id": "client.lookup_throttled"}
    # An edit that does not change the ID number probes nothing and goes on.
    assert clients.update_client(session=session, actor=world.actor(session, "vol_a1"),
                                 client_id=world.clients["a1"],
                                 data=ClientUpdate(address="Thôn 3"),
                                 expected_version=1).address == "Thôn 3"


def test_a_volunteer_cannot_move_a_client_out_of_their_communes(session: Session,
                                                               world: World) -> None:
    with pytest.raises(PermissionDenied):
        clients.update_client(session=session, actor=world.actor(session, "vol_a1"),
                              client_id=world.clients["a1"],
                              data=ClientUpdate(commune_id=world.commune_b1), expected_version=1)


def test_search_ignores_accents_and_case_and_pages_in_sql(session: Session, world: World) -> None:
    for i in range(7):
        make_client(session, world.commune_a1, world.users["vol_a1"], name=f"Nguyễn Văn Tú {i}")
    session.commit()
    sup = world.actor(session, "sup_a1")
    page1 = clients.search_clients(session=session, actor=sup, query="NGUYEN van tu", page=1,
                                   page_size=5)
    page2 = clients.search_clients(session=session, actor=sup, query="nguyen van tu", page=2,
                                   page_size=5)
    assert page1.total == 7
    assert [c.full_name for c in page1.items + page2.items] == [
        f"Nguyễn Văn Tú {i}" for i in range(7)]


def test_search_stays_inside_the_scope(session: Session, world: World) -> None:
    page = clients.search_clients(session=session, actor=world.actor(session, "sup_b"),
                                  query="", filters=ClientFilters(status=None))
    assert {c.id for c in page.items} == {world.clients["b1"]}


def test_search_treats_like_wildcards_as_text(session: Session, world: World) -> None:
    page = clients.search_clients(session=session, actor=world.actor(session, "sup_a"), query="%")
    assert page.total == 0


def test_reassign_moves_clients_to_a_volunteer_of_their_commune(session: Session,
                                                               world: World) -> None:
    changed = clients.reassign_clients(session=session, actor=world.actor(session, "sup_a"),
                                       client_ids=[world.clients["a1"]],
                                       volunteer_id=world.users["vol_a1_peer"])
    session.commit()
    assert changed == 1
    client = session.get(Client, world.clients["a1"])
    assert client is not None and client.assigned_volunteer_id == world.users["vol_a1_peer"]


def test_reassign_refuses_a_volunteer_of_another_commune(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        clients.reassign_clients(session=session, actor=world.actor(session, "sup_a"),
                                 client_ids=[world.clients["a1"], world.clients["a2"]],
                                 volunteer_id=world.users["vol_a2"])
    assert failed.value.fields == {"volunteer_id": "error.volunteer_out_of_commune"}


def _history(session: Session, world: World) -> None:
    vol = world.actor(session, "vol_a1")
    cid = world.clients["a1"]
    activities.log_visit(session=session, actor=vol, data=VisitCreate(
        client_id=cid, visit_date=TODAY - timedelta(days=3), kind=VisitKind.HOME,
        notes="slept outside", risk_flags="relapse"))
    activities.record_drug_test(session=session, actor=vol, data=DrugTestCreate(
        client_id=cid, tested_on=TODAY - timedelta(days=2), result=DrugResult.NEGATIVE))
    activities.record_support(session=session, actor=vol, data=SupportCreate(
        client_id=cid, kind=SupportKind.VOCATIONAL_TRAINING, started_on=TODAY))
    session.commit()


def test_timeline_is_newest_first_and_complete_for_the_case_worker(session: Session,
                                                                  world: World) -> None:
    _history(session, world)
    items = clients.client_timeline(session=session, actor=world.actor(session, "vol_a1"),
                                    client_id=world.clients["a1"])
    assert [i.on for i in items] == sorted((i.on for i in items), reverse=True)
    assert {i.kind for i in items} == {"visit", "test", "support", "referral", "episode"}
    visit = next(i for i in items if i.kind == "visit")
    assert visit.fields["notes"] == "slept outside"
    # A referral's entry names the clinic it went to.
    referral = next(i for i in items if i.kind == "referral")
    facility = session.get(Organisation, referral.fields["facility_id"])
    assert facility is not None and referral.fields["facility_name"] == facility.name != ""


def test_clinic_timeline_has_no_notes_tests_or_support(session: Session, world: World) -> None:
    _history(session, world)
    items = clients.client_timeline(session=session, actor=world.actor(session, "clinic_a"),
                                    client_id=world.clients["a1"])
    assert {i.kind for i in items} == {"visit", "referral", "episode"}
    visit = next(i for i in items if i.kind == "visit")
    assert "notes" not in visit.fields and "risk_flags" not in visit.fields


def test_consent_withdrawal_is_dated_and_kept(session: Session, world: World) -> None:
    created = _register(session, world, consents=[ConsentInput(
        purpose="case_management", sensitive_categories=["drug_use"], given_on=date(2025, 8, 1))])
    consent_id = created.consents[0].id
    after = privacy.withdraw_consent(session=session, actor=world.actor(session, "vol_a1"),
                                     client_id=created.id, consent_id=consent_id)
    assert after.withdrawn_on == TODAY


# --- filters: episode type, overdue ----------------------------------------------------------


def _mine(session: Session, world: World, name: str) -> int:
    return make_client(session, world.commune_a1, world.users["vol_a1"], name=name)


def _visit_row(session: Session, client_id: int, days_ago: int,
               next_in_days: int | None = None) -> None:
    on = TODAY - timedelta(days=days_ago)
    session.add(Visit(client_id=client_id, visit_date=on, kind=VisitKind.HOME,
                      next_appointment=None if next_in_days is None
                      else TODAY + timedelta(days=next_in_days)))
    session.flush()


def _names(session: Session, world: World, actor: str = "vol_a1", **filters: object) -> set[str]:
    page = clients.search_clients(session=session, actor=world.actor(session, actor),
                                  query="Lọc", filters=ClientFilters(**filters))  # type: ignore[arg-type]
    return {c.full_name for c in page.items}


def test_the_episode_type_filter_keeps_clients_with_a_live_episode_of_that_type(
    session: Session, world: World
) -> None:
    opened, proposed, closed, other = (
        _mine(session, world, f"Lọc Tập {n}") for n in ("Một", "Hai", "Ba", "Bốn"))
    make_episode(session, opened, EpisodeType.MMT)
    make_episode(session, proposed, EpisodeType.MMT, status=EpisodeStatus.CLOSURE_PROPOSED)
    make_episode(session, closed, EpisodeType.MMT, status=EpisodeStatus.CLOSED)
    make_episode(session, other, EpisodeType.ILLEGAL_USE)
    session.commit()
    assert _names(session, world, episode_type=EpisodeType.MMT) == {
        "Lọc Tập Một", "Lọc Tập Hai"}
    assert _names(session, world, episode_type=EpisodeType.ILLEGAL_USE) == {"Lọc Tập Bốn"}
    assert _names(session, world) == {"Lọc Tập Một", "Lọc Tập Hai", "Lọc Tập Ba", "Lọc Tập Bốn"}


def test_overdue_only_keeps_missed_appointments_and_open_episodes_past_their_end(
    session: Session, world: World
) -> None:
    missed = _mine(session, world, "Lọc Hẹn Lỡ")
    _visit_row(session, missed, days_ago=10, next_in_days=-2)
    seen_since = _mine(session, world, "Lọc Đã Gặp Lại")
    _visit_row(session, seen_since, days_ago=10, next_in_days=-2)
    _visit_row(session, seen_since, days_ago=1)
    same_day = _mine(session, world, "Lọc Cùng Ngày")  # the later entry of the day counts
    _visit_row(session, same_day, days_ago=5, next_in_days=-1)
    _visit_row(session, same_day, days_ago=5)
    due_today = _mine(session, world, "Lọc Hẹn Hôm Nay")
    _visit_row(session, due_today, days_ago=7, next_in_days=0)
    past_end = _mine(session, world, "Lọc Quá Hạn Đợt")
    make_episode(session, past_end, EpisodeType.MMT, expected_end=TODAY - timedelta(days=1))
    proposed = _mine(session, world, "Lọc Chờ Duyệt")  # closure proposed: nothing to chase
    make_episode(session, proposed, EpisodeType.MMT, status=EpisodeStatus.CLOSURE_PROPOSED,
                 expected_end=TODAY - timedelta(days=1))
    ends_today = _mine(session, world, "Lọc Hết Hôm Nay")
    make_episode(session, ends_today, EpisodeType.MMT, expected_end=TODAY)
    _mine(session, world, "Lọc Không Có Gì")
    session.commit()

    assert _names(session, world, overdue_only=True) == {"Lọc Hẹn Lỡ", "Lọc Quá Hạn Đợt"}
    assert _names(session, world, overdue_only=True, episode_type=EpisodeType.MMT) == {
        "Lọc Quá Hạn Đợt"}
    assert _names(session, world, "vol_a1_peer", overdue_only=True) == set()  # not theirs


def test_filtered_search_still_pages_in_sql(session: Session, world: World) -> None:
    for i in range(5):
        cid = _mine(session, world, f"Lọc Trang {i}")
        make_episode(session, cid, EpisodeType.MMT, expected_end=TODAY - timedelta(days=3))
    session.commit()
    actor = world.actor(session, "vol_a1")
    filters = ClientFilters(overdue_only=True, episode_type=EpisodeType.MMT)
    pages = [clients.search_clients(session=session, actor=actor, query="loc trang",
                                    filters=filters, page=n, page_size=2) for n in (1, 2, 3)]
    assert [p.total for p in pages] == [5, 5, 5]
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert [c.full_name for p in pages for c in p.items] == [f"Lọc Trang {i}" for i in range(5)]


# --- profile extras ---------------------------------------------------------------------------


def test_the_profile_names_the_assigned_volunteer(session: Session, world: World) -> None:
    user = session.get(User, world.users["vol_a1"])
    assert user is not None
    for reader in ("vol_a1", "sup_a", "clinic_a"):
        seen = clients.get_client(session=session, actor=world.actor(session, reader),
                                  client_id=world.clients["a1"])
        assert seen.assigned_volunteer_name == user.full_name != ""
    unassigned = clients.get_client(session=session, actor=world.actor(session, "sup_b"),
                                    client_id=world.clients["b1"])
    assert unassigned.assigned_volunteer_name == ""


def test_timeline_episodes_carry_their_status_and_version(session: Session, world: World) -> None:
    items = clients.client_timeline(session=session, actor=world.actor(session, "vol_a1"),
                                    client_id=world.clients["a1"])
    episodes_seen = {i.record_id: i.fields for i in items if i.kind == "episode"}
    assert episodes_seen[world.episodes["a1_open"]]["status"] == EpisodeStatus.OPEN
    assert episodes_seen[world.episodes["a1_open"]]["version"] == 1
    assert episodes_seen[world.episodes["a1_proposed"]]["status"] == \
        EpisodeStatus.CLOSURE_PROPOSED
