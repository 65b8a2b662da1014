"""Caseload: the supervisor's home — every client in their places, paged and filtered in SQL,
reassignment, proposed closures, per-volunteer activity, and duplicate records to merge.

The scope is applied by the services (`app/services/caseload.py`, `merge.py`), never here.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import bi, bilingual, dmy, empty_note, section_heading
from app.components.forms import form_message
from app.components.frame import app_frame, greeting
from app.pages.law_deadlines import DeadlinesState, deadlines_section
from app.pages.privacy_desk import privacy_clocks
from app.pages.review import refused_notice
from app.services import caseload, clients, merge
from app.services.caseload import UNASSIGNED, CaseloadFilters, CaseloadPage
from app.services.law import episodes
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import EpisodeType, Role

Row = dict[str, str]
MAX_DAYS = 3660
_SELECT_STYLE = {
    "minHeight": "44px", "fontSize": "16px", "padding": "8px", "borderRadius": "8px",
    "border": "1px solid var(--gray-7)", "background": "white", "width": "100%",
}
EPISODE_TYPES = [t.value for t in EpisodeType]


def as_int(value: Any, *, low: int = 1, high: int = 2**31 - 1) -> int | None:
    """A browser-sent id or number as an int within bounds, else None (never trust the type)."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def _case_rows(result: CaseloadPage, selected: set[str]) -> list[Row]:
    rows: list[Row] = []
    for r in result.rows:
        ep_key = f"report.episode_type.{r.episode_type.value}" if r.episode_type else None
        rows.append({
            "id": str(r.client_id),
            "full_name": r.full_name,
            "birth_year": str(r.birth_year),
            "commune": r.commune_name,
            "volunteer": r.volunteer_name,
            "last_visit": dmy(r.last_visit),
            "next_due": dmy(r.next_due),
            "overdue": "1" if r.overdue else "",
            "referrals": str(r.open_referrals) if r.open_referrals else "",
            "proposed": "1" if r.episode_status and r.episode_status.value == "closure_proposed"
            else "",
            "href": f"/clients/{r.client_id}",
            "row_id": f"case-{r.client_id}",
            **bilingual("episode", ep_key),
        })
    return rows


