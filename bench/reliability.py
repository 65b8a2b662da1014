"""Regenerate docs/RELIABILITY.md from what the fault, security and fuzz tests measure:
`python -m bench.reliability`.

Runs each suite below with a JUnit XML report (tests record their figures with
`record_property`), counts the guarded handlers and their roles from
`app.state.guard.HANDLER_ROLES`, reads the last soak (`python -m bench.soak` writes
docs/reliability-soak.json; it takes ~15 minutes, so it is not re-run here unless `--soak`),
checks whether a vulnerability audit can reach its advisory service, and writes the page with
the machine, date and commit. With DH_PG_LANE=1 and DH_TEST_PG_URL set (see .ci/run) the
PostgreSQL backup round trip and the worker-crash tests are included.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "RELIABILITY.md"
SOAK = ROOT / "docs" / "reliability-soak.json"
SUITES = {
    "crash": "tests/unit/test_sqlite_crash.py",
    "backup": "tests/unit/test_backup.py",
    "uploads": "tests/security/test_uploads.py",
    "imports": "tests/unit/test_imports.py",
    "state": "tests/state",
    "fuzz": "tests/state/test_fuzz_handlers.py",
    "authz": "tests/security/test_ws_authz.py",
    "headers": "tests/e2e/test_security_headers.py",
    "db_retry": "tests/unit/test_db_retry.py",
    "worker_crash": "tests/pg/test_worker_crash.py",
}
PG_ONLY = {"worker_crash"}


@dataclass
class Suite:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    properties: dict[str, dict[str, str]] = field(default_factory=dict)  # test -> name -> value
    names: list[tuple[str, str]] = field(default_factory=list)  # (test, outcome)


def run_suite(target: str) -> Suite:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        subprocess.run(
            [sys.executable, "-m", "pytest", target, "-q", "-p", "no:cacheprovider",
             f"--junitxml={report}", "-o", "junit_family=xunit1"],
            cwd=ROOT, check=False, capture_output=True, text=True)
        suite = Suite()
        if not report.exists():
            suite.failed = 1
            return suite
        for case in ET.parse(report).getroot().iter("testcase"):
            name = case.get("name", "")
            suite.seconds += float(case.get("time", "0") or 0)
            if case.find("failure") is not None or case.find("error") is not None:
                suite.failed += 1
                outcome = "failed"
            elif case.find("skipped") is not None:
                suite.skipped += 1
                outcome = "skipped"
            else:
                suite.passed += 1
                outcome = "passed"
            suite.names.append((name, outcome))
            props = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
            if props:
                suite.properties[name] = props
        return suite


def commit_id() -> str:
    """The checked-out commit, read from .git without running git."""
    git = ROOT / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        loose = git / ref
        if loose.exists():
            return loose.read_text().strip()[:12]
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:12]
    except OSError:
        pass
    return "unknown"


def handler_matrix() -> tuple[int, int, int, int]:
    """(handlers, public handlers, allowed handler×role pairs, all handler×role cells)."""
    import app.app  # noqa: F401 - registers every page and State
    from app.state.guard import HANDLER_ROLES
    from models import Role

    handlers = len(HANDLER_ROLES)
    public = sum(1 for roles in HANDLER_ROLES.values() if not roles)
    allowed = sum(len(roles) for roles in HANDLER_ROLES.values())
    return handlers, public, allowed, handlers * len(Role)


def _props(suite: Suite, test_prefix: str) -> dict[str, str]:
    return next((v for k, v in suite.properties.items() if k.startswith(test_prefix)), {})


def _counts(suite: Suite) -> str:
    return f"{suite.passed} passed, {suite.failed} failed, {suite.skipped} skipped"


def audit_reachable() -> str:
    """Whether a dependency audit (pip-audit) can reach an advisory service from here."""
    import urllib.error
    import urllib.request

    tried = []
    # pip-audit asks PyPI per pinned version; the unversioned page lists only the newest
    # release's advisories, so it is no substitute.
    for name, url in (("PyPI JSON API per version", "https://pypi.org/pypi/pip/24.0/json"),
                      ("OSV", "https://api.osv.dev/v1/query")):
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                tried.append(f"{name}: HTTP {r.status}")
        except urllib.error.HTTPError as err:
            tried.append(f"{name}: HTTP {err.code}")
        except OSError as err:
            tried.append(f"{name}: {type(err).__name__}")
    return "; ".join(tried)


def render_soak() -> list[str]:
    import json

    if not SOAK.exists():
        return ["No soak on record: run `python -m bench.soak` (about 15 minutes).", ""]
    d = json.loads(SOAK.read_text(encoding="utf-8"))
    g = d["ledger"]
    lines = [
        f"`python -m bench.soak` on {d['date']}, commit `{d['commit']}`, {d['machine']}: "
        f"{d['sessions']} simulated volunteers (Reflex's websocket protocol, bench/ws_load.py) "
        f"on PostgreSQL + Redis with {d['workers']} backend workers for {d['minutes']:g} "
        "minutes, opening Today, searching, opening and saving visits.",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Sessions held (signed in / asked) | {d['signed_in']} / {d['sessions']} |",
        f"| Events answered | {d['events']:,} |",
        f"| Errors | {d['errors']} |",
    ]
    for f in d["faults"]:
        lines.append(f"| Fault at {f['at']:.0f} s | {f['what']} ({f['detail']}) |")
    lines += [
        f"| Workers reported dead by Granian (each respawned) | {d.get('worker_exits', '–')} |",
        f"| Transactions run again on a new database connection | "
        f"{d.get('retried_transactions', '–')} |",
        f"| Events cut off by a fault, sent again after reconnecting | {d['interrupted']} "
        f"(outside a fault's minute: {d['interrupted_outside_faults']}) |",
        f"| Tabs that lost their state on reconnecting (new token) | {d['tokens_replaced']} |",
        f"| Tokens, passwords or visit notes in the server log | "
        f"{d.get('secrets_in_log', 'not checked')} (of {d.get('log_lines', '–')} lines) |",
        f"| Saves sent / acknowledged | {g['sent']} / {g['acked']} |",
        f"| Acknowledged saves stored exactly once | {g['acked_stored']} |",
        f"| **Acknowledged saves lost** | **{g['acked_lost']}** |",
        f"| **Saves stored twice** | **{g['duplicated']}** |",
        f"| Saves whose answer was lost in a fault, stored once | {g['unacked_stored']} |",
    ]
    for label, m in d["memory"].items():
        lines.append(f"| Memory, {label} (median first → last third, max) | "
                     f"{m['first_third_mib']} → {m['last_third_mib']} MiB (×{m['ratio']}), "
                     f"max {m['max_mib']} MiB |")
    lines += [
        f"| Memory flat (every process ≤ ×1.15) | {'yes' if d['memory_flat'] else 'NO'} |",
        f"| Verdict | {'passed' if d['ok'] else 'FAILED'} |",
        "",
        "p95 latency (ms) over the whole run, faults included: "
        + ", ".join(f"{op} {v:g}" for op, v in d["p95_ms"].items()) + ".",
        "",
    ]
    return lines


def render(results: dict[str, Suite], matrix: tuple[int, int, int, int],
           audit_status: str) -> str:
    crash, backup, uploads, state = (results[k] for k in ("crash", "backup", "uploads", "state"))
    figures = next(iter(crash.properties.values()), {})
    round_trips = [n for n, o in backup.names if "round_trip" in n and o == "passed"]
    pg = any("postgresql_round_trip" in n for n in round_trips)
    engines = ", ".join(sorted("PostgreSQL" if "postgresql" in n else "SQLite"
                               for n in round_trips))
    handlers, public, allowed, cells = matrix
    authz = _props(results["authz"], "test_every_handler_refuses")
    frames = _props(results["authz"], "test_each_roles_frames")
    fuzz = _props(results["fuzz"], "test_the_fuzzing_really_ran")
    crash_pg = results["worker_crash"]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = (f"{platform.system()} {platform.release()}, {platform.machine()}, "
               f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    lines = [
        "# Reliability figures",
        "",
        "Generated by `python -m bench.reliability` — do not edit by hand; run it again.",
        "",
        f"- Date: {now}",
        f"- Commit: `{commit_id()}`",
        f"- Machine: {machine}",
        f"- PostgreSQL lane: {'yes (DH_TEST_PG_URL set)' if pg else 'no (SQLite only)'}",
        "",
        "## Summary",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Handler × role cells tried over the websocket | {authz.get('cells_tried', '–')} "
        f"({authz.get('failures', '–')} failures) |",
        f"| Websocket frames searched for fields a role may not see | "
        f"{frames.get('frames_checked', '–')} |",
        f"| Hostile inputs fuzzed through the form handlers | "
        f"{fuzz.get('inputs_fuzzed', '–')} over {fuzz.get('handlers_fuzzed', '–')} handlers |",
        f"| Kills survived on SQLite | {figures.get('kills', '–')} |",
        f"| Worker kills and connection cuts survived on PostgreSQL + Redis | "
        f"{'see the soak below' if SOAK.exists() else '–'} |",
        f"| Acknowledged writes lost | {figures.get('acknowledged_lost', '–')} (SQLite), "
        "see the soak for PostgreSQL |",
        "",
        "## Soak with faults (PostgreSQL + Redis, several workers)",
        "",
        *render_soak(),
        "The same run, short (20 sessions, 90 s, one kill and one cut), is a test in the",
        "PostgreSQL lane of CI: `tests/pg/test_faults_under_load.py`.",
        "",
        "## Workers killed under a real browser (PostgreSQL + Redis)",
        "",
        "`tests/pg/test_worker_crash.py`: a volunteer has a visit form open and typed a note;",
        "every backend worker is killed with `kill -9`; Granian starts new ones; the tab",
        "reconnects with the same token and the same submission key, the save is stored once.",
        "Then every database connection is cut (`pg_terminate_backend`) and the next save goes",
        "through without an error. `tests/unit/test_db_retry.py` kills a live backend inside a",
        "transaction (and after a COMMIT that landed): one retry, one record.",
        "",
        f"- Browser fault tests: {_counts(crash_pg)}",
        f"- Transaction retry tests: {_counts(results['db_retry'])}",
        "",
        "## Writes under `kill -9` (SQLite, WAL)",
        "",
        "`tests/unit/test_sqlite_crash.py`: a child process logs visits through",
        "`activities.log_visit` with submission keys and prints each key after its commit; the",
        "test SIGKILLs it mid-run, repeatedly, on the same file.",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Kills survived (integrity_check ok, WAL on) | "
        f"{figures.get('kills', '0') if crash.failed == 0 else 'FAILED'} |",
        f"| Acknowledged writes | {figures.get('acknowledged_writes', '–')} |",
        f"| Acknowledged writes lost | {figures.get('acknowledged_lost', '–')} |",
        f"| Acknowledged writes stored twice | {0 if crash.failed == 0 else '–'} |",
        f"| Committed but not yet acknowledged at a kill | "
        f"{figures.get('committed_unacknowledged', '–')} |",
        "",
        "## Backup and restore",
        "",
        "`tests/unit/test_backup.py`: rows written through the services, backed up, changed,",
        "restored, then every row of every table compared.",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Round trips passed (every row back exactly) | {len(round_trips)} "
        f"({engines}) |",
        f"| Backup/restore tests passed / failed / skipped | "
        f"{backup.passed} / {backup.failed} / {backup.skipped} |",
        "",
        "## Authorisation over the websocket",
        "",
        "`tests/security/test_ws_authz.py` speaks Reflex's protocol to the production build:",
        "every guarded handler, sent by every role (and signed out) outside its registration,",
        "must be refused with one `denied` audit row and no state change; in-role calls with",
        "an out-of-scope client must reveal nothing and be audited; every frame each role",
        "receives on its screens is searched for what it may not see.",
        "",
        "| Figure | Value |",
        "|---|---|",
        f"| Guarded public handlers (`HANDLER_ROLES`) | {handlers} |",
        f"| Of which open to anyone (sign-in, language, …) | {public} |",
        f"| Allowed handler × role pairs | {allowed} |",
        f"| Full handler × role matrix (cells) | {cells} |",
        f"| Cells sent over the websocket | {authz.get('cells_tried', '–')} |",
        f"| … of which refusals expected / in-role with an out-of-scope id | "
        f"{authz.get('refusals_expected', '–')} / {authz.get('in_role_out_of_scope', '–')} |",
        f"| Frames searched | {frames.get('frames_checked', '–')} |",
        f"| Websocket authorisation tests | {_counts(results['authz'])} |",
        f"| State tests (`tests/state`) | {_counts(state)} |",
        "",
        "## Bad input",
        "",
        f"- Hypothesis fuzzing of the form handlers through their States "
        f"(`tests/state/test_fuzz_handlers.py`): {fuzz.get('inputs_fuzzed', '–')} hostile "
        f"inputs over {fuzz.get('handlers_fuzzed', '–')} handlers; {_counts(results['fuzz'])}."
        " Every call saved one valid record or showed an error; nothing escaped; nothing was",
        "  half-written.",
        f"- Spreadsheet import (`tests/unit/test_imports.py`: formulas, corrupt, not a "
        f"workbook, over the limits, bad cells): {_counts(results['imports'])}.",
        f"- Upload attacks on /import (`tests/security/test_uploads.py`: hostile file names, "
        f"size limit, non-xlsx content, zip bomb at the real limit, too many rows, corrupt "
        f"workbook, several files, wrong role): {_counts(uploads)}.",
        "",
        "## Headers and the websocket handshake",
        "",
        f"`tests/e2e/test_security_headers.py` (CSP, frame-ancestors, nosniff, no-referrer, "
        f"HSTS behind TLS, no-store on personal responses, foreign Origin refused, the app "
        f"running under its CSP): {_counts(results['headers'])}.",
        "",
        "## Dependency audit",
        "",
        f"`pip-audit` needs an advisory service. From this machine: {audit_status}. Until one",
        "is reachable the audit cannot run here (docs/SECURITY.md, \"Dependency audit\").",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--soak", action="store_true",
                        help="run the 10-minute soak first (python -m bench.soak)")
    args = parser.parse_args(argv)
    failed = 0
    if args.soak:
        from bench import soak

        failed += soak.main([])
    lane = os.environ.get("DH_PG_LANE") == "1"
    results = {key: run_suite(target) if lane or key not in PG_ONLY else Suite()
               for key, target in SUITES.items()}
    OUT.write_text(render(results, handler_matrix(), audit_reachable()), encoding="utf-8")
    failed += sum(s.failed for s in results.values())
    print(f"wrote {OUT.relative_to(ROOT)}; failed tests: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
