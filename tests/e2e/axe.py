"""Accessibility scan with axe-core (installed by `make setup` into .tools): serious and critical
violations only, each as a short readable line for the assertion message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.e2e.server import ROOT

AXE_JS = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")
# Off by default in axe-core (a WCAG 2.2 rule): every scan here checks tap targets too.
RULES = {"target-size": {"enabled": True}}


def _source() -> str:
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make setup` (it installs axe-core)")
    return Path(AXE_JS).read_text(encoding="utf-8")


def serious_violations(
    page: Page, *, exclude: tuple[str, ...] = (), impacts: tuple[str, ...] = BLOCKING
) -> list[str]:
    """Run axe-core on the page as it is now; one line per rule broken at one of `impacts`
    (serious and critical unless asked), `target-size` included.

    `exclude`: CSS selectors left out of the scan (use sparingly, say why at the call site).
    """
    page.mouse.move(0, 0)  # scan the resting state, not whatever the last tap left hovered
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_source())
    result: dict[str, Any] = page.evaluate(
        """async ([exclude, rules]) => {
            const context = exclude.length ? {exclude: exclude.map((s) => [s])} : document;
            return await window.axe.run(context, {resultTypes: ["violations"], rules});
        }""",
        [list(exclude), RULES],
    )
    lines = []
    for violation in result["violations"]:
        if violation.get("impact") not in impacts:
            continue
        nodes = violation["nodes"]
        if violation["id"] == "target-size":
            nodes = [n for n in nodes if _small_where_it_rests(page, n["target"])]
            if not nodes:
                continue
        targets = [", ".join(node["target"]) for node in nodes[:5]]
        lines.append(f"{violation['impact']}: {violation['id']} — {violation['help']} at {targets}")
    return lines


def _small_where_it_rests(page: Page, target: list[str]) -> bool:
    """A target the scan found covered may only lie under the fixed bottom bar or the sticky
    save button at this scroll position: checked again with it scrolled to mid-screen."""
    selector = target[0] if len(target) == 1 else None
    if selector is None:
        return True
    result: dict[str, Any] = page.evaluate(
        """async (selector) => {
            document.querySelector(selector)?.scrollIntoView({block: "center"});
            return await window.axe.run({include: [[selector]]},
                {resultTypes: ["violations"], runOnly: ["target-size"]});
        }""",
        selector,
    )
    page.evaluate("window.scrollTo(0, 0)")
    return bool(result["violations"])
