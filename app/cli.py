"""Operator commands: `python -m app.cli migrate | seed-demo | banner | create-admin | backup |
restore | retention | second-factor`."""

from __future__ import annotations

import argparse
import getpass
import os
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


def migrate(db_url: str | None = None) -> str:
    """Apply the schema migrations, then load the reference data that is missing (places,
    duration rules): safe to run on every deploy. Returns what was loaded, for the operator."""
    url = db_url or load_settings().db_url
    command.upgrade(alembic_config(url), "head")
    from app.services.db import engine_for, session_scope
    from app.services.reference import load_reference_data

    with session_scope(engine_for(url)) as session:
        return load_reference_data(session=session).summary()


def _retention(apply: bool) -> int:
    """Print the retention dry run; with --apply, anonymise what it lists (audited)."""
    from app.services import privacy
    from app.services.db import session_scope

    with session_scope() as session:
        result = privacy.apply(session=session, system=True) if apply \
            else privacy.plan(session=session, system=True)
    verb = "Anonymised" if apply else "Would anonymise"
    print(f"{verb} {len(result.client_ids)} closed client record(s) with nothing since "
          f"{result.client_cutoff:%d/%m/%Y}: {result.client_ids}")
    print(f"{'Emptied' if apply else 'Would empty'} the notes of {result.visit_notes} visit(s) "
          f"before {result.notes_cutoff:%d/%m/%Y}.")
    if result.held_ids:
        print(f"Kept under a legal hold (live episode): {result.held_ids}")
    if not apply:
        print("Dry run: nothing changed. Run again with --apply to do it.")
    return 0


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
    print(f" {second_factor_line()}")
    print(f"{line}\n (The first build takes a minute; later starts take seconds.)\n")


def second_factor_line() -> str:
    """What the banner says about the second factor, read from this database's rows."""
    from app.services import second_factor
    from app.services.db import session_scope

    with session_scope() as session:
        required = [r.value for r, on in second_factor.requirement(session).items() if on]
    if not required:
        return ("Demo: the second factor is optional here; a real deployment requires it "
                "for supervisors and administrators.")
    return "Second factor (authenticator app) required for: " + ", ".join(required) + "."


def _second_factor(require: list[str], optional: list[str]) -> int:
    """Set which roles must have a second factor (audited), then print the rule."""
    from app.services import audit, second_factor
    from app.services.db import session_scope
    from models import Role

    with session_scope() as session:
        for names, required in ((require, True), (optional, False)):
            for name in names:
                role = Role(name)
                if second_factor.set_required(session, role=role, required=required):
                    audit.record(session, actor=None, action="settings.second_factor",
                                 target_type="setting", target_id=None,
                                 detail=f"role={role.value} required={int(required)} by=cli")
        rule = second_factor.requirement(session)
    for role, on in rule.items():
        print(f"{role.value:<11} {'required' if on else 'optional'}")
    return 0


ADMIN_PASSWORD_ENV = "DH_ADMIN_PASSWORD"  # noqa: S105 (a variable name)


def _admin_password(from_stdin: bool) -> str | None:
    """The first administrator's password: one line of standard input (`--password-stdin`),
    else the DH_ADMIN_PASSWORD environment variable, else asked twice on the terminal.
    None (after a message) when there is no way to get it or the two entries differ."""
    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    env = os.environ.get(ADMIN_PASSWORD_ENV)
    if env:
        return env
    if not sys.stdin.isatty():
        print(f"No terminal to ask the password on: pipe it in with --password-stdin or set "
              f"{ADMIN_PASSWORD_ENV}; nothing created.", file=sys.stderr)
        return None
    password = getpass.getpass("Password for the first administrator: ")
    again = getpass.getpass("Repeat it: ")
    if password != again:
        print("Passwords differ; nothing created.", file=sys.stderr)
        return None
    return password


def _create_admin(username: str, full_name: str, from_stdin: bool = False) -> int:
    from app.i18n import t
    from app.services import accounts
    from app.services.db import session_scope
    from app.services.errors import DomainError

    password = _admin_password(from_stdin)
    if password is None:
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


def _backup(to: str) -> int:
    from pathlib import Path

    from app.services.backup import BackupError, backup

    try:
        info = backup(db_url=load_settings().db_url, to=Path(to))
    except BackupError as err:
        print(f"Backup failed: {err}", file=sys.stderr)
        return 2
    print(f"Backup written and verified: {info.path} ({info.kind}, {info.size_bytes} bytes, "
          f"{info.tables} tables)")
    return 0


def _restore(source: str, yes: bool) -> int:
    from pathlib import Path

    from app.services.backup import BackupError, restore, verify
    from app.services.settings import DATA_DIR

    db_url = load_settings().db_url
    try:
        info = verify(db_url=db_url, source=Path(source))
        if not yes:
            print(f"{info.path} is a valid {info.kind} backup ({info.tables} tables). Restoring "
                  "it REPLACES everything in the current database; run again with --yes.",
                  file=sys.stderr)
            return 2
        restore(db_url=db_url, source=Path(source), safety_dir=DATA_DIR / "backups")
    except BackupError as err:
        print(f"Restore refused: {err}", file=sys.stderr)
        return 2
    print(f"Restored from {info.path}. The previous contents were saved under "
          f"{DATA_DIR / 'backups'} (pre-restore-*.bak). Restart the app workers.")
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
    admin.add_argument("--password-stdin", action="store_true",
                       help="read the password from one line of standard input (scripted "
                            f"installs); or set {ADMIN_PASSWORD_ENV}")
    dump = sub.add_parser("backup", help="write a verified backup of the database")
    dump.add_argument("--to", required=True, metavar="FILE", help="a new file")
    back = sub.add_parser("restore", help="replace the database with a verified backup")
    back.add_argument("--from", dest="source", required=True, metavar="FILE")
    back.add_argument("--yes", action="store_true", help="really replace the current data")
    keep = sub.add_parser("retention", help="the retention schedule: dry run, or --apply")
    keep.add_argument("--apply", action="store_true", help="anonymise what the dry run lists")
    factor = sub.add_parser("second-factor",
                            help="which roles must sign in with an authenticator app")
    roles = ["volunteer", "supervisor", "clinic", "admin"]
    factor.add_argument("--require", nargs="*", default=[], choices=roles, metavar="ROLE")
    factor.add_argument("--optional", nargs="*", default=[], choices=roles, metavar="ROLE")
    args = parser.parse_args(argv)

    if args.cmd == "migrate":
        print(f"Database migrated; reference data: {migrate()}.")
    elif args.cmd == "seed-demo":
        _seed_demo()
    elif args.cmd == "banner":
        _banner(args.port)
    elif args.cmd == "create-admin":
        return _create_admin(args.username, args.full_name, args.password_stdin)
    elif args.cmd == "backup":
        return _backup(args.to)
    elif args.cmd == "restore":
        return _restore(args.source, args.yes)
    elif args.cmd == "retention":
        return _retention(args.apply)
    elif args.cmd == "second-factor":
        return _second_factor(args.require, args.optional)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