class CaseloadState(AppState):
    # filters
    commune_id: str = ""
    volunteer_id: str = ""
    episode_type: str = ""
    overdue_only: bool = False
    not_visited_days: str = ""
    # the page
    rows: list[Row] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    selected: list[str] = []
    communes: list[Row] = []
    volunteers: list[Row] = []
    error: str = ""
    success: str = ""
    loaded: bool = False
    # closures, activity, duplicates
    closures: list[Row] = []
    activity: list[Row] = []
    pairs: list[Row] = []
    # In-scope records whose ID number is also on a record outside the supervisor's area.
    elsewhere: list[Row] = []
    merges: list[Row] = []
    duplicates_loaded: bool = False
    # Versions of the proposed closures shown (optimistic concurrency): never from the browser.
    _closure_versions: dict[int, int] = {}

    # ---- helpers -----------------------------------------------------------------------------

    def _filters(self) -> CaseloadFilters:
        vol = self.volunteer_id
        return CaseloadFilters(
            commune_id=as_int(self.commune_id),
            volunteer_id=UNASSIGNED if vol == "none" else as_int(vol),
            episode_type=EpisodeType(self.episode_type) if self.episode_type in EPISODE_TYPES
            else None,
            overdue_only=self.overdue_only,
            not_visited_days=as_int(self.not_visited_days, high=MAX_DAYS),
        )

    async def _fetch(self) -> None:
        filters, page = self._filters(), self.page
        outcome = await self._run(lambda db, actor: caseload.caseload_page(
            session=db, actor=actor, filters=filters, page=page))
        self.loaded = True
        if outcome.value is None:
            self.error = outcome.error
            self.rows, self.total, self.pages = [], 0, 1
            return
        result = outcome.value
        self.total, self.pages = result.total, result.pages
        if self.page > self.pages:
            self.page = self.pages
            await self._fetch()
            return
        self.rows = _case_rows(result, set(self.selected))

    async def _load_side(self) -> None:
        commune = as_int(self.commune_id)

        def call(db: Any, actor: Any) -> Any:
            return (
                caseload.places_in_scope(session=db, actor=actor),
                caseload.volunteers_in_scope(session=db, actor=actor, commune_id=commune),
                caseload.proposed_closures(session=db, actor=actor),
                caseload.volunteer_activity(session=db, actor=actor, commune_id=commune),
            )

        outcome = await self._run(call)
        if outcome.value is None:
            self.error = outcome.error
            return
        places, volunteers, closures, activity = outcome.value
        self.communes = [{"id": str(p.place_id), "name": p.name} for p in places
                         if not p.is_province]
        self.volunteers = [{"id": str(v.volunteer_id), "name": v.full_name} for v in volunteers]
        self._closure_versions = {c.episode_id: c.version for c in closures}
        self.closures = [
            {
                "id": str(c.episode_id), "client": c.client_name, "commune": c.commune_name,
                "href": f"/clients/{c.client_id}", "end": dmy(c.actual_end),
                **bilingual("type", f"report.episode_type.{c.episode_type.value}"),
                **bilingual("reason", f"sup.end_reason.{c.end_reason}" if c.end_reason
                            else None),
            }
            for c in closures
        ]
        self.activity = [
            {"id": str(a.volunteer_id), "name": a.full_name, "clients": str(a.clients),
             "visits": str(a.visits_this_month), "overdue": str(a.overdue),
             "referrals": str(a.open_referrals)}
            for a in activity
        ]

    async def _refresh_all(self) -> None:
        await self._fetch()
        await self._load_side()

    # ---- handlers ----------------------------------------------------------------------------

    @guarded(Role.SUPERVISOR)
    async def load(self) -> Any:
        """on_load and the refresh button: the current filters from the first page."""
        self.page, self.error, self.success = 1, "", ""
        self.selected = []
        await self._refresh_all()
        return None

    @guarded(Role.SUPERVISOR)
    async def apply_filters(self, form_data: dict[str, Any]) -> Any:
        commune = str(form_data.get("commune_id", ""))
        self.commune_id = commune if as_int(commune) is not None else ""
        vol = str(form_data.get("volunteer_id", ""))
        self.volunteer_id = vol if vol == "none" or as_int(vol) is not None else ""
        etype = str(form_data.get("episode_type", ""))
        self.episode_type = etype if etype in EPISODE_TYPES else ""
        self.overdue_only = bool(form_data.get("overdue_only"))
        days = as_int(form_data.get("not_visited_days", ""), high=MAX_DAYS)
        self.not_visited_days = str(days) if days is not None else ""
        self.page, self.error, self.success, self.selected = 1, "", "", []
        await self._refresh_all()
        return None

    @guarded(Role.SUPERVISOR)
    async def next_page(self) -> Any:
        if self.page < self.pages:
            self.page += 1
            await self._fetch()
        return None

    @guarded(Role.SUPERVISOR)
    async def previous_page(self) -> Any:
        if self.page > 1:
            self.page -= 1
            await self._fetch()
        return None

    @guarded(Role.SUPERVISOR)
    async def toggle_select(self, client_id: str) -> Any:
        cid = as_int(client_id)
        if cid is None:
            return None
        key = str(cid)
        if key in self.selected:
            self.selected = [s for s in self.selected if s != key]
        elif len(self.selected) < clients.MAX_REASSIGN:
            self.selected = [*self.selected, key]
        return None

    @guarded(Role.SUPERVISOR)
    async def select_page(self) -> Any:
        chosen = list(dict.fromkeys([*self.selected, *(r["id"] for r in self.rows)]))
        self.selected = chosen[: clients.MAX_REASSIGN]
        return None

    @guarded(Role.SUPERVISOR)
    async def clear_selection(self) -> Any:
        self.selected = []
        return None

    @guarded(Role.SUPERVISOR)
    async def reassign(self, form_data: dict[str, Any]) -> Any:
        self.error = self.success = ""
        target = str(form_data.get("to_volunteer", ""))
        volunteer = None if target == "none" else as_int(target)
        ids = [i for i in (as_int(s) for s in self.selected) if i is not None]
        if not ids or (volunteer is None and target != "none"):
            self.error = await self._text("sup.reassign.pick")
            return None
        outcome = await self._run(lambda db, actor: clients.reassign_clients(
            session=db, actor=actor, client_ids=ids, volunteer_id=volunteer))
        if outcome.value is None:
            self.error = next(iter(outcome.fields.values()), outcome.error)
            return None
        self.success = await self._text("sup.reassign.done", count=outcome.value)
        self.selected = []
        await self._refresh_all()
        return None

    async def _decide(self, episode_id: Any, approve: bool) -> None:
        self.error = self.success = ""
        eid = as_int(episode_id)
        version = self._closure_versions.get(eid or 0)
        if eid is None or version is None:
            self.error = await self._text("error.not_found")
            return
        decide = episodes.approve_closure if approve else episodes.reject_closure
        outcome = await self._run(lambda db, actor: decide(
            session=db, actor=actor, episode_id=eid, expected_version=version))
        if outcome.value is None:
            self.error = outcome.error
        else:
            self.success = await self._text(
                "sup.closure.approved" if approve else "sup.closure.rejected")
        await self._refresh_all()

    @guarded(Role.SUPERVISOR)
    async def approve_closure(self, episode_id: str) -> Any:
        await self._decide(episode_id, True)
        # A completed rehab now calls for a post-rehab decision: redraw the deadlines.
        return DeadlinesState.load

    @guarded(Role.SUPERVISOR)
    async def reject_closure(self, episode_id: str) -> Any:
        await self._decide(episode_id, False)
        return None

    async def _load_duplicates(self) -> None:
        def call(db: Any, actor: Any) -> Any:
            return (merge.duplicate_pairs(session=db, actor=actor),
                    merge.recent_merges(session=db, actor=actor),
                    merge.duplicates_elsewhere(session=db, actor=actor))

        outcome = await self._run(call)
        self.duplicates_loaded = True
        if outcome.value is None:
            self.error = outcome.error
            return
        pairs, merges, elsewhere = outcome.value
        self.elsewhere = [
            {"id": str(e.client_id), "name": e.full_name, "href": f"/clients/{e.client_id}",
             "info": " · ".join(x for x in (str(e.birth_year), e.commune_name, e.national_id,
                                             e.volunteer_name) if x)}
            for e in elsewhere
        ]

        def side(prefix: str, s: Any) -> Row:
            return {f"{prefix}_id": str(s.client_id), f"{prefix}_name": s.full_name,
                    f"{prefix}_info": " · ".join(x for x in (
                        str(s.birth_year), s.commune_name, s.national_id, s.volunteer_name) if x),
                    f"{prefix}_href": f"/clients/{s.client_id}"}

        self.pairs = [
            {**side("a", p.first), **side("b", p.second),
             "row_id": f"pair-{p.first.client_id}-{p.second.client_id}",
             **bilingual("reason", f"sup.dup.reason.{p.reason}")}
            for p in pairs
        ]
        self.merges = [
            {"id": str(m.id), "kept": m.kept_name, "merged": m.merged_name,
             "kept_href": f"/clients/{m.kept_id}", "by": m.merged_by,
             "at": dmy(m.merged_at.date()), "moved": str(sum(m.moved.values())),
             "undone": dmy(m.undone_at.date()) if m.undone_at else ""}
            for m in merges
        ]

    @guarded(Role.SUPERVISOR)
    async def load_duplicates(self) -> Any:
        self.error = self.success = ""
        await self._load_duplicates()
        return None

    @guarded(Role.SUPERVISOR)
    async def merge_pair(self, keep_id: str, merge_id: str) -> Any:
        self.error = self.success = ""
        keep, gone = as_int(keep_id), as_int(merge_id)
        if keep is None or gone is None:
            self.error = await self._text("error.not_found")
            return None
        outcome = await self._run(lambda db, actor: merge.merge_clients(
            session=db, actor=actor, keep_id=keep, merge_id=gone))
        if outcome.value is None:
            self.error = next(iter(outcome.fields.values()), outcome.error)
        else:
            self.success = await self._text("sup.dup.merged", name=outcome.value.kept_name)
        await self._load_duplicates()
        await self._fetch()
        return None

    @guarded(Role.SUPERVISOR)
    async def undo_merge(self, merge_log_id: str) -> Any:
        self.error = self.success = ""
        log_id = as_int(merge_log_id)
        if log_id is None:
            self.error = await self._text("error.not_found")
            return None
        outcome = await self._run(lambda db, actor: merge.undo_merge(
            session=db, actor=actor, merge_log_id=log_id))
        if outcome.value is None:
            self.error = outcome.error
        else:
            self.success = await self._text("sup.dup.undone", name=outcome.value.merged_name)
        await self._load_duplicates()
        await self._fetch()
        return None


