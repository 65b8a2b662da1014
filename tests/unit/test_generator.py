"""The benchmark data generator: reproducible, consistent, and safe to point at a database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.services.db import engine_for
from bench.generate import generate, run


def _tiny(path: Path, seed: int = 7) -> tuple[Engine, dict[str, int]]:
    engine = engine_for(f"sqlite:///{path}")
    return engine, generate(engine, "tiny", seed=seed)


def _first_names(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(text("SELECT full_name FROM client ORDER BY id LIMIT 10")).scalars()
        )


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, dict[str, int]]:
    return _tiny(tmp_path_factory.mktemp("gen") / "tiny.db")


def test_the_same_seed_gives_the_same_clients_and_counts(
    tiny: tuple[Engine, dict[str, int]], tmp_path: Path
) -> None:
    engine, counts = tiny
    again, counts_again = _tiny(tmp_path / "again.db")
    assert counts_again == counts
    assert len(_first_names(engine)) == 10
    assert _first_names(again) == _first_names(engine)


def test_another_seed_gives_other_clients(
    tiny: tuple[Engine, dict[str, int]], tmp_path: Path
) -> None:
    engine, _ = tiny
    other, _ = _tiny(tmp_path / "other.db", seed=8)
    assert _first_names(other) != _first_names(engine)


def test_tiny_fills_every_kind_of_record(tiny: tuple[Engine, dict[str, int]]) -> None:
    _, counts = tiny
    assert counts["client"] == 50
    assert counts["place"] == 34 + 3321
    for table in (
        "organisation",
        "user",
        "roleassignment",
        "episode",
        "visit",
        "drugtest",
        "referral",
        "outreachcontact",
        "groupactivity",
        "consent",
    ):
        assert counts[table] > 0, table


def test_every_clients_volunteer_works_in_the_clients_commune(
    tiny: tuple[Engine, dict[str, int]],
) -> None:
    engine, _ = tiny
    with engine.connect() as conn:
        assigned = conn.execute(
            text("SELECT COUNT(*) FROM client WHERE assigned_volunteer_id IS NOT NULL")
        ).scalar_one()
        outside = conn.execute(
            text(
                "SELECT COUNT(*) FROM client c WHERE NOT EXISTS ("
                " SELECT 1 FROM roleassignment r WHERE r.user_id = c.assigned_volunteer_id"
                " AND r.role = 'volunteer' AND r.place_id = c.commune_id)"
            )
        ).scalar_one()
    assert assigned == 50
    assert outside == 0


def test_money_is_whole_dong(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'money.db'}")
    run(engine, "tiny", seed=3)
    with engine.connect() as conn:
        kinds = set(
            conn.execute(
                text("SELECT DISTINCT typeof(amount_vnd) FROM support WHERE amount_vnd IS NOT NULL")
            ).scalars()
        )
        amounts = list(
            conn.execute(
                text("SELECT amount_vnd FROM support WHERE amount_vnd IS NOT NULL")
            ).scalars()
        )
    assert amounts, "expected some supports with an amount"
    assert kinds == {"integer"}
    assert all(isinstance(a, int) and a > 0 for a in amounts)


def test_nothing_is_dated_in_the_future(tiny: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = tiny
    today = date.today().isoformat()
    with engine.connect() as conn:
        latest = {
            "visit": conn.execute(text("SELECT MAX(visit_date) FROM visit")).scalar_one(),
            "drugtest": conn.execute(text("SELECT MAX(tested_on) FROM drugtest")).scalar_one(),
            "referral": conn.execute(text("SELECT MAX(referred_on) FROM referral")).scalar_one(),
            "episode": conn.execute(text("SELECT MAX(start_date) FROM episode")).scalar_one(),
        }
    for table, value in latest.items():
        assert value is not None and value <= today, table


def test_references_all_resolve(tiny: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = tiny
    with engine.connect() as conn:
        problems = conn.execute(text("PRAGMA foreign_key_check")).all()
    assert problems == []


def test_some_clients_show_good_progress_with_repeated_negative_tests(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'progress.db'}")
    run(engine, "tiny", seed=11)
    with engine.connect() as conn:
        results = conn.execute(
            text("SELECT client_id, result FROM drugtest ORDER BY client_id, tested_on, id")
        ).all()
    last_two: dict[int, list[str]] = {}
    for client_id, result in results:
        last_two[client_id] = ([*last_two.get(client_id, []), result])[-2:]
    good = [c for c, r in last_two.items() if r == ["negative", "negative"]]
    assert 0 < len(good) < len(last_two)


def test_a_database_with_data_is_refused_unless_appending(
    tiny: tuple[Engine, dict[str, int]],
) -> None:
    engine, _ = tiny
    with pytest.raises(RuntimeError):
        generate(engine, "tiny")


def test_appending_adds_a_second_data_set_with_unique_usernames(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'append.db'}")
    first = run(engine, "tiny", seed=5).counts
    second = run(engine, "tiny", seed=5, append=True).counts
    assert "place" not in second  # places are shared, loaded once
    with engine.connect() as conn:
        clients = conn.execute(text("SELECT COUNT(*) FROM client")).scalar_one()
        users, distinct = conn.execute(
            text('SELECT COUNT(*), COUNT(DISTINCT username) FROM "user"')
        ).one()
    assert clients == first["client"] + second["client"]
    assert users == distinct == first["user"] + second["user"]


def test_an_unknown_size_is_refused(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ValueError):
        generate(engine, "galactic")
