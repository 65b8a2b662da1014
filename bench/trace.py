"""Where a page's main-thread time goes on a slow phone: a Chromium performance trace.

    python -m bench.trace --url http://127.0.0.1:PORT/ --db-url URL [--page "today,visit form"]
                          [--blank-url URL] [--rounds N]

Each page is opened cold (a fresh browser context: empty HTTP cache, no service worker) with
4× CPU throttling over CDP (`Emulation.setCPUThrottlingRate`, as Lighthouse's mobile preset
simulates), while Chromium records a performance trace (the `devtools.timeline` categories
and V8's sampling profiler). Read from it, for the renderer's main thread until the page's
load has been quiet for a few seconds:

- the long tasks (> 50 ms) and their blocking time (the part over 50 ms: what Lighthouse's
  TBT adds up between first paint and interactive; here over the whole load);
- self time by trace event (script evaluation, compilation, style, layout, paint, …);
- self time by script file and by JavaScript function (the sampling profile);
- the React tree the page ends with: fibers by component (a stand-in for React DevTools'
  hook records each commit), and the number of commits;
- the websocket frames the state arrives in (the hydrate answer and the on_load deltas).

It prints what it found; nothing is asserted (the figures are for docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

CPU_SLOWDOWN = 4
QUIET_MS = 2500
LONG_TASK_MS = 50.0
CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline",
              "v8.execute", "disabled-by-default-v8.cpu_profiler", "blink.user_timing",
              "toplevel", "loading"]

# Installed before any script of the page: a React DevTools hook that counts commits, keeps
# the root, and a websocket wrapper that notes each state frame's size and arrival.
_PROBE = """
(() => {
  const t = (window.__dhTrace = {commits: 0, root: null, frames: [], last: 0});
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true, renderers: new Map(), isDisabled: false,
    inject(r) { this.renderers.set(this.renderers.size + 1, r); return this.renderers.size; },
    onCommitFiberRoot(_id, root) { t.commits += 1; t.root = root; t.last = performance.now(); },
    onCommitFiberUnmount() {}, onPostCommitFiberRoot() {}, checkDCE() {},
    on() {}, off() {}, sub() { return () => {}; }, emit() {},
  };
  const Orig = window.WebSocket;
  window.WebSocket = class extends Orig {
    constructor(...a) {
      super(...a);
      this.addEventListener("message", (e) => {
        const n = typeof e.data === "string" ? e.data.length : (e.data.byteLength || 0);
        const delta = typeof e.data === "string" && e.data.includes("delta");
        t.frames.push({at: performance.now(), chars: n, delta});
        if (delta) t.last = performance.now();
      });
    }
  };
})();
"""

# Walks the React tree the page ended with: fibers by component name.
_FIBERS = """
() => {
  const root = window.__dhTrace && window.__dhTrace.root;
  if (!root) return null;
  const name = (type) => {
    if (type == null) return "(text/fragment)";
    if (typeof type === "string") return "<" + type + ">";
    if (typeof type === "function") return type.displayName || type.name || "(anonymous)";
    if (typeof type === "object") {
      if (type.displayName) return type.displayName;
      const inner = type.render || type.type;
      if (inner) return "wrap:" + (inner.displayName || inner.name || "(anonymous)");
      if (type._context) return "Context.Consumer";
      if (type.Provider) return "Context";
    }
    return String(typeof type);
  };
  const counts = {};
  let total = 0, host = 0;
  const stack = [root.current];
  while (stack.length) {
    const f = stack.pop();
    if (!f) continue;
    total += 1;
    if (typeof f.type === "string") host += 1;
    const n = name(f.type);
    counts[n] = (counts[n] || 0) + 1;
    if (f.sibling) stack.push(f.sibling);
    if (f.child) stack.push(f.child);
  }
  return {total, host, dom: document.getElementsByTagName("*").length, counts};
}
"""


@dataclass
class Trace:
    name: str
    url: str
    main_ms: float = 0.0  # busy time of the renderer's main thread (top-level tasks)
    long_tasks: list[float] = field(default_factory=list)
    by_event: Counter[str] = field(default_factory=Counter)  # self ms
    by_file: Counter[str] = field(default_factory=Counter)  # sampled self ms
    by_function: Counter[str] = field(default_factory=Counter)
    fibers: dict[str, Any] = field(default_factory=dict)
    commits: int = 0
    frames: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def blocking_ms(self) -> float:
        return sum(max(0.0, d - LONG_TASK_MS) for d in self.long_tasks)


def _short_url(url: str) -> str:
    if not url:
        return "(no file: V8/GC/native)"
    path = "/" + url.split("//", 1)[-1].split("/", 1)[-1] if "//" in url else url
    return path.split("?")[0]


def _main_thread(events: list[dict[str, Any]], url_hint: str) -> tuple[int, int] | None:
    """(pid, tid) of the renderer main thread that loaded `url_hint`."""
    mains = {(e["pid"], e["tid"]) for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"
             and e.get("args", {}).get("name") == "CrRendererMain"}
    counts: Counter[tuple[int, int]] = Counter()
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if key in mains:
            data = e.get("args", {}).get("data", {}) or {}
            if isinstance(data, dict) and url_hint in str(data.get("url", "")):
                counts[key] += 1  # type: ignore[index]
            counts[key] += 0  # type: ignore[index]
    if not counts:
        return None
    return max(counts.items(), key=lambda kv: kv[1])[0]


def analyse(events: list[dict[str, Any]], url: str, until_us: float | None = None
            ) -> tuple[float, list[float], Counter[str], Counter[str], Counter[str]]:
    """Main-thread busy time, long tasks, self time by event; sampled self time by file and
    by function (ms)."""
    main = _main_thread(events, url.split("//", 1)[-1].split("/", 1)[0])
    if main is None:
        return 0.0, [], Counter(), Counter(), Counter()
    pid, tid = main
    mine = [e for e in events if e.get("pid") == pid and e.get("tid") == tid
            and e.get("ph") == "X" and "dur" in e]
    if until_us is not None:
        mine = [e for e in mine if e["ts"] <= until_us]
    # Top-level tasks only (Chromium nests ThreadControllerImpl::RunTask in RunTask).
    tasks: list[dict[str, Any]] = []
    for e in sorted((e for e in mine if e["name"] in ("RunTask", "ThreadControllerImpl::RunTask")),
                    key=lambda e: (e["ts"], -e["dur"])):
        if not tasks or e["ts"] >= tasks[-1]["ts"] + tasks[-1]["dur"]:
            tasks.append(e)
    busy = sum(e["dur"] for e in tasks) / 1000
    long_tasks = [e["dur"] / 1000 for e in tasks if e["dur"] / 1000 > LONG_TASK_MS]
    # Self time: each event's duration minus its direct children's (events nest by time).
    by_event: Counter[str] = Counter()
    mine.sort(key=lambda e: (e["ts"], -e["dur"]))
    stack: list[tuple[dict[str, Any], list[float]]] = []

    def close(upto: float) -> None:
        while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= upto:
            ev, child = stack.pop()
            by_event[_event_name(ev)] += (ev["dur"] - child[0]) / 1000

    for e in mine:
        close(e["ts"])
        if stack:
            stack[-1][1][0] += e["dur"]
        stack.append((e, [0.0]))
    close(float("inf"))
    by_event.pop("RunTask", None)
    by_event.pop("ThreadControllerImpl::RunTask", None)
    by_file, by_function = _profile(events, pid, tid, until_us)
    return busy, long_tasks, by_event, by_file, by_function


def _event_name(e: dict[str, Any]) -> str:
    name = str(e["name"])
    data = e.get("args", {}).get("data", {}) or {}
    if name in ("EvaluateScript", "v8.compile", "v8.compileModule", "v8.evaluateModule",
                "FunctionCall", "v8.produceModuleCache", "v8.parseOnBackground"):
        where = data.get("url") or e.get("args", {}).get("fileName") or ""
        if where:
            return f"{name} {_short_url(str(where))}"
    return name


def _profile(events: list[dict[str, Any]], pid: int, tid: int, until_us: float | None
             ) -> tuple[Counter[str], Counter[str]]:
    """Self time by file and by function from V8's sampling profiler in the trace."""
    nodes: dict[tuple[str, int], dict[str, Any]] = {}
    by_file: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    profiles: dict[str, float] = {}
    for e in events:
        if e.get("pid") != pid:
            continue
        if e.get("name") == "Profile":
            profiles[str(e.get("id"))] = float(e.get("args", {}).get("data", {}).get(
                "startTime", e.get("ts", 0)))
    for e in events:
        if e.get("pid") != pid or e.get("name") != "ProfileChunk":
            continue
        pid_key = str(e.get("id"))
        data = e.get("args", {}).get("data", {})
        cpu = data.get("cpuProfile", {}) or {}
        for node in cpu.get("nodes", []) or []:
            nodes[(pid_key, node["id"])] = node.get("callFrame", {})
        samples = cpu.get("samples", []) or []
        deltas = data.get("timeDeltas", []) or []
        at = profiles.get(pid_key, 0.0)
        for sample, delta in zip(samples, deltas, strict=False):
            at += delta
            if until_us is not None and at > until_us:
                continue
            frame = nodes.get((pid_key, sample), {})
            fn = frame.get("functionName") or "(anonymous)"
            if fn in ("(idle)", "(program)"):
                continue
            ms = delta / 1000
            where = _short_url(str(frame.get("url", "")))
            by_file[where] += ms
            by_function[f"{fn} @ {where}:{frame.get('lineNumber', -1) + 1}"] += ms
    return by_file, by_function


