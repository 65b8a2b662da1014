"""Facilities (administrator, provincial supervisor): the clinics, rehab facilities, health,
legal and vocational services of a province — create, edit, deactivate, with their commune,
address and services (`app/services/facility_registry.py`). Clinic accounts are scoped to
one of them on the users screen; the referral form offers them by service."""

from __future__ import annotations

from typing import Any

import reflex as rx

from app.components.client_cards import bi, bilingual, empty_note
from app.components.forms import (
    field_error,
    focus_first_problem,
    form_message,
    labelled,
    submit_button,
    text_field,
)
from app.components.frame import app_frame
from app.components.native_fields import SELECT_STYLE
from app.components.panels import form_column
from app.pages.caseload import as_int
from app.services import facility_registry, places
from app.services.facility_registry import FACILITY_KINDS, FacilityInput, FacilityRead
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import FacilityService, OrgKind, Role

Row = dict[str, str]
KINDS = [(k.value, f"facility.kind.{k.value}") for k in FACILITY_KINDS]
SERVICES = [(s.value, f"facility.service.{s.value}") for s in FacilityService]
_BOX = {"width": "22px", "height": "22px", "flexShrink": "0"}


def facility_row(f: FacilityRead) -> Row:
    services_vi = ", ".join(bilingual("s", f"facility.service.{s.value}")["s_vi"]
                            for s in f.services)
    services_en = ", ".join(bilingual("s", f"facility.service.{s.value}")["s_en"]
                            for s in f.services)
    return {
        "id": str(f.id), "name": f.name, "commune": f.place_name, "address": f.address,
        **bilingual("kind", f"facility.kind.{f.kind.value}"),
        "services_vi": services_vi, "services_en": services_en,
        "active": "1" if f.active else "", "staff": str(f.staff),
        "row_id": f"facility-{f.id}",
    }


