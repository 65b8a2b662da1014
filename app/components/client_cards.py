"""Reusable pieces of the volunteer's screens: count cards, client rows, due rows, timeline items.

Rows come from page states as plain `dict[str, str]`. Text that depends on data (a due kind, a
timeline entry) arrives in both languages as `<name>_vi` / `<name>_en` so that switching the
language redraws it without another trip to the server; `bilingual()` builds those fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx
from reflex_base.constants.compiler import MemoizationMode
from reflex_base.event import no_args_event_spec
from reflex_components_core.el.elements.typography import Div
from reflex_components_core.react_router.dom import ReactRouterLink

from app.i18n import t
from app.icon_css import css_icon
from app.state.lang import IN_ENGLISH, tr

# Tones for badges and accents: (Radix colour scheme). Names, not colours, travel in rows.
TONES = ("red", "amber", "teal", "gray", "blue", "green")


def dmy(value: date | None) -> str:
    """A date as shown everywhere on screen: dd/mm/yyyy ("" when there is none)."""
    return value.strftime("%d/%m/%Y") if value is not None else ""


def bilingual(name: str, key: str | None, **params: Any) -> dict[str, str]:
    """`{name_vi, name_en}` for a catalogue key (empty for None), for rows that redraw on a
    language switch."""
    if key is None:
        return {f"{name}_vi": "", f"{name}_en": ""}
    return {f"{name}_vi": t(key, "vi", **params), f"{name}_en": t(key, "en", **params)}


def bi(row: Any, name: str) -> rx.Var:
    """The row's text `name` in the current language (see `bilingual`)."""
    return rx.cond(IN_ENGLISH, row[f"{name}_en"], row[f"{name}_vi"])


def section_heading(key: str, *, anchor: str = "") -> rx.Component:
    props: dict[str, Any] = {"id": anchor} if anchor else {}
    return rx.heading(tr(key), size="4", as_="h2", margin_top="20px", margin_bottom="8px",
                      **props)


def page_link(*children: Any, href: Any, cls: str, **props: Any) -> rx.Component:
    """What `rx.link(href=…, underline="none")` draws (a React Router link wearing Radix's
    link classes), without Radix's Link and Slot components and their run-time style: the
    look comes from `cls` (assets/lists.css)."""
    return ReactRouterLink.create(
        *children, to=href, class_name=f"rt-Text rt-reset rt-Link rt-underline-none {cls}",
        custom_attrs={"data-accent-color": ""}, **props)


def count_card(label_key: str, value: rx.Var, *, href: str, tone: str, card_id: str
               ) -> rx.Component:
    """A number at a glance; tapping it jumps to its list (a plain link: fast, accessible)."""
    return page_link(
        _text(value, size="7", cls=f"rt-r-weight-bold dh-num-{tone}"),
        _text(tr(label_key), size="2", cls="dh-strong"),
        href=href,
        id=card_id,
        cls=f"dh-count dh-count-{tone}",
    )


def badge(row: Any, name: str = "label", *, tone_field: str = "tone") -> rx.Component:
    return rx.badge(bi(row, name), color_scheme=row[tone_field], size="2", variant="soft",
                    high_contrast=True)


# --- list rows -------------------------------------------------------------------------------
# A screen draws dozens of rows at once (the due list, a client's history), on phones. Rows
# are plain elements wearing Radix Themes' own classes (`rt-Text rt-r-size-3`, …) and the
# app's classes from assets/lists.css: the same look as the Radix components, without a
# React component and a run-time style computation per element (that made Today's list take
# a few hundred milliseconds to draw on a phone).


def _text(*children: Any, size: str, cls: str = "", **props: Any) -> rx.Component:
    return rx.el.p(*children, class_name=f"rt-Text rt-r-size-{size} {cls}".strip(), **props)


def _flex(*children: Any, cls: str) -> rx.Component:
    return rx.el.div(*children, class_name=f"rt-Flex {cls}")


