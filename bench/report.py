"""Append one benchmark run to docs/BENCHMARKS.md: when, on what machine, at which commit."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "BENCHMARKS.md"
LOG_HEADING = "## Results log"


@dataclass
class Section:
    """One benchmark's outcome: a fixed-width table and the verdicts against its targets."""

    name: str
    title: str
    text: str
    verdicts: list[tuple[str, bool]] = field(default_factory=list)
    seconds: float = 0.0

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "```", self.text.rstrip(), "```"]
        if self.verdicts:
            lines.append("")
            lines += [f"- {'✅' if ok else '❌'} {what}" for what, ok in self.verdicts]
        return "\n".join(lines)


def machine() -> dict[str, str]:
    """nproc, memory, CPU model, load average and Python: what the numbers depend on."""
    info = {"cpus": str(os.cpu_count() or "?"), "python": platform.python_version()}
    try:
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                      .splitlines() if line.startswith("MemTotal:"))
        info["memory"] = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        info["memory"] = "?"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo")
                     .read_text().splitlines() if line.startswith("model name"))
        info["cpu"] = model
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or "?"
    try:
        info["load"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        info["load"] = "?"
    return info


def git_commit() -> str:
    """The commit the code was at (read-only `git rev-parse`), '+changes' if the tree is dirty."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                             capture_output=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, text=True, capture_output=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return sha + (" +uncommitted changes" if dirty.strip() else "")


def render(sections: Sequence[Section], *, mode: str, started: datetime,
           load_before: str) -> str:
    m = machine()
    head = (
        f"### Run {started.astimezone(UTC):%Y-%m-%d %H:%M} UTC — `{mode}` — commit "
        f"{git_commit()}\n\n"
        f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['memory']} RAM, Python {m['python']}; "
        f"load average before {load_before}, after {m['load']}.\n"
    )
    body = "\n\n".join(s.markdown().replace("### ", "#### ", 1) for s in sections)
    summary = [f"- {s.title}: " + (", ".join(
        ("ok" if ok else "MISSED") + f" ({what})" for what, ok in s.verdicts) or "no targets")
        for s in sections]
    return head + "\n" + "\n".join(summary) + "\n\n" + body + "\n"


def append(text: str, doc: Path = DOC) -> None:
    """Add a run at the end of the results log (the log heading is created if missing)."""
    existing = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if LOG_HEADING not in existing:
        existing = existing.rstrip() + f"\n\n{LOG_HEADING}\n"
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(existing.rstrip() + "\n\n" + text.rstrip() + "\n")
