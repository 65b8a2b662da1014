"""The app frame (app/components/frame.py) draws one navigation, keyed by role: not a bar per
layout with the other hidden by CSS, and not a condition per entry (each was a component that
every page drew on a phone; issue 20)."""

from __future__ import annotations

import re
from typing import Any

import reflex as rx

from app.components import frame


def _nodes(tree: Any) -> list[dict[str, Any]]:
    """Every node of a rendered component tree (dicts, with the cases of a match), in order."""
    if isinstance(tree, dict):
        return [tree, *(n for value in tree.values() for n in _nodes(value))]
    if isinstance(tree, list | tuple):
        return [n for item in tree for n in _nodes(item)]
    return []


def _routes(tree: Any) -> list[str]:
    return [m for n in _nodes(tree) if n.get("name") == "ReactRouterLink"
            for p in n["props"] for m in re.findall(r'^to:"([^"]*)"$', p)]


def test_a_page_draws_one_navigation() -> None:
    page = frame.app_frame("nav.today", rx.el.p("x")).render()
    navs = [n for n in _nodes(page) if n.get("name") == '"nav"']
    assert len(navs) == 1


def test_the_navigation_is_one_match_on_the_role_without_a_condition_per_entry() -> None:
    nav = frame.app_frame("nav.today", rx.el.p("x")).render()
    nav = next(n for n in _nodes(nav) if n.get("name") == '"nav"')
    matches = [n for n in _nodes(nav) if "match_cases" in n]
    assert len(matches) == 1
    assert "nav_role" in matches[0]["cond"]
    assert not [n for n in _nodes(nav) if "cond_state" in n or "true_value" in n]
    cases = {case[0][0].strip('"'): _routes(case[1]) for case in matches[0]["match_cases"]}
    for role in frame.ROLES:
        assert cases[role] == [i.route for i in frame.NAV_ITEMS if role in i.roles], role
    # Until the role is known, no entry.
    assert _routes(matches[0]["default"]) == []


def test_the_current_page_is_marked_in_the_navigation() -> None:
    nav = frame.app_frame("rec.outreach.title", rx.el.p("x")).render()
    current = [n for n in _nodes(nav) if n.get("name") == "ReactRouterLink"
               and '"aria-current":"page"' in n["props"]]
    assert {r for n in current for r in _routes(n)} == {"/outreach"}
