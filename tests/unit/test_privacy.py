"""Personal-data protection end to end at the service level (runs on SQLite and, in the CI's
second lane, on PostgreSQL): who saw a record, consent and its withdrawal, the requests
register from receipt to the answer, break-glass with a moved clock, retention, inventory."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from app.services import clients, privacy
from app.services.actor import load_actor
from app.services.calendar import today_vn
from app.services.dto import ReferralCreate
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from app.services.exports import LineListFilters, client_line_list
from models import (
    AuditEvent,
    Card,
    CardStatus,
    Client,
    ClientStatus,
    Episode,
    EpisodeStatus,
    Organisation,
    OrgKind,
    ReferralService,
    RequestKind,
    RequestStatus,
    Role,
    TeamMember,
    Visit,
    VisitKind,
)
from tests.factories import World, make_client

TODAY = today_vn()


def _sheet_text(data: bytes) -> str:
    wb = load_workbook(io.BytesIO(data))
    return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                     for c in row if c is not None)


# --- "Ai đã xem hồ sơ này" -----------------------------------------------------------------


def test_a_supervisor_sees_who_read_and_changed_a_clients_records(session: Session,
                                                                   world: World) -> None:
    cid = world.clients["a1"]
    clients.get_client(session=session, actor=world.actor(session, "vol_a1"), client_id=cid)
    clients.client_timeline(session=session, actor=world.actor(session, "clinic_a"),
                            client_id=cid)
    rows = privacy.client_audit(session=session, actor=world.actor(session, "sup_a"),
                                client_id=cid, start=TODAY - timedelta(days=1), end=TODAY)
    who = {(r.actor_name, r.role, r.kind) for r in rows}
    assert ("vol_a1", "volunteer", "read") in who and ("clinic_a", "clinic", "read") in who
    reads = privacy.client_audit(session=session, actor=world.actor(session, "sup_a"),
                                 client_id=cid, start=TODAY, end=TODAY, kind="change")
    assert all(r.kind == "change" for r in reads)
    # Looking is itself audited, and shows the next time.
    again = privacy.client_audit(session=session, actor=world.actor(session, "sup_a"),
                                 client_id=cid, start=TODAY, end=TODAY, kind="read")
    assert any(r.action == "privacy.client_audit" for r in again)


def test_the_audit_view_is_denied_to_volunteers_and_out_of_scope_supervisors(
        session: Session, world: World) -> None:
    cid = world.clients["a1"]
    with pytest.raises(PermissionDenied):
        privacy.client_audit(session=session, actor=world.actor(session, "vol_a1"),
                             client_id=cid, start=TODAY, end=TODAY)
    with pytest.raises(NotFound):
        privacy.client_audit(session=session, actor=world.actor(session, "sup_b"),
                             client_id=cid, start=TODAY, end=TODAY)


def test_an_administrator_gets_audit_metadata_and_an_accounts_reads_never_the_record(
        session: Session, world: World) -> None:
    cid = world.clients["a1"]
    clients.get_client(session=session, actor=world.actor(session, "vol_a1"), client_id=cid)
    admin = world.actor(session, "admin")
    rows = privacy.client_audit(session=session, actor=admin, client_id=cid, start=TODAY,
                                end=TODAY)
    assert rows and "Lê Văn Cường" not in repr(rows)
    data = privacy.client_audit_export(session=session, actor=admin, client_id=cid,
                                       start=TODAY, end=TODAY, fmt="xlsx")
    text = _sheet_text(data)
    assert "vol_a1" in text and "Lê Văn Cường" not in text
    mine = privacy.account_audit(session=session, actor=admin, user_id=world.users["vol_a1"],
                                 start=TODAY, end=TODAY)
    assert any(r.target_id == cid and r.action == "client.read" for r in mine)
    with pytest.raises(PermissionDenied):
        privacy.account_audit(session=session, actor=world.actor(session, "sup_a"),
                              user_id=world.users["vol_a1"], start=TODAY, end=TODAY)


# --- consent -------------------------------------------------------------------------------


def test_a_representatives_paper_consent_names_who_and_how(session: Session,
                                                           world: World) -> None:
    vol = world.actor(session, "vol_a1")
    cid = world.clients["a1"]
    with pytest.raises(ValidationFailed) as err:
        privacy.record_consent(session=session, actor=vol, client_id=cid, data=privacy.ConsentGiven(
            purpose="referral", sensitive_categories=("health",), given_on=TODAY,
            given_by="representative", method="paper"))
    assert set(err.value.fields) == {"representative_name", "representative_relation",
                                     "form_number"}
    view = privacy.record_consent(session=session, actor=vol, client_id=cid,
                                  data=privacy.ConsentGiven(
        purpose="referral", sensitive_categories=("health", "drug_use"),
        given_on=TODAY, given_by="representative", representative_name="Lê Thị Mẹ",
        representative_relation="mẹ", method="paper", form_number="PL-2026-017"))
    listed = privacy.consents_of(session=session, actor=vol, client_id=cid)
    assert listed[-1] == view
    assert (view.given_by, view.representative_relation, view.form_number) == (
        "representative", "mẹ", "PL-2026-017")
    pdf = privacy.consent_form_pdf(session=session, actor=vol, client_id=cid)
    assert pdf.startswith(b"%PDF")


def test_withdrawing_referral_sharing_stops_it_at_once(session: Session, world: World) -> None:
    vol = world.actor(session, "vol_a1")
    cid = world.clients["a1"]
    consent = privacy.record_consent(session=session, actor=vol, client_id=cid,
                                     data=privacy.ConsentGiven(
        purpose="referral", sensitive_categories=("health",), given_on=TODAY))
    clinic = world.actor(session, "clinic_a")
    assert clients.get_client(session=session, actor=clinic, client_id=cid).id == cid
    privacy.withdraw_consent(session=session, actor=vol, client_id=cid, consent_id=consent.id)
    with pytest.raises(NotFound):
        clients.get_client(session=session, actor=clinic, client_id=cid)
    assert clients.search_clients(session=session, actor=clinic).total == 0
    from app.services import activities

    with pytest.raises(ValidationFailed) as err:
        activities.create_referral(session=session, actor=vol, data=ReferralCreate(
            client_id=cid, service=ReferralService.MMT, facility_id=world.facility_a,
            referred_on=TODAY, consent=True))
    assert err.value.fields == {"facility_id": "privacy.error.sharing_withdrawn"}
    rows = privacy.client_audit(session=session, actor=world.actor(session, "sup_a"),
                                client_id=cid, start=TODAY, end=TODAY, kind="change")
    assert any(r.action == "consent.withdraw" for r in rows)


def test_withdrawing_statistics_leaves_deidentified_line_lists(session: Session,
                                                               world: World) -> None:
    vol, sup = world.actor(session, "vol_a1"), world.actor(session, "sup_a")
    cid = world.clients["a1"]
    consent = privacy.record_consent(session=session, actor=vol, client_id=cid,
                                     data=privacy.ConsentGiven(
        purpose="reporting", sensitive_categories=(), given_on=TODAY))

    def rows() -> int:
        data = client_line_list(session=session, actor=sup, deidentified=True,
                                filters=LineListFilters(place_id=world.commune_a1))
        return data.decode("utf-8-sig").count("\r\n") - 1

    assert rows() == 1
    privacy.withdraw_consent(session=session, actor=vol, client_id=cid, consent_id=consent.id)
    assert rows() == 0


# --- requests ------------------------------------------------------------------------------


def _receive(session: Session, world: World, kind: RequestKind, client: str = "a1",
             received_on: date = TODAY) -> privacy.RequestView:
    return privacy.receive_request(
        session=session, actor=world.actor(session, "sup_a"),
        data=privacy.RequestReceived(client_id=world.clients[client], kind=kind,
                                     received_on=received_on, requester_name="Lê Văn Cường"))


def test_an_access_request_goes_from_receipt_to_the_pdf_and_the_workbook(
        session: Session, world: World) -> None:
    sup = world.actor(session, "sup_a")
    cid = world.clients["a1"]
    clients.get_client(session=session, actor=world.actor(session, "vol_a1"), client_id=cid)
    req = _receive(session, world, RequestKind.ACCESS)
    assert req.status == RequestStatus.RECEIVED and req.ack_days_left is not None
    assert [r.id for r in privacy.list_requests(session=session, actor=sup, open_only=True)] \
        == [req.id]
    req = privacy.acknowledge(session=session, actor=sup, request_id=req.id)
    assert req.status == RequestStatus.ACKNOWLEDGED and req.ack_days_left is None
    pdf = privacy.access_export(session=session, actor=sup, request_id=req.id, fmt="pdf")
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    text = _sheet_text(privacy.access_export(session=session, actor=sup, request_id=req.id,
                                             fmt="xlsx"))
    # Everything held (sensitive fields included: it is the person's own data) and who saw it.
    assert "Lê Văn Cường" in text and "Tày" in text and "vol_a1" in text
    done = privacy.answer(session=session, actor=sup, request_id=req.id,
                          outcome="Đã giao bản PDF và Excel cho người yêu cầu")
    assert done.status == RequestStatus.ANSWERED and done.answer_days_left is None
    assert privacy.list_requests(session=session, actor=sup, open_only=True) == []
    with pytest.raises(NotFound):
        privacy.access_export(session=session, actor=world.actor(session, "sup_b"),
                              request_id=req.id, fmt="pdf")


def test_a_deletion_request_anonymises_the_record_which_leaves_search(session: Session,
                                                                      world: World) -> None:
    sup = world.actor(session, "sup_a")
    cid = world.clients["a1"]
    session.add(Visit(client_id=cid, visit_date=TODAY, kind=VisitKind.HOME,
                      notes="Gặp mẹ ở nhà", author_id=world.users["vol_a1"]))
    session.add(Card(client_id=cid, token_hash="t" * 64, code_hash="c" * 64))
    for ep in session.exec(select(Episode).where(Episode.client_id == cid)).all():
        ep.status = EpisodeStatus.CLOSED
        session.add(ep)
    session.flush()
    assert clients.search_clients(session=session, actor=sup, query="le van cuong").total == 1
    req = _receive(session, world, RequestKind.DELETION)
    done = privacy.execute_deletion(session=session, actor=sup, request_id=req.id)
    assert done.status == RequestStatus.ANSWERED
    client = session.get(Client, cid)
    session.refresh(client)
    assert client is not None and client.anonymised_at is not None
    assert (client.full_name, client.hiv_status, client.ethnicity, client.status) == (
        "—", "", "", ClientStatus.CLOSED)
    assert clients.search_clients(session=session, actor=sup, query="le van cuong").total == 0
    assert cid not in {c.id for c in clients.search_clients(session=session, actor=sup).items}
    assert session.exec(select(Visit.notes).where(Visit.client_id == cid)).all() == [""]
    assert session.exec(select(Card.status).where(Card.client_id == cid)).all() == [
        CardStatus.REVOKED]
    lines, pdf = privacy.answer_letter(session=session, actor=sup, request_id=req.id)
    assert pdf.startswith(b"%PDF") and "Lê Văn Cường" in lines[0]


def test_a_deletion_under_a_legal_hold_is_refused_with_its_basis_printed(
        session: Session, world: World) -> None:
    sup = world.actor(session, "sup_a")
    req = _receive(session, world, RequestKind.DELETION, client="a2")  # has a live episode
    done = privacy.execute_deletion(session=session, actor=sup, request_id=req.id)
    assert done.status == RequestStatus.REFUSED and "73/2021" in done.refusal_basis
    assert session.get(Client, world.clients["a2"]).anonymised_at is None  # type: ignore[union-attr]
    lines, _pdf = privacy.answer_letter(session=session, actor=sup, request_id=req.id)
    assert any("73/2021" in line for line in lines)
    with pytest.raises(ValidationFailed):
        privacy.execute_deletion(session=session, actor=sup, request_id=req.id)


def test_requests_are_for_supervisors_in_scope(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        privacy.receive_request(session=session, actor=world.actor(session, "vol_a1"),
                                data=privacy.RequestReceived(
            client_id=world.clients["a1"], kind=RequestKind.ACCESS, received_on=TODAY,
            requester_name="Ai đó"))
    with pytest.raises(NotFound):
        privacy.receive_request(session=session, actor=world.actor(session, "sup_b"),
                                data=privacy.RequestReceived(
            client_id=world.clients["a1"], kind=RequestKind.ACCESS, received_on=TODAY,
            requester_name="Ai đó"))


def test_a_correction_request_edits_the_record_audited_and_linked_to_the_request(
        session: Session, world: World) -> None:
    sup = world.actor(session, "sup_a")
    cid = world.clients["a1"]
    req = _receive(session, world, RequestKind.CORRECTION)
    with pytest.raises(ValidationFailed) as nothing:
        privacy.execute_correction(session=session, actor=sup, request_id=req.id,
                                   changes={"phone": " "})
    assert nothing.value.fields == {"changes": "privacy.error.no_correction"}
    with pytest.raises(ValidationFailed):  # closing by hand is only a refusal
        privacy.answer(session=session, actor=sup, request_id=req.id, outcome="Đã sửa tay")
    done = privacy.execute_correction(session=session, actor=sup, request_id=req.id,
                                      changes={"full_name": "Lê Văn Cường Sửa",
                                               "phone": "0912345678", "address": ""})
    client = session.get(Client, cid)
    assert client is not None and (client.full_name, client.phone) == ("Lê Văn Cường Sửa",
                                                                       "0912345678")
    assert done.status == RequestStatus.ANSWERED and "Điện thoại" in done.outcome
    events = session.exec(select(AuditEvent).where(
        AuditEvent.action.in_(("client.update", "privacy.request.correction")))).all()
    assert {e.action for e in events} == {"client.update", "privacy.request.correction"}
    linked = next(e for e in events if e.action == "privacy.request.correction")
    assert (linked.target_id, linked.detail) == (
        req.id, f"client={cid} kind=correction fields=full_name,phone")
    with pytest.raises(ValidationFailed):  # answered: nothing more to carry out
        privacy.execute_correction(session=session, actor=sup, request_id=req.id,
                                   changes={"phone": "0987654321"})


def test_a_restriction_stops_referrals_exports_and_statistics_until_it_is_lifted(
        session: Session, world: World) -> None:
    from app.services import activities
    from app.services.exports import pseudonym, pseudonym_key
    from app.services.policy import STATISTICS, purpose_stopped

    sup = world.actor(session, "sup_a")
    cid = world.clients["a1"]

    def listed() -> str:
        return "".join(client_line_list(session=session, actor=sup, filters=LineListFilters(
            place_id=world.commune_a1), fmt="csv", deidentified=d).decode("utf-8-sig")
            for d in (False, True))

    marks = ("Lê Văn Cường", pseudonym(pseudonym_key(session), cid))
    assert all(m in listed() for m in marks)  # the control: listed before
    req = _receive(session, world, RequestKind.RESTRICTION)
    with pytest.raises(ValidationFailed):
        privacy.execute_restriction(session=session, actor=sup, request_id=req.id,
                                    purposes=["photo"])
    done = privacy.execute_restriction(
        session=session, actor=sup, request_id=req.id,
        purposes=["case_management", "referral", "reporting"])
    assert done.status == RequestStatus.ANSWERED
    assert purpose_stopped(session, cid, STATISTICS)
    # The receiving clinic no longer sees the person; no referral can be made.
    with pytest.raises(NotFound):
        clients.get_client(session=session, actor=world.actor(session, "clinic_a"),
                           client_id=cid)
    with pytest.raises(ValidationFailed) as refused:
        activities.create_referral(session=session, actor=sup, data=ReferralCreate(
            client_id=cid, service=ReferralService.MMT, referred_on=TODAY, consent=True))
    assert refused.value.fields.get("service") == "privacy.error.restricted"
    # Out of every line list, identified or not; the record stays with its case workers.
    assert not any(m in listed() for m in marks)
    assert clients.get_client(session=session, actor=world.actor(session, "vol_a1"),
                              client_id=cid).id == cid
    running = privacy.running_limits(session=session, actor=sup)
    assert {(v.client_id, v.kind.value, v.purpose, v.request_id) for v in running} == {
        (cid, "restriction", p, req.id) for p in ("case_management", "referral", "reporting")}
    for view in running:
        privacy.lift_limit(session=session, actor=sup, limit_id=view.id)
    assert not purpose_stopped(session, cid, STATISTICS)
    assert clients.get_client(session=session, actor=world.actor(session, "clinic_a"),
                              client_id=cid).id == cid
    with pytest.raises(NotFound):  # another province's supervisor cannot lift one
        privacy.lift_limit(session=session, actor=world.actor(session, "sup_b"),
                           limit_id=running[0].id)


def test_an_objection_stops_its_purpose_like_a_withdrawn_consent(
        session: Session, world: World) -> None:
    from app.services.policy import REFERRAL_SHARING, STATISTICS, purpose_stopped

    sup = world.actor(session, "sup_a")
    cid = world.clients["a1"]
    req = _receive(session, world, RequestKind.OBJECTION)
    with pytest.raises(ValidationFailed):  # one purpose per objection
        privacy.execute_objection(session=session, actor=sup, request_id=req.id, purpose="")
    done = privacy.execute_objection(session=session, actor=sup, request_id=req.id,
                                     purpose="referral")
    assert done.status == RequestStatus.ANSWERED
    assert purpose_stopped(session, cid, REFERRAL_SHARING)
    assert not purpose_stopped(session, cid, STATISTICS)
    with pytest.raises(NotFound):
        clients.get_client(session=session, actor=world.actor(session, "clinic_a"),
                           client_id=cid)
    event = session.exec(select(AuditEvent).where(
        AuditEvent.action == "privacy.objection")).one()
    assert (event.target_id, event.detail) == (cid, f"request={req.id} purposes=referral")
    other = _receive(session, world, RequestKind.ACCESS)
    with pytest.raises(ValidationFailed):  # only an objection request carries one out
        privacy.execute_objection(session=session, actor=sup, request_id=other.id,
                                  purpose="reporting")


# --- break-glass ---------------------------------------------------------------------------


def test_break_glass_opens_one_client_for_three_hours(session: Session, world: World) -> None:
    t0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    uid = world.users["sup_b"]
    sup_b = load_actor(session, user_id=uid, role=Role.SUPERVISOR, now=t0)
    a1, a2 = world.clients["a1"], world.clients["a2"]
    with pytest.raises(NotFound):
        clients.get_client(session=session, actor=sup_b, client_id=a1)
    with pytest.raises(ValidationFailed):
        privacy.open_glass(session=session, actor=sup_b, client_id=a1,
                           reason_kind="medical_emergency", reason="cấp cứu", now=t0)
    privacy.open_glass(session=session, actor=sup_b, client_id=a1,
                       reason_kind="medical_emergency",
                       reason="Người bệnh bất tỉnh tại trạm y tế, cần tiền sử dùng thuốc",
                       now=t0)
    during = load_actor(session, user_id=uid, role=Role.SUPERVISOR,
                        now=t0 + timedelta(hours=2, minutes=59))
    assert clients.get_client(session=session, actor=during, client_id=a1).id == a1
    # Read-only: the reason does not allow recording.
    from app.services import activities

    with pytest.raises(NotFound):
        activities.create_referral(session=session, actor=during, data=ReferralCreate(
            client_id=a1, service=ReferralService.MMT, referred_on=TODAY, consent=True))
    # A second client needs a second opening with its own reason.
    with pytest.raises(NotFound):
        clients.get_client(session=session, actor=during, client_id=a2)
    # Never in lists.
    assert a1 not in {c.id for c in clients.search_clients(session=session, actor=during).items}
    after = load_actor(session, user_id=uid, role=Role.SUPERVISOR,
                       now=t0 + timedelta(hours=3, minutes=1))
    with pytest.raises(NotFound):
        clients.get_client(session=session, actor=after, client_id=a1)
    # Listed in the record's audit and to the client's own supervisor.
    rows = privacy.client_audit(session=session, actor=world.actor(session, "sup_a"),
                                client_id=a1, start=TODAY - timedelta(days=1), end=TODAY,
                                kind="breakglass")
    assert [r.actor_name for r in rows] == ["sup_b"]
    review = privacy.openings_to_review(session=session, actor=world.actor(session, "sup_a"),
                                        now=t0 + timedelta(hours=1))
    assert [(g.user_name, g.client_id, g.live) for g in review] == [("sup_b", a1, True)]


def test_break_glass_is_shown_to_the_clients_own_supervisor_not_every_commune_supervisor(
        session: Session, world: World) -> None:
    a1 = world.clients["a1"]
    team = Organisation(name="Tổ tình nguyện A1", kind=OrgKind.VOLUNTEER_TEAM,
                        place_id=world.commune_a1)
    session.add(team)
    session.flush()
    assert team.id is not None
    session.add_all([TeamMember(organisation_id=team.id, user_id=world.users["vol_a1"]),
                     TeamMember(organisation_id=team.id, user_id=world.users["sup_a1"])])
    session.flush()
    privacy.open_glass(session=session, actor=world.actor(session, "sup_b"), client_id=a1,
                       reason_kind="medical_emergency",
                       reason="Người bệnh bất tỉnh tại trạm y tế, cần tiền sử dùng thuốc")
    assert privacy.own_supervisors(session, {a1}) == {a1: {world.users["sup_a1"]}}

    def seen_by(name: str) -> list[int]:
        return [g.client_id for g in privacy.openings_to_review(
            session=session, actor=world.actor(session, name))]

    assert seen_by("sup_a1") == [a1]  # the supervisor of vol_a1's team
    assert seen_by("sup_a") == []  # a supervisor of the province, not the client's own
    assert seen_by("admin") == [a1]
    # A supervisor who left the team no longer owns it: back to the commune's supervisors.
    member = session.exec(select(TeamMember).where(
        TeamMember.user_id == world.users["sup_a1"])).one()
    member.left_on = TODAY
    session.add(member)
    session.flush()
    assert seen_by("sup_a") == [a1]


def test_a_continuity_reason_allows_recording_and_volunteers_cannot_break_glass(
        session: Session, world: World) -> None:
    sup_b = world.actor(session, "sup_b")
    a1 = world.clients["a1"]
    privacy.open_glass(session=session, actor=sup_b, client_id=a1,
                       reason_kind="continuity_of_care",
                       reason="Người này chuyển đến phường B, cần ghi lần xét nghiệm hôm nay")
    now_actor = world.actor(session, "sup_b")
    assert now_actor is not None and a1 in now_actor.glass_write_ids
    with pytest.raises(PermissionDenied):
        privacy.open_glass(session=session, actor=world.actor(session, "vol_a2"), client_id=a1,
                           reason_kind="medical_emergency",
                           reason="Tôi muốn xem hồ sơ này vì lý do khẩn cấp")
    with pytest.raises(ValidationFailed):  # already theirs: no need to break glass
        privacy.open_glass(session=session, actor=world.actor(session, "sup_a"), client_id=a1,
                           reason_kind="medical_emergency",
                           reason="Khách hàng của tôi, thử mở khẩn cấp")


# --- retention and inventory ---------------------------------------------------------------


def test_retention_dry_run_lists_and_the_run_anonymises_old_closed_clients(
        session: Session, world: World) -> None:
    admin = world.actor(session, "admin")
    old = make_client(session, world.commune_a1, None, name="Cũ Văn Xưa",
                      status=ClientStatus.CLOSED,
                      created_at=datetime(2010, 1, 1, tzinfo=UTC))
    session.add(Visit(client_id=world.clients["a2"], visit_date=date(2015, 1, 5),
                      kind=VisitKind.HOME, notes="ghi chú cũ"))
    session.flush()
    dry = privacy.plan(session=session, actor=admin)
    assert dry.client_ids == [old] and dry.visit_notes == 1
    assert session.get(Client, old).anonymised_at is None  # type: ignore[union-attr]
    done = privacy.apply(session=session, system=True)
    assert done.client_ids == [old]
    client = session.get(Client, old)
    session.refresh(client)
    assert client is not None and client.anonymised_at is not None
    assert privacy.plan(session=session, actor=admin).client_ids == []
    with pytest.raises(PermissionDenied):
        privacy.plan(session=session, actor=world.actor(session, "sup_a"))


def test_the_processing_inventory_lists_purposes_categories_retention_and_measures(
        session: Session, world: World) -> None:
    admin = world.actor(session, "admin")
    text = _sheet_text(privacy.inventory_export(session=session, actor=admin, fmt="xlsx"))
    assert "client.hiv_status" in text and "10" in text
    assert privacy.inventory_export(session=session, actor=admin, fmt="pdf").startswith(b"%PDF")
    with pytest.raises(PermissionDenied):
        privacy.inventory_export(session=session, actor=world.actor(session, "sup_a"),
                                 fmt="xlsx")


def test_the_retention_command_is_a_dry_run_unless_told_to_apply(
        session: Session, world: World, db_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from app import cli

    old = make_client(session, world.commune_a1, None, name="Cũ Văn Xưa",
                      status=ClientStatus.CLOSED, created_at=datetime(2010, 1, 1, tzinfo=UTC))
    session.commit()
    monkeypatch.setenv("REFLEX_DB_URL", db_url)
    assert cli.main(["retention"]) == 0
    assert "Would anonymise 1 closed client record(s)" in capsys.readouterr().out
    session.expire_all()
    assert session.get(Client, old).anonymised_at is None  # type: ignore[union-attr]
    assert cli.main(["retention", "--apply"]) == 0
    assert "Anonymised 1" in capsys.readouterr().out
    session.expire_all()
    assert session.get(Client, old).anonymised_at is not None  # type: ignore[union-attr]


def test_a_minors_registration_consent_names_their_legal_representative(
        session: Session, world: World) -> None:
    from app.services.dto import ClientCreate, ConsentInput
    from models import Sex

    created = clients.register_client(session=session, actor=world.actor(session, "vol_a1"),
                                      data=ClientCreate(
        full_name="Vũ Văn Nhỏ", birth_year=TODAY.year - 15, sex=Sex.MALE,
        commune_id=world.commune_a1, legal_rep_name="Vũ Thị Mẹ",
        consents=[ConsentInput(purpose="case_management", given_on=TODAY)]))
    [view] = privacy.consents_of(session=session, actor=world.actor(session, "vol_a1"),
                                 client_id=created.id)
    assert (view.given_by, view.representative_name) == ("representative", "Vũ Thị Mẹ")
