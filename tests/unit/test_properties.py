"""Whatever a form sends, a service either saves a valid record or refuses and saves nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.services import activities, clients
from app.services.calendar import today_vn
from app.services.dto import ClientCreate, ConsentInput, VisitCreate
from app.services.errors import DomainError
from models import AuditEvent, Client, Consent, Sex, Submission, Visit, VisitKind
from tests.factories import World, build_world, count, prepare_database, reset_database

TODAY = today_vn()
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def prop_engine(tmp_path_factory: pytest.TempPathFactory,
                pg_server_url: str | None) -> Iterator[Engine]:
    url = pg_server_url or f"sqlite:///{tmp_path_factory.mktemp('props')}/p.db"
    engine = prepare_database(url)
    yield engine
    reset_database(engine)


@pytest.fixture(scope="module")
def prop_world(prop_engine: Engine) -> World:
    with Session(prop_engine) as s:
        return build_world(s)


names = st.one_of(
    st.text(max_size=130),
    st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyáàảãạếềểễệ ÁĐ", min_size=0, max_size=125),
    st.sampled_from(["Nguyễn Văn A", "  Lê   Thị B ", "A", "\x00\x07", "Trần\u200bHùng"]),
)
good_names = st.from_regex(r"[A-ZĐ][a-zàáảãạăâđêôơư]{1,8}( [A-ZĐ][a-zàáảãạăâđêôơư]{1,8}){1,3}",
                           fullmatch=True)
digit_strings = st.text(alphabet="0123456789 .-+", min_size=0, max_size=16)
maybe_ids = st.one_of(st.none(), digit_strings, st.text(max_size=14))
categories = st.lists(st.sampled_from(
    ["drug_use", "hiv_status", "ethnicity", "test_results", "astrology", ""]), max_size=4)
wild_consents = st.lists(st.builds(
    ConsentInput, purpose=st.sampled_from(["case_management", "", "x" * 61]),
    sensitive_categories=categories,
    given_on=st.dates(min_value=date(1990, 1, 1), max_value=TODAY + timedelta(days=5))),
    max_size=2)
good_consents = st.just([ConsentInput(sensitive_categories=["drug_use", "hiv_status",
                                                            "ethnicity"],
                                      given_on=TODAY)])


@st.composite
def registrations(draw: st.DrawFn, world: World) -> ClientCreate:
    """Mostly plausible forms with up to three fields drawn from anything at all."""
    wild = draw(st.sets(st.sampled_from([
        "full_name", "birth_year", "birth_date", "national_id", "phone", "commune_id",
        "address", "legal_rep_name", "hiv_status", "ethnicity", "consents"]), max_size=3))

    def pick(field: str, good: st.SearchStrategy, anything: st.SearchStrategy) -> object:
        return draw(anything if field in wild else good)

    return ClientCreate(
        full_name=pick("full_name", good_names, names),
        birth_year=pick("birth_year", st.integers(1940, TODAY.year - 18),
                        st.integers(min_value=1850, max_value=TODAY.year + 3)),
        birth_date=pick("birth_date", st.none(), st.one_of(
            st.none(), st.dates(min_value=date(1890, 1, 1), max_value=TODAY + timedelta(30)))),
        sex=draw(st.sampled_from(list(Sex))),
        national_id=pick("national_id", st.one_of(st.none(), st.from_regex(
            r"[0-9]{12}", fullmatch=True)), maybe_ids),
        phone=pick("phone", st.one_of(st.none(), st.from_regex(r"0[0-9]{9}", fullmatch=True)),
                   maybe_ids),
        commune_id=pick("commune_id", st.just(world.commune_a1), st.sampled_from(
            [world.commune_a1, world.commune_b1, world.province_a, 424242])),
        address=pick("address", st.text(max_size=50), st.text(max_size=210)),
        legal_rep_name=pick("legal_rep_name", st.just(""), st.one_of(st.just(""), names)),
        hiv_status=pick("hiv_status", st.sampled_from(["", "negative", "positive"]),
                        st.sampled_from(["", "unknown", "HIV+", "x" * 30])),
        ethnicity=pick("ethnicity", st.sampled_from(["", "Kinh", "Tày"]),
                       st.sampled_from(["", "Kinh", "x" * 41])),
        consents=pick("consents", good_consents, wild_consents),
    )


def _row_counts(s: Session) -> tuple[int, ...]:
    return tuple(count(s, m) for m in (Client, Consent, Submission, AuditEvent))


@SETTINGS
@given(data=st.data())
def test_register_client_saves_a_valid_record_or_nothing(
    prop_engine: Engine, prop_world: World, data: st.DataObject
) -> None:
    form = data.draw(registrations(prop_world))
    confirm = data.draw(st.booleans())
    with Session(prop_engine, expire_on_commit=False) as s:
        before = _row_counts(s)
        try:
            saved = clients.register_client(session=s, actor=prop_world.actor(s, "sup_a1"),
                                            data=form, confirm_duplicates=confirm)
            s.commit()
        except DomainError as refused:
            event(f"refused: {refused.key}")
            s.rollback()
            after = _row_counts(s)
            # Nothing written but, at most, one 'denied' audit event.
            assert after[:3] == before[:3]
            assert after[3] - before[3] in (0, 1)
            return
        event("saved")
        row = s.get(Client, saved.id)
        assert row is not None
        assert 2 <= len(row.full_name) <= 120 and row.full_name == row.full_name.strip()
        assert 1900 <= row.birth_year <= TODAY.year
        assert row.commune_id == prop_world.commune_a1
        assert row.national_id is None or re.fullmatch(r"[0-9]{12}", row.national_id)
        assert row.phone == "" or re.fullmatch(r"[0-9]{9,11}", row.phone)
        if TODAY.year - row.birth_year < 17:
            assert row.legal_rep_name
        assert _row_counts(s)[0] == before[0] + 1
        assert _row_counts(s)[1] == before[1] + len(form.consents)


@SETTINGS
@given(
    visit_date=st.one_of(
        st.dates(min_value=TODAY - timedelta(days=60), max_value=TODAY),
        st.dates(min_value=date(1995, 1, 1), max_value=TODAY + timedelta(days=10))),
    kind=st.sampled_from(list(VisitKind)),
    notes=st.one_of(st.text(max_size=200), st.text(min_size=1990, max_size=2010)),
    content=st.text(max_size=130),
    next_appointment=st.one_of(
        st.none(),
        st.dates(min_value=TODAY - timedelta(days=30), max_value=TODAY + timedelta(days=60)),
        st.dates(min_value=date(1995, 1, 1), max_value=TODAY + timedelta(days=400))),
    client=st.sampled_from(["a1", "a1", "a1", "a2", "b1"]),
    key=st.one_of(st.none(), st.text(min_size=0, max_size=70)),
)
def test_log_visit_saves_a_valid_visit_or_nothing(
    prop_engine: Engine, prop_world: World, visit_date: date, kind: VisitKind, notes: str,
    content: str, next_appointment: date | None, client: str, key: str | None,
) -> None:
    with Session(prop_engine, expire_on_commit=False) as s:
        before = count(s, Visit)
        try:
            saved = activities.log_visit(
                session=s, actor=prop_world.actor(s, "vol_a1"), submission_key=key,
                data=VisitCreate(client_id=prop_world.clients[client], visit_date=visit_date,
                                 kind=kind, notes=notes, content=content,
                                 next_appointment=next_appointment))
            s.commit()
        except DomainError as refused:
            event(f"refused: {refused.key}")
            s.rollback()
            assert count(s, Visit) == before
            return
        event("saved")
        row = s.get(Visit, saved.id)
        assert row is not None and row.client_id == prop_world.clients["a1"]
        assert date(2000, 1, 1) <= row.visit_date <= TODAY
        assert len(row.notes) <= 2000 and len(row.content) <= 120
        if row.next_appointment is not None:
            assert row.visit_date < row.next_appointment <= row.visit_date + timedelta(days=365)
        assert count(s, Visit) in (before, before + 1)  # a replayed key adds nothing
