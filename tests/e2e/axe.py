"""Accessibility scan with axe-core (installed by `make setup` into .tools): serious and critical
violations only, each as a short readable line for the assertion message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from tests.e2e.server import ROOT

AXE_JS = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def _source() -> str:
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make setup` (it installs axe-core)")
    return Path(AXE_JS).read_text(encoding="utf-8")


def serious_violations(page: Page, *, exclude: tuple[str, ...] = ()) -> list[str]:
    """Run axe-core on the page as it is now; one line per serious/critical rule broken.

    `exclude`: CSS selectors left out of the scan (use sparingly, say why at the call site).
    """
    page.mouse.move(0, 0)  # scan the resting state, not whatever the last tap left hovered
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=_source())
    result: dict[str, Any] = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {exclude: exclude.map((s) => [s])} : document;
            return await window.axe.run(context, {resultTypes: ["violations"]});
        }""",
        list(exclude),
    )
    lines = []
    for violation in result["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = [", ".join(node["target"]) for node in violation["nodes"][:5]]
        lines.append(f"{violation['impact']}: {violation['id']} — {violation['help']} at {targets}")
    return lines