# ---- view ----------------------------------------------------------------------------------


def _welcome() -> rx.Component:
    return rx.flex(
        greeting(),
        rx.flex(
            rx.link(rx.button(rx.icon("chart-column", size=18, aria_hidden="true"),
                              tr("nav.reports"), variant="soft", size="3"), href="/reports"),
            rx.link(rx.button(rx.icon("users-round", size=18, aria_hidden="true"),
                              tr("nav.teams"), variant="soft", size="3"), href="/teams"),
            rx.link(rx.button(rx.icon("file-up", size=18, aria_hidden="true"),
                              tr("nav.import"), variant="soft", size="3"), href="/import"),
            rx.link(rx.button(rx.icon("hospital", size=18, aria_hidden="true"),
                              tr("nav.facilities"), variant="soft", size="3"),
                    href="/facilities", id="to-facilities"),
            rx.button(rx.icon("refresh-cw", size=18, aria_hidden="true"), tr("common.refresh"),
                      on_click=CaseloadState.load, variant="outline", size="3", id="refresh"),
            spacing="2", wrap="wrap",
        ),
        direction="column",
        spacing="3",
    )


def _labelled_select(label_key: str, name: str, *options: rx.Component,
                     value: rx.Var | str = "") -> rx.Component:
    return rx.flex(
        rx.el.label(tr(label_key), html_for=name, font_weight="500"),
        rx.el.select(*options, id=name, name=name, default_value=value, style=_SELECT_STYLE),
        direction="column", spacing="1", min_width="0",
    )


