"""Migration 0030_law on a database that already holds episodes and the old rule rows: the
episodes are carried over with their dates unchanged, the old single-term rules are replaced
by the law's rows, and the supervisor's review lists what the new rules would change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from alembic import command
from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Table, create_engine, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from app.cli import alembic_config
from app.services.actor import load_actor
from app.services.law import load_rules
from app.services.law.episodes import term_changes
from models import DurationRule, Episode, Role
from tests.unit.test_migrations import empty_db_url  # noqa: F401  (the fixture)

BEFORE_LAW = "0040_privacy"


def _insert(conn: Connection, table_name: str, /, **given: Any) -> int:
    """Insert a row giving every NOT NULL column a plain value (the schema of that revision)."""
    table = Table(table_name, MetaData(), autoload_with=conn)
    row: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.nullable or column.primary_key:
            continue
        kind = column.type
        row[column.name] = (
            False if isinstance(kind, Boolean) else
            0 if isinstance(kind, Integer) else
            datetime.now(UTC) if isinstance(kind, DateTime) else
            date(2025, 1, 1) if isinstance(kind, Date) else ""
        )
    row.update(given)
    result = conn.execute(table.insert().values(**row))
    return int(result.inserted_primary_key[0])


def test_existing_episodes_keep_their_dates_and_the_old_rules_are_replaced(
    empty_db_url: str,  # noqa: F811
) -> None:
    cfg = alembic_config(empty_db_url)
    command.upgrade(cfg, BEFORE_LAW)
    engine = create_engine(empty_db_url)
    with engine.begin() as conn:
        province = _insert(conn, "place", code="T1", name="Tỉnh Một", name_key="tinh mot",
                           kind="province")
        commune = _insert(conn, "place", code="X1", name="Xã Một", name_key="xa mot",
                          kind="commune", parent_id=province)
        sup = _insert(conn, "user", username="gs.mot", full_name="Giám sát", password_hash="-",
                      is_active=True)
        _insert(conn, "roleassignment", user_id=sup, role="supervisor", place_id=commune)
        client = _insert(conn, "client", full_name="Nguyễn Văn Cũ", name_key="nguyen van cu",
                         birth_year=1985, sex="male", commune_id=commune, status="active",
                         version=1)
        # As the app stored it before: a voluntary rehab from August 2026 with the 6-month
        # placeholder end, and the old seeded rules.
        episode = _insert(conn, "episode", client_id=client, episode_type="voluntary_community",
                          start_date=date(2026, 8, 1), expected_end=date(2027, 2, 1),
                          status="open", rehab_count=1, version=1)
        _insert(conn, "durationrule", episode_type="voluntary_community", months=6,
                effective_from=date(2022, 1, 1),
                legal_basis="Law 73/2021/QH14 art. 30; Decree 116/2021: voluntary rehab",
                needs_review=False)
    command.upgrade(cfg, "head")
    with Session(engine) as session:
        load_rules(session)
        session.commit()
        kept = session.get(Episode, episode)
        assert kept is not None
        assert (kept.start_date, kept.expected_end, kept.credited_days, kept.rule_id) == (
            date(2026, 8, 1), date(2027, 2, 1), 0, None)
        bases = session.exec(select(DurationRule.legal_basis)).scalars().all()  # type: ignore[call-overload]
        assert not any(b.startswith("Law 73/2021/QH14 art. ") for b in bases)
        actor = load_actor(session, user_id=sup, role=Role.SUPERVISOR)
        review = term_changes(session=session, actor=actor)
        assert [(c.episode_id, c.current_end, c.new_end) for c in review] == [
            (episode, date(2027, 2, 1), date(2028, 8, 1))]
    engine.dispose()
