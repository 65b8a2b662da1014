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


def _nav_body() -> dict[str, Any]:
    """The navigation as the shared frame draws it (its body, with `active` a prop)."""
    body = frame.app_chrome._definition.component.render()
    return next(n for n in _nodes(body) if n.get("name") == '"nav"')


def test_a_page_draws_one_navigation_in_the_shared_frame() -> None:
    """The frame is one shared component, not drawn into each screen's code (issue 20)."""
    page = frame.app_frame("nav.today", rx.el.p("x")).render()
    assert not [n for n in _nodes(page) if n.get("name") in ('"nav"', '"header"')]
    frames = [n for n in _nodes(page) if str(n.get("name", "")).startswith("AppChrome")]
    assert len(frames) == 1
    assert 'active:"nav.today"' in frames[0]["props"]
    assert [n for n in _nodes(frames[0]) if n.get("name") == '"p"']  # the content inside
    body = frame.app_chrome._definition.component.render()
    assert len([n for n in _nodes(body) if n.get("name") == '"nav"']) == 1


def test_the_navigation_is_one_match_on_the_role_without_a_condition_per_entry() -> None:
    nav = _nav_body()
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
    page = frame.app_frame("rec.outreach.title", rx.el.p("x")).render()
    assert ['active:"nav.contacts"' in n["props"] for n in _nodes(page)
            if str(n.get("name", "")).startswith("AppChrome")] == [True]
    marks = {r: p for n in _nodes(_nav_body()) if n.get("name") == "ReactRouterLink"
             for r in _routes(n) for p in n["props"] if p.startswith('"aria-current"')}
    assert marks["/outreach"] == ('"aria-current":((activeRxMemo?.valueOf?.() === '
                                  '"nav.contacts"?.valueOf?.()) ? "page" : "false")')
    assert all("activeRxMemo" in m for m in marks.values())


def test_a_screens_texts_drawn_on_their_own_become_the_shared_text_component() -> None:
    """`shared_texts` (through app_frame): a tr() text that is an element's child is drawn by
    `frame.translated` with both texts as props; one inside a component drawn as one piece
    (a field) stays inline; any other value is left alone (issue 20)."""
    from app.components.client_cards import drawn_together
    from app.state.lang import IN_ENGLISH, tr
    from app.state.session import AppState

    screen = frame.shared_texts(rx.box(
        rx.heading(tr("common.loading")),
        rx.text(AppState.saved_message),
        drawn_together(rx.el.label(tr("common.loading"))),
    ))
    heading, note, field = screen.children
    [text] = heading.children
    assert "Translated" in type(text).__name__
    props = text.render()["props"]
    assert 'en:"Loading\\u2026"' in props and 'vi:"\\u0110ang t\\u1ea3i\\u2026"' in props
    assert type(note.children[0]).__name__ == "Bare"
    assert str(IN_ENGLISH) in str(field.render())
