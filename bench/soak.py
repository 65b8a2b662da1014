"""Soak and faults: many volunteers for a long time on PostgreSQL + Redis with several workers,
while a worker is killed and the database connections are cut.

    python -m bench.soak [--sessions 200] [--minutes 10] [--workers 3] [--no-faults]

What it does, all on this machine:
1. a PostgreSQL database copied from the `small` bench data set (generated once), and a
   Redis database number of its own, emptied first;
2. the production build served by `reflex run --env prod` with `--workers` backend workers,
   the Redis state manager and Granian respawning crashed workers (app/runtime.py);
3. `--sessions` simulated volunteers (bench/ws_load.py, Reflex's websocket protocol) sign in
   and work for `--minutes`: Today, search, open a visit form, save a visit, again;
   they behave like the browser after a lost socket (reconnect with the same token, send the
   cut-off event again, a save with the same submission key);
4. faults, unless `--no-faults`: at one third of the run `kill -9` of one backend worker; at
   two thirds every connection the app holds to PostgreSQL is terminated by the server
   (`pg_terminate_backend`, what a database restart does to them);
5. the memory (RSS) of every server process sampled every 10 s;
6. the ledger: every save sent, acknowledged, found in the database once, lost, doubled.

The figures are written to docs/reliability-soak.json, which `python -m bench.reliability`
puts into docs/RELIABILITY.md. Exit status 0 only when there were no errors, nothing
acknowledged was lost or doubled, every tab kept its session, and memory stayed flat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "reliability-soak.json"
REDIS_URL = "redis://127.0.0.1:6379/8"  # a database number of its own, emptied at the start
SOURCE_DB = "dh_soak_small"
SAMPLE_EVERY = 10.0
# An event cut off by a fault is excused only if it was cut off this soon after the fault.
FAULT_WINDOW = 60.0
# Memory is flat when the median RSS of the last third of the run is within this factor of
# the median of the first third (after a warm-up minute), process by process.
FLAT_FACTOR = 1.15


@dataclass
class Fault:
    at: float  # seconds since the load started
    what: str
    detail: str


@dataclass
class Sample:
    at: float
    rss_mib: dict[str, float]  # process label -> RSS


@dataclass
class SoakResult:
    date: str
    commit: str
    machine: str
    sessions: int
    signed_in: int
    minutes: float
    workers: int
    events: int
    errors: int
    error_samples: list[str]
    p50_ms: dict[str, float]
    p95_ms: dict[str, float]
    faults: list[Fault]
    interrupted: int
    interrupted_outside_faults: int
    reconnects: int
    tokens_replaced: int
    ledger: dict[str, int]
    # From the server's log: transactions run again after their connection was cut, and
    # workers Granian reported dead (each one respawned, or the run would have failed).
    retried_transactions: int = 0
    worker_exits: int = 0
    # Secrets and personal data in the server's log: tab tokens (UUIDs), the volunteers'
    # password, visit notes. All must be 0 (app/runtime.py redacts; services log ids only).
    secrets_in_log: int = 0
    log_lines: int = 0
    samples: list[Sample] = field(default_factory=list)
    memory: dict[str, dict[str, float]] = field(default_factory=dict)
    memory_flat: bool = True

    @property
    def ok(self) -> bool:
        return (self.errors == 0 and self.interrupted_outside_faults == 0
                and self.tokens_replaced == 0 and self.signed_in == self.sessions
                and self.ledger["acked_lost"] == 0 and self.ledger["duplicated"] == 0
                and self.ledger["acked_stored"] == self.ledger["acked"] and self.memory_flat
                and self.secrets_in_log == 0)


def _log(msg: str) -> None:
    print(f"[soak {datetime.now():%H:%M:%S}] {msg}", flush=True)


# --- the server's processes -------------------------------------------------------------------


def _rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def backend_workers(tree: list[int], supervisor: int) -> list[int]:
    """The Granian worker processes: Python children of the server that are not the front-end
    tool chain (bun/node are never started in production, but be sure)."""
    return sorted(pid for pid in tree if pid != supervisor
                  and "python" in _cmdline(pid) and "node" not in _cmdline(pid))


def terminate_connections(
    db_name: str, admin_dsn: str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
) -> int:
    """Every connection to `db_name` is closed by the server, as in a database restart."""
    import psycopg

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (db_name,)).fetchall()
    return sum(1 for (ok,) in rows if ok)


# --- one run ----------------------------------------------------------------------------------


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def secrets_in(log: str) -> int:
    """Tab tokens, the password and visit notes found in a server log."""
    from bench.generate import PASSWORD

    return (len(_UUID.findall(log)) + log.count(PASSWORD)
            + log.count("Thăm tại nhà"))


def judge_memory(samples: list[Sample], seconds: float,
                 killed: set[str]) -> tuple[dict[str, dict[str, float]], bool]:
    """Per process that lived through the whole run: first-third and last-third medians."""
    warm = min(60.0, seconds / 6)
    third = (seconds - warm) / 3
    out: dict[str, dict[str, float]] = {}
    flat = True
    labels = {label for s in samples for label in s.rss_mib} - killed
    for label in sorted(labels):
        early = [s.rss_mib[label] for s in samples
                 if warm <= s.at < warm + third and label in s.rss_mib]
        late = [s.rss_mib[label] for s in samples
                if s.at >= seconds - third and label in s.rss_mib]
        if not early or not late:
            continue
        first, last = statistics.median(early), statistics.median(late)
        growth = last / first if first else 1.0
        out[label] = {"first_third_mib": round(first, 1), "last_third_mib": round(last, 1),
                      "max_mib": round(max(s.rss_mib.get(label, 0) for s in samples), 1),
                      "ratio": round(growth, 3)}
        flat = flat and growth <= FLAT_FACTOR
    return out, flat


def soak(sessions: int, minutes: float, workers: int, faults: bool, size: str = "small", *,
         name: str = "soak", redis_url: str = REDIS_URL) -> SoakResult:
    """One run; `name` names its database copy, build folder and server log (runs with
    different names and Redis databases can share the machine)."""
    import redis

    from app.services.db import engine_for
    from bench import ws_load
    from bench.reliability import commit_id
    from bench.run import _app, _pg_admin, ensure_pg, pg_copy
    from tests.e2e.server import ARTIFACTS

    _log(f"database: {size} data set on PostgreSQL …")
    ensure_pg(size, SOURCE_DB)
    served_db = f"dh_{name}_served"
    db_url = pg_copy(size, served_db, source=SOURCE_DB)
    redis.Redis.from_url(redis_url).flushdb()
    seconds = minutes * 60
    fault_log: list[Fault] = []
    samples: list[Sample] = []
    killed_labels: set[str] = set()

    _log(f"starting the production build on PostgreSQL + Redis, {workers} workers …")
    with _app(db_url, name, workdir=name, REFLEX_REDIS_URL=redis_url,
              GRANIAN_WORKERS=str(workers)) as running:
        supervisor = running.pid

        def labelled() -> dict[str, int]:
            found = backend_workers(running.process_tree(), supervisor)
            return {"supervisor": supervisor, **{f"worker pid {p}": p for p in found}}

        start_workers = backend_workers(running.process_tree(), supervisor)
        if len(start_workers) < workers:
            raise RuntimeError(f"expected {workers} workers, found {start_workers}")

        async def alongside(total: float) -> None:
            started = time.perf_counter()
            plan = [(total / 3, "kill"), (2 * total / 3, "db")] if faults else []

            async def sample() -> None:
                while True:
                    at = time.perf_counter() - started
                    rss = {label: r for label, pid in labelled().items()
                           if (r := _rss_mib(pid)) is not None}
                    samples.append(Sample(at=round(at, 1), rss_mib=rss))
                    await asyncio.sleep(SAMPLE_EVERY)

            sampler = asyncio.create_task(sample())
            try:
                for when, what in plan:
                    await asyncio.sleep(max(0.0, when - (time.perf_counter() - started)))
                    at = round(time.perf_counter() - started, 1)
                    if what == "kill":
                        victim = backend_workers(running.process_tree(), supervisor)[0]
                        os.kill(victim, signal.SIGKILL)
                        killed_labels.add(f"worker pid {victim}")
                        fault_log.append(Fault(at, "kill -9 of a backend worker",
                                               f"pid {victim}"))
                        _log(f"killed worker {victim} at {at:.0f} s")
                    else:
                        n = await asyncio.to_thread(terminate_connections, served_db)
                        fault_log.append(Fault(at, "every database connection terminated",
                                               f"{n} connections"))
                        _log(f"terminated {n} database connections at {at:.0f} s")
                await asyncio.sleep(total)
            finally:
                sampler.cancel()

        _log(f"{sessions} volunteers sign in, then work for {minutes:g} min …")
        result = asyncio.run(ws_load.run_load(
            running.url, engine_for(db_url), sessions, seconds=seconds, rounds=100_000,
            think=(1.0, 4.0), resilient=True, alongside=alongside))
        after = backend_workers(running.process_tree(), supervisor)
        _log(f"workers at the end: {after}")
    engine_for(db_url).dispose()
    _pg_admin(f'DROP DATABASE IF EXISTS "{served_db}" WITH (FORCE)')
    server_log = (ARTIFACTS / f"{name}-server.log").read_text(errors="replace")

    print(ws_load.format_result(result), flush=True)
    excused = 0
    for at, _op in result.interrupted:
        if any(f.at <= at <= f.at + FAULT_WINDOW for f in fault_log):
            excused += 1
    memory, flat = judge_memory(samples, result.seconds, killed_labels)
    summary = {row["op"]: row for row in result.summary()}
    ledger = asdict(result.ledger) if result.ledger else {}
    return SoakResult(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), commit=commit_id(),
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
                f"{platform.python_version()}",
        sessions=sessions, signed_in=result.signed_in, minutes=round(result.seconds / 60, 2),
        workers=workers, events=result.events, errors=sum(result.errors.values()),
        error_samples=result.error_samples,
        p50_ms={op: round(r["p50_ms"], 1) for op, r in summary.items() if r["p50_ms"]},
        p95_ms={op: round(r["p95_ms"], 1) for op, r in summary.items() if r["p95_ms"]},
        faults=fault_log, interrupted=len(result.interrupted),
        interrupted_outside_faults=len(result.interrupted) - excused,
        reconnects=result.reconnects, tokens_replaced=result.tokens_replaced,
        ledger=ledger, samples=samples, memory=memory, memory_flat=flat,
        retried_transactions=server_log.count("retrying once on a new connection"),
        worker_exits=server_log.count("Unexpected exit from worker"),
        secrets_in_log=secrets_in(server_log), log_lines=server_log.count("\n"),
    )


def format_soak(r: SoakResult) -> str:
    g = r.ledger
    lines = [
        f"{r.sessions} sessions ({r.signed_in} signed in) for {r.minutes:g} min on "
        f"{r.workers} workers: {r.events} events, {r.errors} errors",
        *(f"  fault at {f.at:.0f} s: {f.what} ({f.detail})" for f in r.faults),
        f"  events cut off by a fault and sent again: {r.interrupted} "
        f"(outside a fault: {r.interrupted_outside_faults}); reconnects {r.reconnects}; "
        f"tabs that lost their state (new token) {r.tokens_replaced}",
        f"  saves sent {g.get('sent')}, acknowledged {g.get('acked')}, stored once "
        f"{g.get('acked_stored')}, lost {g.get('acked_lost')}, doubled {g.get('duplicated')}, "
        f"unacknowledged but stored once {g.get('unacked_stored')}",
        f"  server log: {r.worker_exits} worker exits reported, {r.retried_transactions} "
        f"transactions run again on a new database connection; {r.log_lines} lines, "
        f"{r.secrets_in_log} tokens, passwords or notes in them",
    ]
    for label, m in r.memory.items():
        lines.append(f"  memory {label}: {m['first_third_mib']} → {m['last_third_mib']} MiB "
                     f"(×{m['ratio']}, max {m['max_mib']})")
    lines.append(f"  memory flat (≤ ×{FLAT_FACTOR}): {'yes' if r.memory_flat else 'NO'}")
    lines.append(f"  verdict: {'ok' if r.ok else 'FAILED'}")
    return "\n".join(lines)


def save(r: SoakResult, path: Path = OUT) -> None:
    data: dict[str, Any] = asdict(r)
    data["ok"] = r.ok
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--size", default="small", help="bench data set (default small)")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--name", default="soak",
                        help="names the database copy, build folder and server log")
    parser.add_argument("--no-save", action="store_true",
                        help=f"don't write {OUT.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    result = soak(args.sessions, args.minutes, args.workers, not args.no_faults, args.size,
                  name=args.name)
    print(format_soak(result), flush=True)
    if not args.no_save:
        save(result)
        _log(f"wrote {OUT.relative_to(ROOT)}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
