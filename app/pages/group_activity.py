"""Group activity: a conference, talk, club meeting, campaign event or training, and who came."""

from __future__ import annotations

from html import escape
from typing import Any

import reflex as rx
from reflex_components_core.el.elements.forms import Select

from app.components.forms import (
    date_field,
    field_error,
    labelled,
    number_field,
    select_field,
    text_field,
)
from app.components.frame import app_frame
from app.pages.record_form import RecordForm, field_text, record_form
from app.services import activities, clients, facilities
from app.services.dto import GroupActivityCreate
from app.services.policy import Action, role_may
from app.services.text import clean, fold
from app.state.guard import guarded
from app.state.lang import tr
from app.state.session import AppState
from models import GroupActivityKind, Role

KINDS = [(k.value, f"rec.group.kind.{k.value}") for k in GroupActivityKind]
PICK_PAGE = 50
MAX_OPTIONS = 200
_SELECT_STYLE = {
    "minHeight": "44px", "fontSize": "16px", "padding": "8px", "borderRadius": "8px",
    "border": "1px solid var(--gray-7)", "background": "white", "width": "100%",
}


def picked_client_ids(form_data: dict[str, Any]) -> list[str]:
    """The ids of the ticked `client_<id>` boxes (the service checks each one is in scope)."""
    return [
        name.removeprefix("client_")
        for name, value in form_data.items()
        if name.startswith("client_") and value
    ]


def group_input(form_data: dict[str, Any]) -> dict[str, Any]:
    client_ids = picked_client_ids(form_data)
    organiser = field_text(form_data, "organiser_id", 12).strip()
    clients_count = field_text(form_data, "attendees_clients", 7).strip()
    return {
        "kind": field_text(form_data, "kind", 40),
        "held_on": field_text(form_data, "held_on", 10).strip(),
        "place_id": field_text(form_data, "place_id", 12).strip(),
        "organiser_id": organiser or None,
        "topic": field_text(form_data, "topic", 200),
        "attendees_total": field_text(form_data, "attendees_total", 7).strip() or "0",
        # Left empty: the clients ticked below are the clients who came.
        "attendees_clients": clients_count or str(len(client_ids)),
        "client_ids": client_ids[:1000],
    }


class GroupActivityState(RecordForm, AppState):
    # True for everyone who may open this screen (its load checks again): so the page as
    # prerendered, which is what opens offline, offers the group activity too.
    records_groups: bool = True
    communes: list[dict[str, str]] = []
    # The organiser list's `<option>`s as HTML (a province has a few hundred facilities): one
    # React component for the whole list instead of one per option (see `_organiser_select`).
    organiser_options: str = ""
    # Every client offered so far (the list grows as the filter finds more); `shown` is the
    # subset matching the filter. Ticked boxes stay in the form even when filtered out.
    client_options: list[dict[str, str]] = []
    shown: list[str] = []
    client_filter: str = ""

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def load(self) -> None:
        self._begin()
        self.records_groups = role_may(self._require_actor().role, Action.GROUP_CREATE)
        if not self.records_groups:
            return
        places = await self._run(lambda db, actor: facilities.communes_for(session=db, actor=actor))
        self.communes = [{"id": str(i), "name": n} for i, n in places.value or []]
        orgs = await self._run(lambda db, actor: facilities.facilities_for(session=db, actor=actor))
        self.organiser_options = options_html(orgs.value or [])
        self.client_options = []
        self.client_filter = ""
        await self._find_clients("")

    async def _find_clients(self, query: str) -> None:
        found = await self._run(
            lambda db, actor: clients.search_clients(
                session=db, actor=actor, query=query, page_size=PICK_PAGE
            )
        )
        options = list(self.client_options)
        known = {o["id"] for o in options}
        for item in found.value.items if found.value is not None else []:
            if str(item.id) not in known and len(options) < MAX_OPTIONS:
                options.append(
                    {"id": str(item.id), "name": item.full_name, "year": str(item.birth_year)}
                )
        self.client_options = options
        folded = fold(clean(query))
        self.shown = [o["id"] for o in options if folded in fold(o["name"])]

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def filter_clients(self, query: str) -> None:
        """Narrow the list of clients to tick (accents and case ignored)."""
        text = str(query)[:100]
        self.client_filter = text
        await self._find_clients(text)

    @guarded(Role.VOLUNTEER, Role.SUPERVISOR)
    async def save(self, form_data: dict[str, Any]) -> Any:
        async for update in self._save_record(
            form_data, group_input(form_data), activities.record_group_activity,
            GroupActivityCreate,
            lambda group: self._stay("group-form", "rec.group.saved", count=len(group.client_ids)),
        ):
            yield update


