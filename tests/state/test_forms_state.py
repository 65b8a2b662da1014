"""Forms answered in the page (issue 18 item 4) on the sign-in, account and administration
screens: each problem is said under its field, in the app's language, and the focus goes to
the first; a save is confirmed by the shared notice (`AppState._confirm_saved`). States driven
without a browser, on real sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.pages.account import AccountState
from app.pages.admin_settings import SettingsState
from app.pages.admin_users import AdminUsersState
from app.pages.facilities import FacilitiesState
from app.pages.reports import ReportsState
from app.pages.signin import SecondFactorPageState, SignInState
from app.pages.teams import TeamsState
from models import Organisation
from tests.factories import World, with_session_cookie
from tests.state.conftest import PASSWORD, account_language, page_state, run, sign_in
from tests.state.test_admin_state import world_db  # noqa: F401 (with the provincial admin_a)


def _focuses(yielded: list[Any], form_id: str) -> bool:
    """The handler answered with the move of the focus to the first problem of `form_id`."""
    return any("data-field-error" in str(item) and form_id in str(item) for item in yielded)


def _page(cls: type, url: str) -> Any:
    return with_session_cookie(page_state(cls, ""), "", url)


# ---- sign-in (a plain HTML form: the endpoint names the empty fields in the query) ----------


def test_an_empty_sign_in_field_is_answered_under_it_with_the_focus_on_it(
    world_db: World,  # noqa: F811
) -> None:
    page = _page(SignInState, "http://localhost/?e=signin.required&missing=password")
    yielded = run(page.load)
    assert page.password_error == "Vui lòng nhập mật khẩu."
    assert page.login_error == "" and page.error == ""  # no callout: the field says it
    assert _focuses(yielded, "signin-form")
    assert any("replaceState" in str(item) for item in yielded)  # the query leaves the bar

    page = _page(SignInState, "http://localhost/?e=signin.required&missing=login,password")
    run(page.load)
    assert page.login_error == "Vui lòng nhập tên đăng nhập hoặc số điện thoại."
    assert page.password_error == "Vui lòng nhập mật khẩu."

    # Wrong credentials are not one field's fault: a message above the button, no focus move.
    page = _page(SignInState, "http://localhost/?e=auth.invalid_credentials")
    yielded = run(page.load)
    assert page.error and page.login_error == page.password_error == ""
    assert not _focuses(yielded, "signin-form")

    # Nothing made up is shown.
    page = _page(SignInState, "http://localhost/?e=signin.nope&missing=__class__")
    run(page.load)
    assert page.error == page.login_error == page.password_error == ""


def test_the_code_page_answers_an_empty_or_wrong_code_under_its_field(
    world_db: World,  # noqa: F811
) -> None:
    page = _page(SecondFactorPageState, "http://localhost/second-factor?e=signin.code_required")
    yielded = run(page.load)
    assert page.code_error == "Vui lòng nhập mã." and page.error == ""
    assert _focuses(yielded, "code-form")
    page = _page(SecondFactorPageState, "http://localhost/second-factor?e=auth.code_wrong")
    run(page.load)
    assert page.code_error.startswith("Mã không đúng")
    page = _page(SecondFactorPageState, "http://localhost/second-factor?e=auth.throttled&m=3")
    run(page.load)
    assert page.error and page.code_error == ""


# ---- one's own account --------------------------------------------------------------------


def test_the_password_form_says_every_problem_under_its_field_and_confirms_the_change(
    world_db: World, engine: Engine  # noqa: F811
) -> None:
    token = sign_in(engine, "vol_a1")
    state = page_state(AccountState, token, "/account")
    run(state.load)
    yielded = run(state.change_password, {"current": "", "new": "", "repeat": ""})
    assert state.current_error == "Vui lòng nhập mật khẩu hiện tại."
    assert state.new_error == "Vui lòng nhập mật khẩu mới."
    assert state.repeat_error == ""  # empty and empty are the same
    assert _focuses(yielded, "password-form") and state.saved_message == ""

    # Refused by the service (a common password): under the new one, the focus there.
    yielded = run(state.change_password,
               {"current": PASSWORD, "new": "password123", "repeat": "password123"})
    assert state.new_error and state.current_error == "" and _focuses(yielded, "password-form")

    yielded = run(state.change_password, {"current": PASSWORD, "new": "Song-Tien-Giang-42",
                                          "repeat": "Song-Tien-Giang-42"})
    assert state.saved_message.startswith("Đã đổi mật khẩu") and state.saved_for == "/account"
    assert any("saved-notice" in str(item) for item in yielded)
    assert state.current_error == state.new_error == state.repeat_error == ""


def test_a_second_factor_form_left_empty_is_answered_under_its_fields(
    world_db: World, engine: Engine  # noqa: F811
) -> None:
    state = page_state(AccountState, sign_in(engine, "vol_a1"))
    run(state.load)
    yielded = run(state.confirm_second_factor, {"tf_code": " "})
    assert state.tf_code_error == "Vui lòng nhập mã." and _focuses(yielded, "tf-confirm-form")
    yielded = run(state.disable_second_factor, {"tf_off_password": "", "tf_off_code": ""})
    assert state.tf_password_error and state.tf_code_error
    assert _focuses(yielded, "tf_off-form")


def test_the_language_saved_on_the_account_is_confirmed_in_the_new_language(
    world_db: World, engine: Engine  # noqa: F811
) -> None:
    state = page_state(AccountState, sign_in(engine, "vol_a1"))
    yielded = run(state.choose_language, "en")
    assert state.saved_message == "The language has been saved for your account."
    assert any("saved-notice" in str(item) for item in yielded)
    assert state.language_message == ""


# ---- administration ------------------------------------------------------------------------


def test_user_administration_forms_put_problems_under_their_fields(
    world_db: World, engine: Engine  # noqa: F811
) -> None:
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.open_create)
    yielded = run(state.create_user,
               {"username": "", "full_name": "", "phone": "", "language": "vi",
                "role": "volunteer", "scope": f"commune:{world_db.commune_a1}"})
    assert state.create_errors["username"] and state.create_errors["full_name"]
    assert _focuses(yielded, "create-form") and state.create_open

    run(state.search, {"q": "vol_a1_peer"})
    run(state.open_user, state.users[0]["id"])
    yielded = run(state.save_user, {"edit_full_name": "Lê Thị Mai", "edit_phone": "12",
                                    "edit_language": "vi"})
    assert state.edit_errors["phone"] == "Số điện thoại không hợp lệ."
    assert _focuses(yielded, "edit-form")
    yielded = run(state.add_role, {"role": "volunteer", "scope": "made-up"})
    assert state.grant_error and state.user_error == ""
    assert _focuses(yielded, "add-role-form")


def test_saving_the_settings_is_confirmed_and_a_refused_address_is_focused(
    world_db: World, engine: Engine  # noqa: F811
) -> None:
    screen = page_state(SettingsState, sign_in(engine, "admin"))
    run(screen.load)
    yielded = run(screen.save, {"organisation_name": "Sở Y tế tỉnh A",
                                "public_url": "http://192.168.1.5:3000"})
    assert screen.fields.get("public_url") and _focuses(yielded, "settings-form")
    assert screen.saved_message == ""
    run(screen.save, {"organisation_name": "Sở Y tế tỉnh A",
                      "public_url": "https://dh.tinh-a.gov.vn"})
    assert screen.saved_message == "Đã lưu cài đặt." and screen.fields == {}


def test_a_facility_without_a_service_is_answered_under_the_services(
    world_db: World, engine: Engine  # noqa: F811
) -> None:
    screen = page_state(FacilitiesState, sign_in(engine, "sup_a"))
    run(screen.load)
    run(screen.new)
    form = {"name": "Trung tâm Y tế B", "kind": "health_facility",
            "place_id": str(world_db.commune_a2), "address": "", "service_health": "on"}
    yielded = run(screen.save, {**form, "service_health": ""})
    assert screen.fields.get("services") and _focuses(yielded, "facility-form")
    run(screen.save, form)
    assert screen.saved_message.startswith("Đã lưu") and "Trung tâm Y tế B" in \
        screen.saved_message


def test_teams_and_reports_answer_a_wrong_date_or_a_missing_choice_under_the_field(
    world_db: World, engine: Engine  # noqa: F811
) -> None:
    teams = page_state(TeamsState, sign_in(engine, "sup_a"))
    run(teams.load)
    form = {"name": "Đội Hoa Sen", "kind": "volunteer_team",
            "place_id": str(world_db.commune_a1), "founding_decision": "",
            "founded_on": "2026-13-45", "active": "on"}
    yielded = run(teams.save, form)
    assert teams.fields.get("founded_on") and _focuses(yielded, "org-form")
    with Session(engine) as s:
        assert s.exec(select(Organisation).where(Organisation.name == "Đội Hoa Sen")).first() \
            is None
    run(teams.save, {**form, "founded_on": "2026-01-05"})
    assert teams.saved_message and "Đội Hoa Sen" in teams.saved_message
    org = next(o for o in teams.orgs if o["name"] == "Đội Hoa Sen")
    run(teams.edit, org["id"])
    yielded = run(teams.add_member, {"member": "", "joined_on": ""})
    assert teams.member_fields.get("member") and _focuses(yielded, "member-form")

    reports = page_state(ReportsState, sign_in(engine, "sup_a"))
    run(reports.load)
    yielded = run(reports.run, {"preset": "custom", "start": "", "end": "",
                                "place_id": reports.place_id})
    assert reports.fields.get("start") and _focuses(yielded, "report-form")


def test_the_messages_follow_the_users_language(world_db: World,  # noqa: F811
                                                engine: Engine) -> None:
    account_language(engine, "sup_a", "en")
    state = page_state(AccountState, sign_in(engine, "sup_a"))
    run(state.choose_language, "en")
    run(state.change_password, {"current": "", "new": "x", "repeat": "y"})
    assert state.current_error and state.repeat_error == "The two new passwords do not match."
    assert state.new_error == ""
