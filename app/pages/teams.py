"""Teams and models: volunteer teams, counselling points and clubs per commune, with members and
founding decisions; and how many communes implement the community model.

Everything goes through `app/services/organisations.py`; the scope is checked there.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

import reflex as rx

from app.components.client_cards import bi, bilingual, dmy, empty_note, section_heading
from app.components.forms import checked_form, field_error, focus_first_problem, form_message
from app.components.frame import app_frame
from app.components.native_fields import SELECT_STYLE
from app.pages.caseload import as_int, scroll_table
from app.pages.reports import quarter_of
from app.services import caseload, organisations
from app.services.calendar import today_vn
from app.services.organisations import OrganisationInput
from app.services.reports import MODEL_KINDS
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import OrgKind, Role

Row = dict[str, str]
KINDS = [k.value for k in MODEL_KINDS]


def _parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value).strip()[:10]) if str(value).strip() else None
    except ValueError:
        return None


class TeamsState(AppState):
    place_id: str = ""
    places: list[Row] = []
    communes: list[Row] = []
    orgs: list[Row] = []
    members: list[Row] = []  # every member of every org shown, with "org" = its id
    implementing: int = 0
    total: int = 0
    coverage_rows: list[Row] = []
    # The form (create when editing_id is "", else edit that organisation)
    editing_id: str = ""
    form_name: str = ""
    form_kind: str = "volunteer_team"
    form_place: str = ""
    form_decision: str = ""
    form_founded: str = ""
    form_active: bool = True
    form_version: int = 0  # bumps to redraw the uncontrolled form with new defaults
    fields: dict[str, str] = {}
    member_fields: dict[str, str] = {}  # the add-a-member form's problems, under its fields
    # Members of the organisation being edited
    choices: list[Row] = []
    error: str = ""
    success: str = ""
    _form_key: str = ""

    async def _reload(self) -> None:
        place = as_int(self.place_id)
        if place is None:
            return
        start, end = quarter_of(today_vn())

        def call(db: Any, actor: Any) -> Any:
            return (organisations.list_organisations(session=db, actor=actor, place_id=place),
                    organisations.coverage(session=db, actor=actor, place_id=place,
                                           period_start=start, period_end=end))

        outcome = await self._run(call)
        if outcome.value is None:
            self.error = outcome.error
            return
        orgs, cover = outcome.value
        self.orgs = [
            {"id": str(o.id), "name": o.name, "commune": o.place_name,
             "decision": o.founding_decision, "founded": dmy(o.founded_on),
             "active": "1" if o.active else "",
             "count": str(sum(1 for m in o.members if m.left_on is None)),
             "kind": o.kind.value, "place": str(o.place_id),
             "founded_iso": o.founded_on.isoformat() if o.founded_on else "",
             "row_id": f"org-{o.id}", **bilingual("kind", f"sup.org_kind.{o.kind.value}")}
            for o in orgs
        ]
        self.members = [
            {"org": str(o.id), "user": str(m.user_id), "name": m.full_name,
             "joined": dmy(m.joined_on), "left": dmy(m.left_on)}
            for o in orgs for m in o.members
        ]
        self.implementing, self.total = cover.implementing, cover.total
        self.coverage_rows = [
            {"name": c.name, "yes": "1" if c.implementing else "",
             "managed": str(c.managed_clients),
             "teams": str(c.counts.get(OrgKind.VOLUNTEER_TEAM.value, 0)),
             "points": str(c.counts.get(OrgKind.COUNSELLING_POINT.value, 0)),
             "clubs": str(c.counts.get(OrgKind.SUPPORT_CLUB.value, 0))}
            for c in cover.communes
        ]

    def _fill_form(self, org: Row | None) -> None:
        self.editing_id = org["id"] if org else ""
        self.form_name = org["name"] if org else ""
        self.form_decision = org["decision"] if org else ""
        self.form_active = bool(org["active"]) if org else True
        self.fields, self.member_fields = {}, {}
        self.form_version += 1

    @guarded(Role.SUPERVISOR)
    async def load(self) -> Any:
        self.error = self.success = ""
        self._form_key = secrets.token_hex(16)
        outcome = await self._run(lambda db, actor: caseload.places_in_scope(
            session=db, actor=actor))
        places = outcome.value or []
        self.places = [{"id": str(p.place_id), "name": ("" if p.is_province else "— ") + p.name}
                       for p in places]
        self.communes = [{"id": str(p.place_id), "name": p.name} for p in places
                         if not p.is_province]
        if self.place_id not in {p["id"] for p in self.places}:
            self.place_id = self.places[0]["id"] if self.places else ""
        self._fill_form(None)
        self.form_place = self.communes[0]["id"] if self.communes else ""
        await self._reload()
        return None

    @guarded(Role.SUPERVISOR)
    async def pick_place(self, place_id: str) -> Any:
        if str(place_id) in {p["id"] for p in self.places}:
            self.place_id = str(place_id)
            await self._reload()
        return None

    @guarded(Role.SUPERVISOR)
    async def edit(self, organisation_id: str) -> Any:
        self.error = self.success = ""
        org = next((o for o in self.orgs if o["id"] == str(organisation_id)), None)
        if org is None:
            return None
        oid = int(org["id"])
        outcome = await self._run(lambda db, actor: organisations.member_choices(
            session=db, actor=actor, organisation_id=oid))
        if outcome.value is None:
            self.error = outcome.error
            return None
        self.choices = [{"id": str(uid), "name": name} for uid, name in outcome.value]
        self._fill_form(org)
        self.form_kind, self.form_place = org["kind"], org["place"]
        self.form_founded = org["founded_iso"]
        return rx.scroll_to("org-form")

    @guarded(Role.SUPERVISOR)
    async def new(self) -> Any:
        self.error = self.success = ""
        self._fill_form(None)
        self.form_kind, self.form_founded, self.choices = "volunteer_team", "", []
        return None

    @guarded(Role.SUPERVISOR)
    async def save(self, form_data: dict[str, Any]) -> Any:
        self.error = self.success = ""
        kind = str(form_data.get("kind", ""))
        place = as_int(form_data.get("place_id", ""))
        if kind not in KINDS or place is None:
            self.fields = {**({"kind": await self._text("error.invalid_value")}
                              if kind not in KINDS else {}),
                           **({"place_id": await self._text("sup.error.commune")}
                              if place is None else {})}
            self.error = await self._text("error.validation")
            return focus_first_problem("org-form")
        founded_raw = str(form_data.get("founded_on", "")).strip()
        if founded_raw and _parse_date(founded_raw) is None:
            self.fields = {"founded_on": await self._text("error.invalid_value")}
            self.error = await self._text("error.validation")
            return focus_first_problem("org-form")
        data = OrganisationInput(
            name=str(form_data.get("name", ""))[:250], kind=OrgKind(kind), place_id=place,
            founding_decision=str(form_data.get("founding_decision", ""))[:150],
            founded_on=_parse_date(form_data.get("founded_on", "")),
            active=bool(form_data.get("active")),
        )
        editing, key = as_int(self.editing_id), self._form_key
        if editing is None:
            outcome = await self._run(lambda db, actor: organisations.create_organisation(
                session=db, actor=actor, data=data, submission_key=key))
        else:
            outcome = await self._run(lambda db, actor: organisations.update_organisation(
                session=db, actor=actor, organisation_id=editing, data=data))
        if outcome.value is None:
            self.error, self.fields = outcome.error, outcome.fields
            self.form_name, self.form_decision = data.name, data.founding_decision
            self.form_kind, self.form_place = kind, str(place)
            return focus_first_problem("org-form") if outcome.fields else None
        self._form_key = secrets.token_hex(16)
        self.fields = {}
        await self._reload()
        return await self._confirm_saved("sup.org.saved", name=outcome.value.name)

    @guarded(Role.SUPERVISOR)
    async def add_member(self, form_data: dict[str, Any]) -> Any:
        self.error = self.success = ""
        self.member_fields = {}
        oid, uid = as_int(self.editing_id), as_int(form_data.get("member", ""))
        if oid is None:
            return None
        joined_raw = str(form_data.get("joined_on", "")).strip()
        joined = _parse_date(joined_raw)
        problems = {
            **({"member": await self._text("sup.org.pick_member")} if uid is None else {}),
            **({"joined_on": await self._text("error.invalid_value")}
               if joined_raw and joined is None else {}),
        }
        if problems or uid is None:
            self.member_fields = problems
            return focus_first_problem("member-form")
        outcome = await self._run(lambda db, actor: organisations.add_member(
            session=db, actor=actor, organisation_id=oid, user_id=uid, joined_on=joined))
        if outcome.value is None:
            if outcome.fields:
                self.member_fields = {("joined_on" if name == "joined_on" else "member"): text
                                      for name, text in outcome.fields.items()}
                return focus_first_problem("member-form")
            self.error = outcome.error
            return None
        await self._reload()
        return await self._confirm_saved("sup.org.member_added")

    @guarded(Role.SUPERVISOR)
    async def end_member(self, user_id: str) -> Any:
        self.error = self.success = ""
        oid, uid = as_int(self.editing_id), as_int(user_id)
        if oid is None or uid is None:
            return None
        outcome = await self._run(lambda db, actor: organisations.end_membership(
            session=db, actor=actor, organisation_id=oid, user_id=uid))
        if outcome.value is None:
            self.error = outcome.error
            return None
        await self._reload()
        return await self._confirm_saved("sup.org.member_left")


# ---- view ----------------------------------------------------------------------------------


def _error(name: str, fields: Any = None) -> Any:
    found: Any = TeamsState.fields if fields is None else fields
    return found.get(name, "")


def _label(key: str, name: str, control: rx.Component) -> rx.Component:
    return rx.flex(
        rx.el.label(tr(key), html_for=name, font_weight="500"),
        control,
        field_error(_error(name), field_id=name),
        direction="column", spacing="1", min_width="0",
    )


def _invalid(name: str, fields: Any = None) -> dict[str, Any]:
    """A control's link to its message: marked invalid while there is one."""
    return {"aria_invalid": rx.cond(_error(name, fields) != "", "true", "false"),
            "aria_describedby": f"{name}-error"}