def _filters() -> rx.Component:
    s = CaseloadState
    return rx.form(
        rx.grid(
            _labelled_select(
                "sup.filter.commune", "commune_id",
                rx.el.option(tr("sup.filter.all_communes"), value=""),
                rx.foreach(s.communes, lambda c: rx.el.option(c["name"], value=c["id"])),
                value=s.commune_id,
            ),
            _labelled_select(
                "sup.filter.volunteer", "volunteer_id",
                rx.el.option(tr("sup.filter.all_volunteers"), value=""),
                rx.el.option(tr("sup.filter.unassigned"), value="none"),
                rx.foreach(s.volunteers, lambda v: rx.el.option(v["name"], value=v["id"])),
                value=s.volunteer_id,
            ),
            _labelled_select(
                "sup.filter.episode_type", "episode_type",
                rx.el.option(tr("sup.filter.all_types"), value=""),
                *[rx.el.option(tr(f"report.episode_type.{t}"), value=t) for t in EPISODE_TYPES],
                value=s.episode_type,
            ),
            rx.flex(
                rx.el.label(tr("sup.filter.not_visited_days"), html_for="not_visited_days",
                            font_weight="500"),
                rx.input(id="not_visited_days", name="not_visited_days", type="number",
                         input_mode="numeric", min=1, max=MAX_DAYS, size="3",
                         default_value=s.not_visited_days, width="100%"),
                direction="column", spacing="1",
            ),
            columns=rx.breakpoints(initial="1", sm="2", md="4"),
            spacing="3",
            width="100%",
        ),
        rx.flex(
            rx.el.label(
                rx.el.input(type="checkbox", name="overdue_only", id="overdue_only",
                            default_checked=s.overdue_only,
                            style={"width": "22px", "height": "22px"}),
                tr("sup.filter.overdue_only"), html_for="overdue_only",
                style={"display": "flex", "gap": "10px", "alignItems": "center",
                       "minHeight": "44px"},
            ),
            rx.spacer(),
            rx.button(rx.icon("filter", size=18, aria_hidden="true"), tr("sup.filter.apply"),
                      type="submit", size="3", id="filter-apply"),
            align="center", spacing="3", wrap="wrap", margin_top="8px",
        ),
        on_submit=CaseloadState.apply_filters,
        reset_on_submit=False,
        id="caseload-filters",
    )