def options_html(rows: Any) -> str:
    """`<option>`s for (id, name, ...) rows, escaped (a facility's name is typed by people)."""
    return "".join(f'<option value="{int(row[0])}">{escape(str(row[1]))}</option>'
                   for row in rows)


class _HtmlSelect(Select):
    """A `<select>` whose options are given as HTML (`dangerouslySetInnerHTML`)."""

    dangerouslySetInnerHTML: rx.Var[dict[str, str]]  # React's name for it


def _organiser_select() -> rx.Component:
    """The optional organiser: every active facility of the volunteer's provinces
    (`facilities.facilities_for`), drawn as one element (a trace counted a React component
    per option: 350 on the bench's data set). Offline, the device fills it from its snapshot
    while it holds only the "none" choice (assets/device/src/main.js `fillOfflineForm`)."""
    none = rx.Var.create('<option value="">') + tr("rec.none_selected") + "</option>"
    return labelled(
        "rec.group.organiser",
        _HtmlSelect.create(
            id="organiser_id",
            name="organiser_id",
            style=_SELECT_STYLE,
            dangerouslySetInnerHTML={"__html": none + GroupActivityState.organiser_options},
        ),
        field_id="organiser_id",
        error=GroupActivityState.field_errors.get("organiser_id", ""),
    )


def _select(label_key: str, name: str, items: Any) -> rx.Component:
    return labelled(
        label_key,
        rx.el.select(
            rx.foreach(items, lambda o: rx.el.option(o["name"], value=o["id"])),
            id=name,
            name=name,
            required=True,
            style=_SELECT_STYLE,
        ),
        field_id=name,
        error=GroupActivityState.field_errors.get(name, ""),
    )


def _client_item(option: rx.Var) -> rx.Component:
    """One client to tick: plain elements, styled by `.client-pick` (assets/lists.css), which
    the device code's offline copy of this list (assets/device/) wears too."""
    box_id = "client_" + option["id"].to(str)
    return rx.el.label(
        rx.el.input(type="checkbox", name=box_id, id=box_id),
        rx.el.span(option["name"], class_name="rt-Text"),
        rx.el.span(option["year"], class_name="rt-Text rt-r-size-2 dh-muted"),
        html_for=box_id,
        class_name="client-pick",
        data_shown=rx.cond(GroupActivityState.shown.contains(option["id"]), "1", "0"),
    )


def _client_picker() -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend(tr("rec.group.present"), font_weight="500"),
        rx.el.input(
            placeholder=tr("rec.group.filter"),
            aria_label=tr("rec.group.filter"),
            type="search",
            # Owned by no form: Enter here filters, it never submits the activity, and the
            # filter text is not sent with it.
            form="client-filter-only",
            auto_complete="off",
            on_change=GroupActivityState.filter_clients.debounce(300),
            style={
                "minHeight": "44px", "fontSize": "16px", "padding": "8px 12px",
                "borderRadius": "8px", "border": "1px solid var(--gray-7)", "width": "100%",
            },
        ),
        rx.box(
            rx.foreach(GroupActivityState.client_options, _client_item),
            rx.cond(
                GroupActivityState.shown.length() == 0,
                rx.el.p(tr("rec.group.no_clients"), class_name="rt-Text dh-muted client-pick-none"),
            ),
            id="client-list",
            class_name="client-picks",
        ),
        field_error(GroupActivityState.field_errors.get("client_ids", ""), field_id="client_ids"),
        style={"border": "none", "padding": "0", "margin": "0", "minWidth": "0"},
    )


def _form() -> rx.Component:
    errors = GroupActivityState.field_errors
    return record_form(
        GroupActivityState,
        GroupActivityState.save,
        select_field("rec.group.kind", "kind", KINDS, error=errors.get("kind", "")),
        date_field(
            "rec.group.date", "held_on", default=GroupActivityState.today,
            max_date=GroupActivityState.today, error=errors.get("held_on", ""),
        ),
        _select("rec.place", "place_id", GroupActivityState.communes),
        _organiser_select(),
        text_field("rec.group.topic", "topic", max_length=200, error=errors.get("topic", "")),
        rx.grid(
            number_field("rec.group.total", "attendees_total", minimum=0, maximum=100_000,
                         required=True, error=errors.get("attendees_total", "")),
            number_field("rec.group.clients", "attendees_clients", minimum=0,
                         maximum=100_000, error=errors.get("attendees_clients", ""),
                         hint_key="rec.group.clients_hint"),
            columns="1",
            spacing="3",
        ),
        _client_picker(),
        form_id="group-form",
        outbox="group_activity",
    )


def group_activity_page() -> rx.Component:
    return app_frame(
        "rec.group.title",
        rx.cond(
            GroupActivityState.records_groups,
            _form(),
            rx.callout(tr("rec.group.supervisors_only"), icon="info", id="group-not-allowed"),
        ),
    )