def trace_page(browser: Any, name: str, url: str, cookie: str = "", timeout_s: float = 90
               ) -> Trace:
    """One cold, throttled load of `url` under the tracer."""
    out = Trace(name, url)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN",
                                  is_mobile=True, has_touch=True, service_workers="block")
    try:
        if cookie:
            origin = "/".join(url.split("/")[:3]) + "/"
            context.add_cookies([{"name": "dh_session", "value": cookie, "url": origin,
                                  "sameSite": "Strict"},
                                 # the sign-in's readable marker: the device code's work too
                                 {"name": "dh_signed_in", "value": "bench", "url": origin,
                                  "sameSite": "Strict"}])
        page = context.new_page()
        page.add_init_script(_PROBE)
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        browser.start_tracing(page=page, categories=CATEGORIES)
        try:
            page.goto(url, wait_until="load", timeout=timeout_s * 1000)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                st = page.evaluate("() => ({last: window.__dhTrace.last, now: performance.now(),"
                                   " n: window.__dhTrace.frames.length})")
                if st["n"] and st["now"] - st["last"] >= QUIET_MS:
                    break
                time.sleep(0.25)
        finally:
            raw = browser.stop_tracing()
        state = page.evaluate("() => ({commits: window.__dhTrace.commits,"
                              " frames: window.__dhTrace.frames})")
        out.commits, out.frames = int(state["commits"]), list(state["frames"])
        out.fibers = page.evaluate(_FIBERS) or {}
        events = json.loads(raw)["traceEvents"]
        (out.main_ms, out.long_tasks, out.by_event, out.by_file,
         out.by_function) = analyse(events, url)
    except Exception as err:  # noqa: BLE001 - a bench reports, it does not stop
        out.error = f"{type(err).__name__}: {str(err)[:300]}"
    finally:
        context.close()
    return out


