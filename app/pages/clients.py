"""My clients: search (accents and case ignored), filters (status, episode type, overdue only),
50 a page, paged in SQL.

Volunteers see the clients assigned to them; supervisors reuse the same list for every client
in their places — the scope is applied by the service, never here.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import (
    bilingual,
    client_row,
    empty_note,
    page_link,
    row_list,
)
from app.components.frame import app_frame
from app.icon_css import css_icon
from app.pages.register import form_checked, form_text
from app.services import clients
from app.services.dto import ClientFilters, ClientPage
from app.services.places import place_name
from app.services.text import vi_sort_key
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import ClientStatus, EpisodeType, Role

PAGE_SIZE = 50
MAX_QUERY = 100
STATUS_CHOICES = ("active", "closed", "all")
EPISODE_TYPES = tuple(t.value for t in EpisodeType)
# A filter takes effect when chosen, like the search button.
SUBMIT_SEARCH = "document.getElementById('search-submit').click()"
_SELECT_STYLE = {"minHeight": "44px", "fontSize": "16px", "padding": "8px",
                 "borderRadius": "8px", "border": "1px solid var(--gray-7)",
                 "background": "white", "width": "100%"}

Row = dict[str, str]


def _status_filter(value: str) -> ClientStatus | None:
    return None if value == "all" else ClientStatus(value)


def _rows(result: ClientPage, communes: dict[int, str]) -> list[Row]:
    """One page of results as rows, in Vietnamese order within the page."""
    items = sorted(result.items, key=lambda c: (vi_sort_key(c.full_name), c.id))
    return [
        {
            "id": str(c.id),
            "full_name": c.full_name,
            "birth_year": str(c.birth_year),
            "commune_name": communes.get(c.commune_id, ""),
            "status": c.status.value,
            "href": f"/clients/{c.id}",
            "row_id": f"client-{c.id}",
            "tone": "gray",
            **bilingual("sex", f"vol.sex.{c.sex.value}"),
            **bilingual("status", f"vol.client_status.{c.status.value}"),
        }
        for c in items
    ]


class ClientsState(AppState):
    query: rx.Field[str] = rx.field("")
    status: rx.Field[str] = rx.field("active")
    episode_type: rx.Field[str] = rx.field("")  # "" = any
    overdue: rx.Field[bool] = rx.field(False)
    page: rx.Field[int] = rx.field(1)
    pages: rx.Field[int] = rx.field(1)
    total: rx.Field[int] = rx.field(0)
    rows: rx.Field[list[Row]] = rx.field(default_factory=list)
    error: rx.Field[str] = rx.field("")
    loaded: rx.Field[bool] = rx.field(False)

    async def _fetch(self) -> None:
        query, status, page = self.query, self.status, self.page
        filters = ClientFilters(
            status=_status_filter(status),
            episode_type=EpisodeType(self.episode_type) if self.episode_type else None,
            overdue_only=self.overdue,
        )

        def call(db: Any, actor: Any) -> tuple[ClientPage, dict[int, str]]:
            result = clients.search_clients(
                session=db, actor=actor, query=query, filters=filters,
                page=page, page_size=PAGE_SIZE,
            )
            names = {cid: place_name(db, cid) for cid in {c.commune_id for c in result.items}}
            return result, names

        outcome = await self._run(call)
        self.loaded = True
        self.error = outcome.error
        if outcome.value is None:
            self.rows, self.total, self.pages = [], 0, 1
            return
        result, names = outcome.value
        self.total = result.total
        self.pages = max(1, -(-result.total // PAGE_SIZE))
        if self.page > self.pages:  # the list shrank under us: show its last page
            self.page = self.pages
            await self._fetch()
            return
        self.rows = _rows(result, names)

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> Any:
        """on_load: the current search, from its first page."""
        self.page = 1
        await self._fetch()
        return None

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def search(self, form_data: dict[str, Any]) -> Any:
        query = form_text(form_data, "q", MAX_QUERY)
        status = form_text(form_data, "status")
        self.query = query
        self.status = status if status in STATUS_CHOICES else "active"
        episode_type = form_text(form_data, "episode_type", 40)
        self.episode_type = episode_type if episode_type in EPISODE_TYPES else ""
        self.overdue = form_checked(form_data, "overdue")
        self.page = 1
        await self._fetch()
        return None

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def next_page(self) -> Any:
        if self.page < self.pages:
            self.page += 1
            await self._fetch()
        return None

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def previous_page(self) -> Any:
        if self.page > 1:
            self.page -= 1
            await self._fetch()
        return None


def _search_form() -> rx.Component:
    s = ClientsState
    return rx.form(
        rx.flex(
            rx.el.label(tr("vol.clients.search_label"), html_for="q", font_weight="500"),
            rx.flex(
                rx.input(
                    rx.input.slot(css_icon("search", 18)),
                    id="q",
                    name="q",
                    type="search",
                    default_value=s.query,
                    placeholder=tr("vol.clients.search_placeholder"),
                    size="3",
                    max_length=MAX_QUERY,
                    width="100%",
                    auto_complete="off",
                ),
                rx.button(tr("vol.clients.search"), type="submit", size="3", id="search-submit",
                          high_contrast=True),
                spacing="2",
                width="100%",
            ),
            rx.el.label(tr("vol.clients.status_label"), html_for="status", font_weight="500"),
            rx.el.select(
                rx.el.option(tr("vol.clients.status_active"), value="active"),
                rx.el.option(tr("vol.clients.status_closed"), value="closed"),
                rx.el.option(tr("vol.clients.status_all"), value="all"),
                id="status",
                name="status",
                default_value=s.status,
                on_change=rx.call_script(SUBMIT_SEARCH),
                style=_SELECT_STYLE,
            ),
            rx.el.label(tr("vol.clients.episode_type_label"), html_for="episode_type",
                        font_weight="500"),
            rx.el.select(
                rx.el.option(tr("vol.clients.episode_type_any"), value=""),
                *[rx.el.option(tr(f"vol.episode_type.{value}"), value=value)
                  for value in EPISODE_TYPES],
                id="episode_type",
                name="episode_type",
                default_value=s.episode_type,
                on_change=rx.call_script(SUBMIT_SEARCH),
                style=_SELECT_STYLE,
            ),
            rx.el.label(
                rx.el.input(
                    type="checkbox",
                    name="overdue",
                    id="overdue",
                    default_checked=s.overdue,
                    on_change=rx.call_script(SUBMIT_SEARCH),
                    style={"width": "22px", "height": "22px", "flexShrink": "0"},
                ),
                tr("vol.clients.overdue_only"),
                html_for="overdue",
                style={"display": "flex", "gap": "10px", "alignItems": "center",
                       "minHeight": "44px"},
            ),
            direction="column",
            spacing="2",
        ),
        on_submit=s.search,
        reset_on_submit=False,
        role="search",
    )


def _pager() -> rx.Component:
    s = ClientsState
    return rx.flex(
        rx.button(
            rx.icon("chevron-left", size=18, aria_hidden="true"),
            tr("vol.clients.previous"),
            on_click=s.previous_page,
            disabled=s.page <= 1,
            variant="soft",
            size="3",
            id="page-previous",
        ),
        rx.text(tr("vol.clients.page"), " ", s.page, "/", s.pages, size="2", id="page-info",
                aria_live="polite"),
        rx.button(
            tr("vol.clients.next"),
            rx.icon("chevron-right", size=18, aria_hidden="true"),
            on_click=s.next_page,
            disabled=s.page >= s.pages,
            variant="soft",
            size="3",
            id="page-next",
        ),
        justify="between",
        align="center",
        margin_top="12px",
    )


def clients_page() -> rx.Component:
    s = ClientsState
    return app_frame(
        "nav.clients",
        rx.el.div(
            page_link(
                css_icon("user-plus", 18),
                tr("vol.action.register"),
                href="/clients/new",
                id="go-register",
                cls="dh-inline-action",
            ),
            class_name="rt-Flex rt-r-jc-end",
        ),
        _search_form(),
        rx.cond(
            s.error != "",
            rx.callout(s.error, icon="triangle-alert", color_scheme="red", role="alert",
                       margin_top="12px"),
        ),
        rx.el.p(tr("vol.clients.total"), " ", s.total, id="result-count", aria_live="polite",
                class_name="rt-Text rt-r-size-2 dh-muted dh-result-count"),
        rx.cond(
            s.loaded,
            rx.cond(
                s.rows.length() > 0,
                rx.fragment(
                    row_list(s.rows, client_row, list_id="client-list",
                             label_key="nav.clients"),
                    rx.cond(s.pages > 1, _pager()),
                ),
                empty_note("vol.clients.none", note_id="no-results"),
            ),
            rx.center(rx.spinner(size="3"), padding="24px"),
        ),
    )