def _row_badge(row: Any, name: str = "label", *, tone_field: str = "tone") -> rx.Component:
    """`badge()` as plain markup (what Radix's Badge renders)."""
    return rx.el.span(
        bi(row, name),
        class_name="rt-reset rt-Badge rt-r-size-2 rt-variant-soft rt-high-contrast",
        custom_attrs={"data-accent-color": row[tone_field]},
    )


def _row_link(*children: rx.Component, href: Any, row_id: Any, lines: int) -> rx.Component:
    """A row: its lines of text in a column, anything else and the chevron beside them, all
    children of the link itself (a grid, assets/lists.css `.dh-row-grid`) instead of nested
    flex boxes. `lines`: how many lines of text come first."""
    return rx.el.li(
        page_link(
            *children, css_icon("chevron-right", 20, class_name="dh-chevron"),
            href=href,
            id=row_id,
            cls=f"dh-row-link dh-row-grid dh-row-{lines}",
        ),
        class_name="dh-row",
    )


def row_list(items: rx.Var, render: Any, *, list_id: str, label_key: str) -> rx.Component:
    """A list of tappable rows (`render(row)` draws one `li`)."""
    return rx.el.ul(
        rx.foreach(items, render),
        id=list_id,
        aria_label=tr(label_key),
        class_name="dh-rows",
    )


def due_row(row: Any) -> rx.Component:
    """One follow-up on the Today screen: who, what, when; tap → the client's profile."""
    return _row_link(
        _text(row["client_name"], size="3", cls="rt-r-weight-bold dh-strong"),
        _text(row["who"], size="2", cls="dh-muted"),
        _flex(
            _row_badge(row),
            rx.cond(
                row["when_vi"] != "",
                _text(bi(row, "when"), size="2", cls="dh-tone",
                      custom_attrs={"data-accent-color": row["tone"]}),
            ),
            cls="rt-r-ai-center rt-r-fw-wrap rt-r-gap-2",
        ),
        href=row["href"],
        row_id=row["row_id"],
        lines=3,
    )


def client_row(row: Any) -> rx.Component:
    """One client in a list: name, birth year and sex, commune, status."""
    return _row_link(
        _text(row["full_name"], size="3", cls="rt-r-weight-bold dh-strong client-name"),
        _text(row["birth_year"], " · ", bi(row, "sex"), " · ", row["commune_name"],
              size="2", cls="dh-muted"),
        rx.cond(row["status"] != "active", _row_badge(row, "status")),
        href=row["href"],
        row_id=row["row_id"],
        lines=2,
    )


def timeline_item(row: Any) -> rx.Component:
    """A dated entry of a client's history, with an icon for its kind. One `li` laid out as a
    grid (assets/lists.css): icon | title | date, the detail under the title; its icon is the
    circle's own mask (`::before`), not an element of its own."""
    return rx.el.li(
        rx.el.span(class_name="dh-timeline-icon dh-i-" + rx.match(
            row["kind"], ("visit", "house"), ("test", "test-tube"), ("referral", "send"),
            ("support", "hand-heart"), "calendar-range").to(str), aria_hidden="true"),
        _text(bi(row, "title"), size="3", cls="rt-r-weight-bold dh-timeline-title"),
        _text(row["on"], size="2", cls="dh-muted dh-timeline-on"),
        rx.cond(
            row["detail_vi"] != "",
            _text(bi(row, "detail"), size="2", cls="dh-muted dh-timeline-detail"),
        ),
        class_name="dh-timeline-item",
    )


class DrawnTogether(Div):
    """A `div` drawn with everything in it by one memoised React component. Reflex otherwise
    gives each text that reads the state (every translated label, each condition) a component
    of its own: on a screen of a few dozen such texts that was a large part of what a phone
    drew. The part re-renders whole when any state it reads changes: for parts that change
    rarely and are small (a form field, a header)."""

    _memoization_mode = MemoizationMode(recursive=False)


def drawn_together(*children: Any, **props: Any) -> rx.Component:
    return DrawnTogether.create(*children, **props)