def _th(key: str) -> rx.Component:
    return rx.table.column_header_cell(tr(key), white_space="nowrap")


def _case_row(row: Any) -> rx.Component:
    s = CaseloadState
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=s.selected.contains(row["id"]),
                on_change=lambda _checked: CaseloadState.toggle_select(row["id"]),
                size="3",
                # Named by the person, told apart from a namesake by birth year and commune.
                aria_label=row["full_name"].to(str) + ", " + row["birth_year"].to(str) + ", "
                + row["commune"].to(str),
                id="select-" + row["id"],
            ),
        ),
        rx.table.cell(
            rx.link(row["full_name"], href=row["href"], weight="bold",
                    class_name="client-name dh-target"),
            rx.text(row["birth_year"], size="1", color="var(--gray-11)"),
            min_width="150px",
        ),
        rx.table.cell(row["commune"]),
        rx.table.cell(rx.cond(row["volunteer"] != "", row["volunteer"],
                              rx.text(tr("sup.unassigned"), color="var(--gray-10)"))),
        rx.table.cell(
            bi(row, "episode"),
            rx.cond(row["proposed"] != "",
                    rx.badge(tr("sup.closure.proposed_badge"), color_scheme="amber",
                             margin_left="4px")),
        ),
        rx.table.cell(row["last_visit"], white_space="nowrap"),
        rx.table.cell(
            rx.cond(row["overdue"] != "",
                    rx.text(row["next_due"], color="var(--red-11)", weight="bold"),
                    rx.text(row["next_due"])),
            white_space="nowrap",
        ),
        rx.table.cell(row["referrals"], text_align="center"),
        id=row["row_id"],
    )


def scroll_table(*children: rx.Component, table_id: str) -> rx.Component:
    """A table that scrolls sideways inside its box on a phone instead of widening the page."""
    return rx.box(
        rx.table.root(*children, size="1", variant="surface", id=table_id),
        overflow_x="auto", width="100%", max_width="100%",
        # This box scrolls (theme.css lets the table's own scroll area grow): reachable by
        # keyboard.
        tab_index=0, class_name="dh-scroll",
    )


def _caseload_table() -> rx.Component:
    s = CaseloadState
    return rx.fragment(
        rx.flex(
            rx.text(tr("sup.caseload.total"), " ", s.total, id="caseload-total", weight="medium"),
            rx.spacer(),
            rx.button(tr("sup.select_page"), on_click=s.select_page, variant="soft", size="2",
                      id="select-page"),
            rx.button(tr("sup.clear_selection"), on_click=s.clear_selection, variant="soft",
                      size="2"),
            align="center", spacing="2", wrap="wrap", margin_y="8px",
        ),
        rx.cond(
            s.rows.length() > 0,
            scroll_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell(
                        rx.icon("square-check", size=16, aria_label=tr("sup.col.select"))),
                    _th("sup.col.client"), _th("sup.col.commune"), _th("sup.col.volunteer"),
                    _th("sup.col.episode"), _th("sup.col.last_visit"), _th("sup.col.next_due"),
                    _th("sup.col.open_referrals"),
                )),
                rx.table.body(rx.foreach(s.rows, _case_row)),
                table_id="caseload-table",
            ),
            rx.cond(s.loaded, empty_note("sup.caseload.empty", note_id="caseload-empty")),
        ),
        rx.flex(
            rx.button(rx.icon("chevron-left", size=18, aria_hidden="true"),
                      tr("vol.clients.previous"), on_click=s.previous_page,
                      disabled=s.page <= 1, variant="soft", size="3", id="page-previous"),
            rx.text(tr("vol.clients.page"), " ", s.page, "/", s.pages, size="2", id="page-info"),
            rx.button(tr("vol.clients.next"), rx.icon("chevron-right", size=18,
                                                      aria_hidden="true"),
                      on_click=s.next_page, disabled=s.page >= s.pages, variant="soft",
                      size="3", id="page-next"),
            justify="between", align="center", margin_top="8px",
        ),
    )


