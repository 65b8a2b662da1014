"""The second factor on the account screen, and the restricted session of a role that
requires one (issue 19 item 8): States driven without a browser, on real sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app.app  # noqa: F401  (registers every page and State)
from app.pages.account import AccountState
from app.pages.admin_settings import SettingsState
from app.pages.caseload import CaseloadState
from app.services import accounts, second_factor
from app.state.session import AppState
from models import AuditEvent, Role, User
from tests.factories import World, make_user
from tests.state.conftest import PASSWORD, page_state, password_hash, run, sign_in


@pytest.fixture
def world_db(world_db: World, engine: Engine) -> World:
    """The shared world as a fresh deployment has it (migration 0060_second_factor): a second
    factor required of supervisors and administrators."""
    with Session(engine, expire_on_commit=False) as s:
        for role in (Role.SUPERVISOR, Role.ADMIN):
            second_factor.set_required(s, role=role, required=True)
        s.commit()
    return world_db


def _redirects_to_account(yielded: list[Any]) -> bool:
    return any("/account" in str(item) for item in yielded)


def test_a_supervisor_without_a_second_factor_may_only_enrol(
    world_db: World, engine: Engine
) -> None:
    token = sign_in(engine, "sup_a")
    caseload = page_state(CaseloadState, token, "/caseload")
    yielded = run(caseload.load)
    assert _redirects_to_account(yielded)
    assert caseload.rows == []
    assert _redirects_to_account(run(page_state(AppState, token, "/caseload").check_session))

    account = page_state(AccountState, token, "/account")
    run(account.load)
    assert account.must_enrol and account.tf_required and not account.tf_enrolled
    run(account.start_second_factor)
    assert account.tf_qr.startswith("data:image/svg+xml;base64,")
    secret = account.tf_secret.replace(" ", "")
    assert len(secret) == 32

    run(account.confirm_second_factor, {"tf_code": "000000"})
    assert account.tf_code_error and not account.tf_codes
    run(account.confirm_second_factor, {"tf_code": pyotp.TOTP(secret).at(datetime.now(UTC))})
    assert len(account.tf_codes) == 10 and account.tf_enrolled
    assert account.tf_secret == "" and account.tf_qr == ""  # never shown again
    done = run(account.codes_saved)
    assert account.tf_codes == [] and not account.must_enrol
    assert any("/caseload" in str(item) for item in done)  # home, no longer restricted

    # The same session now reaches the supervisor's screens.
    assert not _redirects_to_account(run(page_state(CaseloadState, token, "/caseload").load))


def test_a_volunteer_is_not_restricted_and_may_turn_it_on_and_off(
    world_db: World, engine: Engine
) -> None:
    token = sign_in(engine, "vol_a1")
    assert not _redirects_to_account(run(page_state(AppState, token, "/today").check_session))
    account = page_state(AccountState, token, "/account")
    run(account.load)
    assert not account.must_enrol and not account.tf_required
    run(account.start_second_factor)
    totp = pyotp.TOTP(account.tf_secret.replace(" ", ""))
    now = datetime.now(UTC)
    run(account.confirm_second_factor, {"tf_code": totp.at(now)})
    codes = list(account.tf_codes)
    run(account.codes_saved)
    assert account.tf_codes_left == "10"

    run(account.disable_second_factor, {"tf_off_password": "wrong-one", "tf_off_code": "1"})
    assert account.tf_password_error and account.tf_enrolled
    run(account.disable_second_factor, {"tf_off_password": PASSWORD, "tf_off_code": codes[0]})
    assert not account.tf_enrolled and account.saved_message
    with Session(engine) as s:
        actions = [e.action for e in s.exec(select(AuditEvent)).all()]
    assert "second_factor.disable" in actions


def test_a_national_administrator_sets_the_requirement_per_role_on_the_settings_screen(
    world_db: World, engine: Engine
) -> None:
    with Session(engine) as s:
        make_user(s, "admin_prov", Role.ADMIN, place_id=world_db.province_a)
        user = s.exec(select(User).where(User.username == "admin_prov")).one()
        user.password_hash = password_hash()
        s.add(user)
        s.commit()
    # The national administrator has no second factor yet: restricted, the screen refuses.
    admin_token = sign_in(engine, "admin")
    screen = page_state(SettingsState, admin_token, "/admin/settings")
    assert _redirects_to_account(run(screen.load))
    with Session(engine) as s:
        actor = world_db.actor(s, "admin")
        assert actor is not None
        started = accounts.start_second_factor(session=s, actor=actor)
        accounts.confirm_second_factor(session=s, actor=actor,
                                       code=pyotp.TOTP(started.secret).now())
        s.commit()
    run(screen.load)
    assert screen.second_factor_roles == ["supervisor", "admin"]
    run(screen.set_second_factor, "volunteer", True)
    assert screen.second_factor_roles == ["volunteer", "supervisor", "admin"]
    run(screen.set_second_factor, "nobody", False)  # not a role: nothing happens
    assert screen.second_factor_roles == ["volunteer", "supervisor", "admin"]

    # A provincial administrator may not change a rule of the whole deployment.
    with Session(engine) as s:
        second_factor.set_required(s, role=Role.ADMIN, required=False)
        s.commit()
    provincial = page_state(SettingsState, sign_in(engine, "admin_prov"), "/admin/settings")
    run(provincial.set_second_factor, "volunteer", False)
    assert provincial.error
    with Session(engine) as s:
        assert second_factor.required_for(s, Role.VOLUNTEER)
        refused = s.exec(select(AuditEvent).where(
            AuditEvent.action == "settings.second_factor", AuditEvent.outcome == "denied"))
        assert refused.first() is not None