def trace_pages(targets: Sequence[tuple[str, str, str]], rounds: int = 1) -> list[Trace]:
    """Each (name, url, cookie) `rounds` times, the targets taking turns."""
    from playwright.sync_api import sync_playwright

    from bench.mobile import ARGS

    exe = shutil.which("chromium")
    if exe is None:
        raise RuntimeError("Chromium is not installed")
    results: list[Trace] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        try:
            for _ in range(rounds):
                for name, url, cookie in targets:
                    results.append(trace_page(browser, name, url, cookie))
        finally:
            browser.close()
    return results


def _top(counter: Counter[str], n: int) -> list[tuple[str, float]]:
    return [(k, v) for k, v in counter.most_common(n) if v >= 0.5]


def format_traces(traces: Sequence[Trace], top: int = 12) -> str:
    """Per page: medians of the rounds, then the breakdown of the median round."""
    by_page: dict[str, list[Trace]] = defaultdict(list)
    for t in traces:
        by_page[t.name].append(t)
    lines: list[str] = ["| page | rounds | main thread busy | long tasks | blocking (> 50 ms) |"
                        " React fibers (DOM elements) | commits | state frames (chars) |",
                        "|---|---|---|---|---|---|---|---|"]
    medians: dict[str, Trace] = {}
    for name, ts in by_page.items():
        good = [t for t in ts if not t.error and t.main_ms]
        if not good:
            lines.append(f"| {name} | 0 | — | — | — | — | — | {ts[0].error[:80]} |")
            continue
        good.sort(key=lambda t: t.blocking_ms)
        mid = good[len(good) // 2]
        medians[name] = mid
        fib = mid.fibers or {}
        frames = [f for f in mid.frames if f.get("delta")]
        lines.append(
            f"| {name} | {len(good)} | {statistics.median(t.main_ms for t in good):.0f} ms | "
            f"{statistics.median(len(t.long_tasks) for t in good):.0f} | "
            f"{statistics.median(t.blocking_ms for t in good):.0f} ms | "
            f"{fib.get('total', '—')} ({fib.get('dom', '—')}) | {mid.commits} | "
            f"{len(frames)} ({sum(int(f['chars']) for f in frames):,}) |")
    for name, t in medians.items():
        lines.append(f"\n**{name}** (the median round; ms of main-thread self time, 4× CPU)\n")
        lines.append("long tasks: " + ", ".join(f"{d:.0f}" for d in sorted(
            t.long_tasks, reverse=True)) + " ms")
        lines.append("\n| trace event | ms |\n|---|---|")
        lines += [f"| {k} | {v:.0f} |" for k, v in _top(t.by_event, top)]
        lines.append("\n| script file (sampled) | ms |\n|---|---|")
        lines += [f"| {k} | {v:.0f} |" for k, v in _top(t.by_file, top)]
        lines.append("\n| JavaScript function (sampled) | ms |\n|---|---|")
        lines += [f"| `{k}` | {v:.0f} |" for k, v in _top(t.by_function, top)]
        counts = Counter((t.fibers or {}).get("counts", {}))
        if counts:
            lines.append("\n| React fibers by component | count |\n|---|---|")
            lines += [f"| `{k}` | {v} |" for k, v in counts.most_common(top + 8)]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trace", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the app, already running")
    parser.add_argument("--db-url", required=True, help="its database (for a session)")
    parser.add_argument("--blank-url", default="", help="the blank app, traced alongside")
    parser.add_argument("--page", default="today,client",
                        help="names as in bench.lighthouse's table, comma-separated: sign-in,"
                        " today, my clients (or clients), client, visit form, drug test form,"
                        " referral form, support form, register, outreach, group activity,"
                        " scan (clinic)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--json", default="", help="also write the raw figures here")
    args = parser.parse_args(argv)
    os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    from app.services.db import engine_for
    from bench.lighthouse import volunteer_pages

    base = args.url.rstrip("/")
    known = {name: (base + path, tok) for name, path, tok
             in volunteer_pages(engine_for(args.db_url))}
    known["clients"] = known["my clients"]
    targets = []
    if args.blank_url:
        targets.append(("blank app", args.blank_url.rstrip("/") + "/", ""))
    targets += [(p, *known[p.strip()]) for p in args.page.split(",") if p.strip()]
    traces = trace_pages(targets, rounds=args.rounds)
    print(format_traces(traces, top=args.top))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([{"name": t.name, "main_ms": t.main_ms, "long_tasks": t.long_tasks,
                        "by_event": t.by_event, "by_file": t.by_file,
                        "by_function": t.by_function, "fibers": t.fibers,
                        "commits": t.commits, "frames": t.frames, "error": t.error}
                       for t in traces], fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