class FacilitiesState(AppState):
    provinces: list[Row] = []
    province_id: str = ""
    communes: list[Row] = []
    rows: list[Row] = []
    editing: str = ""  # "" = no form, "new", or the id of the facility being edited
    f_name: str = ""
    f_kind: str = KINDS[0][0]
    f_place: str = ""
    f_address: str = ""
    f_services: list[str] = []
    f_active: bool = True
    form_key: int = 0
    error: str = ""
    success: str = ""
    fields: dict[str, str] = {}

    async def _list(self) -> None:
        province = as_int(self.province_id)
        if province is None:
            self.rows, self.communes = [], []
            return
        outcome = await self._run(lambda db, actor: (
            facility_registry.list_facilities(session=db, actor=actor, province_id=province),
            places.communes_of(db, province)))
        if outcome.value is None:
            self.error, self.rows = outcome.error, []
            return
        found, communes = outcome.value
        self.rows = [facility_row(f) for f in found]
        self.communes = [{"id": str(c.id), "name": c.name} for c in communes]

    def _fill(self, f: FacilityRead | None) -> None:
        self.f_name = f.name if f else ""
        self.f_kind = f.kind.value if f else KINDS[0][0]
        self.f_place = str(f.place_id) if f else (self.communes[0]["id"] if self.communes else "")
        self.f_address = f.address if f else ""
        self.f_services = [s.value for s in f.services] if f else []
        self.f_active = f.active if f else True
        self.form_key += 1
        self.fields = {}

    @guarded(Role.ADMIN, Role.SUPERVISOR)
    async def load(self) -> Any:
        self.error = self.success = ""
        self.editing = ""
        outcome = await self._run(lambda db, actor: facility_registry.manageable_provinces(
            session=db, actor=actor))
        if outcome.value is None:
            self.error, self.provinces, self.rows = outcome.error, [], []
            return None
        self.provinces = [{"id": str(pid), "name": name} for pid, name in outcome.value]
        if self.province_id not in {p["id"] for p in self.provinces}:
            self.province_id = self.provinces[0]["id"] if len(self.provinces) == 1 else ""
        await self._list()
        return None

    @guarded(Role.ADMIN, Role.SUPERVISOR)
    async def pick_province(self, value: str) -> Any:
        chosen = str(value)[:12]
        self.province_id = chosen if chosen in {p["id"] for p in self.provinces} else ""
        self.editing, self.error, self.success = "", "", ""
        await self._list()
        return None

    @guarded(Role.ADMIN, Role.SUPERVISOR)
    async def new(self) -> Any:
        self.error = self.success = ""
        self._fill(None)
        self.editing = "new"
        return None

    @guarded(Role.ADMIN, Role.SUPERVISOR)
    async def edit(self, facility_id: str) -> Any:
        self.error = self.success = ""
        fid = as_int(str(facility_id))
        if fid is None:
            return None
        outcome = await self._run(lambda db, actor: facility_registry.get_facility(
            session=db, actor=actor, facility_id=fid))
        if outcome.value is None:
            self.error = outcome.error
            return None
        self._fill(outcome.value)
        self.editing = str(fid)
        return None

    @guarded(Role.ADMIN, Role.SUPERVISOR)
    async def cancel(self) -> Any:
        self.editing = ""
        self.fields = {}
        return None

    @guarded(Role.ADMIN, Role.SUPERVISOR)
    async def save(self, form_data: dict[str, Any]) -> Any:
        self.error = self.success = ""
        kind_raw = str(form_data.get("kind", ""))
        place = as_int(str(form_data.get("place_id", "")))
        services = frozenset(s for s in FacilityService if form_data.get(f"service_{s.value}"))
        kind = OrgKind(kind_raw) if kind_raw in {k for k, _ in KINDS} else None
        if kind is None or place is None:
            self.fields = {**({"kind": await self._text("error.invalid_value")} if kind is None
                              else {}),
                           **({"place_id": await self._text("sup.error.commune")}
                              if place is None else {})}
            self.error = await self._text("error.validation")
            return focus_first_problem("facility-form")
        data = FacilityInput(
            name=str(form_data.get("name", ""))[:400], kind=kind, place_id=place,
            address=str(form_data.get("address", ""))[:600], services=services,
            active=bool(form_data.get("active")) if self.editing != "new" else True,
        )
        editing = self.editing
        if editing == "new":
            outcome = await self._run(lambda db, actor: facility_registry.create_facility(
                session=db, actor=actor, data=data))
        else:
            fid = as_int(editing)
            if fid is None:
                return None
            outcome = await self._run(lambda db, actor: facility_registry.update_facility(
                session=db, actor=actor, facility_id=fid, data=data))
        self.fields = outcome.fields
        if outcome.value is None:
            self.error = outcome.error
            # Keep what was typed: the uncontrolled form is not re-keyed.
            return focus_first_problem("facility-form") if outcome.fields else None
        self.editing = ""
        await self._list()
        return await self._confirm_saved("facility.saved", name=outcome.value.name)


# ---- view ----------------------------------------------------------------------------------


def _select(label_key: str, name: str, options: Any, default: Any, *,
            static: list[tuple[str, str]] | None = None) -> rx.Component:
    s = FacilitiesState
    children = ([rx.el.option(tr(label), value=value) for value, label in static]
                if static is not None else
                [rx.foreach(options, lambda o: rx.el.option(o["name"], value=o["id"]))])
    return labelled(
        label_key,
        rx.el.select(*children, id=name, name=name, default_value=default,
                     style=SELECT_STYLE,
                     aria_invalid=rx.cond(s.fields.get(name, "") != "", "true", "false"),
                     aria_describedby=f"{name}-error"),
        field_id=name, error=s.fields.get(name, ""),
    )


def _services() -> rx.Component:
    s = FacilitiesState
    return rx.el.fieldset(
        rx.el.legend(tr("facility.services"), font_weight="500", padding="0",
                     margin_bottom="4px"),
        rx.grid(*[
            rx.el.label(
                rx.el.input(type="checkbox", name=f"service_{value}", id=f"service_{value}",
                            default_checked=s.f_services.contains(value), style=_BOX),
                tr(label), html_for=f"service_{value}",
                style={"display": "flex", "gap": "10px", "alignItems": "center",
                       "minHeight": "44px"},
            )
            for value, label in SERVICES
        ], columns=rx.breakpoints(initial="1", sm="2"), spacing="1", width="100%"),
        field_error(s.fields.get("services", ""), field_id="services"),
        id="services-group",
        aria_describedby="services-error",
        style={"border": "none", "padding": "0", "margin": "0", "minWidth": "0"},
    )