def loading_note() -> rx.Component:
    """Until the screen's data arrives: still text, announced to screen readers (a spinner's
    animation keeps a slow phone's main thread busy while the page is still starting)."""
    return rx.text(tr("common.loading"), role="status", color="var(--gray-11)", size="2",
                   padding_y="24px", text_align="center")


def empty_note(key: str, *, note_id: str = "") -> rx.Component:
    props: dict[str, Any] = {"id": note_id} if note_id else {}
    return rx.text(tr(key), color="var(--gray-11)", size="2", padding_y="8px", **props)


# Opens or closes a disclosure in the browser alone (no trip to the server). React set both
# attributes once and never changes them, so it leaves what this script did in place.
_TOGGLE_JS = (
    "(() => {{ const b = document.getElementById('{button}');"
    " const p = document.getElementById('{panel}'); if (!b || !p) return;"
    " const open = b.getAttribute('aria-expanded') !== 'true';"
    " b.setAttribute('aria-expanded', String(open)); p.hidden = !open; }})()"
)


def disclosure(label_key: str, *children: rx.Component, summary_id: str,
               **props: Any) -> rx.Component:
    """An open/close section: a real button telling screen readers whether it is open
    (`aria-expanded`), and the part it shows. What is typed in it stays while it is closed."""
    panel_id = f"{summary_id}-panel"
    return rx.box(
        rx.el.button(
            rx.el.span(tr(label_key)),
            rx.icon("chevron-down", size=20, aria_hidden="true"),
            type="button",
            id=summary_id,
            aria_expanded="false",
            aria_controls=panel_id,
            on_click=rx.call_script(_TOGGLE_JS.format(button=summary_id, panel=panel_id)),
            class_name="dh-disclosure",
        ),
        rx.box(*children, id=panel_id, hidden=True),
        **props,
    )


class LazyDisclosure(rx.Component):
    """`<DhLazyDisclosure label button_id on_first_open>`: `disclosure()` whose panel is drawn
    at its first opening, in the browser alone (assets/disclosure/lazy_disclosure.jsx)."""

    # Shipped in assets/ (copied to the frontend's public/ folder) and bundled from there.
    library = "$/public/disclosure/lazy_disclosure.jsx"
    tag = "DhLazyDisclosure"

    label: rx.Var[str]
    button_id: rx.Var[str]
    open_when: rx.Var[bool]
    on_first_open: rx.EventHandler[no_args_event_spec]


def lazy_disclosure(label_key: str, *children: rx.Component, summary_id: str, key: Any,
                    **props: Any) -> rx.Component:
    """`disclosure()` for a section most visits never open (a form): its children cost
    nothing until it is first opened, then stay drawn (what is typed stays while it is closed).
    `key` names the record on screen (another record starts closed and undrawn again).
    Fields of a form around it are not submitted until it is first opened: only for optional
    fields that the form's readers take as empty when absent (app/pages/register.py
    `form_text`, assets/device/src/forms.js), with `open_when` true while one of them has an
    error to show; the device code opens it to put a value back (main.js `revealFields`)."""
    return LazyDisclosure.create(*children, label=tr(label_key), button_id=summary_id, key=key,
                                 **props)


def action_link(label_key: str, href: Any, icon: str, *, primary: bool = False,
                link_id: str = "") -> rx.Component:
    """A thumb-sized link styled as a button (record forms live on their own pages).

    The primary one is a wide row; the others stack their icon above a short label."""
    props: dict[str, Any] = {"id": link_id} if link_id else {}
    return page_link(
        _flex(
            css_icon(icon, 20),
            _text(tr(label_key), size="3" if primary else "2", cls="rt-r-weight-medium"),
            cls="rt-r-ai-center rt-r-jc-center "
                + ("rt-r-fd-row rt-r-gap-2" if primary else "rt-r-fd-column rt-r-gap-1"),
        ),
        href=href,
        cls="dh-action dh-action-primary" if primary else "dh-action",
        **props,
    )