def _coverage() -> rx.Component:
    s = TeamsState
    return rx.fragment(
        rx.flex(
            rx.text(s.implementing, " / ", s.total, size="8", weight="bold",
                    color="var(--teal-11)", id="coverage-figure"),
            rx.text(tr("report.models.communes_implementing"), size="3"),
            rx.text(tr("sup.org.coverage_rule"), size="1", color="var(--gray-11)"),
            direction="column", spacing="1", padding="12px", border_radius="12px",
            background="var(--teal-2)", border="1px solid var(--teal-6)",
        ),
        rx.cond(
            s.coverage_rows.length() > 1,
            rx.box(
                scroll_table(
                    rx.table.header(rx.table.row(
                        *[rx.table.column_header_cell(tr(k)) for k in (
                            "sup.col.commune", "sup.org.implementing", "sup.org.managed",
                            "sup.org_kind.volunteer_team", "sup.org_kind.counselling_point",
                            "sup.org_kind.support_club")],
                    )),
                    rx.table.body(rx.foreach(s.coverage_rows, lambda c: rx.table.row(
                        rx.table.cell(c["name"]),
                        rx.table.cell(rx.cond(c["yes"] != "",
                                              rx.icon("check", color="var(--green-11)",
                                                      aria_label=tr("sup.yes")),
                                              rx.text("—", aria_label=tr("sup.no")))),
                        rx.table.cell(c["managed"]), rx.table.cell(c["teams"]),
                        rx.table.cell(c["points"]), rx.table.cell(c["clubs"]),
                    ))),
                    table_id="coverage-table",
                ),
                max_height="320px", overflow_y="auto", margin_top="8px",
                tab_index=0,  # a scrolled box is reachable by keyboard
            ),
        ),
    )