def _form() -> rx.Component:
    s = FacilitiesState
    return rx.card(
        form_column(
            rx.heading(rx.cond(s.editing == "new", tr("facility.new_title"),
                               tr("facility.edit_title")), size="4", as_="h2"),
            text_field("facility.name", "name", default_value=s.f_name,
                       error=s.fields.get("name", "")),
            _select("facility.kind", "kind", None, s.f_kind, static=KINDS),
            _select("facility.commune", "place_id", s.communes, s.f_place),
            text_field("facility.address", "address", default_value=s.f_address,
                       error=s.fields.get("address", "")),
            _services(),
            rx.cond(s.editing != "new",
                    rx.el.label(
                        rx.el.input(type="checkbox", name="active", id="active",
                                    default_checked=s.f_active, style=_BOX),
                        tr("facility.active_label"), html_for="active",
                        style={"display": "flex", "gap": "10px", "alignItems": "center",
                               "minHeight": "44px"},
                    )),
            submit_button("facility.save", id="facility-save"),
            rx.button(tr("common.cancel"), type="button", variant="soft", size="3",
                      on_click=FacilitiesState.cancel, width="100%"),
            on_submit=FacilitiesState.save,
            key=s.form_key.to_string(),
            form_id="facility-form",
        ),
        width="100%",
    )


def _row(row: Any) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.flex(
                rx.text(row["name"], weight="bold"),
                rx.spacer(),
                rx.cond(row["active"] != "",
                        rx.badge(tr("facility.active"), color_scheme="green", high_contrast=True),
                        rx.badge(tr("facility.inactive"), color_scheme="gray",
                                 high_contrast=True)),
                align="center", spacing="2",
            ),
            rx.text(bi(row, "kind"), " · ", row["commune"], size="2"),
            rx.cond(row["address"] != "", rx.text(row["address"], size="2",
                                                  color="var(--gray-11)")),
            rx.text(tr("facility.services"), ": ", bi(row, "services"), size="2"),
            rx.text(tr("facility.staff"), ": ", row["staff"], size="2",
                    color="var(--gray-11)"),
            rx.button(tr("facility.edit"), variant="outline", size="3",
                      on_click=FacilitiesState.edit(row["id"]),
                      aria_label=tr("facility.edit") + " " + row["name"]),
            direction="column", spacing="1",
        ),
        id=row["row_id"], width="100%",
    )


def facilities_page() -> rx.Component:
    s = FacilitiesState
    return app_frame(
        "nav.facilities",
        rx.flex(
            rx.text(tr("facility.intro"), size="2"),
            rx.cond(
                s.provinces.length() > 1,
                labelled("facility.province", rx.el.select(
                    rx.el.option(tr("facility.pick_province"), value=""),
                    rx.foreach(s.provinces, lambda p: rx.el.option(p["name"], value=p["id"])),
                    id="province_id", value=s.province_id,
                    on_change=FacilitiesState.pick_province, style=SELECT_STYLE,
                ), field_id="province_id"),
            ),
            form_message(s.error, s.success),
            rx.cond(
                s.editing != "",
                _form(),
                rx.cond(s.province_id != "",
                        rx.button(rx.icon("plus", size=18, aria_hidden="true"),
                                  tr("facility.add"), size="3", on_click=FacilitiesState.new,
                                  id="facility-add", width="fit-content")),
            ),
            rx.cond(
                s.rows.length() > 0,
                rx.flex(rx.foreach(s.rows, _row), direction="column", spacing="2",
                        id="facility-list"),
                rx.cond(s.province_id != "", empty_note("facility.none")),
            ),
            direction="column", spacing="3",
        ),
    )
