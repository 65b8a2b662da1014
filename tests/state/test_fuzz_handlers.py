"""The form handlers, fuzzed through their real States: hostile input never half-writes.

Each example sends one form whose values are replaced by random Unicode (control characters,
RTL marks, emoji, NUL), 10 000-character strings, negative or huge numbers, far and malformed
dates, and values of the wrong type (lists, dicts, None). For every call: no exception escapes
the handler; either exactly one record was written, or nothing was and an error is shown; no
other table changes except the bookkeeping ones (audit trail, submissions, sessions, attempts).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from starlette.applications import Starlette
from starlette.testclient import TestClient

from app.api.auth import ROUTES as AUTH_ROUTES
from app.pages.account import AccountState
from app.pages.group_activity import GroupActivityState
from app.pages.outreach import OutreachState
from app.pages.register import RegisterState
from models import Client, GroupActivity, OutreachContact, User
from tests.factories import World, count
from tests.state.conftest import PASSWORD, page_state, run, sign_in
from tests.state.test_record_forms_state import CLIENT_FORMS, TODAY

BOOKKEEPING = ("audit", "submission", "session", "attempt", "login")
FUZZED: dict[str, int] = {}

_weird_text = st.text(st.characters(codec="utf-8"), max_size=60) | st.sampled_from([
    "\x00", "\u202eevil\u202c", "👨‍👩‍👧‍👦" * 5, "\r\n\t\x0b", "' OR 1=1 --", "<script>x</script>",
])
_values = st.one_of(
    _weird_text,
    st.just("x" * 10_000),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["-1", "0", "1e309", "NaN", "9" * 40, "50.000.000", "-5.000"]),
    st.sampled_from(["0001-01-01", "9999-12-31", "2025-02-30", "31/12/2025", "2025-13-01",
                     "", TODAY, "1899-01-01", "2100-01-01"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
    st.none(),
    st.just(True),
)


def _fuzzed(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """The valid form with some of its values (and maybe extra keys) replaced by junk."""
    keys = sorted(base)
    return st.tuples(
        st.dictionaries(st.sampled_from(keys), _values, max_size=len(keys)),
        st.dictionaries(_weird_text, _values, max_size=2),
    ).map(lambda parts: {**base, **parts[1], **parts[0]})


def _tables() -> list[type[SQLModel]]:
    return [m.class_ for m in SQLModel._sa_registry.mappers]


def _counts(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        return {m.__name__: count(s, m) for m in _tables()}


def _check(engine: Engine, before: dict[str, int], table: type[SQLModel] | None,
           shown_error: bool, what: str) -> None:
    after = _counts(engine)
    changed = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    domain = {k: v for k, v in changed.items()
              if not any(b in k.lower() for b in BOOKKEEPING)}
    FUZZED[what] = FUZZED.get(what, 0) + 1
    if table is not None and domain.get(table.__name__) == 1:
        return  # one valid record (and whatever belongs to it) was written
    assert all(v >= 0 for v in changed.values()), changed
    if table is None:
        assert not domain, domain
        return
    assert not domain, f"half-written: {domain}"
    assert shown_error, "nothing written and no error shown"


FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.mark.parametrize("form", sorted(CLIENT_FORMS))
def test_client_bound_record_forms_survive_hostile_input(
    world_db: World, engine: Engine, form: str
) -> None:
    cls, segment, submission, table = CLIENT_FORMS[form]
    token = sign_in(engine, "vol_a1")
    path = f"/clients/{world_db.clients['a1']}/{segment}"

    @FUZZ
    @given(data=_fuzzed({**submission, "notes": "ok"}))
    def attempt(data: dict[str, Any]) -> None:
        state = page_state(cls, token, path)
        run(state.load)
        before = _counts(engine)
        run(state.save, {**data, "submission_key": state.form_key})
        _check(engine, before, table, bool(state.error or state.field_errors), form)

    attempt()


@pytest.mark.parametrize("form", ["outreach", "group_activity"])
def test_outreach_and_group_activity_survive_hostile_input(
    world_db: World, engine: Engine, form: str
) -> None:
    token = sign_in(engine, "vol_a1")
    commune = str(world_db.commune_a1)
    mine = world_db.clients["a1"]
    cls: type[Any]
    table: type[SQLModel]
    if form == "outreach":
        cls, path, table = OutreachState, "/outreach", OutreachContact
        base = {"contact_date": TODAY, "place_id": commune, "category": "relative",
                "count": "5"}
    else:
        cls, path, table = GroupActivityState, "/group-activity", GroupActivity
        base = {"kind": "thematic_talk", "held_on": TODAY, "place_id": commune,
                "attendees_total": "10", f"client_{mine}": "on"}

    @FUZZ
    @given(data=_fuzzed(base))
    def attempt(data: dict[str, Any]) -> None:
        state = page_state(cls, token, path)
        run(state.load)
        before = _counts(engine)
        run(state.save, {**data, "submission_key": state.form_key})
        _check(engine, before, table, bool(state.error or state.field_errors), form)

    attempt()


def test_register_client_survives_hostile_input(world_db: World, engine: Engine) -> None:
    token = sign_in(engine, "vol_a1")
    base = {"full_name": "Đặng Văn Mười", "birth_year": "1990", "sex": "male",
            "commune_id": str(world_db.commune_a1), "phone": "0912345678"}

    @FUZZ
    @given(data=_fuzzed(base))
    def attempt(data: dict[str, Any]) -> None:
        state = page_state(RegisterState, token, "/clients/new")
        run(state.load)
        before = _counts(engine)
        run(state.submit, data)
        shown = bool(state.error or state.errors or state.duplicates)
        _check(engine, before, Client, shown, "register")

    attempt()


def test_sign_in_and_change_password_survive_hostile_input(world_db: World, engine: Engine
                                                           ) -> None:
    client = TestClient(Starlette(routes=AUTH_ROUTES), base_url="http://localhost",
                        follow_redirects=False)

    @FUZZ
    @given(data=_fuzzed({"login": "vol_a1", "password": "wrong"}))
    def post_sign_in(data: dict[str, Any]) -> None:
        # The form as a browser posts it: every value becomes text.
        form = {str(k): ("" if v is None else str(v)) for k, v in data.items()}
        before = _counts(engine)
        answer = client.post("/api/auth/sign-in", data=form)
        assert answer.status_code in (303, 413), answer.status_code
        if form.get("login") == "vol_a1" and form.get("password") == PASSWORD:
            return
        assert answer.status_code == 413 or answer.headers["location"].startswith("/?e=")
        assert "dh_session" not in answer.headers.get("set-cookie", "")
        _check(engine, before, None, True, "sign_in")

    token = sign_in(engine, "vol_a2")  # before the fuzzed sign-ins trip the rate limit

    @FUZZ
    @given(data=_fuzzed({"current": PASSWORD, "new": "x", "repeat": "x"}))
    def change(data: dict[str, Any]) -> None:
        state = page_state(AccountState, token, "/account")
        before = _counts(engine)
        run(state.change_password, data)
        shown = bool(state.password_error or state.current_error or state.new_error
                     or state.repeat_error or state.saved_message)
        _check(engine, before, User, shown, "change_password")

    change()
    post_sign_in()


def test_the_fuzzing_really_ran(record_property: Any) -> None:
    """For the report (bench/reliability.py): how many hostile inputs each handler took
    (when run after the tests above)."""
    print(f"\ninputs fuzzed: {FUZZED} = {sum(FUZZED.values())}")
    record_property("handlers_fuzzed", len(FUZZED))
    record_property("inputs_fuzzed", sum(FUZZED.values()))
    assert all(n > 0 for n in FUZZED.values())
