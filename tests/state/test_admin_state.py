"""The account and user-administration screens' States, driven without a browser.

Each test signs a real user in (a real server-side session in a real SQLite file), puts the
token where the browser's cookie would be, and calls the State's handlers as Reflex would.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app.app  # noqa: F401  (registers every page and State)
from app.pages.account import AccountState
from app.pages.admin_users import AdminUsersState
from app.services import accounts, second_factor, security
from app.state.guard import HANDLER_ROLES
from app.state.session import AppState
from models import AuthSession, Role, RoleAssignment, TotpCredential, User, utcnow
from tests.factories import World, make_user
from tests.state.conftest import (
    PASSWORD,
    account_language,
    audits,
    page_state,
    password_hash,
    run,
    sign_in,
)

# Plausible arguments for every admin handler (a new handler without an entry fails a test).
ADMIN_CALLS: dict[str, tuple[Any, ...]] = {
    "load": (),
    "search": ({"q": "a"},),
    "go_to_page": (1,),
    "pick_role": ("volunteer",),
    "pick_province": ("1",),
    "open_create": (),
    "toggle_create": (False,),
    "create_user": (
        {"username": "sneaky", "full_name": "Sneaky", "language": "vi", "role": "admin",
         "scope": "everywhere:"},
    ),
    "acknowledge_password": (),
    "open_user": (1,),
    "toggle_user": (False,),
    "save_user": ({"edit_full_name": "X", "edit_phone": "", "edit_language": "vi"},),
    "disable_user": (),
    "enable_user": (),
    "reset_password": (),
    "add_role": ({"role": "admin", "scope": "everywhere:"},),
    "remove_role": (1,),
    "end_user_session": (1,),
    "decide_request": (1, True),
    "open_tfa_reset": (),
    "toggle_tfa_reset": (False,),
    "reset_second_factor": ({"tfa_reason": "Mất điện thoại"},),
}


@pytest.fixture
def world_db(world_db: World, engine: Engine) -> World:
    """The shared world and a provincial administrator, `admin_a` (province A)."""
    with Session(engine, expire_on_commit=False) as s:
        world_db.users["admin_a"] = make_user(s, "admin_a", Role.ADMIN,
                                              place_id=world_db.province_a)
        world_db.roles["admin_a"] = Role.ADMIN
        user = s.get(User, world_db.users["admin_a"])
        assert user is not None
        user.password_hash = password_hash()
        s.add(user)
        s.commit()
    return world_db


def _user(engine: Engine, username: str) -> User | None:
    with Session(engine) as s:
        return s.exec(select(User).where(User.username == username)).first()


# ---- refusals -------------------------------------------------------------------------------


def test_every_admin_handler_is_for_administrators_only_and_is_exercised_here() -> None:
    admin_handlers = {
        name.split(".", 1)[1]: roles
        for name, roles in HANDLER_ROLES.items()
        if name.startswith("AdminUsersState.")
    }
    assert set(admin_handlers) == set(ADMIN_CALLS)
    assert all(roles == frozenset({Role.ADMIN}) for roles in admin_handlers.values())


@pytest.mark.parametrize("who", ["vol_a1", "sup_a", "clinic_a"])
@pytest.mark.parametrize("handler", sorted(ADMIN_CALLS))
def test_a_non_admin_session_calling_an_admin_handler_is_refused_and_audited(
    world_db: World, engine: Engine, who: str, handler: str
) -> None:
    state = page_state(AdminUsersState, sign_in(engine, who))
    users_before = len(audits(engine, action="account.create"))
    yielded = run(getattr(state, handler), *ADMIN_CALLS[handler])

    assert yielded, "a refusal tells the browser something (a toast)"
    denied = audits(
        engine, action="handler.call", outcome="denied", actor_id=world_db.users[who]
    )
    assert [e.detail for e in denied] == [f"AdminUsersState.{handler}"]
    # Nothing was done: no user listed, created or shown, no password revealed.
    assert state.users == [] and state.otp == "" and state.selected == {}
    assert _user(engine, "sneaky") is None
    assert len(audits(engine, action="account.create")) == users_before


def test_a_signed_out_browser_calling_an_admin_handler_goes_back_to_sign_in(
    world_db: World, engine: Engine
) -> None:
    state = page_state(AdminUsersState, "not-a-real-token")
    events = run(state.load)
    assert state.users == []
    # Off to the endpoint that removes the cookie, then the sign-in page says why.
    assert "/api/auth/signed-out?n=expired" in repr(events)


# ---- scope ----------------------------------------------------------------------------------


def test_a_province_admin_is_offered_only_places_of_their_own_province(
    world_db: World, engine: Engine
) -> None:
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.open_create)
    assert [p["value"] for p in state.provinces] == [str(world_db.province_a)]
    offered = {o["value"] for o in state.scope_options}
    assert offered == {f"commune:{world_db.commune_a1}", f"commune:{world_db.commune_a2}"}
    run(state.pick_role, "clinic")
    assert {o["value"] for o in state.scope_options} == {f"facility:{world_db.facility_a}"}
    # A province the admin does not hold is not accepted as a choice.
    run(state.pick_province, str(world_db.province_b))
    assert state.grant_province == str(world_db.province_a)


def test_an_admin_cannot_grant_a_scope_outside_their_own(world_db: World, engine: Engine) -> None:
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.open_create)
    run(
        state.create_user,
        {
            "username": "tnv.tinh.b",
            "full_name": "Tình nguyện viên B",
            "language": "vi",
            "role": "volunteer",
            "scope": f"commune:{world_db.commune_b1}",
        },
    )
    assert state.create_error == "Bạn không thể cấp phạm vi rộng hơn phạm vi của chính mình."
    assert state.otp == "" and state.create_open
    assert _user(engine, "tnv.tinh.b") is None
    assert audits(engine, action="account.create", outcome="denied")

    # Adding a role to a user the admin manages: the same refusal, and nothing assigned.
    run(state.search, {"q": "vol_a2"})
    run(state.open_user, state.users[0]["id"])
    run(state.add_role, {"role": "supervisor", "scope": f"province:{world_db.province_b}"})
    assert state.user_error == "Bạn không thể cấp phạm vi rộng hơn phạm vi của chính mình."
    with Session(engine) as s:
        roles = s.exec(
            select(RoleAssignment).where(RoleAssignment.user_id == world_db.users["vol_a2"])
        ).all()
    assert [(r.role, r.place_id) for r in roles] == [(Role.VOLUNTEER, world_db.commune_a2)]
    assert audits(engine, action="account.role_assign", outcome="denied")


def test_a_province_admin_does_not_list_users_of_another_province(
    world_db: World, engine: Engine
) -> None:
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.load)
    listed = {u["username"] for u in state.users}
    assert "vol_a1" in listed and "sup_b" not in listed and "clinic_b" not in listed
    # An id from outside the list opens nothing.
    run(state.open_user, world_db.users["sup_b"])
    assert not state.user_open and state.selected == {}


# ---- what administrators do -----------------------------------------------------------------


def test_creating_a_user_shows_the_one_time_password_once(world_db: World, engine: Engine) -> None:
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.open_create)
    run(
        state.create_user,
        {
            "username": "nguyen.hoa",
            "full_name": "Nguyễn Thị Hoà",
            "phone": "0912 345 678",
            "language": "vi",
            "role": "volunteer",
            "scope": f"commune:{world_db.commune_a1}",
        },
    )
    assert not state.create_open and state.otp_for == "nguyen.hoa"
    otp = state.otp
    assert otp and security.verify_password(otp, _user(engine, "nguyen.hoa").password_hash)
    assert [u["username"] for u in state.users] == ["nguyen.hoa"]
    assert "Xã A Một" in state.users[0]["roles_vi"] and state.users[0]["must_change"] == "1"
    run(state.acknowledge_password)
    assert state.otp == "" and otp not in str(state.dict())


def test_create_errors_are_shown_per_field(world_db: World, engine: Engine) -> None:
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.open_create)
    run(
        state.create_user,
        {"username": "A", "full_name": " ", "phone": "12", "language": "vi",
         "role": "volunteer", "scope": f"commune:{world_db.commune_a1}"},
    )
    assert state.create_errors["username"].startswith("Tên đăng nhập dài 3–64")
    assert state.create_errors["full_name"] == "Vui lòng nhập họ và tên."
    assert state.create_errors["phone"] == "Số điện thoại không hợp lệ."
    assert state.create_open and state.otp == ""


def test_editing_a_user_someone_else_changed_first_reports_a_conflict(
    world_db: World, engine: Engine
) -> None:
    first = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    second = page_state(AdminUsersState, sign_in(engine, "admin"))
    for state in (first, second):
        run(state.search, {"q": "vol_a1_peer"})
        run(state.open_user, state.users[0]["id"])
    run(second.save_user, {"edit_full_name": "Lê Thị Mai", "edit_phone": "",
                      "edit_language": "vi"})
    assert second.user_error == "" and second.user_done == "Đã lưu."
    run(first.save_user, {"edit_full_name": "Lê Thị Mây", "edit_phone": "",
                     "edit_language": "en"})
    assert first.user_error == "Hồ sơ vừa được người khác sửa. Vui lòng tải lại."
    assert _user(engine, "vol_a1_peer").full_name == "Lê Thị Mai"
    # The panel now shows what the other administrator saved.
    assert first.selected["full_name"] == "Lê Thị Mai"


def test_resetting_a_password_ends_the_users_sessions_and_shows_a_new_one_time_password(
    world_db: World, engine: Engine
) -> None:
    victim_token = sign_in(engine, "vol_a1")
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.search, {"q": "vol_a1"})
    target = next(u for u in state.users if u["username"] == "vol_a1")
    run(state.open_user, target["id"])
    assert len(state.selected_sessions) == 1
    run(state.reset_password)
    assert state.otp and state.otp_for == "vol_a1"
    with Session(engine) as s:
        assert accounts.validate_session(session=s, token=victim_token) is None


def _give_second_factor(engine: Engine, username: str) -> int:
    """`username` has a confirmed second factor (after they signed in: a password alone no
    longer opens a session then)."""
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        assert user.id is not None
        s.add(TotpCredential(user_id=user.id, secret=second_factor.seal(
            second_factor.new_secret(), user_id=user.id), confirmed_at=utcnow()))
        second_factor.new_recovery_codes(s, user_id=user.id, now=utcnow())
        s.commit()
        return user.id


def test_resetting_a_lost_second_factor_asks_for_a_reason_and_ends_the_users_sessions(
    world_db: World, engine: Engine
) -> None:
    victim_token = sign_in(engine, "vol_a1")
    victim = _give_second_factor(engine, "vol_a1")
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.search, {"q": "vol_a1"})
    run(state.open_user, next(u["id"] for u in state.users if u["username"] == "vol_a1"))
    assert state.selected["second_factor"] == "1"

    run(state.open_tfa_reset)
    assert state.tfa_reset_open
    run(state.reset_second_factor, {"tfa_reason": "   "})
    # The reason's message is next to the field; the confirmation stays open, nothing changed.
    assert state.tfa_reset_error == "Cần ghi lý do." and state.tfa_reset_open
    with Session(engine) as s:
        assert second_factor.enrolled(s, victim)

    run(state.reset_second_factor, {"tfa_reason": "Mất điện thoại, đã gọi lại xác nhận"})
    assert not state.tfa_reset_open and state.tfa_reset_error == ""
    assert state.user_done.startswith("Đã đặt lại xác thực hai bước")
    assert state.selected["second_factor"] == "" and state.selected_sessions == []
    with Session(engine) as s:
        assert not second_factor.enrolled(s, victim)
        assert accounts.validate_session(session=s, token=victim_token) is None
    [event] = audits(engine, action="second_factor.reset")
    assert event.target_id == victim and event.actor_id == world_db.users["admin_a"]


def test_an_admin_is_told_to_use_their_own_account_page_for_their_second_factor(
    world_db: World, engine: Engine
) -> None:
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    _give_second_factor(engine, "admin_a")
    run(state.search, {"q": "admin_a"})
    run(state.open_user, state.users[0]["id"])
    run(state.open_tfa_reset)
    run(state.reset_second_factor, {"tfa_reason": "Thử"})
    assert state.tfa_reset_message.startswith("Đây là tài khoản của bạn")
    assert state.tfa_reset_open and state.selected["second_factor"] == "1"


def test_an_admin_cannot_disable_themselves(world_db: World, engine: Engine) -> None:
    state = page_state(AdminUsersState, sign_in(engine, "admin_a"))
    run(state.search, {"q": "admin_a"})
    run(state.open_user, state.users[0]["id"])
    run(state.disable_user)
    assert state.user_error == "Bạn không thể làm việc này với chính tài khoản của mình."
    assert _user(engine, "admin_a").is_active


# ---- one's own account ----------------------------------------------------------------------


def _force_change(engine: Engine, username: str) -> None:
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == username)).one()
        user.must_change_password = True
        s.add(user)
        s.commit()


def test_a_user_who_must_change_their_password_is_sent_to_the_account_page(
    world_db: World, engine: Engine
) -> None:
    _force_change(engine, "vol_a1")
    token = sign_in(engine, "vol_a1")
    home = page_state(AppState, token)
    yielded = run(home.check_session)
    assert any("/account" in str(item) for item in yielded)
    account = page_state(AccountState, token)
    run(account.load)
    assert account.must_change


def test_changing_ones_password_checks_the_policy_per_field_and_ends_other_sessions(
    world_db: World, engine: Engine
) -> None:
    other = sign_in(engine, "sup_a")
    state = page_state(AccountState, sign_in(engine, "sup_a"))
    run(state.load)
    assert len(state.sessions) == 2

    run(state.change_password, {"current": PASSWORD, "new": "abc", "repeat": "abcd"})
    assert state.repeat_error == "Hai mật khẩu mới không giống nhau."
    run(state.change_password,
        {"current": PASSWORD, "new": "password123", "repeat": "password123"})
    assert state.new_error.startswith("Mật khẩu này quá phổ biến")
    run(state.change_password,
        {"current": "wrong-one", "new": "Song-Tien-Giang-42", "repeat": "Song-Tien-Giang-42"})
    assert state.current_error == "Mật khẩu hiện tại không đúng."

    run(state.change_password,
        {"current": PASSWORD, "new": "Song-Tien-Giang-42", "repeat": "Song-Tien-Giang-42"})
    assert state.password_error == "" and state.saved_message.startswith("Đã đổi mật khẩu")
    assert [s["current"] for s in state.sessions] == ["1"]
    with Session(engine) as s:
        assert accounts.validate_session(session=s, token=other) is None


def test_the_chosen_language_is_saved_on_the_account(world_db: World, engine: Engine) -> None:
    state = page_state(AccountState, sign_in(engine, "clinic_a"))
    run(state.choose_language, "en")
    assert state.saved_message == "The language has been saved for your account."
    assert _user(engine, "clinic_a").language == "en"
    run(state.choose_language, "fr")  # not a language: ignored
    assert _user(engine, "clinic_a").language == "en"


def test_a_page_loaded_before_the_account_language_arrived_takes_it_again(
        world_db: World, engine: Engine) -> None:
    """A new device: the first event of the session gives the tab the account's language, but
    a page loaded before the device stored it comes back with the device's old storage (Reflex
    restores it at hydrate); the next event gives the language again."""
    from app.state.lang import LangState

    account_language(engine, "clinic_a", "en")
    state = page_state(AccountState, sign_in(engine, "clinic_a"))
    run(state.load)
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    lang = root._get_state_from_cache(LangState)
    assert lang.lang == "en" and lang.lang_for
    # The reload, with the device's storage as it was before the language reached it.
    lang.lang, lang.lang_for = "vi", ""
    run(state.load)
    assert lang.lang == "en"
    # A language chosen on the device afterwards is the device's: not taken back.
    lang.lang = "vi"
    run(state.load)
    assert lang.lang == "vi"


def test_a_user_ends_one_of_their_own_sessions_but_not_someone_elses(
    world_db: World, engine: Engine
) -> None:
    phone = sign_in(engine, "vol_a1")
    stranger = sign_in(engine, "vol_a2")
    state = page_state(AccountState, sign_in(engine, "vol_a1"))
    run(state.load)
    other_id = next(s["id"] for s in state.sessions if s["current"] != "1")
    run(state.end_session, other_id)
    assert len(state.sessions) == 1
    with Session(engine) as s:
        assert accounts.validate_session(session=s, token=phone) is None
        stranger_id = s.exec(
            select(AuthSession.id).where(AuthSession.user_id == world_db.users["vol_a2"])
        ).one()
    run(state.end_session, str(stranger_id))
    assert state.sessions_error == "Không tìm thấy."
    with Session(engine) as s:
        assert accounts.validate_session(session=s, token=stranger) is not None