def _reassign_bar() -> rx.Component:
    s = CaseloadState
    return rx.cond(
        s.selected.length() > 0,
        rx.form(
            rx.flex(
                rx.text(tr("sup.reassign.selected"), " ", s.selected.length(),
                        weight="bold", id="selected-count"),
                rx.el.select(
                    rx.el.option(tr("sup.reassign.choose"), value=""),
                    rx.foreach(s.volunteers, lambda v: rx.el.option(v["name"], value=v["id"])),
                    rx.el.option(tr("sup.filter.unassigned"), value="none"),
                    name="to_volunteer", id="to_volunteer",
                    aria_label=tr("sup.reassign.choose"),
                    style={**_SELECT_STYLE, "width": "auto", "minWidth": "200px"},
                ),
                rx.button(rx.icon("user-round-check", size=18, aria_hidden="true"),
                          tr("sup.reassign.submit"), type="submit", size="3",
                          id="reassign-submit"),
                align="center", spacing="3", wrap="wrap",
            ),
            rx.text(tr("sup.reassign.hint"), size="1", color="var(--gray-11)"),
            on_submit=s.reassign,
            reset_on_submit=False,
            padding="12px",
            border="1px solid var(--teal-6)",
            background="var(--teal-2)",
            border_radius="12px",
            margin_y="8px",
            id="reassign-bar",
        ),
    )


def _closures() -> rx.Component:
    s = CaseloadState
    return rx.fragment(
        section_heading("sup.closure.title", anchor="closures"),
        rx.cond(
            s.closures.length() > 0,
            rx.flex(
                rx.foreach(s.closures, lambda c: rx.flex(
                    rx.flex(
                        rx.link(c["client"], href=c["href"], weight="bold",
                                class_name="dh-target"),
                        rx.text(bi(c, "type"), " · ", c["commune"], size="2",
                                color="var(--gray-11)"),
                        rx.text(tr("sup.closure.reason"), " ", bi(c, "reason"), " · ",
                                tr("sup.closure.end"), " ", c["end"], size="2"),
                        direction="column", spacing="1", flex="1", min_width="200px",
                    ),
                    rx.flex(
                        rx.button(tr("sup.closure.approve"), size="3", color_scheme="green",
                                  on_click=CaseloadState.approve_closure(c["id"]),
                                  # Named by its row: "Duyệt: Nguyễn Văn An".
                                  aria_label=tr("sup.closure.approve") + ": " + c["client"],
                                  id="approve-" + c["id"]),
                        rx.button(tr("sup.closure.reject"), size="3", variant="soft",
                                  color_scheme="red",
                                  on_click=CaseloadState.reject_closure(c["id"]),
                                  aria_label=tr("sup.closure.reject") + ": " + c["client"],
                                  id="reject-" + c["id"]),
                        spacing="2",
                    ),
                    spacing="3", align="center", wrap="wrap", padding="12px",
                    border_bottom="1px solid var(--gray-4)",
                )),
                direction="column", border="1px solid var(--gray-5)", border_radius="12px",
                id="closures",
            ),
            empty_note("sup.closure.none"),
        ),
    )


def _activity() -> rx.Component:
    s = CaseloadState
    return rx.fragment(
        section_heading("sup.activity.title", anchor="activity"),
        rx.cond(
            s.activity.length() > 0,
            scroll_table(
                rx.table.header(rx.table.row(
                    _th("sup.col.volunteer"), _th("sup.activity.clients"),
                    _th("sup.activity.visits_month"), _th("sup.activity.overdue"),
                    _th("sup.col.open_referrals"),
                )),
                rx.table.body(rx.foreach(s.activity, lambda a: rx.table.row(
                    rx.table.cell(a["name"], font_weight="500"),
                    rx.table.cell(a["clients"]), rx.table.cell(a["visits"]),
                    rx.table.cell(a["overdue"]), rx.table.cell(a["referrals"]),
                ))),
                table_id="activity-table",
            ),
            empty_note("sup.activity.none"),
        ),
    )


