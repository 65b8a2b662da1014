"""All benchmarks of issue 8 in one command; the results are appended to docs/BENCHMARKS.md.

    python -m bench.run [--quick] [--only NAME[,NAME]] [--national] [--no-pg] [--no-report]

NAME: queries, ws, page_weight, lighthouse, cards, import. Every number is compared with a
floor measured in the same run on the same machine (these machines are noisy), and printed
as a ratio next to its target.

Data: `bench.generate` fills `data/bench/<size>.db` (SQLite, schema made by the migrations)
and, when PostgreSQL answers on 127.0.0.1:5432, the databases `dh_bench_<size>`. They are
made once and reused while they hold the expected number of clients. The load test and
Lighthouse run against a copy, so they never change the data the query benchmark reads.

`--quick` takes a few minutes: SQLite only, 50 sessions for 20 s, 200 cards, 2,000 import
rows. Without it, expect 20-30 minutes (most of it signing 750 simulated volunteers in
and letting them work).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bench import report
from bench.report import Section

if TYPE_CHECKING:
    from tests.e2e.server import RunningApp

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "bench"
NAMES = ("queries", "ws", "page_weight", "lighthouse", "cards", "import")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/7"  # a database number of our own; never flushed
IMPORT_ROWS = 20_000
IMPORT_TARGET_S = 180.0  # preview + commit of 20,000 rows on a 2-core machine
WS_P95_RATIO_TARGET = 2.0
WS_TARGET_SESSIONS = 200


def _log(msg: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {msg}", flush=True)


# --- data sets ------------------------------------------------------------------------------


def _expected_clients(size: str) -> int:
    from bench.generate import SIZES

    return SIZES[size].clients


def _client_count(engine: Engine) -> int:
    from models import Client

    try:
        with Session(engine) as s:
            return int(s.exec(select(func.count()).select_from(Client)).one()[0])  # type: ignore[call-overload]
    except SQLAlchemyError:  # no table yet, or no database
        return -1


def _generate(url: str, size: str) -> None:
    from app.cli import migrate
    from app.services.db import engine_for
    from bench.generate import format_report, run

    migrate(url)  # the schema the app really runs on, indexes included
    _log(f"generating {size} into {url.split('@')[-1]} …")
    # append: the migrations seed reference rows (places, law rules, holidays, privacy
    # terms, settings), so a freshly migrated database is not empty.
    print(format_report(run(engine_for(url), size, append=True)), flush=True)


def ensure_sqlite(size: str) -> str:
    from app.services.db import engine_for

    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{size}.db"
    url = f"sqlite:///{path}"
    if path.exists() and _client_count(engine_for(url)) == _expected_clients(size):
        return url
    engine_for(url).dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    _generate(url, size)
    return url


def pg_available() -> bool:
    import psycopg

    try:
        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                             connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping())
    except redis.RedisError:
        return False


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(sql.encode())


def ensure_pg(size: str, name: str = "") -> str:
    """dh_bench_<size> (or `name`) on the local PostgreSQL, generated once, vacuumed and
    analysed."""
    from app.services.db import engine_for

    name = name or f"dh_bench_{size}"
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    import psycopg

    try:
        if _client_count(engine_for(url)) == _expected_clients(size):
            return url
    except psycopg.Error:
        pass
    engine_for(url).dispose()
    _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _pg_admin(f"CREATE DATABASE {name}")
    _generate(url, size)
    engine_for(url).dispose()
    # What autovacuum does to a live database: statistics, and a visibility map so that
    # index-only scans stay index-only. Right after a bulk load neither exists yet.
    import psycopg as pg

    with pg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={name}",
                    autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url


def sqlite_copy(src_url: str, name: str) -> str:
    """A consistent copy (SQLite's backup API) that a benchmark may write to."""
    src = src_url.removeprefix("sqlite:///")
    dst = DATA / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{dst}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return f"sqlite:///{dst}"


def pg_copy(size: str, name: str, source: str = "") -> str:
    from app.services.db import engine_for

    src = source or f"dh_bench_{size}"
    engine_for(f"postgresql+psycopg://postgres@127.0.0.1:5432/{src}").dispose()
    _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _pg_admin(f"CREATE DATABASE {name} TEMPLATE {src}")
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


# --- benchmarks -----------------------------------------------------------------------------


def bench_queries(quick: bool, use_pg: bool, national: bool) -> Section:
    from app.services.db import engine_for
    from bench import queries

    targets: list[tuple[str, str]] = [("SQLite", "small"), ("SQLite", "province")]
    if use_pg:
        targets += [("PostgreSQL", "small"), ("PostgreSQL", "province")]
        if national:
            targets.append(("PostgreSQL", "national"))
    blocks, verdicts = [], []
    for engine_name, size in targets:
        url = ensure_sqlite(size) if engine_name == "SQLite" else ensure_pg(size)
        engine = engine_for(url)
        counts = queries.count_rows(engine)
        _log(f"queries on {engine_name} {size} …")
        results = queries.run_queries(engine, repeat=3 if quick else 9)
        blocks.append(f"{engine_name} {size}: " + ", ".join(
            f"{v:,} {k}" for k, v in counts.items()) + "\n" + queries.format_results(results))
        if size != "small":
            for r in results:
                clock = "CPU" if r.cpu_ratio else "wall"
                verdicts.append((f"{engine_name} {size} {r.case}: {r.judged_ms:.0f} ms {clock}, "
                                 f"{r.ratio:.2f}× the SQL (≤{queries.RATIO_TARGET}×, "
                                 f"<{r.target_ms:.0f} ms), same answer "
                                 f"{'yes' if r.same else 'NO'}", r.ok))
    return Section("queries", "Queries at scale (service vs hand-written SQL)",
                   "\n\n".join(blocks), verdicts)


def _second_factor_optional(db_url: str) -> None:
    """Benchmark accounts sign in without an authenticator app (a migrated database requires
    one of supervisors and administrators: issue 19 item 8)."""
    from app.services import second_factor
    from app.services.db import engine_for, session_scope
    from models import Role

    with session_scope(engine_for(db_url)) as session:
        for role in Role:
            second_factor.set_required(session, role=role, required=False)


@contextmanager
def _app(db_url: str, name: str, workdir: str = "", **extra: str) -> Iterator[RunningApp]:
    """The production build served on `db_url`, in a build folder of its own."""
    from app.cli import migrate
    from tests.e2e.server import app_env, running_app

    migrate(db_url)
    _second_factor_optional(db_url)
    # A build folder of our own: other builds of this checkout (tests, `make run`) rewrite
    # .web/ while they run, which would pull the served files from under the benchmark.
    suffix = f"-{workdir}" if workdir else ""
    env = app_env(db_url, REFLEX_WEB_WORKDIR=str(DATA / f"web{suffix}"),
                  REFLEX_STATES_WORKDIR=str(DATA / f"states{suffix}"), **extra)
    with running_app(env, name=name) as running:
        yield running


def bench_ws(url: str, db_url: str, levels: Sequence[int], seconds: float,
             label: str) -> Section:
    from app.services.db import engine_for
    from bench import ws_load

    handlers = ws_load.discover_handlers()
    blocks, verdicts = [f"handlers exercised: {', '.join(handlers.exercised())}"], []
    for n in levels:
        _log(f"websocket load: {n} sessions for {seconds:.0f} s on {label} …")
        result = asyncio.run(ws_load.run_load(url, engine_for(db_url), n, seconds=seconds,
                                              rounds=1000, think=(1.0, 4.0),
                                              handlers=handlers))
        blocks.append(ws_load.format_result(result))
        errors = sum(result.errors.values())
        verdicts.append((f"{label} {n} sessions: {errors} errors, {result.acked_saves} saves "
                         f"acknowledged, {result.saves_in_db} found by submission key",
                         errors == 0 and result.acked_saves == result.saves_in_db
                         and result.signed_in == n))
        if n == WS_TARGET_SESSIONS:
            rows = [r for r in result.summary() if r["op"] != "ping" and r["ratio_p95"]]
            worst = max(rows, key=lambda r: r["ratio_p95"]) if rows else None
            if worst is not None:
                verdicts.append((f"{label} {n} sessions: worst p95 ratio to ping "
                                 f"{worst['ratio_p95']:.2f} ({worst['op']}; target "
                                 f"≤ {WS_P95_RATIO_TARGET})",
                                 worst["ratio_p95"] <= WS_P95_RATIO_TARGET))
    return Section("ws", f"Event latency under load — {label}", "\n\n".join(blocks), verdicts)


def bench_page_weight(app_url: str) -> Section:
    from bench import lighthouse, page_weight

    _log("page weight …")
    app = page_weight.measure(app_url)
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:" \
                  f"{env.get('PATH', '')}"
    env.pop("REFLEX_DB_URL", None)
    env.pop("REFLEX_REDIS_URL", None)
    floor_lh = ""
    with page_weight.serve_folder(page_weight.blank_app_folder(), env, "bench-blank") as url:
        blank = page_weight.measure(url)
        if not lighthouse.lighthouse_available():  # the floor for the Lighthouse scores too
            with lighthouse.debug_chromium() as port:
                lighthouse._prepare_browser(port, url, None)
                rep = lighthouse.run_one(url, port)
            floor = lighthouse.PageScores("blank app", "/", lighthouse._scores(rep),
                                          metrics=lighthouse._metrics(rep))
            floor_lh = "\n\nLighthouse on the blank Reflex app (the floor for section 5):\n" + \
                lighthouse.format_results([floor])
    r = page_weight.WeightResult(app, blank)
    return Section("page_weight", "Page weight of the first screen (sign-in)",
                   page_weight.format_result(r) + floor_lh,
                   [(f"JS+CSS {r.app.total() / 1024:.0f} KiB vs blank "
                     f"{r.blank.total() / 1024:.0f} KiB = {r.ratio:.2f}× "
                     f"(≤ {page_weight.TARGET_RATIO}×)", r.ok)])


def bench_lighthouse(app_url: str, db_url: str) -> Section:
    from app.services.db import engine_for
    from bench import lighthouse, page_weight

    _log("lighthouse …")
    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.tools' / 'node_modules' / '.bin'}:{Path(sys.executable).parent}:" \
                  f"{env.get('PATH', '')}"
    env.pop("REFLEX_DB_URL", None)
    env.pop("REFLEX_REDIS_URL", None)
    with page_weight.serve_folder(page_weight.blank_app_folder(), env, "bench-blank") as blank:
        results = lighthouse.run_lighthouse(app_url, engine_for(db_url), blank_url=blank)
    summaries = lighthouse.summarise(results)
    verdicts = [(f"{r.page}: " + ", ".join(f"{k} {v}" for k, v in r.scores.items())
                 + f" (each ≥ {lighthouse.TARGET})", r.ok)
                for r in results if r.page != lighthouse.BLANK]
    for s in summaries:
        if s.blank is not None:
            verdicts += [(f"{s.page}: {goal} vs the blank app (issue 20)", ok)
                         for goal, ok in s.verdicts().items() if ok is not None]
    return Section("lighthouse", "Lighthouse (mobile preset), every phone page vs the blank app",
                   lighthouse.format_results(results) + "\n\n"
                   + lighthouse.format_summary(summaries), verdicts)


def bench_cards(quick: bool) -> Section:
    from bench import cards_bench

    n = 200 if quick else 1000
    _log(f"cards: {n} …")
    r = cards_bench.run_cards(n, repeat=1 if quick else 2)
    return Section("cards", f"Cards: {n} on A4 sheets vs one sheet of 10",
                   cards_bench.format_result(r),
                   [(f"{r.per_card_ms:.1f} ms per card in the batch, {r.ratio:.2f}× one sheet's "
                     f"(≤ {cards_bench.PER_CARD_RATIO_TARGET}×)", r.ok)])


_IMPORT_LINE = re.compile(r"import_bench rows=(\d+) preview_s=([\d.]+) commit_s=([\d.]+) "
                          r"rows_per_s=(\d+) committed=(\w+)")


def parse_import_summary(out: str) -> tuple[int, float, float, bool] | None:
    """(rows, preview seconds, commit seconds, committed) from bench.import_bench's last line."""
    m = _IMPORT_LINE.search(out)
    if m is None:
        return None
    return int(m.group(1)), float(m.group(2)), float(m.group(3)), m.group(5) == "True"


def bench_import(quick: bool) -> Section:
    rows = 2_000 if quick else IMPORT_ROWS
    target = IMPORT_TARGET_S * rows / IMPORT_ROWS
    _log(f"import: {rows} rows …")
    done = subprocess.run([sys.executable, "-m", "bench.import_bench", "--rows", str(rows)],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
    out = done.stdout.strip()
    parsed = parse_import_summary(out)
    if done.returncode != 0 or parsed is None:
        return Section("import", f"Spreadsheet import of {rows:,} rows",
                       out + "\n" + done.stderr[-2000:], [("import ran", False)])
    _rows, preview_s, commit_s, committed = parsed
    total = preview_s + commit_s
    return Section("import", f"Spreadsheet import of {rows:,} rows (preview, then commit)", out,
                   [(f"preview {preview_s:.1f} s + commit {commit_s:.1f} s = {total:.0f} s "
                     f"(target < {target:.0f} s), committed {committed}",
                     total < target and committed)])


# --- the run --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a reduced run of a few minutes")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {NAMES}")
    parser.add_argument("--national", action="store_true",
                        help="also the national data set on PostgreSQL (~7 min to generate)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-report", action="store_true", help="don't touch BENCHMARKS.md")
    args = parser.parse_args(argv)
    only = [n.strip() for n in args.only.split(",") if n.strip()] or list(NAMES)
    unknown = set(only) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {NAMES}")
    os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")

    started = datetime.now(UTC)
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    use_pg = not args.quick and not args.no_pg and pg_available()
    sections: list[Section] = []

    def timed(fn: Callable[[], Section | list[Section]]) -> None:
        t0 = time.perf_counter()
        got = fn()
        for s in got if isinstance(got, list) else [got]:
            s.seconds = time.perf_counter() - t0
            print(f"\n== {s.title}\n{s.text}\n", flush=True)
            for what, ok in s.verdicts:
                print(f"   {'ok    ' if ok else 'MISSED'} {what}", flush=True)
            sections.append(s)

    if "queries" in only:
        timed(lambda: bench_queries(args.quick, use_pg, args.national))
    server_benches = [n for n in ("page_weight", "lighthouse", "ws") if n in only]
    if server_benches:
        db_url = sqlite_copy(ensure_sqlite("province"), "served")
        _log("starting the production build on a copy of the province data …")
        with _app(db_url, "bench-app") as served:
            url = served.url
            if "page_weight" in only:
                timed(lambda: bench_page_weight(url))
            if "lighthouse" in only:
                timed(lambda: bench_lighthouse(url, db_url))
            if "ws" in only:
                levels = [50] if args.quick else [50, WS_TARGET_SESSIONS, 500]
                timed(lambda: bench_ws(url, db_url, levels, 20 if args.quick else 60,
                                       "SQLite, 1 worker"))
        if "ws" in only and use_pg and redis_available():
            ensure_pg("province")
            pg_url = pg_copy("province", "dh_bench_served")
            _log("starting the production build on PostgreSQL + Redis, 2 workers …")
            with _app(pg_url, "bench-app-pg", REFLEX_REDIS_URL=REDIS_URL,
                      GRANIAN_WORKERS="2") as served:
                url = served.url
                timed(lambda: bench_ws(url, pg_url, [WS_TARGET_SESSIONS], 60,
                                       "PostgreSQL + Redis, 2 workers"))
    if "cards" in only:
        timed(lambda: bench_cards(args.quick))
    if "import" in only:
        timed(lambda: bench_import(args.quick))

    mode = ("quick, " if args.quick else "") + f"only {','.join(only)}" if args.only else (
        "quick" if args.quick else "full")
    if not args.no_report:
        report.append(report.render(sections, mode=mode, started=started,
                                    load_before=load_before))
        _log(f"appended to {report.DOC.relative_to(ROOT)}")
    missed = [w for s in sections for w, ok in s.verdicts if not ok]
    _log(f"done: {len(sections)} benchmarks, {len(missed)} targets missed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