def _org_card(o: Any) -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.text(o["name"], weight="bold"),
            rx.text(bi(o, "kind"), " · ", o["commune"], size="2", color="var(--gray-11)"),
            rx.cond(o["decision"] != "",
                    rx.text(tr("sup.org.decision"), " ", o["decision"], " · ", o["founded"],
                            size="2")),
            rx.text(tr("sup.org.members"), " ", o["count"], size="2"),
            direction="column", spacing="1", flex="1", min_width="200px",
        ),
        rx.cond(o["active"] == "", rx.badge(tr("sup.org.inactive"), color_scheme="gray")),
        rx.button(tr("sup.org.edit"), on_click=TeamsState.edit(o["id"]), size="3",
                  variant="soft", id="edit-" + o["id"]),
        align="center", spacing="3", wrap="wrap", padding="12px",
        border_bottom="1px solid var(--gray-4)", id=o["row_id"],
    )


def _form() -> rx.Component:
    s = TeamsState
    return checked_form(
        rx.heading(rx.cond(s.editing_id != "", tr("sup.org.edit_title"),
                           tr("sup.org.new_title")), size="4", as_="h2"),
        rx.grid(
            _label("sup.org.kind", "kind", rx.el.select(
                *[rx.el.option(tr(f"sup.org_kind.{k}"), value=k) for k in KINDS],
                id="kind", name="kind", default_value=s.form_kind, style=SELECT_STYLE,
                **_invalid("kind"))),
            _label("sup.col.commune", "place_id", rx.el.select(
                rx.foreach(s.communes, lambda c: rx.el.option(c["name"], value=c["id"])),
                id="place_id", name="place_id", default_value=s.form_place,
                style=SELECT_STYLE, **_invalid("place_id"))),
            _label("sup.org.name", "name", rx.input(
                id="name", name="name", default_value=s.form_name, size="3", max_length=200,
                width="100%", **_invalid("name"))),
            _label("sup.org.decision", "founding_decision", rx.input(
                id="founding_decision", name="founding_decision", default_value=s.form_decision,
                size="3", max_length=120, width="100%", placeholder="12/QĐ-UBND",
                **_invalid("founding_decision"))),
            _label("sup.org.founded_on", "founded_on", rx.input(
                id="founded_on", name="founded_on", type="date", default_value=s.form_founded,
                size="3", width="100%", **_invalid("founded_on"))),
            rx.el.label(
                rx.el.input(type="checkbox", name="active", id="active",
                            default_checked=s.form_active,
                            style={"width": "22px", "height": "22px"}),
                tr("sup.org.active"), html_for="active",
                style={"display": "flex", "gap": "10px", "alignItems": "center",
                       "minHeight": "44px"},
            ),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
        ),
        rx.flex(
            rx.button(tr("common.save"), type="submit", size="3", id="org-save"),
            rx.cond(s.editing_id != "",
                    rx.button(tr("sup.org.new"), type="button", on_click=s.new, size="3",
                              variant="soft")),
            spacing="2", margin_top="8px",
        ),
        on_submit=s.save,
        key=s.form_version.to_string(),
        form_id="org-form",
        padding="12px",
        border="1px solid var(--gray-5)",
        border_radius="12px",
    )