def _pair(p: Any) -> rx.Component:
    def side(prefix: str, other: str) -> rx.Component:
        return rx.flex(
            rx.link(p[f"{prefix}_name"], href=p[f"{prefix}_href"], weight="bold",
                    class_name="dh-target"),
            rx.text(p[f"{prefix}_info"], size="2", color="var(--gray-11)"),
            rx.button(tr("sup.dup.keep_this"), size="2", variant="soft",
                      on_click=CaseloadState.merge_pair(p[f"{prefix}_id"], p[f"{other}_id"]),
                      id="keep-" + p[f"{prefix}_id"] + "-" + p[f"{other}_id"]),
            direction="column", spacing="1", flex="1", min_width="160px",
        )

    return rx.flex(
        rx.badge(bi(p, "reason"), color_scheme="amber"),
        rx.flex(side("a", "b"), side("b", "a"), spacing="3", wrap="wrap"),
        direction="column", spacing="2", padding="12px", border_bottom="1px solid var(--gray-4)",
        id=p["row_id"],
    )


def _duplicates() -> rx.Component:
    s = CaseloadState
    return rx.fragment(
        section_heading("sup.dup.title", anchor="duplicates"),
        rx.text(tr("sup.dup.explain"), size="2", color="var(--gray-11)"),
        rx.button(rx.icon("copy", size=18, aria_hidden="true"), tr("sup.dup.find"),
                  on_click=s.load_duplicates, size="3", variant="outline", margin_y="8px",
                  width="fit-content",
                  id="find-duplicates"),
        rx.cond(
            s.duplicates_loaded,
            rx.fragment(
                rx.cond(
                    s.pairs.length() > 0,
                    rx.box(rx.foreach(s.pairs, _pair), border="1px solid var(--gray-5)",
                           border_radius="12px", id="duplicate-pairs"),
                    empty_note("sup.dup.none", note_id="duplicates-none"),
                ),
                rx.cond(
                    s.elsewhere.length() > 0,
                    rx.box(
                        rx.heading(tr("sup.dup.elsewhere_title"), size="3", as_="h3",
                                   margin_top="12px"),
                        rx.text(tr("sup.dup.elsewhere_explain"), size="2",
                                color="var(--gray-11)"),
                        rx.foreach(s.elsewhere, lambda e: rx.flex(
                            rx.link(e["name"], href=e["href"], weight="medium"),
                            rx.text(e["info"], size="2", color="var(--gray-11)"),
                            direction="column", padding_y="6px",
                            border_bottom="1px solid var(--gray-4)",
                        )),
                        id="duplicates-elsewhere",
                    ),
                ),
                rx.cond(
                    s.merges.length() > 0,
                    rx.fragment(
                        rx.heading(tr("sup.dup.recent"), size="3", as_="h3", margin_top="12px"),
                        rx.foreach(s.merges, lambda m: rx.flex(
                            rx.text(m["merged"], " → ",
                                    rx.link(m["kept"], href=m["kept_href"]), " · ", m["at"],
                                    " · ", m["by"], " · ", tr("sup.dup.moved"), " ",
                                    m["moved"], size="2", flex="1"),
                            rx.cond(
                                m["undone"] != "",
                                rx.badge(tr("sup.dup.undone_badge"), color_scheme="gray"),
                                rx.button(tr("sup.dup.undo"), size="2", variant="soft",
                                          color_scheme="red",
                                          on_click=CaseloadState.undo_merge(m["id"]),
                                          id="undo-" + m["id"]),
                            ),
                            align="center", spacing="2", wrap="wrap", padding_y="6px",
                        )),
                    ),
                ),
            ),
        ),
    )


def caseload_page() -> rx.Component:
    return app_frame(
        "nav.caseload",
        rx.flex(
            _welcome(),
            form_message(CaseloadState.error, CaseloadState.success),
            deadlines_section(),
            refused_notice(),
            privacy_clocks(),
            _filters(),
            _reassign_bar(),
            _caseload_table(),
            _closures(),
            _activity(),
            _duplicates(),
            direction="column",
            spacing="2",
        ),
    )

