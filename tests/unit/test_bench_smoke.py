"""The benchmark harness works: its SQL baselines give the services' answers, its websocket
client speaks the protocol, its report is written. No timings are asserted here."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.services.db import engine_for
from bench import cards_bench, lighthouse, page_weight, queries, report, run, ws_load
from bench.generate import run as generate
from models import Submission


@pytest.fixture(scope="module")
def tiny_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    engine = engine_for(f"sqlite:///{tmp_path_factory.mktemp('bench') / 'tiny.db'}")
    generate(engine, "tiny", seed=42)
    return engine


@pytest.fixture(scope="module")
def query_results(tiny_engine: Engine) -> list[queries.CaseResult]:
    return queries.run_queries(tiny_engine, repeat=1)


def test_every_hand_written_baseline_gives_the_services_answer(
    query_results: list[queries.CaseResult],
) -> None:
    results = query_results
    assert [r.case for r in results] == ["today", "caseload.p1", "caseload.deep",
                                         "caseload.name", "my_clients", "timeline",
                                         "province_report"]
    assert [r.case for r in results if not r.same] == []
    assert all(r.rows > 0 for r in results if r.case in ("caseload.p1", "province_report"))


def test_the_query_table_names_each_case_and_its_verdict(
    query_results: list[queries.CaseResult],
) -> None:
    results = query_results
    table = queries.format_results(results)
    for r in results:
        assert r.case in table
    assert "same" in table.splitlines()[0]


def test_volunteers_for_the_load_test_have_clients_and_repeat_when_too_few(
    tiny_engine: Engine,
) -> None:
    people = ws_load.pick_volunteers(tiny_engine, 40)
    assert len(people) == 40
    assert all(p.client_ids and p.login.startswith("tnv.") for p in people)
    assert len({p.login for p in people}) < 40  # tiny has fewer volunteers: reused in turn


def test_saved_visits_are_counted_by_their_submission_keys(tiny_engine: Engine) -> None:
    with Session(tiny_engine) as s:
        s.add(Submission(key="a" * 32, actor_id=1, kind="visit", record_id=1))
        s.add(Submission(key="b" * 32, actor_id=1, kind="client", record_id=1))
        s.commit()
    assert ws_load.count_saved(tiny_engine, ["a" * 32, "b" * 32, "c" * 32]) == 1


def test_the_load_generator_discovers_the_apps_handlers_including_the_ping_floor() -> None:
    h = ws_load.discover_handlers()
    assert h.ping.endswith("app___state___session____app_state.ping")
    assert h.sign_in == "/api/auth/sign-in"  # a form post over HTTP, not an event
    assert "app_state.ping" in h.exercised()


def test_the_socket_only_talks_to_this_machine() -> None:
    with pytest.raises(ValueError):
        ws_load.ReflexSocket("http://example.com:80/", "t")


def test_the_socket_joins_reflexs_namespace_answers_pings_and_queues_updates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sock = ws_load.ReflexSocket("http://127.0.0.1:1/", "tok")
    sent: list[str] = []
    monkeypatch.setattr(sock, "_send_text", sent.append)
    sock._on_engineio('0{"sid":"s1","pingInterval":25000,"pingTimeout":20000}')
    assert sent == ["40/_event,"]
    sock._on_engineio('40/_event,{"sid":"x"}')
    assert sock._connected.is_set()
    sock._on_engineio("2")
    assert sent[-1] == "3"
    sock._on_engineio('42/_event,["event",{"delta":{"s":{"a":1}},"events":[]}]')
    sock._on_engineio('42["event",{"delta":{"other":1}}]')  # another namespace: ignored
    assert sock.updates.qsize() == 1
    assert sock.updates.get_nowait()["delta"] == {"s": {"a": 1}}


def test_load_results_report_percentiles_and_ratios_to_ping() -> None:
    result = ws_load.LoadResult(
        sessions=2, signed_in=2, seconds=1.0,
        latencies={"ping": [0.001, 0.002, 0.003], "today.load": [0.002, 0.004, 0.006]},
        errors={}, error_samples=[], acked_saves=0, saves_in_db=0, events=6)
    rows = {r["op"]: r for r in result.summary()}
    assert rows["ping"]["ratio_p95"] == pytest.approx(1.0)
    assert rows["today.load"]["ratio_p50"] == pytest.approx(2.0)
    assert "today.load" in ws_load.format_result(result)


def test_cards_are_timed_per_card_against_one_sheet() -> None:
    cards = cards_bench.make_cards(5)
    assert len({c.payload for c in cards}) == 5
    result = cards_bench.run_cards(cards=2, repeat=1, floor_repeat=1)
    assert result.cards == 2 and result.floor_cards == 10 and result.pdf_bytes > 0
    assert "per-card ratio" in cards_bench.format_result(result)


def test_the_blank_app_is_written_with_the_same_theme(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_weight, "BLANK_DIR", tmp_path / "blank_app")
    folder = page_weight.blank_app_folder()
    assert 'accent_color="teal"' in (folder / "rxconfig.py").read_text()
    assert "rx.App(" in (folder / "blank" / "blank.py").read_text()


def test_page_weight_adds_up_scripts_and_styles_only() -> None:
    w = page_weight.PageWeight("u", [
        page_weight.Asset("/a.js", "script", "gzip", 100, 300),
        page_weight.Asset("/b.css", "stylesheet", "gzip", 50, 200),
        page_weight.Asset("/", "document", "", 10, 10),
    ])
    blank = page_weight.PageWeight("b", [page_weight.Asset("/c.js", "script", "gzip", 120, 400)])
    result = page_weight.WeightResult(w, blank)
    assert w.total() == 150 and w.count() == 2 and w.encodings() == ["gzip"]
    assert result.ratio == pytest.approx(1.25)
    assert "ratio" in page_weight.format_result(result)


def test_lighthouse_scores_and_costliest_audits_are_read_from_its_report() -> None:
    lh = {
        "categories": {
            "performance": {"score": 0.93, "auditRefs": [{"id": "lcp", "weight": 25}]},
            "accessibility": {"score": 1.0, "auditRefs": [{"id": "color", "weight": 7}]},
            "best-practices": {"score": 0.78, "auditRefs": [{"id": "errors", "weight": 1}]},
        },
        "audits": {"lcp": {"score": 0.5}, "color": {"score": 1}, "errors": {"score": 0}},
    }
    assert lighthouse._scores(lh) == {"performance": 93, "accessibility": 100,
                                      "best-practices": 78}
    assert lighthouse._failing_audits(lh) == ["performance:lcp", "best-practices:errors"]
    page = lighthouse.PageScores("x", "/", lighthouse._scores(lh))
    assert not page.ok and "78" in lighthouse.format_results([page])


def test_a_run_is_appended_to_the_log_with_machine_and_commit(tmp_path: Path) -> None:
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\nMethod.\n")
    section = report.Section("cards", "Cards", "table", [("fast enough", True),
                                                         ("small enough", False)])
    from datetime import UTC, datetime

    text = report.render([section], mode="quick", started=datetime.now(UTC), load_before="1")
    report.append(text, doc)
    report.append(text, doc)
    written = doc.read_text()
    assert written.startswith("# Benchmarks\n\nMethod.")
    assert written.count(report.LOG_HEADING) == 1 and written.count("#### Cards") == 2
    assert "CPUs" in written and "commit" in written and "❌ small enough" in written


def test_the_runner_refuses_an_unknown_benchmark_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run.main(["--only", "everything", "--no-report"])
    assert "unknown benchmark" in capsys.readouterr().err


def test_the_runner_reads_the_import_benchmarks_summary_line() -> None:
    out = ("preview: ok=True\nimport_bench rows=20000 preview_s=10.50 commit_s=20.25 "
           "rows_per_s=987 committed=True")
    assert run.parse_import_summary(out) == (20000, 10.5, 20.25, True)
    assert run.parse_import_summary("Traceback …") is None


def test_every_phone_page_is_judged_against_the_blank_apps_medians() -> None:
    def run_(page: str, perf: int, tbt: float, lcp: float) -> lighthouse.PageScores:
        return lighthouse.PageScores(page, "/", {"performance": perf, "accessibility": 100,
                                                 "best-practices": 100},
                                     metrics={"TBT": tbt, "LCP": lcp})

    blank = lighthouse.BLANK
    results = [run_(blank, 90, 30, 2900), run_("today", 81, 350, 3000),
               run_(blank, 92, 40, 3100), run_("today", 95, 60, 3100),
               run_(blank, 88, 50, 3000), run_("sign-in", 91, 39, 2760)]
    floor, today, signin = lighthouse.summarise(results)
    assert (floor.page, floor.performance, floor.tbt_ms, floor.lcp_ms) == (blank, 90, 40, 3000)
    assert today.performance == 88 and today.tbt_ms == 205
    assert today.verdicts() == {"performance": False, "TBT": False, "LCP": True}
    assert signin.verdicts() == {"performance": True, "TBT": True, "LCP": True}
    table = lighthouse.format_summary([floor, today, signin])
    assert "| today | 2 | 88 | 205 ms (5.1×)" in table and "**miss**" in table
    # A blank app whose median TBT is 0 ms: no ratio, but a verdict all the same.
    zero = lighthouse.summarise([run_(blank, 90, 0, 2900), run_("outreach", 90, 0, 2900),
                                 run_("visit", 90, 9, 2900)])
    assert [s.verdicts()["TBT"] for s in zero[1:]] == [True, False]
    assert "| visit | 1 | 90 | 9 ms (—×)" in lighthouse.format_summary(zero)


def test_the_lighthouse_run_covers_every_volunteer_and_clinic_page(tiny_engine: Engine) -> None:
    pages = lighthouse.volunteer_pages(tiny_engine)
    paths = [path for _name, path, _tok in pages]
    client = paths[3]
    assert paths == ["/", "/today/", "/clients/", client, client + "visit/", client + "test/",
                     client + "referral/", client + "support/", "/clients/new/", "/outreach/",
                     "/group-activity/", "/scan/"]
    assert all(tok for name, _path, tok in pages if name != "sign-in")


def test_a_lighthouse_run_that_asks_to_be_run_again_is_run_again_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Lighthouse's own trace failures (NO_NAVSTART) say "Please run Lighthouse again": the
    page is measured again once; any other failure, or a second one, is reported on one line."""
    report_ = {"categories": {"performance": {"score": 0.9, "auditRefs": []}},
               "finalDisplayedUrl": "http://x/today/",
               "audits": {"total-blocking-time": {"numericValue": 5.0}}}
    answers: list[object] = []

    def run_one(url: str, port: int, *, cookie: str = "") -> dict[str, object]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return dict(report_)

    monkeypatch.setattr(lighthouse, "run_one", run_one)
    monkeypatch.setattr(lighthouse, "_prepare_browser", lambda *a: None)
    again = RuntimeError("lighthouse failed (1): Runtime error encountered: Something went wrong"
                         " with recording the trace.\nPlease run Lighthouse again. (NO_NAVSTART)")
    answers[:] = [again, report_]
    page = lighthouse._lighthouse_page(1, "http://x", "today", "/today/", "")
    assert page.metrics == {"TBT": 5.0} and "NO_NAVSTART" not in page.error and not answers
    answers[:] = [again, again]
    page = lighthouse._lighthouse_page(1, "http://x", "today", "/today/", "")
    assert not page.metrics and "NO_NAVSTART" in page.error and "\n" not in page.error
    answers[:] = [RuntimeError("lighthouse failed (1): Chrome did not start"), report_]
    page = lighthouse._lighthouse_page(1, "http://x", "today", "/today/", "")
    assert "Chrome did not start" in page.error and len(answers) == 1
