"""Backups an operator can trust: take one while the app runs, check it, put it back.

SQLite uses the sqlite3 online backup API, page by page under SQLite's own locks, so the copy
is consistent even with the app writing (WAL included) and never a torn file copy. The copy
is switched to the rollback journal (one self-contained file) and checked with
`PRAGMA integrity_check` before it gets its final name. Restoring runs the same API the other
way, into the live file, so connections the app still holds see the restored data and not a
file swapped under them.

PostgreSQL uses `pg_dump -Fc` and `pg_restore --clean --if-exists --single-transaction`
(the Debian postgresql-client binaries on the PATH); the password travels in the
environment (`PGPASSWORD`), never on the command line.

Operator commands: `python -m app.cli backup --to FILE` and `restore --from FILE --yes`
(docs/OPERATIONS.md). No reflex here, and no actor: these are run from a shell on the server.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
PG_TIMEOUT_SECONDS = 3600


class BackupError(Exception):
    """The backup or restore could not be done; the message says why, for an operator."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    size_bytes: int
    tables: int  # tables found in the file (SQLite) or table-data entries (PostgreSQL)


def kind_of(db_url: str) -> str:
    """'sqlite' or 'postgresql', from a SQLAlchemy URL; anything else is refused."""
    backend = make_url(db_url).get_backend_name()
    if backend in ("sqlite", "postgresql"):
        return backend
    raise BackupError(f"unsupported database for backup: {backend}")


def backup(*, db_url: str, to: Path) -> BackupInfo:
    """Write a verified backup of the database at `db_url` to `to` (which must not exist)."""
    to = Path(to)
    if to.exists():
        raise BackupError(f"{to} already exists; choose a new file name")
    to.parent.mkdir(parents=True, exist_ok=True)
    partial = to.with_name(f".{to.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if kind_of(db_url) == "sqlite":
            _sqlite_backup(_sqlite_path(db_url), partial)
        else:
            _pg_run(["pg_dump", "-Fc", "--no-owner", "--no-acl", "-f", str(partial)],
                    make_url(db_url))
        info = verify(db_url=db_url, source=partial)
        os.replace(partial, to)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(path=to, kind=info.kind, size_bytes=to.stat().st_size, tables=info.tables)


def verify(*, db_url: str, source: Path) -> BackupInfo:
    """Check that `source` is a complete, readable backup for this kind of database."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    kind = kind_of(db_url)
    with source.open("rb") as fh:
        head = fh.read(16)
    if kind == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{source} is not a SQLite database")
        tables = _sqlite_check(source)
    else:
        if not head.startswith(PG_MAGIC):
            raise BackupError(f"{source} is not a pg_dump custom-format (-Fc) archive")
        listing = _pg_run(["pg_restore", "--list", str(source)], None)
        tables = sum(1 for line in listing.splitlines() if " TABLE DATA " in line)
        if tables == 0:
            raise BackupError(f"{source} holds no table data")
    return BackupInfo(path=source, kind=kind, size_bytes=source.stat().st_size, tables=tables)


def restore(*, db_url: str, source: Path, safety_dir: Path | None = None) -> BackupInfo:
    """Replace the database's contents with the backup in `source`, after verifying it.

    With `safety_dir`, the current contents are backed up there first (pre-restore-*.bak),
    so that a restore of the wrong file can itself be undone."""
    info = verify(db_url=db_url, source=source)
    if safety_dir is not None and (info.kind != "sqlite" or _sqlite_path(db_url).is_file()):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup(db_url=db_url, to=Path(safety_dir) / f"pre-restore-{stamp}.bak")
    if info.kind == "sqlite":
        _sqlite_restore(Path(source), _sqlite_path(db_url))
    else:
        _pg_run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-acl",
                 "--single-transaction", "--exit-on-error", str(source)], make_url(db_url))
    return info


# --- SQLite --------------------------------------------------------------------------------


def _sqlite_path(db_url: str) -> Path:
    database = make_url(db_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("the SQLite database must be a file path")
    return Path(database)


def _sqlite_backup(live: Path, target: Path) -> None:
    if not live.is_file():
        raise BackupError(f"no database at {live}")
    src = sqlite3.connect(live, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=1024)  # in steps: writers are blocked only for a moment
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
        dst.commit()
    except sqlite3.Error as err:
        raise BackupError(f"SQLite backup failed: {err}") from None
    finally:
        dst.close()
        src.close()


def _sqlite_check(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as err:
        raise BackupError(f"{path} cannot be read: {err}") from None
    if result != ["ok"]:
        raise BackupError(f"{path} failed the integrity check: {'; '.join(result[:5])}")
    if not tables:
        raise BackupError(f"{path} holds no tables")
    return int(tables)


def _sqlite_restore(source: Path, live: Path) -> None:
    live.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro&immutable=1", uri=True)
    dst = sqlite3.connect(live, timeout=30)
    try:
        src.backup(dst)
        # The copy carries the backup's journal mode; the app runs in WAL.
        dst.execute("PRAGMA journal_mode=WAL")
        result = [row[0] for row in dst.execute("PRAGMA integrity_check")]
    except sqlite3.Error as err:
        raise BackupError(f"SQLite restore failed: {err}") from None
    finally:
        dst.close()
        src.close()
    if result != ["ok"]:
        raise BackupError(f"the restored database failed the integrity check: {result[:5]}")


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_run(argv: list[str], url: URL | None) -> str:
    """Run a PostgreSQL client tool against `url` (connection flags added); its stdout."""
    if shutil.which(argv[0]) is None:
        raise BackupError(f"{argv[0]} not found: install the postgresql-client package")
    env = dict(os.environ)
    args = list(argv)
    if url is not None:
        if url.password is not None:
            env["PGPASSWORD"] = str(url.password)
        for flag, value in (("--host", url.host), ("--port", url.port),
                            ("--username", url.username)):
            if value:
                args[1:1] = [flag, str(value)]
        args[1:1] = ["--dbname", str(url.database or "")]
    try:
        done = subprocess.run(args, env=env, capture_output=True, text=True,  # noqa: S603 - argv list, no shell
                              timeout=PG_TIMEOUT_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{argv[0]} did not finish in {PG_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout
