"""The volunteer's screens at State level: real handlers, a real SQLite file, no browser.

Each handler is called the way Reflex calls it (through `@guarded`, with the session cookie
value set on the state) so the test covers the guard, the handler and the service together.
Another volunteer's client, or another commune, must look exactly like a missing record and
leave a 'denied' audit event.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

import app.app  # noqa: F401  (registers every page, so every State class exists)
from app.i18n import t
from app.pages.clients import ClientsState
from app.pages.profile import TIMELINE_PAGE, ProfileState
from app.pages.register import RegisterState
from app.pages.today import TodayState
from app.services.calendar import today_vn
from models import (
    AuditEvent,
    Client,
    Consent,
    Episode,
    EpisodeStatus,
    Role,
    Visit,
    VisitKind,
)
from tests.factories import World, count, make_determination
from tests.state.conftest import page_state, run, session_token


def _denials(engine: Engine, action: str, target_id: int | None = None) -> list[AuditEvent]:
    with Session(engine, expire_on_commit=False) as session:
        query = select(AuditEvent).where(AuditEvent.action == action,
                                         AuditEvent.outcome == "denied")
        if target_id is not None:
            query = query.where(AuditEvent.target_id == target_id)
        return list(session.exec(query).all())


# --- profile ---------------------------------------------------------------------------------


def test_a_volunteer_opening_their_own_client_sees_profile_timeline_and_sensitive_fields(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{cid}")
    run(state.load)
    assert state.view == "found"
    assert state.head["name"] == "Lê Văn Cường"
    assert state.head["assigned_vi"] == "Bạn"
    assert {row["id"] for row in state.details} >= {"detail-hiv_status", "detail-ethnicity"}
    assert [row["kind"] for row in state.timeline].count("episode") == 2
    assert state.has_episode and state.episode["end"] == "01/01/2026"
    assert state.actions[0] == "visit"
    assert state.can_open_episode  # they enter the authority's decision for their own client
    assert state.can_issue_card and state.can_propose_closure
    assert [row["id"] for row in state.closable] == [str(world.episodes["a1_open"])]


def test_a_long_history_shows_its_newest_entries_first_and_the_rest_on_request(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    with Session(engine, expire_on_commit=False) as session:
        first = today_vn() - timedelta(days=400)
        session.add_all(Visit(client_id=cid, visit_date=first + timedelta(days=7 * i),
                              kind=VisitKind.HOME) for i in range(45))
        session.commit()
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{cid}")
    run(state.load)
    whole = len(state._timeline_rows)
    assert whole > 45 and len(state.timeline) == TIMELINE_PAGE
    assert state.timeline == state._timeline_rows[:TIMELINE_PAGE]  # newest first
    assert state.timeline_more == whole - TIMELINE_PAGE
    run(state.show_more_timeline)
    assert len(state.timeline) == 2 * TIMELINE_PAGE
    while state.timeline_more:
        run(state.show_more_timeline)
    assert state.timeline == state._timeline_rows and len(state.timeline) == whole
    run(state.load)  # opening the profile again starts from the newest entries
    assert len(state.timeline) == TIMELINE_PAGE


@pytest.mark.parametrize("other", ["a2", "b1"])
def test_another_volunteers_client_by_id_is_not_found_and_audited(
    world_db: World, engine: Engine, other: str
) -> None:
    world = world_db
    cid = world.clients[other]
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{cid}")
    run(state.load)
    assert state.view == "missing"
    assert state.head == {} and state.timeline == [] and state.details == []
    assert _denials(engine, "client.read", cid), "the refused read is in the audit trail"


def test_a_peer_volunteer_in_the_same_commune_cannot_open_the_client(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    state = page_state(ProfileState, session_token(engine, world, "vol_a1_peer"), f"/clients/{cid}")
    run(state.load)
    assert state.view == "missing"
    assert _denials(engine, "client.read", cid)


def test_a_missing_or_malformed_client_id_is_not_found(world_db: World, engine: Engine) -> None:
    world = world_db
    for path in ("/clients/999999", "/clients/abc", "/clients/-1"):
        state = page_state(ProfileState, session_token(engine, world, "vol_a1"), path)
        run(state.load)
        assert state.view == "missing", path


def test_a_supervisor_cannot_open_an_episode_for_a_client_outside_their_province(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    state = page_state(ProfileState, session_token(engine, world, "sup_b"), f"/clients/{cid}")
    run(state.load)
    assert state.view == "missing"
    assert _denials(engine, "client.read", cid)
    with Session(engine, expire_on_commit=False) as session:
        before = count(session, Episode)
    run(state.open_episode, {"episode_type": "mmt", "start_date": "2025-10-01"})
    with Session(engine, expire_on_commit=False) as session:
        assert count(session, Episode) == before


def _end_live_episodes(engine: Engine, client_id: int) -> None:
    """Setup: the world's clients are under illegal-use management, which the law lets no
    rehab overlap (app/services/law/rules.py OVERLAPS)."""
    with Session(engine, expire_on_commit=False) as session:
        for ep in session.exec(select(Episode).where(Episode.client_id == client_id)).all():
            ep.status = EpisodeStatus.CLOSED
            session.add(ep)
        session.commit()


def test_a_supervisor_opens_an_episode_whose_end_comes_from_the_rules(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    _end_live_episodes(engine, cid)
    state = page_state(ProfileState, session_token(engine, world, "sup_a"), f"/clients/{cid}")
    run(state.load)
    assert state.can_open_episode
    form = {"episode_type": "voluntary_community", "start_date": "2025-10-01",
            "decision_number": "12/QĐ"}
    # A voluntary registration needs a valid determination of dependence: refused under the
    # field, in the user's language, with the focus sent to it.
    answer = run(state.open_episode, form)
    assert state.episode_errors["episode_type"] == t("error.determination_required", "vi")
    assert "open-episode-form" in str(answer)
    with Session(engine, expire_on_commit=False) as session:
        make_determination(session, cid, date(2025, 9, 20))
        session.commit()
    run(state.open_episode, form)
    assert state.episode_error == "", state.episode_errors
    with Session(engine, expire_on_commit=False) as session:
        opened = session.exec(
            select(Episode).where(Episode.client_id == cid,
                                  Episode.episode_type == "voluntary_community")
        ).one()
    assert opened.expected_end is not None and opened.expected_end.isoformat() == "2026-04-01"


def test_a_volunteer_opens_an_episode_for_their_own_client(world_db: World, engine: Engine) -> None:
    world = world_db
    cid = world.clients["a1"]
    _end_live_episodes(engine, cid)
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{cid}")
    run(state.load)
    run(state.open_episode, {"episode_type": "mmt", "start_date": "2025-10-01",
                             "decision_number": "7/QĐ-UBND"})
    assert state.episode_error == "", state.episode_errors
    assert state.saved_message == (
        f"Đã mở đợt quản lý cho {state.head['name']}: Điều trị thay thế (Methadone).")
    assert state.saved_for == f"/clients/{cid}"
    with Session(engine, expire_on_commit=False) as session:
        opened = session.exec(
            select(Episode).where(Episode.client_id == cid, Episode.episode_type == "mmt")
        ).one()
    assert opened.decision_number == "7/QĐ-UBND"
    assert not _denials(engine, "handler.call")


def test_a_volunteer_cannot_open_an_episode_for_another_volunteers_client(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    mine, theirs = world.clients["a1"], world.clients["a2"]
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{theirs}")
    run(state.load)
    assert state.view == "missing"
    with Session(engine, expire_on_commit=False) as session:
        before = count(session, Episode)
    run(state.open_episode, {"episode_type": "mmt", "start_date": "2025-10-01"})
    with Session(engine, expire_on_commit=False) as session:
        assert count(session, Episode) == before
    # Even with the screen of their own client still in state, the service decides the target.
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{mine}")
    run(state.load)
    state._client_id = theirs  # what a tampered state would hold
    run(state.open_episode, {"episode_type": "mmt", "start_date": "2025-10-01"})
    assert state.view == "found" and state.episode_error == "Không tìm thấy."
    with Session(engine, expire_on_commit=False) as session:
        assert count(session, Episode) == before
    assert _denials(engine, "episode.open", theirs)


def test_a_volunteer_proposes_closing_an_open_episode_of_their_client(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid, episode = world.clients["a1"], world.episodes["a1_open"]
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{cid}")
    run(state.load)
    ended = (today_vn() - timedelta(days=2)).isoformat()
    form = {"episode_id": str(episode), "end_reason": "completed", "actual_end": ended}
    run(state.propose_closure, form)
    assert state.closure_error == "", state.closure_errors
    assert state.saved_message.startswith("Đã gửi đề nghị kết thúc đợt quản lý của ")
    assert state.closable == []  # nothing left to propose
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(Episode, episode)
        assert row is not None
        assert (row.status, row.end_reason, row.actual_end.isoformat() if row.actual_end
                else None, row.version) == ("closure_proposed", "completed", ended, 2)
    run(state.propose_closure, form)  # a double tap: nothing more happens
    assert state.closure_error == ""
    with Session(engine, expire_on_commit=False) as session:
        assert session.get(Episode, episode).version == 2  # type: ignore[union-attr]


def test_a_closure_proposal_on_an_outdated_screen_is_a_conflict(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid, episode = world.clients["a1"], world.episodes["a1_open"]
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{cid}")
    run(state.load)
    # Someone else changes the episode meanwhile.
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(Episode, episode)
        assert row is not None
        row.version += 1
        session.add(row)
        session.commit()
    run(state.propose_closure, {"episode_id": str(episode), "end_reason": "moved",
                                "actual_end": today_vn().isoformat()})
    assert state.closure_error == t("error.conflict", "vi")
    with Session(engine, expire_on_commit=False) as session:
        assert session.get(Episode, episode).status == "open"  # type: ignore[union-attr]
    # The screen now shows the episode as it is: a second try goes through.
    run(state.propose_closure, {"episode_id": str(episode), "end_reason": "moved",
                                "actual_end": today_vn().isoformat()})
    assert state.closure_error == ""
    with Session(engine, expire_on_commit=False) as session:
        assert session.get(Episode, episode).status == "closure_proposed"  # type: ignore[union-attr]


def test_a_closure_proposal_with_a_future_date_or_unknown_reason_is_refused(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid, episode = world.clients["a1"], world.episodes["a1_open"]
    state = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{cid}")
    run(state.load)
    future = (today_vn() + timedelta(days=1)).isoformat()
    run(state.propose_closure, {"episode_id": str(episode), "end_reason": "completed",
                                "actual_end": future})
    assert state.closure_errors["actual_end"]
    run(state.propose_closure, {"episode_id": str(episode), "end_reason": "bored",
                                "actual_end": today_vn().isoformat()})
    assert state.closure_errors["end_reason"]
    # An episode id that is not an open episode on this screen is never sent to the service.
    run(state.propose_closure, {"episode_id": str(world.episodes["a2_open"]),
                                "end_reason": "completed", "actual_end": "2025-06-01"})
    with Session(engine, expire_on_commit=False) as session:
        assert session.get(Episode, episode).status == "open"  # type: ignore[union-attr]
        assert session.get(Episode, world.episodes["a2_open"]).status == "open"  # type: ignore[union-attr]


def test_the_profile_names_another_volunteer_for_a_supervisor(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    state = page_state(ProfileState, session_token(engine, world, "sup_a"),
                       f"/clients/{world.clients['a2']}")
    run(state.load)
    assert state.head["assigned_vi"] == state.head["assigned_en"] == "vol_a2"


# --- lists -----------------------------------------------------------------------------------


def test_my_clients_lists_only_the_volunteers_own_clients_and_search_ignores_accents(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    state = page_state(ClientsState, session_token(engine, world, "vol_a1"), "/clients")
    run(state.load)
    assert [r["id"] for r in state.rows] == [str(world.clients["a1"])]
    run(state.search, {"q": "le van cuong", "status": "active"})
    assert [r["full_name"] for r in state.rows] == ["Lê Văn Cường"]
    run(state.search, {"q": "pham thi dung", "status": "all"})  # vol_a2's client
    assert state.rows == [] and state.total == 0


def test_paging_handlers_stay_inside_the_result(world_db: World, engine: Engine) -> None:
    world = world_db
    state = page_state(ClientsState, session_token(engine, world, "sup_a"), "/clients")
    run(state.load)
    assert state.total == 2 and state.pages == 1
    run(state.next_page)
    run(state.previous_page)
    assert state.page == 1
    run(state.search, {"q": "x" * 500, "status": "nonsense"})
    assert state.status == "active" and len(state.query) <= 100


def test_my_clients_filters_by_live_episode_type_and_overdue(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    # a1 is past the end of its open episode, a2 is not.
    with Session(engine, expire_on_commit=False) as session:
        for key, days in (("a1", -1), ("a2", 200)):
            row = session.get(Episode, world.episodes[f"{key}_open"])
            assert row is not None
            row.expected_end = today_vn() + timedelta(days=days)
            session.add(row)
        session.commit()
    state = page_state(ClientsState, session_token(engine, world, "sup_a"), "/clients")
    run(state.load)
    assert state.total == 2
    run(state.search, {"q": "", "status": "active", "overdue": "on"})
    assert state.overdue and [r["full_name"] for r in state.rows] == ["Lê Văn Cường"]
    run(state.search, {"q": "", "status": "active", "episode_type": "illegal_use",
                       "overdue": None})
    assert not state.overdue and state.total == 2
    run(state.search, {"q": "", "status": "active", "episode_type": "mmt"})
    assert state.episode_type == "mmt" and state.rows == [] and state.total == 0
    run(state.search, {"q": "", "status": "active", "episode_type": "robot"})
    assert state.episode_type == "" and state.total == 2


def test_today_lists_only_the_volunteers_own_clients(world_db: World, engine: Engine) -> None:
    world = world_db
    state = page_state(TodayState, session_token(engine, world, "vol_a1"), "/today")
    run(state.load)
    rows = [*state.overdue_rows, *state.today_rows, *state.referral_rows,
            *state.not_visited_rows, *state.upcoming_rows]
    assert rows, "client a1 has an overdue episode and an open referral"
    assert {r["client_name"] for r in rows} == {"Lê Văn Cường"}
    assert state.open_referrals == 1


# --- register --------------------------------------------------------------------------------


def _form(world: World, **changes: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "full_name": "Đỗ Văn Phúc", "birth_year": "1992", "sex": "male",
        "commune_id": str(world.commune_a1), "phone": "0912 345 678",
        "consent_case_management": "on",
    }
    values.update(changes)
    return values


def test_registering_in_another_volunteers_commune_is_refused_and_audited(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    state = page_state(RegisterState, session_token(engine, world, "vol_a1"), "/clients/new")
    run(state.load)
    assert [c["id"] for c in state.communes] == [str(world.commune_a1)]
    run(state.submit, _form(world, commune_id=str(world.commune_a2)))
    assert state.error
    with Session(engine, expire_on_commit=False) as session:
        assert session.exec(select(Client).where(Client.full_name == "Đỗ Văn Phúc")).first() \
            is None
    assert _denials(engine, "client.create")


def test_a_duplicate_owned_by_another_volunteer_is_neither_named_nor_hinted_at(
    world_db: World, engine: Engine,
) -> None:
    """Issue 19 item 4: a match the volunteer may not read is not revealed, not even as a
    count (that was a membership oracle); the record is saved and the supervisor's duplicate
    list shows the pair."""
    world = world_db
    state = page_state(RegisterState, session_token(engine, world, "vol_a1_peer"), "/clients/new")
    run(state.load)
    run(state.submit, _form(world, full_name="le van cuong", birth_year="1990"))
    assert state.duplicates == [] and state.hidden_duplicates == 0
    assert "Lê Văn Cường" not in repr(state.dict())
    with Session(engine, expire_on_commit=False) as session:
        assert len(session.exec(select(Client).where(Client.name_key == "le van cuong")).all()) \
            == 2


def test_a_double_submit_creates_one_client(world_db: World, engine: Engine) -> None:
    world = world_db
    state = page_state(RegisterState, session_token(engine, world, "vol_a1"), "/clients/new")
    run(state.load)
    first = run(state.submit, _form(world))
    second = run(state.submit, _form(world))
    with Session(engine, expire_on_commit=False) as session:
        made = session.exec(select(Client).where(Client.full_name == "Đỗ Văn Phúc")).all()
    assert len(made) == 1
    assert first[-1] is not None and second[-1] is not None  # both lead to the same profile
    assert state.duplicates == []


def test_a_minor_needs_a_legal_representative_and_the_form_says_so(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    state = page_state(RegisterState, session_token(engine, world, "vol_a1"), "/clients/new")
    run(state.load)
    run(state.birth_year_changed, "2012")
    assert state.minor
    run(state.submit, _form(world, birth_year="2012"))
    assert state.errors["legal_rep_name"]
    run(state.submit, _form(world, birth_year="2012", legal_rep_name="Đỗ Thị Mai"))
    with Session(engine, expire_on_commit=False) as session:
        saved = session.exec(select(Client).where(Client.full_name == "Đỗ Văn Phúc")).one()
    assert saved.legal_rep_name == "Đỗ Thị Mai"


def test_bad_form_values_become_field_errors_not_crashes(world_db: World, engine: Engine) -> None:
    world = world_db
    state = page_state(RegisterState, session_token(engine, world, "vol_a1"), "/clients/new")
    run(state.load)
    run(state.submit, {"birth_year": "19x0", "commune_id": "1; drop", "sex": "robot"})
    assert state.errors["birth_year"] and state.errors["commune_id"] and state.errors["sex"]
    run(state.submit, _form(world, consent_case_management=""))
    assert state.errors["consents"]


def test_clinic_staff_cannot_use_the_volunteer_handlers(world_db: World, engine: Engine) -> None:
    world = world_db
    cid = world.clients["a1"]  # referred to clinic_a's facility
    state = page_state(ProfileState, session_token(engine, world, "clinic_a"), f"/clients/{cid}")
    # Clinic staff may read the profile of a client they reach (issue 17: referral or
    # break-glass): read-only, without the sensitive fields.
    run(state.load)
    assert state.view == "found" and state.actions == []
    assert not any(d["id"] in ("detail-hiv_status", "detail-ethnicity") for d in state.details)
    run(state.open_episode, {"episode_type": "illegal_use", "start_date": "2026-01-01"})
    with Session(engine, expire_on_commit=False) as session:
        refused = session.exec(
            select(AuditEvent).where(AuditEvent.action == "handler.call",
                                     col(AuditEvent.detail).contains("ProfileState.open_episode"))
        ).all()
    assert refused and refused[0].role == Role.CLINIC.value


def test_fields_not_on_screen_arrive_as_none_and_count_as_empty(
    world_db: World, engine: Engine,
) -> None:
    # Reflex submits every named field of the form; an adult's hidden legal-representative
    # fields come as None and must not become the text "None" (an invalid phone number).
    world = world_db
    state = page_state(RegisterState, session_token(engine, world, "vol_a1"), "/clients/new")
    run(state.load)
    run(state.submit, _form(world, legal_rep_name=None, legal_rep_phone=None,
                            injects=None, consent_referral=None))
    assert state.error == "", state.errors
    with Session(engine, expire_on_commit=False) as session:
        saved = session.exec(select(Client).where(Client.full_name == "Đỗ Văn Phúc")).one()
    assert saved.legal_rep_phone == "" and saved.injects is False


def test_the_registration_form_says_who_gave_the_consent_and_how(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    state = page_state(RegisterState, session_token(engine, world, "sup_a1"), "/clients/new")
    run(state.load)
    refused = run(state.submit, _form(world, consent_given_by="representative",
                                      consent_representative_name="Đỗ Thị Mai"))
    assert state.errors["consent_representative_relation"] in (
        t("privacy.error.relation_required", "vi"), t("privacy.error.relation_required", "en"))
    assert "register-form" in repr(refused)  # the focus goes to the first problem
    run(state.submit, _form(world, consent_given_by="representative",
                            consent_representative_name="Đỗ Thị Mai",
                            consent_representative_relation="chị gái",
                            consent_method="paper", consent_form_number="PĐY-7"))
    with Session(engine, expire_on_commit=False) as session:
        saved = session.exec(select(Client).where(Client.full_name == "Đỗ Văn Phúc")).one()
        consents = session.exec(select(Consent).where(Consent.client_id == saved.id)).all()
    assert consents and {(c.given_by, c.representative_name, c.representative_relation,
                          c.method, c.form_number) for c in consents} == {
        ("representative", "Đỗ Thị Mai", "chị gái", "paper", "PĐY-7")}
