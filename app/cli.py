"""Operator commands: `python -m app.cli migrate | seed-demo | banner | create-admin`."""

from __future__ import annotations

import argparse
import getpass
import sys

from alembic import command
from alembic.config import Config

from app.services.settings import PROJECT_ROOT, load_settings


def alembic_config(db_url: str | None = None) -> Config:
    cfg = Config(toml_file=str(PROJECT_ROOT / "pyproject.toml"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if db_url:
        cfg.set_main_option("sqlalchemy.url", db_url)
    return cfg


def migrate(db_url: str | None = None) -> None:
    command.upgrade(alembic_config(db_url or load_settings().db_url), "head")


def _seed_demo() -> None:
    from app.services.db import session_scope
    from app.services.demo import seed_demo

    with session_scope() as session:
        created = seed_demo(session=session)
    print("Demo data " + ("loaded." if created else "already present."))


def _banner(port: int) -> None:
    from app.services.demo import DEMO_LOGINS

    line = "─" * 60
    print(f"\n{line}\n Đồng Hành is starting on  http://localhost:{port}/\n{line}")
    print(" Demo logins (demo data only — never use on a real deployment):")
    for role, username, password in DEMO_LOGINS:
        print(f"   {role:<11} {username:<16} {password}")
    print(f"{line}\n (The first build takes a minute; later starts take seconds.)\n")


def _create_admin(username: str, full_name: str) -> int:
    from app.i18n import t
    from app.services import accounts
    from app.services.db import session_scope
    from app.services.errors import DomainError

    password = getpass.getpass("Password for the first administrator: ")
    again = getpass.getpass("Repeat it: ")
    if password != again:
        print("Passwords differ; nothing created.", file=sys.stderr)
        return 2
    try:
        with session_scope() as session:
            accounts.create_first_admin(
                session=session, username=username, password=password, full_name=full_name
            )
    except DomainError as err:
        print(t(err.key, "en", **err.params), file=sys.stderr)
        return 2
    print(f"Administrator {username!r} created.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.cli")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("seed-demo", help="load demo data (idempotent)")
    banner = sub.add_parser("banner", help="print the URL and demo logins")
    banner.add_argument("--port", type=int, default=3000)
    admin = sub.add_parser("create-admin", help="create the first administrator")
    admin.add_argument("--username", required=True)
    admin.add_argument("--full-name", required=True)
    args = parser.parse_args(argv)

    if args.cmd == "migrate":
        migrate()
    elif args.cmd == "seed-demo":
        _seed_demo()
    elif args.cmd == "banner":
        _banner(args.port)
    elif args.cmd == "create-admin":
        return _create_admin(args.username, args.full_name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