def _members() -> rx.Component:
    s = TeamsState
    return rx.cond(
        s.editing_id != "",
        rx.flex(
            rx.heading(tr("sup.org.members"), size="3", as_="h3"),
            rx.foreach(s.members, lambda m: rx.cond(
                m["org"] == s.editing_id,
                rx.flex(
                    rx.text(m["name"], weight="medium", flex="1"),
                    rx.text(m["joined"], rx.cond(m["left"] != "", " → " + m["left"], ""),
                            size="2", color="var(--gray-11)"),
                    rx.cond(m["left"] == "",
                            rx.button(tr("sup.org.end_member"), size="2", variant="soft",
                                      color_scheme="red",
                                      on_click=TeamsState.end_member(m["user"]))),
                    align="center", spacing="2", wrap="wrap", padding_y="6px",
                    border_bottom="1px solid var(--gray-4)",
                ),
            )),
            checked_form(
                rx.flex(
                    rx.flex(
                        rx.el.select(
                            rx.el.option(tr("sup.org.pick_member"), value=""),
                            rx.foreach(s.choices,
                                       lambda c: rx.el.option(c["name"], value=c["id"])),
                            name="member", id="member", aria_label=tr("sup.org.pick_member"),
                            style={**SELECT_STYLE, "width": "auto", "minWidth": "200px"},
                            **_invalid("member", s.member_fields),
                        ),
                        field_error(_error("member", s.member_fields), field_id="member"),
                        direction="column", spacing="1",
                    ),
                    rx.flex(
                        rx.input(type="date", name="joined_on", id="joined_on", size="3",
                                 aria_label=tr("sup.org.joined_on"),
                                 **_invalid("joined_on", s.member_fields)),
                        field_error(_error("joined_on", s.member_fields),
                                    field_id="joined_on"),
                        direction="column", spacing="1",
                    ),
                    rx.button(tr("sup.org.add_member"), type="submit", size="3"),
                    spacing="2", wrap="wrap", align="start",
                ),
                on_submit=s.add_member,
                form_id="member-form",
            ),
            direction="column", spacing="2", padding="12px", border="1px solid var(--gray-5)",
            border_radius="12px",
        ),
    )


def teams_page() -> rx.Component:
    s = TeamsState
    return app_frame(
        "nav.teams",
        rx.flex(
            rx.flex(
                rx.el.label(tr("sup.report.place"), html_for="teams_place", font_weight="500"),
                rx.el.select(
                    rx.foreach(s.places, lambda p: rx.el.option(p["name"], value=p["id"])),
                    id="teams_place", value=s.place_id, on_change=TeamsState.pick_place,
                    style=SELECT_STYLE,
                ),
                direction="column", spacing="1",
            ),
            form_message(s.error, s.success),
            _coverage(),
            section_heading("sup.org.list"),
            rx.cond(
                s.orgs.length() > 0,
                rx.box(rx.foreach(s.orgs, _org_card), border="1px solid var(--gray-5)",
                       border_radius="12px", id="org-list"),
                empty_note("sup.org.none"),
            ),
            _form(),
            _members(),
            direction="column",
            spacing="3",
        ),
    )
