"""A new province's first day: `migrate` and `create-admin` on an empty database, without a
terminal, leave a deployment in which the administrator can create scoped accounts and
episodes get their expected end (docs/OPERATIONS.md, "The first day of a new province")."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from sqlmodel import Session, func, select

from app.services import accounts
from app.services.account_dto import UserCreate
from app.services.actor import load_actor
from app.services.db import engine_for
from app.services.law.rules import rule_in_force
from app.services.text import fold
from models import DurationRule, EpisodeType, Place, PlaceKind, Role, User
from tests.unit.test_migrations import empty_db_url  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Tinh-Moi-2026-khoi-dau"


def cli(db_url: str, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "DH_ADMIN_PASSWORD"}
    environ.update(REFLEX_DB_URL=db_url, **env)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=environ, input=stdin,
        capture_output=True, text=True, timeout=300, check=False,
    )


def test_migrate_and_create_admin_make_an_empty_database_usable(
    empty_db_url: str,  # noqa: F811
) -> None:
    first = cli(empty_db_url, "migrate")
    assert first.returncode == 0, first.stderr
    assert "34 provinces, 3321 communes" in first.stdout
    again = cli(empty_db_url, "migrate")
    assert again.returncode == 0, again.stderr
    assert ("0 provinces, 0 communes, 0 duration rules, 0 privacy terms and 0 public holidays "
            "added") in again.stdout

    made = cli(empty_db_url, "create-admin", "--username", "qt.tinh", "--full-name",
               "Nguyễn Văn A", "--password-stdin", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    # The environment variable is read too (refused here only because an admin now exists).
    env_try = cli(empty_db_url, "create-admin", "--username", "qt.hai", "--full-name", "B",
                  DH_ADMIN_PASSWORD=PASSWORD)
    assert env_try.returncode == 2 and "administrator already exists" in env_try.stderr.lower()
    # Without a terminal, an option or the variable, nothing is asked and nothing created.
    no_tty = cli(empty_db_url, "create-admin", "--username", "qt.ba", "--full-name", "C")
    assert no_tty.returncode == 2 and "--password-stdin" in no_tty.stderr

    engine = engine_for(empty_db_url)
    with Session(engine) as session:
        signed_in = accounts.authenticate(
            session=session, login="qt.tinh", password=PASSWORD, client_addr=""
        )
        assert signed_in.role == Role.ADMIN
        # A fresh deployment requires a second factor of administrators and supervisors: the
        # first session may only enrol one (issue 19 item 8).
        assert signed_in.must_enrol_second_factor
        admin = session.exec(select(User).where(User.username == "qt.tinh")).one()
        assert admin.id is not None
        actor = load_actor(session, user_id=admin.id, role=Role.ADMIN)
        assert actor is not None
        province = session.exec(
            select(Place).where(Place.kind == PlaceKind.PROVINCE,
                                Place.name_key == fold("Đồng Tháp"))
        ).one()
        supervisor = accounts.create_user(session=session, actor=actor, data=UserCreate(
            username="gs.dongthap", full_name="Trần Văn Minh", role=Role.SUPERVISOR,
            place_id=province.id,
        ))
        session.commit()
        scoped = load_actor(session, user_id=supervisor.id, role=Role.SUPERVISOR)
        assert scoped is not None and len(scoped.commune_ids) > 50
        assert session.exec(select(func.count()).select_from(DurationRule)).one() > 0
        assert rule_in_force(session, EpisodeType.POST_REHAB, date(2022, 3, 1)) is not None
    engine.dispose()

    banner = cli(empty_db_url, "banner")
    assert "Second factor (authenticator app) required for: supervisor, admin." in banner.stdout
    optional = cli(empty_db_url, "second-factor", "--optional", "admin")
    assert optional.returncode == 0 and "admin       optional" in optional.stdout
    assert "supervisor  required" in optional.stdout
